"""Whether a point (lat/long) lies in the place an Open311 key serves (issue #20).

A key bound to a community used to file a point anywhere: a point in another
city was stored under the key's place. What the point is checked against, most
exact first:

1. the place's own outline (Area.boundary), if drawn: the point must be inside;
2. otherwise the outlines drawn under it (its grids…) and the box around its
   buildings that have coordinates, widened by BOX_MARGIN_M: inside either;
3. with neither (no outline, no building with coordinates) there is nothing to
   check against, and the point is accepted as before: refusing would lock out
   every key of a place whose map is not entered yet. The case is still filed
   under the key's place only, never outside it.
"""

import math

from django.db.models import Max, Min

from grid.geo import contains
from grid.models import Area, Building

BOX_MARGIN_M = 1000  # buildings are points; a matter may be on the street outside the outermost one
METRES_PER_DEGREE = 111_000


def _subtree(area, prefix=""):
    return {f"{prefix}tree_id": area.tree_id, f"{prefix}lft__gte": area.lft, f"{prefix}lft__lte": area.rght}


def point_in_place(area, lat, long):
    """False only when the point is known to lie outside `area`."""
    if area.boundary:
        return contains(area.boundary, long, lat)
    box = Building.objects.filter(**_subtree(area, "grid__"), latitude__isnull=False, longitude__isnull=False) \
        .aggregate(south=Min("latitude"), north=Max("latitude"), west=Min("longitude"), east=Max("longitude"))
    if box["south"] is not None:
        dlat = BOX_MARGIN_M / METRES_PER_DEGREE
        dlon = BOX_MARGIN_M / (METRES_PER_DEGREE * max(math.cos(math.radians(float(lat))), 0.01))
        if (float(box["south"]) - dlat <= float(lat) <= float(box["north"]) + dlat
                and float(box["west"]) - dlon <= float(long) <= float(box["east"]) + dlon):
            return True
    outlines = Area.objects.filter(**_subtree(area), boundary__isnull=False).values_list("boundary", flat=True)
    checked = box["south"] is not None
    for outline in outlines.iterator(chunk_size=100):
        checked = True
        if contains(outline, long, lat):
            return True
    return not checked
