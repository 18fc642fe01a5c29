"""Where a case goes: "小事不出网格, 大事不出社区".

A new case goes to the grid worker of its grid (the least loaded of those on
duty: fewest cases dispatched to them or in their hands); with no grid worker,
or for a dispute that needs mediation, it waits at the community for its
staff. Escalation climbs grid → community → street → district. Big matters and
organisations: cases/routing_orgs.py.
"""

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from grid.models import MANAGING_ROLES, AreaKind, Post, Role

from .models import CaseKind, Status
from .routing_orgs import grid_excluded
from .workflow import HANDLING_ROLES

# Cases that occupy a handler.
WORKLOAD_STATUSES = (Status.DISPATCHED, Status.HANDLING)


def least_loaded_grid_worker(grid_id):
    """The active grid worker posted on the grid with the fewest cases in hand, or None."""
    if grid_id is None:
        return None
    from .models import Case

    User = get_user_model()
    load = (
        Case.objects.filter(assignee=OuterRef("pk"), status__in=WORKLOAD_STATUSES)
        .order_by().values("assignee").annotate(n=Count("pk")).values("n")
    )
    return (
        User.objects.filter(
            is_active=True,
            posts__role=Role.GRID_WORKER, posts__area_id=grid_id, posts__ended_at__isnull=True,
        )
        .annotate(load=Coalesce(Subquery(load), Value(0)))
        .order_by("load", "pk")
        .first()
    )


def route(case):
    """(level, assignee or None) for a case about to be dispatched. A category on the district's
    准入 list (cases.models_orgs.GridExclusion) never goes to a grid worker."""
    if case.kind != CaseKind.MEDIATION and case.grid_id and not grid_excluded(case):
        worker = least_loaded_grid_worker(case.grid_id)
        if worker is not None:
            return AreaKind.GRID, worker
    for level in (AreaKind.COMMUNITY, AreaKind.STREET, AreaKind.DISTRICT):
        if getattr(case, f"{level}_id"):
            return level, None
    raise AssertionError("a case always has a district")


def responsible_staff(case, level=None):
    """Users who work or oversee the case at `level` (default: its responsible level)."""
    level = level or case.responsible_level
    area_id = getattr(case, f"{level}_id")
    roles = set(HANDLING_ROLES[level]) | (set(MANAGING_ROLES) if level != AreaKind.GRID else set())
    User = get_user_model()
    return list(
        User.objects.filter(
            Q(posts__area_id=area_id, posts__role__in=roles, posts__ended_at__isnull=True), is_active=True
        ).distinct().order_by("pk")
    )


def recipients_by_area(area_ids_by_level):
    """{(level, area_id): [(user_id, email), ...]} for many places in one query (the sweep's recipients).

    Plain values, not users: the sweep words thousands of messages per batch.
    """
    wanted = {(lvl, aid) for lvl, aid in area_ids_by_level if aid}
    if not wanted:
        return {}
    posts = (
        Post.objects.filter(area_id__in={aid for _, aid in wanted}, ended_at__isnull=True, user__is_active=True)
        .order_by("user_id")
        .values_list("area__kind", "area_id", "role", "user_id", "user__email")
    )
    roles = {level: set(HANDLING_ROLES[level]) | (set(MANAGING_ROLES) if level != AreaKind.GRID else set())
             for level in {lvl for lvl, _aid in wanted}}
    found = {key: [] for key in wanted}
    seen = set()
    for level, area_id, role, user_id, email in posts:
        key = (level, area_id)
        if key in found and role in roles[level] and (key, user_id) not in seen:
            seen.add((key, user_id))
            found[key].append((user_id, email))
    return found
