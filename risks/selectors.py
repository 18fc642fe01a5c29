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

from grid.models import AreaKind
from grid.selectors import scope_of

from .models import Finding, Patrol, Risk, RiskAssessment, RiskStatus


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
            .select_related("building", "grid").order_by("grade", "review_on", "id"))


def grid_risks(grid_ids, *, user):
    """The open risks of the worker's grids (the day page's register), most serious first."""
    return (risks_visible_to(user).filter(grid_id__in=grid_ids, status=RiskStatus.OPEN)
            .select_related("building").order_by("grade", "review_on", "id"))

