"""Where a case goes: "小事不出网格, 大事不出社区".

A new case goes to the grid worker of its grid (the least loaded of those on
duty: fewest cases dispatched to them or in their hands); with no grid worker,
or for a dispute that needs mediation, it waits at the community for its
staff. Escalation climbs grid → community → street → district.
"""

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from grid.models import MANAGING_ROLES, AreaKind, Post, Role

from .models import CaseKind, Status
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
    """(level, assignee or None) for a case about to be dispatched."""
    if case.kind != CaseKind.MEDIATION and case.grid_id:
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


def handlers_by_area(area_ids_by_level):
    """{(level, area_id): [users]} for many places in one query (the sweep's recipients)."""
    wanted = {(lvl, aid) for lvl, aid in area_ids_by_level if aid}
    if not wanted:
        return {}
    posts = (
        Post.objects.filter(area_id__in={aid for _, aid in wanted}, ended_at__isnull=True, user__is_active=True)
        .select_related("user", "area")
    )
    found = {key: [] for key in wanted}
    for post in posts:
        level = post.area.kind
        key = (level, post.area_id)
        roles = set(HANDLING_ROLES[level]) | (set(MANAGING_ROLES) if level != AreaKind.GRID else set())
        if key in found and post.role in roles and post.user not in found[key]:
            found[key].append(post.user)
    return found
