"""Matters by compound (小区) on the dashboards, and the compounds without property management
listed apart (issue #23); the place page's compounds. One compound inside the user's places and
one outside, with a frozen clock."""

from datetime import timedelta

import pytest
from django.urls import reverse

from cases.models import Status
from grid import services_compounds
from grid.models import Role

from .cases_factories import at
from .dashboard_factories import make_case
from .factories import make_organisation

pytestmark = pytest.mark.django_db
NOW = at(2026, 11, 20, 10, 0)


@pytest.fixture
def compounds(city):
    wuye = make_organisation(seat=city.community_a, kind="property", function="property", name="万科物业·阳光名苑")
    sunshine = services_compounds.compound_add(community=city.community_a, name="阳光名苑", property_company=wuye)
    old = services_compounds.compound_add(community=city.community_a, name="老街院落")  # 无物业
    peace = services_compounds.compound_add(community=city.community_b, name="和平家园")  # 无物业, street B
    services_compounds.building_set_compound(building=city.building_a, compound=sunshine)
    services_compounds.building_set_compound(building=city.building_a2, compound=old)
    services_compounds.building_set_compound(building=city.building_b, compound=peace)
    day = NOW - timedelta(days=3)
    for status in (Status.CLOSED, Status.CLOSED, Status.HANDLING):
        make_case(city.grid_a, day, status, building=city.building_a)
    make_case(city.grid_a2, day, Status.HANDLING, building=city.building_a2)
    make_case(city.grid_b, day, Status.CLOSED, building=city.building_b)
    make_case(city.grid_a, NOW - timedelta(days=60), Status.CLOSED, building=city.building_a)  # before the month
    make_case(city.grid_a, day, Status.CLOSED)  # no building: no compound
    return sunshine, old, peace


def url(area, **kwargs):
    return reverse("cases:dashboard_place_compounds", args=[area.pk])


def tables(response):
    return {t.name: t for t in response.context["tables"]}


@pytest.mark.clock(NOW)
def test_street_staff_see_their_compounds_only(city, compounds, make_user, client):
    client.force_login(make_user(Role.STREET_STAFF, city.street_a))
    found = tables(client.get(url(city.street_a), {"period": "month"}))
    rows = found["compounds"].rows
    # 阳光名苑: three this month (two closed, one open); 老街院落: one open. 和平家园 is street B's.
    assert rows == [["阳光名苑", "幸福社区", "万科物业·阳光名苑", 3, 2, 1], ["老街院落", "幸福社区", "无物业", 1, 0, 1]]
    unmanaged = found["compounds_unmanaged"].rows
    assert [r[0] for r in unmanaged] == ["老街院落"]
    assert client.get(url(city.street_b)).status_code == 404
    assert client.get(url(city.other_district)).status_code == 404


@pytest.mark.clock(NOW)
def test_the_district_lists_every_compound_without_property_management(city, compounds, make_user, client):
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    found = tables(client.get(url(city.district), {"period": "month"}))
    # Busiest first: by matters reported, then by open now.
    assert [r[0] for r in found["compounds"].rows] == ["阳光名苑", "老街院落", "和平家园"]
    assert sorted(r[0] for r in found["compounds_unmanaged"].rows) == ["和平家园", "老街院落"]
    assert [r[3] for r in found["compounds_unmanaged"].rows if r[0] == "和平家园"] == [1]
    export = client.get(reverse("cases:dashboard_place_export", args=[city.district.pk, "compounds_unmanaged", "csv"]))
    assert export.status_code == 200 and "和平家园" in export.content.decode("utf-8-sig")


@pytest.mark.clock(NOW)
def test_a_bad_period_is_no_500(city, compounds, make_user, client):
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    for params in ({"period": "decade"}, {"period": "custom", "start": "0001-01-01", "end": "9999-12-31"},
                   {"start": "x"}):
        assert client.get(url(city.district), params).status_code in (200, 400)


@pytest.mark.clock(NOW)
def test_the_community_page_lists_its_compounds_with_the_unmanaged_apart(city, compounds, make_user, client):
    client.force_login(make_user(Role.COMMUNITY_STAFF, city.community_a))
    page = client.get(reverse("place", args=[city.community_a.pk]))
    assert page.context["compounds_total"] == 2
    assert [c.name for c in page.context["compounds_managed"]] == ["阳光名苑"]
    assert [c.name for c in page.context["compounds_unmanaged"]] == ["老街院落"]
    text = page.content.decode()
    assert "万科物业·阳光名苑" in text and "和平家园" not in text
    building = client.get(reverse("building", args=[city.building_a.pk])).content.decode()
    assert "阳光名苑1号楼" in building


def test_the_hotline_panel_asks_a_stranger_to_sign_in(city, client):
    # It had lost its decorators: an anonymous request answered 404 instead of the sign-in page.
    response = client.get(reverse("cases:dashboard_place_hotline", args=[city.district.pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert client.post(reverse("cases:dashboard_place_hotline", args=[city.district.pk])).status_code in (302, 405)
