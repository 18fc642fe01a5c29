"""Place outlines: GeoJSON (RFC 7946) Polygon or MultiPolygon, longitude first.

`validate_boundary` is the model field's validator: forms and the admin refuse
an outline the dashboards' map could not draw, with a message saying why.
`nearest_buildings` snaps a point to the buildings around it (Open311, the
resident's "use my location").
"""

import math
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_POSITIONS = 10_000


def _ring(ring, counter):
    if not isinstance(ring, list) or len(ring) < 4:
        raise ValidationError(_("Each ring of the outline needs at least four positions."), code="ring")
    for position in ring:
        counter[0] += 1
        if not (isinstance(position, list) and len(position) in (2, 3)
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in position)):
            raise ValidationError(_("Each position is [longitude, latitude] in degrees."), code="position")
        lon, lat = position[0], position[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValidationError(_("A position lies outside the valid longitudes and latitudes."), code="range")
    if ring[0] != ring[-1]:
        raise ValidationError(_("Each ring of the outline must end where it starts."), code="open_ring")


def validate_boundary(value):
    if value is None:
        return
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError(_("The outline must be a GeoJSON Polygon or MultiPolygon."), code="type")
    coordinates = value.get("coordinates")
    polygons = [coordinates] if value["type"] == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise ValidationError(_("The outline has no coordinates."), code="empty")
    counter = [0]
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise ValidationError(_("The outline has no coordinates."), code="empty")
        for ring in polygon:
            _ring(ring, counter)
    if counter[0] > MAX_POSITIONS:
        raise ValidationError(_("The outline has more than %(n)d positions: simplify it.") % {"n": MAX_POSITIONS},
                              code="too_large")


def _in_ring(ring, lon, lat):
    """Even-odd ray casting; a point on an edge may fall either way, which is fine at these scales."""
    inside = False
    for (x1, y1, *_z1), (x2, y2, *_z2) in zip(ring, ring[1:]):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def contains(boundary, lon, lat):
    """Whether the outline (a valid Polygon or MultiPolygon) holds the point; holes are outside."""
    coordinates = boundary["coordinates"]
    polygons = [coordinates] if boundary["type"] == "Polygon" else coordinates
    lon, lat = float(lon), float(lat)
    return any(_in_ring(polygon[0], lon, lat) and not any(_in_ring(hole, lon, lat) for hole in polygon[1:])
               for polygon in polygons)


# How far (metres) a point may lie from the building it is snapped to: Open311 filings
# and residents' "use my location" share it (a phone's fix indoors is off by tens of metres).
NEAREST_BUILDING_M = 300
METRES_PER_DEGREE = 111_000


def metres_between(lat1, lon1, lat2, lon2):
    """Equirectangular distance: exact enough within a few kilometres, which is all it serves."""
    x = float(lon2 - lon1) * math.cos(math.radians(float(lat1))) * METRES_PER_DEGREE
    y = float(lat2 - lat1) * METRES_PER_DEGREE
    return math.hypot(x, y)


def nearest_buildings(buildings, lat, lon, *, within_m=NEAREST_BUILDING_M, limit=1):
    """Up to `limit` of the `buildings` (a queryset) nearest to the point, within `within_m`,
    nearest first, each with `.distance_m` set.

    A box around the point narrows the rows in the database (the building_lat_lon index);
    the exact distance is computed here for the few candidates left.
    """
    lat, lon = Decimal(lat), Decimal(lon)
    dlat = Decimal(within_m / METRES_PER_DEGREE)
    dlon = Decimal(within_m / (METRES_PER_DEGREE * max(math.cos(math.radians(float(lat))), 0.01)))
    nearby = list(buildings.filter(
        latitude__range=(lat - dlat, lat + dlat), longitude__range=(lon - dlon, lon + dlon),
    ).select_related("grid")[:500])
    for building in nearby:
        building.distance_m = metres_between(lat, lon, building.latitude, building.longitude)
    return sorted((b for b in nearby if b.distance_m <= within_m), key=lambda b: b.distance_m)[:limit]
