"""What the staff navigation shows: the counts on its badges (my queue, with my grids' checks on
site and my organisations' matters; unread notices), which report form the user has (巡查上报
for grid handlers, 随手报 for 三长), whether the user mediates (the mediation tab), and where
the queue tab leads (an organisation's staff: their organisation's queue).

Lazy: templates call them only on pages whose navigation shows them; the two badges
are read together, once per request, in one statement (cases.selectors.nav_counts_for).
"""

from functools import cache

from grid.models import AreaKind, Role
from grid.selectors import scope_of

from .workflow import HANDLING_ROLES

def patrols(user):
    """Does the user patrol a grid (grid worker or grid chief)?"""
    return any(s.kind == AreaKind.GRID and s.role in HANDLING_ROLES[AreaKind.GRID] for s in scope_of(user).spans)


def chief_reports(user):
    """Is the user a building or unit chief (楼栋长/单元长) who patrols no grid? (The scope's
    buildings and units are the chiefs' posts; read once per request, no query here.)"""
    scope = scope_of(user)
    return not patrols(user) and bool(scope.building_ids or scope.unit_ids)


def mediates(user):
    """Does the user hold a people's mediator post (人民调解员)? Their work is the mediation list."""
    return any(s.role == Role.PEOPLES_MEDIATOR for s in scope_of(user).spans)


def org_only(user):
    """Does the user work only for organisations (no post on a place)? Their queue is the organisation's."""
    scope = scope_of(user)
    return bool(scope.organisation_ids) and not (scope.spans or scope.building_ids or scope.unit_ids)


def nav_counts(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache
    def counts():
        from .selectors import nav_counts_for

        return nav_counts_for(user)

    return {"nav_queue_count": lambda: counts()[0], "nav_inbox_unread": lambda: counts()[1],
            "nav_org_only": cache(lambda: org_only(user)),
            "nav_patrols": cache(lambda: patrols(user)), "nav_chief_reports": cache(lambda: chief_reports(user)),
            "nav_mediates": cache(lambda: mediates(user))}
