"""A dashboard page's figures, computed once per rollup refresh (issue #24).

The rollup figures change only when the rollups are refreshed (once a minute), and the page
already says "figures as of <the refresh>". So the page's tables, trend and map layers are
kept under a key made of everything they depend on: the place, the period, the user's managing
scope (their posts' subtrees: two officials of one district share an entry), the refresh, the
day (the trend stops at today), the language (the tables carry translated labels) and the
period's query (carried into the links), and the settings the figures read (the rankings'
minimum, 结案率's denominator, the map's tiles). What the page reads live beside the rollups (open
cases past their deadline, the map's open cases, the risk tables) is as of the entry's first
computation, at most one refresh older than the rest: the freshness note covers it too.

Live pages (`?source=live`, grids) are never cached; nor is anything while the rollups have not
been built. `DASHBOARD_CACHE_SECONDS = 0` turns the cache off.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.translation import get_language

from grid.selectors import scope_of

from .definitions import closure_excludes_deferred
from .figures import local_day


def scope_key(user):
    """The user's managing scope as text: who sees the same places sees the same figures."""
    scope = scope_of(user).managing()
    if scope.unrestricted:
        return "all"
    return ";".join(sorted(f"{s.tree_id}:{s.lft}:{s.rght}" for s in scope.spans))


def hashed(*parts):
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def page_figures(board, refreshed_at, *, formats):
    """{"tables", "tables_html", "chart", "map_json"} of the page of `board`: from the cache when the
    rollups have not been refreshed since they were computed for this scope, place and period.
    `tables_html` is the tables after the key figures, rendered (most of the page's rendering time)."""
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if not seconds or board.source_name != "rollup" or refreshed_at is None:
        return _compute(board, formats)
    period, area = board.period, board.place.area
    key = "dashboards:figures:" + hashed(
        area.pk if area else "city", period.kind, period.first, period.last, scope_key(board.user),
        refreshed_at.isoformat(), local_day(board.now), get_language(), board.query,
        settings.DASHBOARD_RANKING_MIN_CASES, closure_excludes_deferred(), settings.DASHBOARD_TILE_URL,
        settings.DASHBOARD_TILE_ATTRIBUTION, formats,
    )
    found = cache.get(key)
    if found is None:
        found = _compute(board, formats)
        cache.set(key, found, seconds)
    return found


def _compute(board, formats):
    _table, chart = board.trend()
    tables = board.tables()
    area = board.place.area
    tables_html = render_to_string("dashboards/_tables.html", {
        "tables": tables[1:], "area_id": area.pk if area else None, "query": board.query, "formats": formats,
    })
    return {"tables": tables, "tables_html": tables_html, "chart": chart, "map_json": board.map_json()}
