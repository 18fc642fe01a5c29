"""Printable notice boards (公示牌) and the grid-health page.

Boards: anyone whose scope reaches the building (chiefs included, through
grid.selectors.buildings_visible_to) may print it; a whole community's (or
grid's) boards print in one go, one A4 sheet each. Grid health: community
staff and above (managing posts) for their place. Outside the scope, 404.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from grid.models import AreaKind
from grid.selectors import areas_visible_to, buildings_visible_to, get_visible_or_404
from grid.views import layout_for

from . import boards, health

# A community has ~100 buildings; a page past this many would not print in one go anyway.
MAX_BOARDS = 600
COMMUNITIES_PER_PAGE = 50


def _render(request, template, context):
    return render(request, template, {"layout": layout_for(request.user), **context})


@require_GET
@login_required
def board(request, pk):
    found = boards.attach_stars(boards.boards_for(buildings_visible_to(request.user).filter(pk=pk), request=request))
    if not found:
        raise Http404
    return _render(request, "residents/boards/board.html", {"board": found[0]})


@require_GET
@login_required
def community_boards(request, pk):
    """Every visible building of a community (or a grid), one board per printed page."""
    place = get_visible_or_404(areas_visible_to(request.user), pk=pk)
    if place.kind not in (AreaKind.COMMUNITY, AreaKind.GRID):
        raise Http404
    buildings = boards.buildings_under(buildings_visible_to(request.user), place)
    found = boards.boards_for(buildings[: MAX_BOARDS + 1], request=request)
    return _render(request, "residents/boards/community.html", {
        "place": place,
        "boards": boards.attach_stars(found[:MAX_BOARDS]),
        "truncated": len(found) > MAX_BOARDS,
        "max_boards": MAX_BOARDS,
    })


@require_GET
@login_required
def grid_health(request, pk):
    """Grids per community under a community, street or district: band, worker, chiefs."""
    place = get_visible_or_404(areas_visible_to(request.user, managing=True), pk=pk)
    if place.kind == AreaKind.GRID:
        raise Http404
    page = Paginator(health.communities_under(place), COMMUNITIES_PER_PAGE).get_page(request.GET.get("page"))
    rows = health.community_health(page.object_list)
    page.object_list = rows
    return _render(request, "residents/health.html", {
        "place": place,
        "page": page,
        "rows": rows,
        "band": health.BAND,
    })
