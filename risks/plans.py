"""巡查计划: recurring inspections per grid. Writes; the day page reads them through risks/selectors.py.

Community staff over the grid and the grid's workers plan an inspection (a
building, or the grid's round) every N days; on a patrol in that grid the worker
ticks it done, which moves its next due date to today + N. Ticking twice (a
double tap, two tabs) does nothing more: the second finds it done already.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind, Building
from portal.errors import DomainError
from portal.text import clean_text

from .models import InspectionPlan, Patrol
from .services import _now, _path_of, may_work_on

MAX_INTERVAL_DAYS = 366


def _interval(value):
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(_("Give the interval in whole days."), code="bad_interval") from None
    if not 1 <= days <= MAX_INTERVAL_DAYS:
        raise DomainError(_("The interval is 1 to %(n)d days.") % {"n": MAX_INTERVAL_DAYS}, code="bad_interval")
    return days


@transaction.atomic
def plan_add(*, grid, title, interval_days, building=None, first_due=None, acting_user, now=None):
    now = _now(now)
    grid = Area.objects.filter(pk=getattr(grid, "pk", grid), kind=AreaKind.GRID, is_active=True).first()
    if grid is None or not may_work_on(acting_user, _path_of(grid)):
        raise DomainError(_("You plan inspections only in grids under your posts."), code="forbidden")
    title = clean_text(title, field=_("what to inspect"), limit=80)
    days = _interval(interval_days)
    if building is not None and not Building.objects.filter(pk=building.pk, grid=grid).exists():
        raise DomainError(_("Choose a building of that grid."), code="bad_building")
    today = timezone.localdate(now)
    if first_due is not None and first_due < today:
        raise DomainError(_("The first inspection cannot be due in the past."), code="bad_due")
    return InspectionPlan.objects.create(grid=grid, building=building, title=title, interval_days=days,
                                         next_due=first_due or today, created_by=acting_user, created_at=now)


@transaction.atomic
def plan_update(*, plan, title, interval_days, active, acting_user, now=None):
    _now(now)
    plan = InspectionPlan.objects.select_for_update().filter(pk=plan.pk).select_related("grid").first()
    if plan is None or not may_work_on(acting_user, _path_of(plan.grid)):
        raise DomainError(_("You plan inspections only in grids under your posts."), code="forbidden")
    InspectionPlan.objects.filter(pk=plan.pk).update(title=clean_text(title, field=_("what to inspect"), limit=80),
                                                     interval_days=_interval(interval_days), active=bool(active))
    plan.refresh_from_db()
    return plan


@transaction.atomic
def plan_done(*, plan, acting_user, now=None):
    """Tick a due inspection done on the worker's patrol under way in its grid."""
    now = _now(now)
    today = timezone.localdate(now)
    plan = InspectionPlan.objects.select_for_update().filter(pk=plan.pk, active=True).first()
    if plan is None:
        raise DomainError(_("This inspection plan is no longer active."), code="inactive")
    patrol = Patrol.objects.filter(worker_id=getattr(acting_user, "pk", None), ended_at__isnull=True,
                                   grid_id=plan.grid_id).first()
    if patrol is None:
        raise DomainError(_("Start a patrol in the plan's grid first."), code="no_patrol")
    if plan.next_due > today:
        raise DomainError(_("This inspection is not due yet."), code="not_due")
    InspectionPlan.objects.filter(pk=plan.pk, next_due=plan.next_due).update(
        next_due=today + datetime.timedelta(days=plan.interval_days), last_done_at=now, last_patrol=patrol)
    plan.refresh_from_db()
    return plan
