"""Organisations on the dashboards (dashboards/organisations.py): 吹哨报到 figures, their
ranking, scope and exports.

The issue's "done when": a whistle is raised, two organisations report in (one late),
and the ratings appear on the street dashboard. The figures are pinned by hand.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse

from cases import services, whistles
from grid.models import Role

from .cases_factories import at, people, png, resident_report  # noqa: F401
from .factories import make_organisation

pytestmark = pytest.mark.django_db
T0 = at(2026, 11, 23, 9, 0)
NOVEMBER = {"period": "custom", "first": "2026-11-01", "last": "2026-11-30"}


@pytest.fixture
def scene(city, people, make_user):
    """Street A whistles on a case in community A; 城管 reports in after 20 minutes (on time),
    供电 after 50 (late); the case is closed and the street rates them 5 and 3.
    A whistle in street B (outside street A) summons its police station, who never come."""
    cg = make_organisation(seat=city.street_a, name="城北执法中队", areas=[city.street_a])
    power = make_organisation(seat=city.district, name="区供电公司", kind="utility", function="power",
                              areas=[city.district])
    police_b = make_organisation(seat=city.street_b, name="城南派出所", function="police", areas=[city.street_b])
    cg_staff = make_user(Role.ORG_STAFF, cg, username="cg")
    power_staff = make_user(Role.ORG_STAFF, power, username="power")

    case = resident_report(city, now=T0)
    case = services.case_register(case=case, acting_user=people.community, now=T0)
    services.case_accept(case=case, acting_user=case.assignee, now=T0)
    whistle = whistles.whistle_blow(case=case, organisations=[cg, power], acting_user=people.street,
                                    reason="路面塌陷，需城管和供电联合处置", situation="emergency", urgent=True, now=T0)
    whistles.summons_report_in(summons=whistle.summons.get(organisation=cg), acting_user=cg_staff,
                               now=T0 + timedelta(minutes=20))
    whistles.summons_report_in(summons=whistle.summons.get(organisation=power), acting_user=power_staff,
                               now=T0 + timedelta(minutes=50))
    services.case_resolve(case=case, acting_user=case.assignee, note="已修复", photos=[png()], now=T0 + timedelta(hours=3))
    services.case_verify(case=case, acting_user=people.community, passed=True, now=T0 + timedelta(hours=4))
    services.case_close(case=case, acting_user=people.community, now=T0 + timedelta(hours=4))
    ratings = {whistle.summons.get(organisation=cg).pk: (5, "到场迅速"),
               whistle.summons.get(organisation=power).pk: (3, "迟到二十分钟")}
    whistles.whistle_rate(whistle=whistle, ratings=ratings, acting_user=people.street, now=T0 + timedelta(hours=5))

    case_b = resident_report(city, building=city.building_b, now=T0)
    street_b = make_user(Role.STREET_STAFF, city.street_b, username="street_b")
    whistles.whistle_blow(case=case_b, organisations=[police_b], acting_user=street_b, reason="纠纷升级",
                          situation="pressing", urgent=True, now=T0)
    return {"case": case, "whistle": whistle, "street_b": street_b}


def street_page(city, user, **query):
    """The street's dashboard, which loads its organisations' panel after itself (the fragment)."""
    web = Client()
    web.force_login(user)
    page = web.get(reverse("cases:dashboard_place", args=[city.street_a.pk]), {**NOVEMBER, **query})
    panel = reverse("cases:dashboard_place_organisations", args=[city.street_a.pk])
    assert page.status_code == 200 and f'data-dash-panel="{panel}?' in page.content.decode()
    fragment = web.get(panel, {**NOVEMBER, **query, "fragment": "1"})
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    return SimpleNamespace(status_code=fragment.status_code, content=fragment.content,
                           context={"organisation_tables": fragment.context["tables"]})


@pytest.mark.clock("2026-11-30T23:00:00+08:00")
def test_whistle_report_ins_and_ratings_appear_on_the_street_dashboard(city, people, scene):
    response = street_page(city, people.street)
    assert response.status_code == 200
    table = next(t for t in response.context["organisation_tables"] if t.name == "organisations")
    # Organisation, summoned, reported in, report-in rate, on time, late, no-shows, rated, mean rating.
    assert table.rows == [
        ["区供电公司", 1, 1, "100.0%", "0.0%", 1, 0, 1, "3.00"],
        ["城北执法中队", 1, 1, "100.0%", "100.0%", 0, 0, 1, "5.00"],
    ]
    body = response.content.decode()
    assert "城北执法中队" in body and "5.00" in body and "3.00" in body
    assert "城南派出所" not in body  # street B's whistle


@pytest.mark.clock("2026-11-30T23:00:00+08:00")
def test_district_sees_both_streets_and_no_shows(city, people, scene):
    response = Client()
    response.force_login(people.district)
    page = response.get(reverse("cases:dashboard_place_organisations", args=[city.district.pk]), NOVEMBER)
    assert page.status_code == 200
    rows = {r[0]: r for r in page.context["tables"][0].rows}
    assert set(rows) == {"区供电公司", "城北执法中队", "城南派出所"}
    assert rows["城南派出所"][1:8] == [1, 0, "0.0%", "0.0%", 0, 1, 0]


@pytest.mark.clock("2026-11-30T23:00:00+08:00")
def test_organisations_page_scope(city, people, scene):
    web = Client()
    web.force_login(people.street)
    url = reverse("cases:dashboard_place_organisations", args=[city.street_a.pk])
    assert web.get(url, NOVEMBER).status_code == 200
    assert web.get(reverse("cases:dashboard_place_organisations", args=[city.street_b.pk]), NOVEMBER).status_code == 404
    # An organisation's staff and a grid worker have no dashboard.
    for user in (people.worker,):
        other = Client()
        other.force_login(user)
        assert other.get(url, NOVEMBER).status_code == 404
    street_b = Client()
    street_b.force_login(scene["street_b"])
    rows = street_b.get(reverse("cases:dashboard_place_organisations", args=[city.street_b.pk]),
                        NOVEMBER).context["tables"][0].rows
    assert [r[0] for r in rows] == ["城南派出所"]


@pytest.mark.clock("2026-11-30T23:00:00+08:00")
def test_bad_period_falls_back_with_an_error(city, people, scene):
    web = Client()
    web.force_login(people.street)
    page = web.get(reverse("cases:dashboard_place_organisations", args=[city.street_a.pk]),
                   {"period": "custom", "first": "2026-13-01", "last": "x"})
    assert page.status_code == 200 and page.context["form"].errors


@pytest.mark.clock("2026-11-30T23:00:00+08:00")
def test_ranking_needs_the_minimum_and_exports(city, people, scene, settings):
    settings.DASHBOARD_RANKING_MIN_CASES = 2
    ranking = next(t for t in street_page(city, people.street).context["organisation_tables"]
                   if t.name == "ranking_organisations")
    assert ranking.rows == []
    settings.DASHBOARD_RANKING_MIN_CASES = 1
    ranking = next(t for t in street_page(city, people.street).context["organisation_tables"]
                   if t.name == "ranking_organisations")
    assert [r[1] for r in ranking.rows] == ["城北执法中队", "区供电公司"]
    web = Client()
    web.force_login(people.street)
    export = web.get(reverse("cases:dashboard_place_export", args=[city.street_a.pk, "organisations", "csv"]),
                     NOVEMBER)
    assert export.status_code == 200 and "城北执法中队" in export.content.decode("utf-8-sig")
    assert web.get(reverse("cases:dashboard_place_export", args=[city.street_b.pk, "organisations", "csv"]),
                   NOVEMBER).status_code == 404



@pytest.mark.clock("2026-11-30T23:00:00+08:00")
def test_the_page_shows_the_most_summoned_and_the_export_all(city, people, scene):
    from dashboards import organisations
    from dashboards.figures import Place, period_for

    period = period_for("custom", T0.date(), first=T0.date().replace(day=1), last=T0.date().replace(day=30))
    table, _ranking = organisations.tables(people.district, Place.of(city.district), period, T0, limit=1)
    assert len(table.rows) == 1 and "1" in table.note and "3" in table.note
    table, _ranking = organisations.tables(people.district, Place.of(city.district), period, T0)
    assert len(table.rows) == 3
