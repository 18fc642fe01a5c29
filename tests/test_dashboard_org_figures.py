"""Per-organisation figures on the dashboards (dashboards/org_figures.py, dashboards/organisations.py
figure_tables; issue #16 item 7) and the 12345 三率 per organisation (dashboards/hotline.py, #18 item 4).

A small fixture in November 2026, every figure counted by hand below. The clock is frozen on
Monday 30 November 23:00 (Beijing), so the period is a past-or-running month with a known cutoff.
OrgLimit for E02 (违法建设's parent): sign in within 2 working hours, handle within 1 working day.
The times are chosen far from any working-hours boundary: "on time" and "late" do not depend on
where the working day ends.
"""

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext

from cases import services, services_orgs, services_report, whistles
from cases.models import Channel, OrgLimit, Status
from dashboards import org_figures
from dashboards.figures import Period, Place
from grid.models import Role

from .cases_factories import MONDAY, at, category, fresh_calendar, people, png  # noqa: F401
from .orgs_factories import big_matter, orgs, urban_rule  # noqa: F401

pytestmark = pytest.mark.django_db
CLOCK = "2026-11-30T23:00:00+08:00"
NOVEMBER = {"period": "custom", "first": "2026-11-01", "last": "2026-11-30"}
H = timedelta(hours=1)
TUESDAY, THURSDAY = MONDAY + timedelta(days=1), MONDAY + timedelta(days=3)


def _limit(org):
    OrgLimit.objects.create(organisation=org, category=category("E02"), sign_in_limit=2,
                            sign_in_limit_unit="working_hours", handle_limit=1, handle_limit_unit="working_days")


def _close(case, people, at_):
    case = services.case_verify(case=case, acting_user=people.worker, passed=True, now=at_)
    return services.case_close(case=case, acting_user=people.street, now=at_)


def _hotline_matter(city, people, now):
    urban_rule(city, None)
    case = services_report.case_report(category=category("E0201"), description="小区内违建", channel=Channel.HOTLINE,
                                       building=city.building_a, reporter_name="李四", reporter_phone="13900000000",
                                       acting_user=people.community, now=now)
    # Staff take a hotline order in as registered (立案) already; the desk makes it a big matter.
    if case.status == Status.REPORTED:
        return services.case_register(case=case, acting_user=people.community, triage="public", now=now)
    if case.triage_class != "public":
        case = services_orgs.case_reclassify(case=case, acting_user=people.community, triage="public",
                                             reason="违建属大事", now=now)
    return case


def _street_b_matter(city, make_user, lead, now):
    """A big matter of street B, sent by street B's command centre."""
    street_b = make_user(Role.STREET_STAFF, city.street_b, username=f"street_b_{lead.pk}")
    community_b = make_user(Role.COMMUNITY_STAFF, city.community_b, username=f"community_b_{lead.pk}")
    case = services_report.case_report(category=category("E0201"), description="违建", channel=Channel.WEB,
                                       building=city.building_b, reporter_name="王五", reporter_phone="13700000000",
                                       now=now)
    case = services.case_register(case=case, acting_user=community_b, triage="public", now=now)
    return services_orgs.case_org_dispatch(case=case, acting_user=street_b, lead=lead, now=now)


@pytest.fixture
def scene(city, people, orgs, make_user):
    """Street A, all sent on Monday 23 November at 09:00 unless said:

    c1 (12345 hotline) → 城管 with 派出所 co-handling; signed in 09:30 (on time), replied 15:00 (on time),
       closed 16:00; the resident rates 5, solved. A whistle summons 城管, which reports in; rated 4.
    c2 → 城管; signed in Tuesday 09:00 (late), replied Thursday 15:00 (late: due Tuesday ≈09:00), closed; rated 2.
    c3 → 城管, returned at 10:00 unsigned (its sign-in time passed: it counts as not responded);
       the street rules it to 派出所 at 11:00, which signs in at 11:30, replies 15:00, closed 16:00.
    c4 (hotline) → 城管 on Monday 30th at 17:30: still inside its time to sign in at the cutoff.
    c7 → the district's 执法局 (seated above the street), never signed in.
    Outside street A: c5 → street B's 执法中队, c6 → the district's 执法局, neither signed in.
    """
    _limit(orgs.chengguan), _limit(orgs.police)
    cg, police = orgs.chengguan, orgs.police

    c1 = _hotline_matter(city, people, MONDAY)
    c1 = services_orgs.case_org_dispatch(case=c1, acting_user=people.street, lead=cg, co_handlers=[police],
                                         now=MONDAY)
    c1 = services_orgs.case_org_sign_in(case=c1, acting_user=orgs.cg_staff, now=MONDAY + H / 2)
    whistle = whistles.whistle_blow(case=c1, organisations=[cg], acting_user=people.street, reason="联合执法",
                                    situation="pressing", urgent=True, now=MONDAY + H)
    whistles.summons_report_in(summons=whistle.summons.get(), acting_user=orgs.cg_staff, now=MONDAY + 1.25 * H)
    c1 = services_orgs.case_org_reply(case=c1, acting_user=orgs.cg_staff, note="已拆除", photos=[png()],
                                      now=MONDAY + 6 * H)
    c1 = _close(c1, people, MONDAY + 7 * H)
    services.case_rate(tracking_code=c1.tracking_code, rating=5, solved=True, now=MONDAY + 8 * H)
    whistles.whistle_rate(whistle=whistle, ratings={whistle.summons.get().pk: (4, "到场及时")},
                          acting_user=people.street, now=MONDAY + 8 * H)

    c2 = services_orgs.case_org_dispatch(case=big_matter(city, orgs, people), acting_user=people.street, lead=cg,
                                         now=MONDAY)
    c2 = services_orgs.case_org_sign_in(case=c2, acting_user=orgs.cg_staff, now=TUESDAY)
    c2 = services_orgs.case_org_reply(case=c2, acting_user=orgs.cg_staff, note="已处理", photos=[png()],
                                      now=THURSDAY + 6 * H)
    c2 = _close(c2, people, THURSDAY + 7 * H)
    services.case_rate(tracking_code=c2.tracking_code, rating=2, solved=False, now=THURSDAY + 8 * H)

    c3 = services_orgs.case_org_dispatch(case=big_matter(city, orgs, people), acting_user=people.street, lead=cg,
                                         now=MONDAY)
    c3 = services_orgs.case_org_return(case=c3, acting_user=orgs.cg_staff, reason="属治安问题", now=MONDAY + H)
    c3 = services_orgs.case_org_rule(case=c3, acting_user=people.street, lead=police, reason="派出所牵头",
                                     now=MONDAY + 2 * H)
    c3 = services_orgs.case_org_sign_in(case=c3, acting_user=orgs.police_staff, now=MONDAY + 2.5 * H)
    c3 = services_orgs.case_org_reply(case=c3, acting_user=orgs.police_staff, note="已调解", photos=[png()],
                                      now=MONDAY + 6 * H)
    _close(c3, people, MONDAY + 7 * H)

    late_monday = at(2026, 11, 30, 17, 30)
    services_orgs.case_org_dispatch(case=_hotline_matter(city, people, late_monday), acting_user=people.street,
                                    lead=cg, now=late_monday)
    services_orgs.case_org_dispatch(case=big_matter(city, orgs, people), acting_user=people.street,
                                    lead=orgs.bureau, now=MONDAY)
    _street_b_matter(city, make_user, orgs.far, MONDAY)
    c6 = _street_b_matter(city, make_user, orgs.bureau, MONDAY)
    assert c6.street_id == city.street_b.pk
    return orgs


def _get(user, area, name="dashboard_place_organisations", query=NOVEMBER, **kwargs):
    web = Client()
    web.force_login(user)
    return web.get(reverse(f"cases:{name}", args=[area.pk, *kwargs.pop("args", ())]), query)


def _table(response, name):
    return next(t for t in response.context["tables"] if t.name == name)


@pytest.mark.clock(CLOCK)
def test_the_figures_of_each_organisation_by_hand(city, people, scene):
    response = _get(people.street, city.street_a)
    assert response.status_code == 200
    table = _table(response, "organisation_figures")
    # Organisation, received, co-handled, 响应率, returned, 退单率, 应办结, solved on time, 按期办结率, 满意率,
    # summoned, report-in rate, rating from the whistling places.
    assert table.rows == [
        # c1..c4. Had to sign in: c1, c2, c3 (c4's time runs past the cutoff); on time: c1 (c2 late,
        # c3 returned unsigned) → 1 of 3. Returned: c3 → 1 of 4. Due: c1, c2 (c3 returned, c4 unsigned);
        # on time: c1. Ratings 5 and 2 → 1 of 2 satisfied. One summons, reported in, rated 4.
        ["城北执法中队", 4, 0, "33.3%", 1, "25.0%", 2, 1, "50.0%", "50.0%", 1, "100.0%", "4.00"],
        # c7, seated above the street but sent the street's matter: had to sign in, never did; nothing due.
        ["城关区综合行政执法局", 1, 0, "0.0%", 0, "0.0%", 0, 0, "", "", 0, "", ""],
        # c3 by the ruling: signed in and closed on time, unrated; c1 co-handled.
        ["城北派出所", 1, 1, "100.0%", 0, "0.0%", 1, 1, "100.0%", "", 0, "", ""],
        # Had to sign in 5 (3 + 1 + 1), on time 2; returned 1 of 6; due 3, on time 2.
        [gettext("All"), 6, 1, "40.0%", 1, "16.7%", 3, 2, "66.7%", "50.0%", 1, "100.0%", "4.00"],
    ]
    body = response.content.decode()
    # Definitions in words on the page (numerator and denominator).
    assert "How the organisations' figures are counted" in body or "各单位指标的计算方法" in body
    assert "应办结" in body


@pytest.mark.clock(CLOCK)
def test_the_hotline_rates_per_organisation(city, people, scene):
    table = _table(_get(people.street, city.street_a), "organisation_hotline")
    # c1 and c4 are 12345 orders sent to 城管: c1 signed in on time (c4 not yet due), one 回访: 5, solved.
    assert table.rows == [["城北执法中队", 2, "100.0%", "100.0%", "100.0%"]]


@pytest.mark.clock(CLOCK)
def test_scope_organisations_and_matters_outside_are_not_counted(city, people, scene):
    rows = {r[0]: r for r in _table(_get(people.street, city.street_a), "organisation_figures").rows}
    # The street sees every organisation its matters went to: the district's 执法局 with c7 only
    # (not c6 of street B), and not street B's 执法中队, which received none of street A's matters.
    assert rows["城关区综合行政执法局"][1:4] == [1, 0, "0.0%"]
    assert "城南执法中队" not in rows
    # The district official on street A's page sees the 执法局 with street A's matter only (not c6 of street B).
    rows = {r[0]: r for r in _table(_get(people.district, city.street_a), "organisation_figures").rows}
    assert rows["城关区综合行政执法局"][1:4] == [1, 0, "0.0%"]
    assert "城南执法中队" not in rows  # no matter of street A sent to it
    rows = {r[0]: r for r in _table(_get(people.district, city.district), "organisation_figures").rows}
    assert rows["城关区综合行政执法局"][1] == 2 and rows["城南执法中队"][1:4] == [1, 0, "0.0%"]
    # Another district's official: 404, like a place that does not exist; so is street B for street A.
    assert _get(people.other_district, city.street_a).status_code == 404
    assert _get(people.street, city.street_b).status_code == 404
    # Organisation staff have no dashboard.
    assert _get(scene.cg_staff, city.street_a).status_code == 404


@pytest.mark.clock(CLOCK)
def test_the_ranking_needs_the_minimum_volume(city, people, scene, settings):
    settings.DASHBOARD_RANKING_MIN_CASES = 2
    ranking = _table(_get(people.street, city.street_a), "ranking_organisation_figures")
    assert [r[:4] for r in ranking.rows] == [[1, "城北执法中队", 2, "50.0%"]]  # 派出所: 1 due, below 2
    settings.DASHBOARD_RANKING_MIN_CASES = 1
    ranking = _table(_get(people.street, city.street_a), "ranking_organisation_figures")
    assert [r[:4] for r in ranking.rows] == [[1, "城北派出所", 1, "100.0%"], [2, "城北执法中队", 2, "50.0%"]]
    settings.DASHBOARD_RANKING_MIN_CASES = 3
    assert _table(_get(people.street, city.street_a), "ranking_organisation_figures").rows == []


@pytest.mark.clock(CLOCK)
def test_exports_csv_and_xlsx_in_the_same_scope(city, people, scene):
    def export(user, area, table, fmt):
        return _get(user, area, name="dashboard_place_export", args=(table, fmt))

    csv = export(people.street, city.street_a, "organisation_figures", "csv")
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    assert "城北执法中队,4,0,33.3%,1,25.0%,2,1,50.0%,50.0%,1,100.0%,4.00" in text
    assert "城关区综合行政执法局,1,0,0.0%" in text  # street A's c7, not street B's c6
    assert "城南执法中队" not in text
    xlsx = export(people.street, city.street_a, "ranking_organisation_figures", "xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    hotline = export(people.street, city.street_a, "organisation_hotline", "csv").content.decode("utf-8-sig")
    assert "城北执法中队,2,100.0%,100.0%,100.0%" in hotline
    assert export(people.street, city.street_b, "organisation_figures", "csv").status_code == 404
    assert export(people.street, city.street_a, "organisation_figures", "pdf").status_code == 404
    assert export(people.street, city.street_a, "no_such_table", "csv").status_code == 404


@pytest.mark.clock(CLOCK)
@pytest.mark.parametrize("query", [
    {"period": "custom", "first": "2026-13-01", "last": "x"},
    {"period": "custom", "first": "2026-11-30", "last": "2026-11-01"},
    {"period": "nonsense"},
    {"period": "custom", "first": "0001-01-01", "last": "9999-12-31"},
    {"source": "evil", "fragment": "1"},
])
def test_bad_query_params_fall_back_without_a_500(city, people, scene, query):
    response = _get(people.street, city.street_a, query=query)
    assert response.status_code == 200
    assert _table(response, "organisation_figures").title


@pytest.mark.clock(CLOCK)
def test_the_place_page_loads_the_figures_in_its_organisations_panel(city, people, scene):
    fragment = _get(people.street, city.street_a, query={**NOVEMBER, "fragment": "1"})
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body
    assert 'id="table-organisation_figures"' in body and "33.3%" in body


def test_the_sign_in_keeps_the_first_handling_deadline_and_extensions_extend_it(city, people, orgs):
    _limit(orgs.chengguan)
    case = services_orgs.case_org_dispatch(case=big_matter(city, orgs, people), acting_user=people.street,
                                           lead=orgs.chengguan, now=MONDAY)
    case = services_orgs.case_org_sign_in(case=case, acting_user=orgs.cg_staff, now=MONDAY)
    event = case.events.get(action="org_sign_in")
    assert datetime.fromisoformat(event.data["handle_due"]) == case.handle_due_at
    row = {"case_id": case.pk, "organisation_id": orgs.chengguan.pk, "signed_at": MONDAY, "next_at": None,
           "handle_due": event.data["handle_due"]}
    first = org_figures._judged(row, {})
    assert first == case.handle_due_at
    # An approved extension of 2 working days during the sending moves it out by its own length,
    # one granted before the sending does not.
    extended = org_figures._judged(row, {case.pk: [(MONDAY + H, 2, "working_days"),
                                                   (MONDAY - H, 5, "working_days")]})
    from portal.workcalendar.calendar import add_working_time
    assert extended == add_working_time(first, 2, "working_days") > first
    # A sign-in recorded without the deadline (before it was kept): recomputed by the same rule.
    assert org_figures._judged({**row, "handle_due": None}, {}) == first


@pytest.mark.clock(CLOCK)
def test_the_figures_read_in_a_bounded_number_of_queries(city, people, scene, django_assert_max_num_queries):
    place = Place.of(city.street_a)
    period = Period("custom", MONDAY.date().replace(day=1), MONDAY.date().replace(day=30))
    from dashboards import organisations
    # Per pass of the measures (all matters, then the 12345 orders): sendings, co-handlers, ratings;
    # the whistles and their visibility; the names; the user's scope. None per organisation or sending.
    with django_assert_max_num_queries(13):
        tables = organisations.figure_tables(people.street, place, period, at(2026, 11, 30, 23))
    assert tables[0].rows[0][0] == "城北执法中队"
