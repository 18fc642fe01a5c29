"""Grid outlines (grid/geo.py) and the seeded city's map: valid GeoJSON, no overlaps."""

import pytest
from django.core.exceptions import ValidationError

from grid.geo import validate_boundary
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


def test_seeded_grids_are_valid_and_do_not_overlap():
    plan = plan_places(scale=SCALES["demo"], seed=1)
    grids = [a for a in plan.areas if a.kind == AreaKind.GRID]
    boxes = []
    for grid in grids:
        validate_boundary(grid.boundary())
        boxes.append(grid.cell)
    for i, (w1, s1, e1, n1) in enumerate(boxes):
        for w2, s2, e2, n2 in boxes[i + 1:]:
            overlap = min(e1, e2) - max(w1, w2) > 1e-9 and min(n1, n2) - max(s1, s2) > 1e-9
            assert not overlap
