"""Who may see risks and patrols. Every page, admin, export and task reads them through these.

A risk is seen by the posts on places over it (district, street, community
staff, grid workers and chiefs of its grid): one condition on the stored path
per post (grid.selectors.Scope.path_q). Building and unit chiefs are volunteers
and see no register: a risk of type 重点人员 or 群体性矛盾 is about people.

A patrol (and its route) is seen by the worker who walked it and by staff with
a managing post over its grid; never by residents.
"""

import datetime

from django.db.models import Q

from grid.models import Area, AreaKind
from grid.selectors import scope_of

from .models import EarlyWarning, Finding, InspectionPlan, Patrol, Risk, RiskAssessment, RiskStatus


def _scope(user, managing):
    scope = scope_of(user)
    return scope.managing() if managing else scope


def _place_q(scope):
    # Places only: building and unit posts (the chiefs') reach no risk.
    return scope.path_q(building_field=None, unit_field=None)


def risks_visible_to(user, *, managing=False):
    return Risk.objects.filter(_place_q(_scope(user, managing)))


def assessments_visible_to(user, *, managing=False):
    return RiskAssessment.objects.filter(risk__in=risks_visible_to(user, managing=managing))


def patrols_visible_to(user, *, managing=False):
    """Patrols over grids the user manages, and (outside the admin) the user's own."""
    scope = scope_of(user)
    if scope.unrestricted:
        return Patrol.objects.all()
    q = scope.managing().areas_q("grid__")
    if not managing and getattr(user, "pk", None) is not None:
        q |= Q(worker_id=user.pk)
    return Patrol.objects.filter(q)


def findings_visible_to(user, *, managing=False):
    return Finding.objects.filter(patrol__in=patrols_visible_to(user, managing=managing))


def patrol_grids(user):
    """The grids `user` patrols: grid worker and grid chief posts (the spans on grids)."""
    return [s.area_id for s in scope_of(user).spans if s.kind == AreaKind.GRID]


def open_patrol(user):
    return Patrol.objects.filter(worker=user, ended_at__isnull=True).select_related("grid").first()


def risks_due(user, *, today, within_days=0):
    """Open risks the user reaches whose review falls due by `today` (+ `within_days`), most serious first."""
    until = today + datetime.timedelta(days=within_days)
    return (risks_visible_to(user).filter(status=RiskStatus.OPEN, review_on__lte=until)
            .select_related("building", "grid", "community", "street").order_by("grade", "review_on", "id"))


def grid_risks(grid_ids, *, user):
    """The open risks of the worker's grids (the day page's register), most serious first."""
    return (risks_visible_to(user).filter(grid_id__in=grid_ids, status=RiskStatus.OPEN)
            .select_related("building").order_by("grade", "review_on", "id"))


def warnings_visible_to(user, *, managing=True):
    """Early warnings under the user's managing posts (community, street, district staff); grid workers,
    chiefs and residents see none. `managing` is accepted for the admin's selector call and always holds."""
    return EarlyWarning.objects.filter(_place_q(_scope(user, True)))


def warning_rule_districts(user):
    """The districts whose warning rules `user` sets: those of the user's district-official posts."""
    scope = scope_of(user)
    if scope.unrestricted:
        return Area.objects.filter(kind=AreaKind.DISTRICT, is_active=True)
    ids = [s.area_id for s in scope.managing().spans if s.kind == AreaKind.DISTRICT]
    return Area.objects.filter(pk__in=ids, is_active=True)


def plans_visible_to(user, *, managing=False):
    """Inspection plans of the grids the user reaches (managing: staff over them)."""
    return InspectionPlan.objects.filter(_scope(user, managing).areas_q("grid__"))


def plans_due(user, *, today):
    """Active plans of the user's patrol grids due by `today`, soonest first. The grids are the user's own
    grid posts (inside her scope by definition), so this filters on them directly rather than joining
    the tree range that `plans_visible_to` would add."""
    return (InspectionPlan.objects.filter(grid_id__in=patrol_grids(user), active=True, next_due__lte=today)
            .select_related("grid", "building").order_by("next_due", "id"))
