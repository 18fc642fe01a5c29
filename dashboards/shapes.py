"""The grids' outlines for a dashboard's map, as GeoJSON on their own URL (issue #24).

A district's ~1,000 grid polygons (~660 KB) were most of its dashboard page, and the time to
send them was paid on every view although the outlines change only with the place tree, while
the figures change every minute. So the page carries the figures per grid and this URL; the
browser fetches the outlines after the page and keeps them (an ETag over the text: a later
view that finds them unchanged gets a 304 and no body).

On the server the collection is cached under a key made of
- the user's managing scope (which grids they may see: their posts' subtrees) and the place,
- the newest place-tree event (grid/services.py logs every add, rename, move, merge, split and
  delete as an AreaEvent): a changed tree is a new key at once,
- the rollups' last refresh (once a minute): a boundary is not written by a service that logs
  an event (it comes with the seeding or an import), so a changed outline is served after the
  next refresh at the latest, and never later than `SHAPES_CACHE_SECONDS`.
The ETag hashes the text itself, so a new key with the same outlines still answers 304.
"""

import hashlib
import json
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Max, TextField
from django.db.models.functions import Cast

from grid.models import AreaEvent, AreaKind
from grid.selectors import areas_visible_to

from .cache import hashed, scope_key
from .rollups import freshness

# Above this many grids the map is left to the districts' pages (a city is ~10,000).
MAP_MAX_GRIDS = 3000
# A backstop for outlines changed without a tree event while the rollups are not refreshed.
SHAPES_CACHE_SECONDS = 600


def grids_on_map(user, place):
    """The active grids under `place` that `user` manages (all of them: with or without an outline)."""
    grids = areas_visible_to(user, managing=True).filter(kind=AreaKind.GRID, is_active=True)
    if place.area is not None:
        a = place.area
        grids = grids.filter(tree_id=a.tree_id, lft__gte=a.lft, lft__lte=a.rght)
    return grids


def shapes_text(grids):
    """The grids' outlines as a GeoJSON FeatureCollection (feature id: the grid's id; property:
    its name). The boundaries go from the database into the text as its own JSON text
    (`boundary::text`), never decoded into Python and encoded again."""
    rows = (grids.exclude(boundary__isnull=True).annotate(shape=Cast("boundary", TextField()))
            .order_by("id").values_list("id", "name", "shape"))
    features = [
        f'{{"type": "Feature", "id": {pk}, "geometry": {shape}, '
        f'"properties": {json.dumps({"name": name}, ensure_ascii=False)}}}'
        for pk, name, shape in rows
    ]
    return f'{{"type": "FeatureCollection", "features": [{", ".join(features)}]}}'


@dataclass(frozen=True)
class Shapes:
    text: str
    etag: str  # quoted, as the header carries it


def _cache_key(user, place):
    tree = AreaEvent.objects.aggregate(newest=Max("id"))["newest"]
    refreshed = freshness()
    return "dashboards:shapes:" + hashed(place.area.pk if place.area else "city", scope_key(user), tree,
                                         refreshed.isoformat() if refreshed else "")


def grid_shapes(user, place):
    """The outlines `user` may see under `place` (cached, see above); None if they are too many
    for one map (the page shows no map then either)."""
    key = _cache_key(user, place)
    found = cache.get(key)
    if found is None:
        grids = grids_on_map(user, place)
        if grids.count() > MAP_MAX_GRIDS:
            found = ("", "")
        else:
            text = shapes_text(grids)
            found = (text, '"%s"' % hashlib.sha256(text.encode()).hexdigest()[:32])
        cache.set(key, found, SHAPES_CACHE_SECONDS)
    text, etag = found
    return Shapes(text, etag) if etag else None
