"""grid/geo.py: contains(), the point-in-outline test the Open311 location check uses."""

import pytest

from grid.geo import contains

OUTER = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
HOLE = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
FAR = [[20, 20], [21, 20], [21, 21], [20, 21], [20, 20]]


@pytest.mark.parametrize(("lon", "lat", "inside"), [
    (1, 1, True), (9.9, 5, True), (5, 5, False), (11, 5, False), (-0.1, 5, False), (20.5, 20.5, True),
])
def test_contains_honours_holes_and_every_polygon(lon, lat, inside):
    outline = {"type": "MultiPolygon", "coordinates": [[OUTER, HOLE], [FAR]]}
    assert contains(outline, lon, lat) is inside


def test_contains_a_polygon_with_altitudes():
    ring = [[x, y, 500] for x, y in OUTER]
    assert contains({"type": "Polygon", "coordinates": [ring]}, 5, 5)
