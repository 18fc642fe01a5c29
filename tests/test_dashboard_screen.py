"""The command screen (指挥大屏): scope of the page and its JSON, what the JSON holds
(no personal data), the trend ending today, and the figures taken from dashboards.figures."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from cases.models import Status
from dashboards.figures import Figures, Place, RollupSource, period_for
from dashboards.page import Dashboard, percent, score
from dashboards.rollups import rollups_rebuild
from dashboards.screen import RATES, TREND_DAYS
from grid.models import Role

from .cases_factories import at
from .dashboard_factories import fixture_cases, make_case  # noqa: F401
from .factories import UserFactory

NOW = at(2026, 11, 30, 23, 55)


def page_url(area=None):
    return reverse("cases:command_screen_place", args=[area.pk]) if area else reverse("cases:command_screen")


def data_url(area=None):
    return reverse("cases:command_screen_place_data", args=[area.pk]) if area else reverse("cases:command_screen_data")


@pytest.fixture
def built(city, fixture_cases):
    rollups_rebuild(now=NOW)
    return fixture_cases


# --- scope -------------------------------------------------------------------------------

@pytest.mark.clock(NOW)
def test_street_staff_see_their_street_and_nothing_else(city, built, make_user, client):
    client.force_login(make_user(Role.STREET_STAFF, city.street_a))
    for url in (page_url(city.street_a), data_url(city.street_a)):
        assert client.get(url).status_code == 200
    for area in (city.street_b, city.district, city.other_district):
        assert client.get(page_url(area)).status_code == 404
        assert client.get(data_url(area)).status_code == 404
    # The city is for administrators; a place that does not exist answers like one outside.
    assert client.get(page_url()).status_code == 404
    assert client.get(data_url()).status_code == 404
    assert client.get(reverse("cases:command_screen_place", args=[999999])).status_code == 404


@pytest.mark.clock(NOW)
def test_district_official_sees_the_district_and_its_streets_only(city, built, make_user, client):
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    for area in (city.district, city.street_a, city.street_b):
        assert client.get(page_url(area)).status_code == 200
        assert client.get(data_url(area)).status_code == 200
    assert client.get(page_url(city.other_district)).status_code == 404
    assert client.get(data_url(city.other_district)).status_code == 404
    # Command centres are streets and districts: a community or grid inside the scope has no screen.
    for area in (city.community_a, city.grid_a):
        assert client.get(page_url(area)).status_code == 404
        assert client.get(data_url(area)).status_code == 404


@pytest.mark.clock(NOW)
def test_community_staff_and_strangers_get_no_screen(city, built, make_user, client):
    assert client.get(data_url(city.district)).status_code == 302  # to the sign-in page
    client.force_login(make_user(Role.COMMUNITY_STAFF, city.community_a))
    assert client.get(page_url(city.street_a)).status_code == 404
    client.force_login(UserFactory())  # no post at all
    assert client.get(data_url(city.district)).status_code == 404


@pytest.mark.clock(NOW)
def test_administrators_have_the_city_screen(city, built, client):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get(page_url()).status_code == 200
    data = client.get(data_url()).json()
    # Both districts' matters: the other district's case counts in the city.
    assert sum(data["trend"]["reported"]) == 7


# --- contents ----------------------------------------------------------------------------

@pytest.mark.clock(NOW)
def test_counters_rates_and_ranking_come_from_the_dashboard_figures(city, built, make_user, client, settings,
                                                                    django_assert_max_num_queries):
    settings.DASHBOARD_RANKING_MIN_CASES = 1
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    # 14 (was 22): the rollups read once for every period (by day and street), the open cases twice
    # (as of now for this month, the trend and the ranking; as of last month's end), the counters and
    # the map's load in one pass, the whistles on open matters; the scope's extra cases inline.
    with django_assert_max_num_queries(14):
        data = client.get(data_url(city.district)).json()
    counters = {c["key"]: c["value"] for c in data["counters"]}
    # Reported today: nov30_late; open, overdue and supervised: the one case still being handled.
    assert counters == {"reported_today": 1, "open": 1, "overdue": 1, "supervised": 1, "whistles_open": 0,
                        "awaiting_report_in": 0}
    place = Place.of(city.district)
    month = period_for("month", NOW.date())
    now_f, before = Figures(RollupSource(place, month).totals()), Figures(RollupSource(place, month.previous()).totals())
    assert [r["key"] for r in data["rates"]] == [name for name, _label, _show in RATES]
    for row, (name, _label, show) in zip(data["rates"], RATES):
        assert row["text"] == (show(getattr(now_f, name)) or "—")
        assert row["before"] == (show(getattr(before, name)) or "—")
    assert any(r["text"].endswith("%") for r in data["rates"]) and show in (percent, score)
    ranking = data["ranking"]
    assert sorted(r[1] for r in ranking["rows"]) == ["城北街道", "城南街道"]
    board = Dashboard(UserFactory(is_superuser=True), place, month, NOW)
    assert ranking["rows"] == next(t for t in board.children_tables() if t.name == "ranking_places").rows
    settings.DASHBOARD_RANKING_MIN_CASES = 100  # the dashboard's minimum-volume rule applies here too
    assert client.get(data_url(city.district)).json()["ranking"]["rows"] == []


@pytest.mark.parametrize("now", [NOW, at(2026, 11, 10, 12, 0)], ids=["month-end", "mid-month"])
def test_the_walls_shared_reads_give_the_dashboards_figures(city, built, now):
    """The wall reads the rollups once and the open cases twice for all its periods (_WallSource);
    each period's totals, days and children equal those of a RollupSource of that period. In
    mid-month the trend reaches into last month, so the month is cut from a longer read."""
    from dashboards.screen import CommandScreen

    # Open matters reported in the trend's part of last month and early this month.
    make_case(city.grid_a, at(2026, 10, 25, 10, 0), Status.HANDLING)
    make_case(city.grid_b, at(2026, 11, 5, 10, 0), Status.DISPATCHED, late=True)
    admin = UserFactory(is_superuser=True)
    checked = 0
    with time_machine.travel(now, tick=False):
        for area in (city.district, city.street_a, None):
            place = Place.of(area)
            wall = CommandScreen(admin, place, now)
            for period in (wall.month, wall.month.previous(), wall.trend_period):
                shared, plain = wall._source(period), RollupSource(place, period, now)
                assert shared.totals() == plain.totals(), (area, period)
                assert shared.by_day() == plain.by_day(), (area, period)

                def by_child(source):
                    return sorted(source.by(place.child_field), key=lambda row: str(row[place.child_field]))

                assert by_child(shared) == by_child(plain), (area, period)
                checked += plain.totals()["reported"] + plain.totals()["overdue_open"]
    assert checked > 0  # the fixture has cases in the periods compared, open ones among them


@pytest.mark.clock(NOW)
def test_the_json_holds_no_personal_data(city, built, make_user, client):
    secret = make_case(
        city.grid_a, NOW - timedelta(minutes=5), Status.HANDLING, reporter_name="欧阳秘密", reporter_phone="13912345678",
        description="欧阳秘密家门口漏水，电话13912345678", address="幸福路1号3单元502室", building=city.building_a,
        latitude="31.461234", longitude="104.681234", supervised_at=NOW - timedelta(minutes=1),
        supervised_by=UserFactory(full_name="督办人甲", phone="13700000001"),
    )
    rollups_rebuild(now=NOW)
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    text = client.get(data_url(city.district), {"shapes": "1"}).content.decode()
    html = client.get(page_url(city.district)).content.decode()
    for leak in ("欧阳秘密", "13912345678", "漏水", "幸福路", "3单元", "502", "31.461234", "104.681234",
                 "督办人甲", "13700000001", secret.tracking_code, secret.number, "1号楼"):
        assert leak not in text, leak
        assert leak not in html, leak
    first = json.loads(text)["newest"][0]
    assert set(first) == {"at", "category", "place", "channel", "status", "state"}
    assert first["place"] == "幸福社区 幸福第一网格" and first["at"] == "23:50"


@pytest.mark.clock(at(2026, 11, 18, 15, 0))
def test_the_trend_ends_today(city, make_user, client):
    today = at(2026, 11, 18, 15, 0)
    make_case(city.grid_a, today - timedelta(hours=2))
    make_case(city.grid_a, today - timedelta(hours=1), Status.HANDLING)
    make_case(city.grid_b, today - timedelta(days=8))
    rollups_rebuild(now=today)
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    trend = client.get(data_url(city.district)).json()["trend"]
    assert len(trend["labels"]) == TREND_DAYS
    assert trend["labels"][-1] == "11-18" and trend["last_day"] == "2026-11-18"
    assert trend["labels"][0] == "10-20"
    assert trend["reported"][-1] == 2 and trend["reported"][-9] == 1 and sum(trend["reported"]) == 3
    assert trend["closed"][-1] == 1
    # The dashboard's own month chart stops today as well, instead of drawing 12 days of zeros.
    board = client.get(reverse("cases:dashboard_place_chart", args=[city.district.pk]), {"period": "month"}).json()
    assert board["trend"]["labels"][0] == "2026-11-01" and board["trend"]["labels"][-1] == "2026-11-18"


@pytest.mark.clock(NOW)
def test_map_carries_outlines_once_and_load_every_time(city, built, make_user, client):
    square = {"type": "Polygon", "coordinates": [[[104.0, 31.0], [104.1, 31.0], [104.1, 31.1], [104.0, 31.0]]]}
    for grid in (city.grid_a, city.grid_a2, city.grid_b):
        grid.boundary = square
        grid.save(update_fields=["boundary"])
    client.force_login(make_user(Role.STREET_STAFF, city.street_a))
    first = client.get(data_url(city.street_a), {"shapes": "1"}).json()
    names = sorted(f["properties"]["name"] for f in first["map"]["grids"]["features"])
    assert names == ["幸福第一网格", "幸福第二网格"]  # not the other street's grid
    assert first["map"]["tiles"] == ""  # no tile server unless one is configured
    again = client.get(data_url(city.street_a)).json()
    assert "map" not in again
    assert again["load"] == {str(city.grid_a.pk): [1, 1]}


@pytest.mark.clock(NOW)
def test_the_dashboard_links_to_the_screen(city, built, make_user, client):
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    body = client.get(reverse("cases:dashboard_place", args=[city.district.pk])).content.decode()
    assert page_url(city.district) in body
    body = client.get(reverse("cases:dashboard_place", args=[city.community_a.pk])).content.decode()
    assert "/screen/" not in body


@pytest.mark.clock(NOW)
def test_whistles_on_open_matters_and_organisations_yet_to_report_in(city, built, make_user, client):
    from cases import whistles
    from cases.models import Case

    from .factories import make_organisation, user_with_post

    open_case = Case.objects.get(status=Status.HANDLING)
    street = user_with_post(Role.STREET_STAFF, open_case.street, username="whistler")
    cg = make_organisation(seat=open_case.street, name="执法中队", areas=[open_case.street])
    power = make_organisation(seat=city.district, name="供电公司", kind="utility", function="power",
                              areas=[city.district])
    whistle = whistles.whistle_blow(case=open_case, organisations=[cg, power], acting_user=street,
                                    reason="占道经营反复", situation="enforcement", now=NOW - timedelta(hours=1))
    cg_staff = make_user(Role.ORG_STAFF, cg, username="cg_staff")
    whistles.summons_report_in(summons=whistle.summons.get(organisation=cg), acting_user=cg_staff,
                               now=NOW - timedelta(minutes=50))
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    counters = {c["key"]: c["value"] for c in client.get(data_url(city.district)).json()["counters"]}
    assert (counters["whistles_open"], counters["awaiting_report_in"]) == (1, 1)
    # The other street's wall does not count the whistle; once the matter closes it leaves the wall.
    other = city.street_b if open_case.street_id == city.street_a.pk else city.street_a
    counters = {c["key"]: c["value"] for c in client.get(data_url(other)).json()["counters"]}
    assert (counters["whistles_open"], counters["awaiting_report_in"]) == (0, 0)
    Case.objects.filter(pk=open_case.pk).update(status=Status.CLOSED, resolved_at=NOW, closed_at=NOW)
    counters = {c["key"]: c["value"] for c in client.get(data_url(city.district)).json()["counters"]}
    assert (counters["whistles_open"], counters["awaiting_report_in"]) == (0, 0)
