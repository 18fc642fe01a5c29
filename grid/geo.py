"""Place outlines: GeoJSON (RFC 7946) Polygon or MultiPolygon, longitude first.

`validate_boundary` is the model field's validator: forms and the admin refuse
an outline the dashboards' map could not draw, with a message saying why.
"""

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
