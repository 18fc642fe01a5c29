"""Finding a building without knowing the tree: by what a resident can type (a building's
name, number or address, the name of its grid or community) or by where she stands.

Residents report and order without an account, so this reads the public structure
(street › community › grid › building, as on every notice board) and never people.
Only buildings of grids in use are found. Bad input raises DomainError with a
message for the resident; nothing here writes.

Speed at a city's scale (issue #21): on PostgreSQL, `icontains` ('%term%') and,
for words under three characters, `istartswith` ('term%') on the building's name,
address and number are answered by a trigram GIN index (pg_trgm, migration
grid 0008); grid and community names are matched first in
the small place table and enter as a list of grid ids. SQLite runs the same
query without the index (development and tests).
"""

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils.translation import gettext as _

from portal.errors import DomainError

from . import geo
from .models import Area, AreaKind, Building, Compound

QUERY_MIN = 2
SUBSTRING_MIN = 3
QUERY_MAX = 60
MAX_TERMS = 4
RESULTS = 20
# A term matching more places than this names nothing in particular ("社区").
MAX_PLACE_MATCHES = 200
NEAR_RESULTS = 5


@dataclass(frozen=True)
class Hit:
    """One building found, with its place path for the list and the map."""

    building: Building
    path: tuple[str, ...]
    distance_m: float | None = None

    @property
    def label(self):
        """The building as residents name it: with its compound ("阳光名苑 2号楼") unless its own
        name already says it."""
        text = str(self.building)
        compound = self.building.compound if self.building.compound_id else None
        if compound is not None and compound.name not in text:
            return f"{compound.name} {text}"
        return text


def clean_query(raw):
    """The typed words, trimmed and split; DomainError(code="bad_query") with the reason."""
    text = " ".join(str(raw or "").split())
    if not text:
        raise DomainError(_("Type a building, an address or the name of your community."), code="bad_query")
    if len(text) > QUERY_MAX:
        raise DomainError(_("Type at most %(n)d characters.") % {"n": QUERY_MAX}, code="bad_query")
    if any(ord(c) < 32 or c == "\x7f" for c in text):
        raise DomainError(_("The search contains characters that cannot be searched."), code="bad_query")
    if len(text.replace(" ", "")) < QUERY_MIN:
        raise DomainError(_("Type at least %(n)d characters.") % {"n": QUERY_MIN}, code="bad_query")
    return text.split(" ")[:MAX_TERMS]


def clean_point(lat, lon):
    """(latitude, longitude) as Decimals, or DomainError(code="bad_location") saying what is wrong."""
    bad = DomainError(_("The location must be a latitude and a longitude in decimal degrees."), code="bad_location")
    values = []
    for raw in (lat, lon):
        text = str(raw if raw is not None else "").strip()
        if not text or len(text) > 20:
            raise bad
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise bad from None
        if not value.is_finite():
            raise bad
        values.append(value)
    lat_d, lon_d = values
    if not (-90 <= lat_d <= 90 and -180 <= lon_d <= 180):
        raise DomainError(_("That location is not on Earth: latitude is -90 to 90, longitude -180 to 180."),
                          code="bad_location")
    quantum = Decimal("0.000001")
    return lat_d.quantize(quantum), lon_d.quantize(quantum)


def active_buildings():
    """Buildings of grids in use: the only ones a resident may report or order at."""
    return Building.objects.filter(grid__is_active=True, grid__kind=AreaKind.GRID)


def _grids_named(term):
    """Ids of active grids whose name, or whose community's name, holds `term` (None: too many to help)."""
    places = list(Area.objects.filter(
        kind__in=(AreaKind.GRID, AreaKind.COMMUNITY), is_active=True, name__icontains=term,
    ).values_list("pk", "kind")[:MAX_PLACE_MATCHES + 1])
    if len(places) > MAX_PLACE_MATCHES:
        return None
    grids = [pk for pk, kind in places if kind == AreaKind.GRID]
    communities = [pk for pk, kind in places if kind == AreaKind.COMMUNITY]
    if communities:
        grids += Area.objects.filter(parent_id__in=communities, kind=AreaKind.GRID, is_active=True) \
            .values_list("pk", flat=True)[:MAX_PLACE_MATCHES]
    return grids


def _term_condition(term):
    """A word of three characters or more may stand anywhere in the name, address or number;
    a shorter one only at their start ("阳光" finds 阳光花园, "9号" finds 9号楼). A pattern
    '%ab%' holds no trigram, and the index would read all of itself for it; 'ab%' does."""
    if len(term) >= SUBSTRING_MIN:
        condition = Q(name__icontains=term) | Q(address__icontains=term) | Q(number__icontains=term)
    else:
        condition = Q(name__istartswith=term) | Q(address__istartswith=term) | Q(number__istartswith=term)
    grids = _grids_named(term)
    if grids:
        condition |= Q(grid_id__in=grids)
    compounds = _compounds_named(term)
    if compounds:
        condition |= Q(compound_id__in=compounds)
    # "阳光名苑2号楼" in one word: the compound's name, then the building's number.
    split = _COMPOUND_AND_NUMBER.match(term)
    if split:
        named = _compounds_named(split["compound"])
        if named:
            condition |= Q(compound_id__in=named, number__istartswith=split["number"])
    return condition


_COMPOUND_AND_NUMBER = re.compile(r"^(?P<compound>\D{2,}?)(?P<number>\d+(号楼?|栋|幢)?)$")


def _compounds_named(term):
    """Ids of open compounds (小区) whose name holds `term` (None: too many to help)."""
    found = list(Compound.objects.filter(is_active=True, name__icontains=term)
                 .values_list("pk", flat=True)[:MAX_PLACE_MATCHES + 1])
    return None if len(found) > MAX_PLACE_MATCHES else found


def search_buildings(raw_query, *, limit=RESULTS):
    """Buildings of active grids matching every typed word (in any of the fields), as Hits.

    Raises DomainError for input that cannot be searched (see clean_query).
    """
    terms = clean_query(raw_query)
    query = active_buildings()
    for term in terms:
        query = query.filter(_term_condition(term))
    rows = list(query.select_related("grid__parent__parent", "compound").order_by("address", "number", "pk")[:limit])
    return [Hit(building=b, path=_path(b)) for b in rows]


def buildings_near(lat, lon, *, within_m=geo.NEAREST_BUILDING_M, limit=NEAR_RESULTS):
    """The active buildings nearest the point (within `within_m`), nearest first, as Hits.

    Raises DomainError(code="too_far") when none is that close: the resident then
    searches instead, and no report is ever filed at a building far from her.
    """
    lat, lon = clean_point(lat, lon)
    found = geo.nearest_buildings(active_buildings().select_related("grid__parent__parent", "compound"), lat, lon,
                                  within_m=within_m, limit=limit)
    if not found:
        raise DomainError(
            _("No building we serve is within %(m)d metres of your location. Search by name or address instead.")
            % {"m": within_m}, code="too_far")
    return [Hit(building=b, path=_path(b), distance_m=math.floor(b.distance_m)) for b in found]


def _path(building):
    grid = building.grid
    community = grid.parent
    street = community.parent if community is not None else None
    return tuple(a.name for a in (street, community, grid) if a is not None)


def map_layers(hits):
    """What the confirmation map draws: the outlines of the hits' grids (GeoJSON features)
    and the buildings that have a position. Plain data for json_script."""
    grids = {}
    points = []
    for hit in hits:
        building = hit.building
        grid = building.grid
        if grid.boundary and grid.pk not in grids:
            grids[grid.pk] = {"type": "Feature", "geometry": grid.boundary, "properties": {"name": grid.name}}
        if building.latitude is not None and building.longitude is not None:
            points.append({"id": building.pk, "lat": float(building.latitude), "lon": float(building.longitude),
                           "label": hit.label})
    return {"grids": {"type": "FeatureCollection", "features": list(grids.values())}, "points": points}
