"""Grid outlines (grid/geo.py) and the seeded city's map: valid GeoJSON, no overlaps."""

import pytest
from django.core.exceptions import ValidationError

from grid.geo import contains, validate_boundary
from grid.models import Area, AreaKind
from grid.seeding import SCALES, plan_places

SQUARE = {"type": "Polygon", "coordinates": [[[104.0, 31.0], [104.1, 31.0], [104.1, 31.1], [104.0, 31.0]]]}


@pytest.mark.parametrize("value", [
    None,
    SQUARE,
    {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"], SQUARE["coordinates"]]},
])
def test_valid_outlines(value):
    validate_boundary(value)


@pytest.mark.parametrize("value, code", [
    ("POLYGON((0 0))", "type"),
    ({"type": "Point", "coordinates": [104, 31]}, "type"),
    ({"type": "Polygon"}, "empty"),
    ({"type": "Polygon", "coordinates": []}, "empty"),
    ({"type": "Polygon", "coordinates": [[[104, 31], [104.1, 31], [104, 31]]]}, "ring"),
    ({"type": "Polygon", "coordinates": [[[104, 31], [104.1, 31], [104.1, 31.1], [104, 31.2]]]}, "open_ring"),
    ({"type": "Polygon", "coordinates": [[[31, 204], [31, 204.1], [31.1, 204], [31, 204]]]}, "range"),
    ({"type": "Polygon", "coordinates": [[["104", 31], [104.1, 31], [104.1, 31.1], ["104", 31]]]}, "position"),
    ({"type": "Polygon", "coordinates": [[[True, 31], [104.1, 31], [104.1, 31.1], [True, 31]]]}, "position"),
])
def test_bad_outlines_are_refused_with_a_reason(value, code):
    with pytest.raises(ValidationError) as error:
        validate_boundary(value)
    assert error.value.code == code


def test_model_validation_refuses_a_bad_outline(city):
    city.grid_a.boundary = {"type": "Polygon", "coordinates": [[[0, 0]]]}
    with pytest.raises(ValidationError) as error:
        city.grid_a.full_clean()
    assert "boundary" in error.value.message_dict
    assert Area.objects.get(pk=city.grid_a.pk).boundary is None


def test_seeded_grids_are_valid_convex_and_tile_without_overlap():
    plan = plan_places(scale=SCALES["demo"], seed=1)
    grids = [a for a in plan.areas if a.kind == AreaKind.GRID]
    for grid in grids:
        validate_boundary(grid.boundary())
        ring = grid.outline
        assert len(ring) >= 4, "a square would have 4 corners; a Voronoi cell usually has 5-7"
        turns = [(b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])
                 for a, b, c in zip(ring, ring[1:] + ring[:1], ring[2:] + ring[:2])]
        assert all(t > 0 for t in turns), "convex and counter-clockwise"
    assert any(len(g.outline) != 4 for g in grids)
    # No point of the city lies in two grids, and inside the city's hull almost none lies in none.
    west = min(g.cell[0] for g in grids)
    south = min(g.cell[1] for g in grids)
    east = max(g.cell[2] for g in grids)
    north = max(g.cell[3] for g in grids)
    steps = 60
    inside = 0
    for i in range(steps):
        for j in range(steps):
            lon = west + (east - west) * (i + 0.5) / steps
            lat = south + (north - south) * (j + 0.5) / steps
            holders = sum(contains(g.boundary(), lon, lat) for g in grids)
            assert holders <= 1, (lon, lat)
            inside += holders
    assert inside > steps * steps * 0.5


def test_seeded_outlines_do_not_depend_on_anything_but_the_seed():
    first = [g.boundary() for g in plan_places(scale=SCALES["demo"], seed=3).areas if g.kind == AreaKind.GRID]
    again = [g.boundary() for g in plan_places(scale=SCALES["demo"], seed=3).areas if g.kind == AreaKind.GRID]
    other = [g.boundary() for g in plan_places(scale=SCALES["demo"], seed=4).areas if g.kind == AreaKind.GRID]
    assert first == again and first != other
