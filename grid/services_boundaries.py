"""Place outlines from a GIS export (网格边界导入): a GeoJSON FeatureCollection, one Feature a place.

A district draws its grids in a GIS, or receives them from the city's grid platform, and exports
GeoJSON (RFC 7946: longitude first, degrees). Until now an outline came only with the seeding,
so a district could not load its own; yet outlines place a resident's "use my location" report,
an Open311 filing's point and a patrol's track in their grid, and draw the dashboards' map.

Each Feature names its place by the portal's place code (区划/网格编码) in its properties, under
one of CODE_KEYS, and carries a Polygon or MultiPolygon (`grid.geo.validate_boundary`). The import
is all or nothing: every Feature is checked first, and one error (a code not among the places the
importer manages, the same code twice, a geometry the map could not draw) refuses the whole file
with every error listed, so a file is never half-loaded. A place whose outline changes gets an
AreaEvent (action "boundary"), which is also what makes the dashboards' cached outlines
(dashboards/shapes.py) stale at once; an outline the file repeats unchanged writes nothing.
A Feature without geometry (`"geometry": null`, as `boundaries_export` writes for a place that has
no outline yet) changes nothing: export, draw in the GIS, import the same file back.
"""

import json
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import DomainError

from .geo import validate_boundary
from .models import Area, AreaEvent
from .selectors import areas_visible_to

# Where GIS exports keep a place's code: the portal's own key, and what Chinese grid data calls it.
CODE_KEYS = ("code", "CODE", "网格编码", "编码", "WGBM")
MAX_BYTES = 20 * 1024 * 1024
MAX_FEATURES = 20_000
# Longer is no code (the portal's are 15 characters); it would only be echoed in an error.
MAX_CODE_LENGTH = 64
# Errors listed back at most; the count says how many there were.
MAX_ERRORS_SHOWN = 50


class BoundaryImportError(DomainError):
    """The file is refused; `errors` lists why, feature by feature (at most MAX_ERRORS_SHOWN)."""

    def __init__(self, errors):
        shown = errors[:MAX_ERRORS_SHOWN]
        super().__init__(_("Nothing was imported: the file has %(n)d error(s).") % {"n": len(errors)},
                         code="boundaries_refused")
        self.errors = shown
        self.total = len(errors)


@dataclass
class BoundaryImport:
    updated: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)


def _features(raw):
    """The file's Features as (number, properties, geometry); a file that is not one refuses at once."""
    if len(raw) > MAX_BYTES:
        raise BoundaryImportError([_("The file is larger than %(mb)d MB.") % {"mb": MAX_BYTES // (1024 * 1024)}])
    try:
        document = json.loads(raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BoundaryImportError([_("The file is not GeoJSON text (UTF-8 JSON).")]) from None
    if isinstance(document, dict) and document.get("type") == "Feature":
        document = {"type": "FeatureCollection", "features": [document]}
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        raise BoundaryImportError([_("The file must be a GeoJSON FeatureCollection.")])
    features = document["features"]
    if not features:
        raise BoundaryImportError([_("The file has no features.")])
    if len(features) > MAX_FEATURES:
        raise BoundaryImportError([_("The file has more than %(n)d features; split it.") % {"n": MAX_FEATURES}])
    rows = []
    for number, feature in enumerate(features, 1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            rows.append((number, None, None))
            continue
        properties = feature.get("properties")
        rows.append((number, properties if isinstance(properties, dict) else {}, feature.get("geometry")))
    return rows


def _code(properties):
    """The place code a Feature's properties give: text, or a number (GIS tools often store codes as
    numbers, some as whole floats); None when there is none a code could be."""
    for key in CODE_KEYS:
        value = properties.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        # Printable only: NUL or a lone surrogate could reach neither PostgreSQL nor the page.
        if isinstance(value, str) and value.strip() and value.isprintable() and len(value) <= MAX_CODE_LENGTH:
            return value.strip()
    return None


@transaction.atomic
def boundaries_import(*, raw, acting_user, now=None):
    """Set the outlines a GeoJSON file gives for places `acting_user` manages; all or nothing.

    Returns a BoundaryImport (the codes updated and those already as the file has them); raises
    BoundaryImportError, with every error, before anything is written.
    """
    now = now or timezone.now()
    rows = _features(raw)
    errors, wanted, seen = [], [], {}
    for number, properties, geometry in rows:
        if properties is None:
            errors.append((number, _("Feature %(n)d: not a GeoJSON Feature.") % {"n": number}))
            continue
        code = _code(properties)
        if code is None:
            errors.append((number, _("Feature %(n)d: no place code in its properties (one of %(keys)s).")
                           % {"n": number, "keys": "、".join(CODE_KEYS)}))
            continue
        if code in seen:
            errors.append((number, _("Feature %(n)d: code %(code)s is already feature %(first)d.")
                           % {"n": number, "code": code, "first": seen[code]}))
            continue
        seen[code] = number
        if geometry is None:
            continue  # no outline given for this place: left as it is
        try:
            if not isinstance(geometry, dict):
                raise ValidationError(_("The outline must be a GeoJSON Polygon or MultiPolygon."))
            validate_boundary(geometry)
        except ValidationError as error:
            errors.append((number, _("Feature %(n)d (%(code)s): %(reason)s")
                           % {"n": number, "code": code, "reason": " ".join(error.messages)}))
            continue
        # Only what makes the outline: other members (bbox, crs, anything a GIS adds) are not kept.
        wanted.append((number, code, {"type": geometry["type"], "coordinates": geometry["coordinates"]}))
    # Only the places the importer manages; a code elsewhere reads as unknown (no other place's
    # existence is revealed). Locked, so a rename or merge does not interleave.
    places = {area.code: area for area in areas_visible_to(acting_user, managing=True)
              .filter(code__in=[code for _n, code, _g in wanted]).select_for_update().only(
                  "pk", "code", "name", "is_active", "boundary")}
    for number, code, _geometry in wanted:
        area = places.get(code)
        if area is None:
            errors.append((number, _("Feature %(n)d: no place with code %(code)s among the places you manage.")
                           % {"n": number, "code": code}))
        elif not area.is_active:
            errors.append((number, _("Feature %(n)d: %(name)s (%(code)s) was merged into another place; it "
                                     "takes no outline.") % {"n": number, "name": area.name, "code": code}))
    if errors:
        raise BoundaryImportError([message for _number, message in sorted(errors, key=lambda e: e[0])])
    result = BoundaryImport()
    for _number, code, geometry in wanted:
        area = places[code]
        if area.boundary == geometry:
            result.unchanged.append(code)
            continue
        had = area.boundary is not None
        Area.objects.filter(pk=area.pk).update(boundary=geometry)
        AreaEvent.objects.create(area=area, action=AreaEvent.Action.BOUNDARY, actor=acting_user, at=now,
                                 details={"name": area.name, "code": code, "replaced": had,
                                          "positions": _positions(geometry)})
        result.updated.append(code)
    return result


def boundaries_export(user):
    """A FeatureCollection of the active places `user` manages, in tree order: each with its code,
    name and kind, and its outline, or no geometry where it has none yet (the file to draw in)."""
    places = (areas_visible_to(user, managing=True).filter(is_active=True).order_by("tree_id", "lft")
              .values_list("code", "name", "kind", "boundary"))
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code, "name": name, "kind": kind}, "geometry": boundary}
        for code, name, kind, boundary in places.iterator(chunk_size=1000)]}


def _positions(geometry):
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return sum(len(ring) for polygon in polygons for ring in polygon)
