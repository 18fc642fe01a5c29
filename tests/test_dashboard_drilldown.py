"""A dashboard count an official checks opens the case board with the same cases: 已超期 by the
judged deadline (not the current stage's due time, the board's other clock), and 已结案, both
reported in the period at the place. The board's place filter only narrows the user's own cases."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from dashboards.rollups import rollups_rebuild
from grid.models import Role

from .cases_factories import at
from .dashboard_factories import fixture_cases  # noqa: F401

NOVEMBER = {"period": "custom", "first": "2026-11-01", "last": "2026-11-30"}
NOW = at(2026, 11, 30, 23, 55)
pytestmark = pytest.mark.clock(NOW)


@pytest.fixture
def official(city, fixture_cases, make_user, client):
    rollups_rebuild(now=NOW)
    user = make_user(Role.DISTRICT_OFFICIAL, city.district, username="official")
    client.force_login(user)
    return user


@pytest.mark.parametrize("area", ["district", "street_a"])
def test_overdue_and_closed_open_the_same_cases_on_the_board(city, official, client, area):
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


def test_the_two_clocks_are_told_apart_on_the_board(city, official, client):
    from cases.models import Case
    from cases.selectors import judged_overdue_q, overdue_q

    mine = Case.objects.filter(district=city.district)
    stage = client.get(reverse("cases:board"), {"overdue": "yes"}).context["page"].paginator.count
    judged = client.get(reverse("cases:board"), {"overdue": "judged"}).context["page"].paginator.count
    assert stage == mine.filter(overdue_q(NOW)).count()
    assert judged == mine.filter(judged_overdue_q(NOW)).count() > 0
    body = client.get(reverse("cases:board"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Past the judged deadline" in body and "Current stage past due" in body


def test_the_place_filter_only_narrows(city, official, client):
    everything = client.get(reverse("cases:board")).context["page"].paginator.count
    street_a = client.get(reverse("cases:board"), {"place": city.street_a.pk}).context["page"].paginator.count
    street_b = client.get(reverse("cases:board"), {"place": city.street_b.pk}).context["page"].paginator.count
    assert street_a + street_b <= everything and street_a > 0
    foreign = client.get(reverse("cases:board"), {"place": city.other_district.pk})
    assert foreign.status_code == 200 and foreign.context["page"].paginator.count == 0
    bogus = client.get(reverse("cases:board"), {"place": "999999"})
    assert bogus.status_code == 200 and bogus.context["page"].paginator.count == 0
