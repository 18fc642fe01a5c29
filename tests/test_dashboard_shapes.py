"""The grids' outlines on their own URL (dashboards/shapes.py): scoped like the page, cached,
revalidated by ETag, a new version when the tree or (after the next rollup refresh) a boundary
changes; the page itself carries the figures per grid and this URL, not the outlines."""

import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse

from dashboards import shapes as shapes_module
from dashboards.rollups import rollups_refresh, rollups_rebuild
from grid import services
from grid.models import Area, AreaKind, Role

from .cases_factories import at
from .dashboard_factories import fixture_cases  # noqa: F401
from .factories import UserFactory

NOW = at(2026, 11, 30, 23, 55)
NOVEMBER = {"period": "custom", "first": "2026-11-01", "last": "2026-11-30"}
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW)]


def square(west, south=31.0, size=0.01):
    ring = [[west, south], [west + size, south], [west + size, south + size], [west, south + size], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def outlined(city, fixture_cases):
    for n, grid in enumerate(Area.objects.filter(kind=AreaKind.GRID).order_by("code")):
        Area.objects.filter(pk=grid.pk).update(boundary=square(104.0 + n * 0.01))
    rollups_rebuild(now=NOW)
    return city


def shapes_url(area):
    return reverse("cases:dashboard_place_shapes", args=[area.pk])


def names(response):
    return sorted(f["properties"]["name"] for f in json.loads(response.content)["features"])


def test_street_staff_get_their_grids_only(outlined, make_user, client):
    city = outlined
    client.force_login(make_user(Role.STREET_STAFF, city.street_a, username="street_a"))
    response = client.get(shapes_url(city.street_a))
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    # grid_a and grid_a2 lie in the street; grid_b (the other street) and the other district's do not.
    assert names(response) == ["幸福第一网格", "幸福第二网格"]
    feature = json.loads(response.content)["features"][0]
    assert feature["id"] == city.grid_a.pk and feature["geometry"] == Area.objects.get(pk=city.grid_a.pk).boundary
    # Places the user does not manage answer 404, like the page: the other street, the district above.
    for area in (city.street_b, city.grid_b, city.district, city.other_district):
        assert client.get(shapes_url(area)).status_code == 404
    assert client.get(reverse("cases:dashboard_shapes")).status_code == 404  # the city is for administrators


def test_a_district_official_and_an_administrator(outlined, make_user, client):
    city = outlined
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district, username="official"))
    assert names(client.get(shapes_url(city.district))) == ["和平第一网格", "幸福第一网格", "幸福第二网格"]
    # The same place for someone who sees less is not served from the official's cache entry.
    client.force_login(make_user(Role.COMMUNITY_STAFF, city.community_a, username="community_a"))
    assert names(client.get(shapes_url(city.community_a))) == ["幸福第一网格", "幸福第二网格"]
    assert client.get(shapes_url(city.district)).status_code == 404
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    everything = names(client.get(reverse("cases:dashboard_shapes")))
    assert {"和平第一网格", "幸福第一网格", "幸福第二网格"} <= set(everything)
    assert len(everything) == Area.objects.filter(kind=AreaKind.GRID, is_active=True,
                                                  boundary__isnull=False).count()


def test_etag_answers_304_and_the_cache_saves_the_build(outlined, make_user, client, django_assert_num_queries,
                                                        monkeypatch):
    city = outlined
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district, username="official"))
    first = client.get(shapes_url(city.district))
    assert first["ETag"].startswith('"') and first["Cache-Control"] == "private, no-cache"
    again = client.get(shapes_url(city.district), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    stale = client.get(shapes_url(city.district), HTTP_IF_NONE_MATCH='"something-else"')
    assert stale.status_code == 200 and stale.content == first.content
    # A cached answer reads no outline: session, user, posts, the place (twice: the scope, the row),
    # the newest tree event, the rollups' refresh time.
    built = []
    monkeypatch.setattr(shapes_module, "shapes_text", lambda grids: built.append(grids) or "")
    with django_assert_num_queries(7):
        cached = client.get(shapes_url(city.district))
    assert built == [] and cached.content == first.content


def test_a_tree_change_shows_at_once_and_a_boundary_after_the_refresh(outlined, make_user, client):
    city = outlined
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district, username="official"))
    before = client.get(shapes_url(city.district))
    services.area_rename(area=city.grid_b, name="和平新网格")  # logs an AreaEvent: a new key
    renamed = client.get(shapes_url(city.district), HTTP_IF_NONE_MATCH=before["ETag"])
    assert renamed.status_code == 200 and "和平新网格" in names(renamed) and renamed["ETag"] != before["ETag"]

    # An outline written without a tree event (seeding, an import) is served after the next refresh.
    moved = square(105.0)
    Area.objects.filter(pk=city.grid_b.pk).update(boundary=moved)
    cached = client.get(shapes_url(city.district))
    assert cached["ETag"] == renamed["ETag"]
    rollups_refresh(now=NOW + timedelta(minutes=1))
    fresh = client.get(shapes_url(city.district), HTTP_IF_NONE_MATCH=renamed["ETag"])
    assert fresh.status_code == 200
    geometry = {f["id"]: f["geometry"] for f in json.loads(fresh.content)["features"]}
    assert geometry[city.grid_b.pk] == moved


def test_too_many_grids_for_one_map_is_404_and_no_map(outlined, make_user, client, monkeypatch):
    city = outlined
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district, username="official"))
    monkeypatch.setattr(shapes_module, "MAP_MAX_GRIDS", 2)
    monkeypatch.setattr("dashboards.page.MAP_MAX_GRIDS", 2)
    assert client.get(shapes_url(city.district)).status_code == 404
    page = client.get(reverse("cases:dashboard_place", args=[city.district.pk]), NOVEMBER)
    assert page.context["too_many_grids"] and 'id="dash-map-data"' not in page.content.decode()
    assert client.get(shapes_url(city.street_a)).status_code == 200  # two grids: drawn


def test_the_page_carries_figures_per_grid_and_the_outlines_url(outlined, make_user, client):
    """The page no longer embeds the outlines: the counts per grid, a link pattern and the URL;
    together with the outlines they give what the chart endpoint serves."""
    city = outlined
    Area.objects.filter(pk=city.grid_b.pk).update(name="和平</script><b>&网格")
    cache.clear()
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district, username="official"))
    page = client.get(reverse("cases:dashboard_place", args=[city.district.pk]), NOVEMBER).content.decode()
    embedded = re.search(r'<script id="dash-map-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    assert "<" not in embedded and "&" not in embedded and "coordinates" not in embedded
    layers = json.loads(embedded)
    assert layers["shapes"] == shapes_url(city.district)
    outlines = json.loads(client.get(layers["shapes"]).content)
    served = client.get(reverse("cases:dashboard_place_chart", args=[city.district.pk]), NOVEMBER).json()["map"]
    assert served["points"] == layers["points"] and served["risks"] == layers["risks"]
    for drawn, full in zip(outlines["features"], served["grids"]["features"], strict=True):
        n_open, n_overdue = layers["counts"].get(str(drawn["id"]), [0, 0])
        assert full["properties"] == {"name": drawn["properties"]["name"], "open": n_open, "overdue": n_overdue,
                                      "url": layers["link"].replace("{}", str(drawn["id"]))}
        assert full["geometry"] == drawn["geometry"]
    assert layers["counts"][str(city.grid_a.pk)] == [1, 1]  # one open case, overdue (fixture_cases)
    assert "和平</script><b>&网格" in [f["properties"]["name"] for f in outlines["features"]]
