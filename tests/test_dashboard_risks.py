"""The dashboards' risk figures and map layer (dashboards/risk_figures.py): counts by grade and type per
place, overdue reviews, warnings open and handled, patrols and fixes on the spot; scoped to the page's
place and the user's managing posts (inside and outside, page, export and chart JSON); no personal data."""

import datetime
import json

import pytest
from django.urls import reverse

from grid.models import Building, Role
from risks import early_warning, patrols, warning_actions
from risks.models import EarlyWarning

from .cases_factories import png
from .risks_factories import NOW, people, register

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-10T09:00:00+08:00")]

LATER = NOW + datetime.timedelta(days=17)
DECEMBER = {"period": "custom", "first": "2026-12-01", "last": "2026-12-31"}


@pytest.fixture
def crew(city, make_user):
    crew = people(city, make_user)
    crew["official"] = make_user(Role.DISTRICT_OFFICIAL, city.district, full_name="区干部")
    crew["worker_b"] = make_user(Role.GRID_WORKER, city.grid_b, full_name="乙网格员")
    return crew


@pytest.fixture
def register_seeded(city, crew):
    Building.objects.filter(pk__in=[city.building_a.pk, city.building_b.pk]).update(latitude=31.46, longitude=104.68)
    register(city, crew["worker"], responsible_phone="13912345678")  # orange, review 12-08: overdue, warned
    register(city, crew["worker"], kind="gas", likelihood=5, severity=4, title="燃气泄漏")  # red, overdue
    register(city, crew["worker"], likelihood=1, severity=2, title="蓝")  # blue
    register(city, crew["worker_b"], building=city.building_b, title="和平9号楼堆物")  # orange, other street
    early_warning.warnings_sweep(now=LATER)
    handled = EarlyWarning.objects.filter(community=city.community_a).order_by("pk").first()
    warning_actions.warning_acknowledge(warning=handled, note="已处理", acting_user=crew["staff"], now=LATER)
    patrol = patrols.patrol_start(grid=city.grid_a, acting_user=crew["worker"], now=LATER)
    patrols.finding_fixed(patrol=patrol, description="扶正垃圾桶", before=png(), after=png(), acting_user=crew["worker"],
                          now=LATER)
    patrols.patrol_end(patrol=patrol, acting_user=crew["worker"], now=LATER + datetime.timedelta(hours=1))


def table(response, name):
    return next(t for t in response.context["tables"] if t.name == name)


def test_street_page_counts_only_its_subtree(client, city, crew, register_seeded):
    client.force_login(crew["street"])
    response = client.get(reverse("cases:dashboard_place", args=[city.street_a.pk]), DECEMBER)
    assert response.status_code == 200
    # red, orange, yellow, blue; overdue reviews; warnings open, handled in the period; patrols; fixed.
    assert table(response, "risks").rows == [[1, 1, 0, 1, 2, 1, 1, 1, 1]]
    places = table(response, "risks_places")
    assert places.rows == [["幸福社区", 1, 1, 0, 1, 2, 1]]
    types = table(response, "risks_types")
    assert [r[0] for r in types.rows] == ["消防通道堵塞", "燃气"] and types.rows[0][-1] == 2
    body = response.content.decode()
    assert "13912345678" not in body and "幸福物业公司" not in body and "和平9号楼堆物" not in body


def test_district_page_and_export_list_both_streets(client, city, crew, register_seeded):
    client.force_login(crew["official"])
    response = client.get(reverse("cases:dashboard_place", args=[city.district.pk]), DECEMBER)
    places = table(response, "risks_places")
    assert [r[0] for r in places.rows] == ["城北街道", "城南街道"]
    assert places.rows[1][1:] == [0, 1, 0, 0, 1, 1]
    csv = client.get(reverse("cases:dashboard_place_export", args=[city.district.pk, "risks_places", "csv"]),
                     DECEMBER).content.decode("utf-8-sig")
    assert "城南街道" in csv and "13912345678" not in csv


def test_chart_json_carries_the_risk_layer_inside_and_404_outside(client, city, crew, register_seeded):
    client.force_login(crew["street"])
    data = client.get(reverse("cases:dashboard_place_chart", args=[city.street_a.pk])).json()
    assert sorted(p[2] for p in data["map"]["risks"]) == ["blue", "orange", "red"]
    assert "13912345678" not in json.dumps(data, ensure_ascii=False)
    assert "燃气泄漏" not in json.dumps(data, ensure_ascii=False)
    for name, args in (("cases:dashboard_place_chart", [city.street_b.pk]),
                       ("cases:dashboard_place", [city.street_b.pk]),
                       ("cases:dashboard_place_export", [city.street_b.pk, "risks_places", "csv"])):
        assert client.get(reverse(name, args=args)).status_code == 404
    # Staff below the street (a grid worker) have no dashboard at all.
    client.force_login(crew["worker"])
    assert client.get(reverse("cases:dashboard_place_chart", args=[city.grid_a.pk])).status_code == 404


def test_bad_period_falls_back_without_a_500(client, city, crew, register_seeded):
    client.force_login(crew["street"])
    for query in ({"period": "custom", "first": "2026-13-40"}, {"period": "nonsense"}, {"first": "\x00"}):
        response = client.get(reverse("cases:dashboard_place", args=[city.street_a.pk]), query)
        assert response.status_code == 200
        assert table(response, "risks").rows[0][:4] == [1, 1, 0, 1]


# --- patrol coverage (巡查覆盖率) -------------------------------------------------------------------

def _fix(city, worker, grid, building, at):
    patrol = patrols.patrol_start(grid=grid, acting_user=worker, now=at)
    patrols.finding_fixed(patrol=patrol, building=building, description="扶正垃圾桶", before=png(), after=png(),
                          acting_user=worker, now=at)
    patrols.patrol_end(patrol=patrol, acting_user=worker, now=at + datetime.timedelta(hours=1))


@pytest.fixture
def coverage_seeded(city, crew, make_user):
    from grid import services as grid_services
    from risks import plans

    december, november = LATER, NOW  # 12-10 and 11-23
    a3 = grid_services.building_add(grid=city.grid_a, number="3号楼", address="幸福路3号")
    # Street A: 1号楼 fixed in December; 5号楼 (grid A2) ticked done on a plan in December; 3号楼 only in November.
    _fix(city, crew["worker"], city.grid_a, city.building_a, december)
    _fix(city, crew["worker"], city.grid_a, a3, november)
    worker_a2 = make_user(Role.GRID_WORKER, city.grid_a2, full_name="二网格员")
    plan = plans.plan_add(grid=city.grid_a2, building=city.building_a2, title="5号楼消防巡查", interval_days=30,
                          first_due=december.date(), acting_user=crew["staff"], now=november)
    patrol = patrols.patrol_start(grid=city.grid_a2, acting_user=worker_a2, now=december)
    plans.plan_done(plan=plan, acting_user=worker_a2, now=december)
    patrols.patrol_end(patrol=patrol, acting_user=worker_a2, now=december + datetime.timedelta(hours=1))
    # Street B (outside street A): 9号楼 fixed in December.
    _fix(city, crew["worker_b"], city.grid_b, city.building_b, december)
    return a3


def test_patrol_coverage_counts_buildings_inspected_in_the_period_over_the_places_buildings(
        client, city, crew, coverage_seeded):
    client.force_login(crew["street"])
    response = client.get(reverse("cases:dashboard_place", args=[city.street_a.pk]), DECEMBER)
    # 1号楼 (finding) and 5号楼 (plan ticked) of 1号楼, 5号楼, 3号楼: 2 / 3. 9号楼 is in street B.
    assert table(response, "patrol_coverage").rows == [[2, 3, "66.7%"]]
    assert "Patrol coverage" in table(response, "patrol_coverage").note or "巡查覆盖率" in table(
        response, "patrol_coverage").note
    november = {"period": "custom", "first": "2026-11-01", "last": "2026-11-30"}
    response = client.get(reverse("cases:dashboard_place", args=[city.street_a.pk]), november)
    assert table(response, "patrol_coverage").rows == [[1, 3, "33.3%"]]  # 3号楼 only
    # The grid A2 page: its one building, ticked done: 1 / 1.
    response = client.get(reverse("cases:dashboard_place", args=[city.grid_a2.pk]), DECEMBER)
    assert table(response, "patrol_coverage").rows == [[1, 1, "100.0%"]]
    # Outside street A: no page, no export.
    for args in ([city.street_b.pk], [city.street_b.pk, "patrol_coverage", "csv"]):
        name = "cases:dashboard_place" if len(args) == 1 else "cases:dashboard_place_export"
        assert client.get(reverse(name, args=args), DECEMBER).status_code == 404


def test_patrol_coverage_over_the_district_and_its_export(client, city, crew, coverage_seeded):
    client.force_login(crew["official"])
    response = client.get(reverse("cases:dashboard_place", args=[city.district.pk]), DECEMBER)
    # 1号楼, 5号楼, 9号楼 of the four buildings.
    assert table(response, "patrol_coverage").rows == [[3, 4, "75.0%"]]
    csv = client.get(reverse("cases:dashboard_place_export", args=[city.district.pk, "patrol_coverage", "csv"]),
                     DECEMBER).content.decode("utf-8-sig")
    assert "75.0%" in csv


def test_patrol_coverage_of_a_place_without_buildings_is_a_dash(client, city, crew):
    from grid import services as grid_services

    empty = grid_services.area_add(kind="grid", name="空网格", parent=city.community_a)
    client.force_login(crew["street"])
    response = client.get(reverse("cases:dashboard_place", args=[empty.pk]), DECEMBER)
    assert table(response, "patrol_coverage").rows == [[0, 0, "—"]]
