"""The location step of the residents' forms (issue #21): find the building by typing
or by "use my location", confirm on a small map, then go on to the form at that
building. Nobody is asked for a street, community or grid: the grid follows
from the building.

One GET page serves both ways, so it works without JavaScript: ?q=… lists the
buildings found; ?lat=…&lon=… (filled by static/js/where.js from the browser's
geolocation, or by a tap on the map) lists the nearest buildings within
geo.NEAREST_BUILDING_M. Each result links to `choose_url(building_id)`, which
the calling app supplies (the report form, the order form), so this lower layer
names no page of theirs.
"""

from django.conf import settings
from django.http import HttpResponseNotAllowed
from django.utils.translation import gettext as _

from portal.errors import DomainError
from portal.ratelimit import over_rate

from . import geo, search
from .views import public_page

# Searches per client address and window (seconds): a resident types a few; a scraper many.
DEFAULT_SEARCH_RATE = (120, 600)


def where_page(request, *, title, lead, choose_url, list_url, template="grid/where.html"):
    """Render the location step. `choose_url(building_id)` is where a chosen building goes;
    `list_url` is the old choice by lists (street › community › grid), kept for those who prefer it."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    query = request.GET.get("q")
    has_point = "lat" in request.GET or "lon" in request.GET
    hits, error, status, mode = [], "", 200, ""
    if query is not None or has_point:
        mode = "near" if has_point else "search"
        if over_rate(request, "where", "PLACE_SEARCH_RATE", DEFAULT_SEARCH_RATE):
            error, status = _("Too many searches from this connection. Please wait a few minutes and try again."), 429
        else:
            try:
                if has_point:
                    hits = search.buildings_near(request.GET.get("lat"), request.GET.get("lon"))
                else:
                    hits = search.search_buildings(query)
            except DomainError as refusal:
                error = str(refusal)
                # Too far is an answer, not a mistake in the request.
                status = 200 if refusal.code == "too_far" else 400
    results = [{
        "id": hit.building.pk,
        "label": hit.label,
        "path": " › ".join(hit.path),
        "distance_m": hit.distance_m,
        "url": choose_url(hit.building.pk),
    } for hit in hits]
    layers = search.map_layers(hits)
    urls = {result["id"]: result["url"] for result in results}
    for point in layers["points"]:
        point["url"] = urls[point["id"]]
    return public_page(request, template, {
        "title": title,
        "lead": lead,
        "query": (query or "")[:search.QUERY_MAX * 2],
        "mode": mode,
        "error": error,
        "results": results,
        "searched": bool(mode) and not error,
        "map_layers": {**layers, "tiles": settings.DASHBOARD_TILE_URL,
                       "labels": {"choose": _("Choose this building")}},
        "has_map": bool(layers["points"] or layers["grids"]["features"]),
        "snap_m": geo.NEAREST_BUILDING_M,
        "query_max": search.QUERY_MAX,
        "list_url": list_url,
    }, status=status)

