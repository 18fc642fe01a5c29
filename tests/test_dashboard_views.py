"""The dashboard pages, exports and chart data: figures, drill-down, scope, bad input."""

import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import tablib
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from dashboards.figures import MAX_CUSTOM_DAYS
from dashboards.rollups import rollups_rebuild
from grid.models import Role

from .cases_factories import at
from .dashboard_factories import fixture_cases  # noqa: F401
from .factories import UserFactory

NOVEMBER = {"period": "custom", "first": "2026-11-01", "last": "2026-11-30"}
NOW = at(2026, 11, 30, 23, 55)
# The rollups are built at NOW and the pages count "overdue" at now: the clock stands at NOW.
pytestmark = pytest.mark.clock(NOW)


@pytest.fixture
def board(city, fixture_cases, make_user, client):
    rollups_rebuild(now=NOW)
    official = make_user(Role.DISTRICT_OFFICIAL, city.district, username="official")
    client.force_login(official)
    return official


def place_url(area, **query):
    return reverse("cases:dashboard_place", args=[area.pk])


def test_district_page_shows_figures_children_and_definitions(city, board, client, django_assert_max_num_queries):
    with django_assert_max_num_queries(40):
        response = client.get(place_url(city.district), NOVEMBER)
    assert response.status_code == 200
    body = response.content.decode()
    kpis = response.context["kpis"].rows
    assert kpis[0][1:] == [6, 1]  # reported: November 6, October 1
    # registered, due, deferred, open, overdue, supervised, escalated, closed; then the seven rates
    # (dashboards/definitions.py) and the handling times in working hours.
    assert [r[1:] for r in kpis[1:9]] == [[4, 1], [4, 1], [0, 0], [1, 0], [1, 0], [1, 0], [1, 0], [3, 1]]
    assert [r[1:] for r in kpis[9:16]] == [["75.0%", "100.0%"], ["50.0%", "100.0%"], ["50.0%", "0.0%"],
                                           ["33.3%", "0.0%"], ["25.0%", "0.0%"], ["66.7%", "100.0%"],
                                           ["50.0%", ""]]
    assert [r[1] for r in kpis[16:]] == [_("%(hours).1f working h") % {"hours": 27.5},
                                         _("≤ %(hours)d working h") % {"hours": 72}]
    # Children are the district's streets, each a link to its own dashboard.
    children = next(t for t in response.context["tables"] if t.name == "children")
    assert [r[0] for r in children.rows] == ["城北街道", "城南街道"]
    assert children.links[0].startswith(place_url(city.street_a))
    assert "外区" not in body  # the other district's places
    assert "结案率" in body and "按期结案率" in body and "返工率" in body and "延期率" in body


def test_an_officials_page_folds_its_menu_and_has_the_tab_bar(city, board, client):
    """On a phone the official's fifteen links took most of the first screen: they fold into the menu
    button, and the bottom tab bar leads to the dashboard; labels take the full-width colon."""
    body = client.get(place_url(city.district), NOVEMBER).content.decode()
    nav = body[body.index('<nav class="main-nav"'):body.index("</nav>")]
    assert '<details class="nav-menu">' in nav and 'class="nav-menu-button"' in nav
    tab_bar = body[body.index('<nav class="tab-bar"'):]
    tab_bar = tab_bar[:tab_bar.index("</nav>")]
    assert reverse("cases:dashboard") in tab_bar and 'aria-current="page"' in tab_bar
    assert "：2026-11-01 – 2026-11-30" in body  # the period, after its label
    assert re.search(r"[\u4e00-\u9fff]: ", body) is None  # no ASCII colon after Chinese text


def test_drill_down_to_a_grid(city, board, client):
    street = client.get(place_url(city.street_a), NOVEMBER)
    assert [r[0] for r in next(t for t in street.context["tables"] if t.name == "children").rows] == ["幸福社区"]
    community = client.get(place_url(city.community_a), NOVEMBER)
    grids = next(t for t in community.context["tables"] if t.name == "children")
    assert [r[0] for r in grids.rows] == ["幸福第一网格", "幸福第二网格"]
    grid = client.get(place_url(city.grid_a), NOVEMBER)
    assert grid.status_code == 200 and grid.context["kpis"].rows[0][1] == 5
    assert grid.context["board"].source_name == "live"  # grids read the case table
    assert not [t for t in grid.context["tables"] if t.name == "children"]


def test_outside_the_subtree_is_404_everywhere(city, board, client):
    other = city.other_district
    assert client.get(place_url(other)).status_code == 404
    assert client.get(reverse("cases:dashboard_place_chart", args=[other.pk])).status_code == 404
    assert client.get(reverse("cases:dashboard_place_export", args=[other.pk, "kpis", "csv"])).status_code == 404
    assert client.get(reverse("cases:dashboard_place", args=[999999])).status_code == 404
    # The whole city is for administrators only; an official lands on their district.
    response = client.get(reverse("cases:dashboard"), NOVEMBER)
    assert response.status_code == 302 and response["Location"].startswith(place_url(city.district))
    assert client.get(reverse("cases:dashboard_chart")).status_code == 404
    assert client.get(reverse("cases:dashboard_export", args=["kpis", "csv"])).status_code == 404


def test_street_staff_sees_only_their_street(city, fixture_cases, make_user, client):
    rollups_rebuild(now=NOW)
    client.force_login(make_user(Role.STREET_STAFF, city.street_b, username="street_b"))
    assert client.get(place_url(city.street_a)).status_code == 404
    assert client.get(place_url(city.district)).status_code == 404
    response = client.get(place_url(city.street_b), NOVEMBER)
    assert response.context["kpis"].rows[0][1] == 1
    # The crumbs show the district, but not as a link.
    assert [(name, url is None) for name, url in response.context["crumbs"]] == [("城关区", True), ("城南街道", False)]
    assert f'href="{place_url(city.district)}' not in response.content.decode()


@pytest.mark.parametrize("role, place", [(Role.GRID_WORKER, "grid_a"), (Role.GRID_CHIEF, "grid_a")])
def test_non_managing_posts_get_no_dashboard(city, fixture_cases, make_user, client, role, place):
    client.force_login(make_user(role, getattr(city, place)))
    assert client.get(reverse("cases:dashboard")).status_code == 404
    assert client.get(place_url(getattr(city, place))).status_code == 404


def test_anonymous_is_sent_to_sign_in(city, client):
    response = client.get(place_url(city.district))
    assert response.status_code == 302 and "login" in response["Location"]


def test_administrator_city_page(city, fixture_cases, client):
    rollups_rebuild(now=NOW)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    response = client.get(reverse("cases:dashboard"), NOVEMBER)
    assert response.status_code == 200
    assert response.context["kpis"].rows[0][1] == 7
    children = next(t for t in response.context["tables"] if t.name == "children")
    assert sorted(r[0] for r in children.rows) == ["城关区", "涪城区"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_table_exports_like_the_page(city, board, client, fmt):
    page = client.get(place_url(city.district), NOVEMBER)
    names = [page.context["kpis"].name] + [t.name for t in page.context["tables"]] + ["people", "hotline"]
    assert {"kpis", "levels", "children", "ranking_places", "categories", "triage", "channels", "ranking_workers",
            "trend", "people", "hotline"} <= set(names)
    people = client.get(reverse("cases:dashboard_place_people", args=[city.district.pk]), NOVEMBER)
    hotline = client.get(reverse("cases:dashboard_place_hotline", args=[city.district.pk]), NOVEMBER)
    for name in names:
        response = client.get(reverse("cases:dashboard_place_export", args=[city.district.pk, name, fmt]), NOVEMBER)
        assert response.status_code == 200, name
        assert response["Content-Disposition"].endswith(f'.{fmt}"')
        content = response.content
        data = tablib.Dataset().load(content.decode("utf-8-sig") if fmt == "csv" else io.BytesIO(content),
                                     format=fmt)
        table = next(t for t in [page.context["kpis"], *page.context["tables"], people.context["table"],
                                 hotline.context["table"]] if t.name == name)
        assert len(data) == len(table.rows), name
        assert "外区" not in str(data.dict)
    children = client.get(reverse("cases:dashboard_place_export", args=[city.district.pk, "children", "csv"]),
                          NOVEMBER).content.decode("utf-8-sig")
    assert "城北街道" in children and "城南街道" in children


def test_chart_data_is_scoped(city, board, client):
    response = client.get(reverse("cases:dashboard_place_chart", args=[city.district.pk]), NOVEMBER)
    data = response.json()
    assert sum(data["trend"]["reported"]) == 6
    names = sorted(f["properties"]["name"] for f in data["map"]["grids"]["features"])
    assert names == []  # the test city's grids have no drawn boundary
    from grid.models import Area

    square = {"type": "Polygon", "coordinates": [[[104.0, 31.0], [104.1, 31.0], [104.1, 31.1], [104.0, 31.1],
                                                  [104.0, 31.0]]]}
    Area.objects.filter(kind="grid").update(boundary=square)
    data = client.get(reverse("cases:dashboard_place_chart", args=[city.district.pk]), NOVEMBER).json()
    features = {f["properties"]["name"]: f["properties"] for f in data["map"]["grids"]["features"]}
    assert set(features) == {"幸福第一网格", "幸福第二网格", "和平第一网格"}
    assert features["幸福第一网格"]["open"] == 1 and features["幸福第一网格"]["overdue"] == 1


YEARS = ("Give a date between the years %(first)d and %(last)d.", {"first": 1900, "last": 2199})


@pytest.mark.parametrize("query, message", [
    ({"period": "custom"}, "Give both the first and the last day."),
    ({"period": "custom", "first": "2026-11-30", "last": "2026-11-01"}, "The last day is before the first day."),
    ({"period": "custom", "first": "2020-01-01", "last": "2026-11-01"},
     ("A custom period covers at most %(days)d days.", {"days": MAX_CUSTOM_DAYS})),
    ({"period": "custom", "first": "not-a-date", "last": "2026-11-01"}, "Enter a valid date."),
    ({"period": "custom", "first": "0001-01-01", "last": "0001-01-05"}, YEARS),
    ({"period": "custom", "first": "9999-12-25", "last": "9999-12-31"}, YEARS),
    ({"period": "custom", "first": "1950-01-01", "last": "1950-01-05"}, None),
    ({"period": "fortnight"}, ("Select a valid choice. %(value)s is not one of the available choices.",
                               {"value": "fortnight"})),
])
def test_bad_periods_show_an_error_and_this_month(city, board, client, query, message):
    response = client.get(place_url(city.district), query)
    assert response.status_code == 200
    errors = [str(e) for messages in response.context["form"].errors.values() for e in messages]
    assert errors
    if message is None:  # out of range: the message names the allowed days
        message = ("Choose days from %(earliest)s to %(latest)s.",
                   {"earliest": "2000-01-01", "latest": (timezone.localdate() + timedelta(days=366)).isoformat()})
    msgid, params = message if isinstance(message, tuple) else (message, None)
    expected = _(msgid) % params if params else _(msgid)  # the same message, in the page's language
    assert expected in errors
    assert escape(expected) in response.content.decode()
    assert "已改为显示本月的数据。" in response.content.decode()
    today = timezone.localdate()
    first = today.replace(day=1)
    last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    period = response.context["period"]
    assert (period.kind, period.first, period.last) == ("month", first, last)


@pytest.mark.parametrize("first, last", [("0001-01-01", "0001-01-05"), ("9999-12-25", "9999-12-31")])
@pytest.mark.parametrize("endpoint", ["dashboard_place_export", "dashboard_place_people", "dashboard_place_chart"])
def test_out_of_range_days_fall_back_on_every_endpoint(city, board, client, monkeypatch, endpoint, first, last):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)  # "this month" is November 2026
    args = [city.district.pk, "kpis", "csv"] if endpoint.endswith("export") else [city.district.pk]
    query = {"period": "custom", "first": first, "last": last, "source": "live"}
    response = client.get(reverse(f"cases:{endpoint}", args=args), query)
    assert response.status_code == 200
    november = [f"2026-11-{day:02d}" for day in range(1, 31)]
    if endpoint == "dashboard_place_export":
        assert response["Content-Disposition"] == (
            f'attachment; filename="dashboard-kpis-{city.district.code}-20261101-20261130.csv"')
        rows = tablib.Dataset().load(response.content.decode("utf-8-sig"), format="csv")
        assert list(rows[0][1:]) == ["6", "1"]  # reported in November, and in October before it
    elif endpoint == "dashboard_place_people":
        assert (response.context["period"].kind, response.context["period"].first.isoformat(),
                response.context["period"].last.isoformat()) == ("month", november[0], november[-1])
        assert "本月：2026-11-01 – 2026-11-30" in response.content.decode()
    else:
        assert response.json()["trend"]["labels"] == november  # one point a day of November


@pytest.mark.parametrize("table, fmt", [("nope", "csv"), ("kpis", "pdf"), ("kpis", "xls")])
def test_bad_exports_are_404(city, board, client, table, fmt):
    assert client.get(reverse("cases:dashboard_place_export", args=[city.district.pk, table, fmt])).status_code == 404


def test_live_source_on_request_and_no_inline_script(city, board, client):
    response = client.get(place_url(city.district), {**NOVEMBER, "source": "live"})
    assert response.context["board"].source_name == "live"
    assert response.context["kpis"].rows[0][1] == 6
    body = response.content.decode()
    for tag in re.findall(r"<script[^>]*>", body):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_nav_links_to_the_dashboard(city, board, client):
    body = client.get(reverse("home")).content.decode()
    assert reverse("cases:dashboard") in body


def test_map_tiles_come_from_settings(city, board, client, settings):
    url = reverse("cases:dashboard_place_chart", args=[city.district.pk])
    assert client.get(url, NOVEMBER).json()["map"]["tiles"] == ""
    settings.DASHBOARD_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    assert client.get(url, NOVEMBER).json()["map"]["tiles"] == settings.DASHBOARD_TILE_URL


def test_rankings_need_the_minimum_case_count(city, board, client, settings):
    settings.DASHBOARD_RANKING_MIN_CASES = 2
    tables = {t.name: t for t in client.get(place_url(city.district), NOVEMBER).context["tables"]}
    # 城北街道 has three valid cases, 城南街道 one: only the first is ranked.
    assert [r[1] for r in tables["ranking_places"].rows] == ["城北街道"]
    settings.DASHBOARD_RANKING_MIN_CASES = 1
    tables = {t.name: t for t in client.get(place_url(city.district), NOVEMBER).context["tables"]}
    # 城南街道 closed its one case on time (100%), 城北街道 one of three (33%).
    assert [r[1] for r in tables["ranking_places"].rows] == ["城南街道", "城北街道"]


def test_beat_keeps_the_rollups_fresh(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"dashboards.tasks.refresh_rollups", "dashboards.tasks.rebuild_rollups"} <= tasks


def test_handler_ranking(city, board, client, settings, make_user):
    from cases.models import Case, Status

    worker = make_user(Role.GRID_WORKER, city.grid_a, full_name="网格员丁")
    outsider = UserFactory(full_name="外区网格员")
    Case.objects.filter(status=Status.CLOSED, district=city.district).update(resolved_by=worker)
    Case.objects.filter(district=city.other_district).update(resolved_by=outsider)
    rollups_rebuild(now=NOW)  # written behind the services' back: no timeline event to fold in
    settings.DASHBOARD_RANKING_MIN_CASES = 3
    for query in (NOVEMBER, {**NOVEMBER, "source": "live"}):
        tables = {t.name: t for t in client.get(place_url(city.district), query).context["tables"]}
        assert tables["ranking_workers"].rows == [[1, "网格员丁", 3, "66.7%", "33.3%", "50.0%"]]
    settings.DASHBOARD_RANKING_MIN_CASES = 4
    tables = {t.name: t for t in client.get(place_url(city.district), NOVEMBER).context["tables"]}
    assert tables["ranking_workers"].rows == []


def test_administrator_city_export_and_chart(city, fixture_cases, client):
    rollups_rebuild(now=NOW)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    csv = client.get(reverse("cases:dashboard_export", args=["children", "csv"]), NOVEMBER).content.decode("utf-8-sig")
    assert "城关区" in csv and "涪城区" in csv
    chart = client.get(reverse("cases:dashboard_chart"), NOVEMBER).json()
    assert sum(chart["trend"]["reported"]) == 7


def test_posts_on_two_places_start_at_the_first_and_list_both(city, fixture_cases, make_user, client):
    from grid import services

    user = make_user(Role.STREET_STAFF, city.street_a, username="two_streets")
    services.post_grant(user=user, role=Role.STREET_STAFF, place=city.street_b)
    client.force_login(user)
    response = client.get(reverse("cases:dashboard"))
    assert response.status_code == 302 and response["Location"] == place_url(city.street_a)
    page = client.get(response["Location"])
    assert [a.pk for a in page.context["tops"]] == [city.street_a.pk, city.street_b.pk]
    assert client.get(place_url(city.street_b)).status_code == 200
    assert client.get(place_url(city.district)).status_code == 404


def test_hotline_panel_is_scoped_and_counts_the_hotline_orders(city, board, client, make_user):
    street_official = make_user(Role.STREET_STAFF, city.street_a, username="street_official")
    client.force_login(street_official)
    url = reverse("cases:dashboard_place_hotline", args=[city.street_a.pk])
    response = client.get(url, {**NOVEMBER, "fragment": "1"})
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'id="table-hotline"' in body
    # The fixture's one hotline case (15 November, written without its history): an order, never rated.
    assert response.context["table"].rows[-1][:2] == [_("All"), 1]
    assert client.get(reverse("cases:dashboard_place_hotline", args=[city.street_b.pk])).status_code == 404
    assert client.get(reverse("cases:dashboard_place_hotline", args=[city.other_district.pk])).status_code == 404
    page = client.get(place_url(city.street_a), NOVEMBER).content.decode()
    assert f'data-dash-panel="{url}' in page


# --- drill-down: a count an official checks opens the case board with the same cases ------------------
# 已超期 by the judged deadline (not the current stage's due time, the board's other clock) and 已结案,
# both reported in the period at the place. The board's place filter only narrows the user's own cases.

@pytest.mark.parametrize("area", ["district", "street_a"])
def test_overdue_and_closed_open_the_same_cases_on_the_board(city, board, client, area):
    page = client.get(reverse("cases:dashboard_place", args=[getattr(city, area).pk]), NOVEMBER)
    assert page.status_code == 200
    linked = [row for row in page.context["kpis"].linked_rows if row[3]]
    assert len(linked) == 2  # 已超期 and 已结案
    for label, value, _before, link in linked:
        assert link in page.content.decode().replace("&amp;", "&")
        query = parse_qs(urlsplit(link).query)
        assert query["reported_from"] == ["2026-11-01"] and query["reported_to"] == ["2026-11-30"]
        board = client.get(link)
        assert board.status_code == 200
        assert board.context["page"].paginator.count == value, (label, value)
    assert {parse_qs(urlsplit(row[3]).query).get("overdue", ["-"])[0] for row in linked} == {"judged", "-"}


def test_the_two_clocks_are_told_apart_on_the_board(city, board, client):
    from cases.models import Case
    from cases.selectors import judged_overdue_q, overdue_q

    mine = Case.objects.filter(district=city.district)
    stage = client.get(reverse("cases:board"), {"overdue": "yes"}).context["page"].paginator.count
    judged = client.get(reverse("cases:board"), {"overdue": "judged"}).context["page"].paginator.count
    assert stage == mine.filter(overdue_q(NOW)).count()
    assert judged == mine.filter(judged_overdue_q(NOW)).count() > 0
    body = client.get(reverse("cases:board"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Past the judged deadline" in body and "Current stage past due" in body


def test_the_place_filter_only_narrows(city, board, client):
    everything = client.get(reverse("cases:board")).context["page"].paginator.count
    street_a = client.get(reverse("cases:board"), {"place": city.street_a.pk}).context["page"].paginator.count
    street_b = client.get(reverse("cases:board"), {"place": city.street_b.pk}).context["page"].paginator.count
    assert street_a + street_b <= everything and street_a > 0
    foreign = client.get(reverse("cases:board"), {"place": city.other_district.pk})
    assert foreign.status_code == 200 and foreign.context["page"].paginator.count == 0
    bogus = client.get(reverse("cases:board"), {"place": "999999"})
    assert bogus.status_code == 200 and bogus.context["page"].paginator.count == 0
    # The narrowing is said on the page, with the way back to all of the user's places.
    named = client.get(reverse("cases:board"), {"place": city.street_a.pk, "overdue": "judged"},
                       HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"Only the cases of {city.street_a.name}." in named and 'href="?overdue=judged"' in named
    assert "Only the cases of" not in client.get(reverse("cases:board"), HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_two_clocks_differ_and_the_figure_follows_the_judged_one(city, board, client, make_user):
    """One case past its stage's due time but inside its judged deadline, one the other way round: the
    board's two filters tell them apart, and 已超期 counts (and opens) the judged one only."""
    from cases.models import Case

    from .cases_factories import People, to_status

    crew = People(city, make_user)
    stage_late = to_status(city, crew, "handling", now=at(2026, 11, 24, 10))
    judged_late = to_status(city, crew, "handling", now=at(2026, 11, 24, 11))
    Case.objects.filter(pk=stage_late.pk).update(due_at=NOW - timedelta(hours=1), deadline_at=NOW + timedelta(days=2))
    Case.objects.filter(pk=judged_late.pk).update(due_at=NOW + timedelta(days=1), deadline_at=NOW - timedelta(hours=1))

    def listed(**query):
        return {row["number"] for row in client.get(reverse("cases:board"), query).context["rows"]}

    assert stage_late.number in listed(overdue="yes") and judged_late.number not in listed(overdue="yes")
    assert judged_late.number in listed(overdue="judged") and stage_late.number not in listed(overdue="judged")
    page = client.get(place_url(city.district), NOVEMBER)
    _label, overdue, _before, link = page.context["kpis"].linked_rows[5]
    assert parse_qs(urlsplit(link).query)["overdue"] == ["judged"]
    assert client.get(link).context["page"].paginator.count == overdue


def test_the_closure_rate_example_is_cited_by_the_closure_rate_only():
    """The 数字城管 quote is a closure-rate example (911 / 972): it supports no other figure's definition."""
    from dashboards.definitions import DEFINITIONS, SOURCE_DCM

    assert [d.key for d in DEFINITIONS if d.source is SOURCE_DCM] == ["closure_rate"]
