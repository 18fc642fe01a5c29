"""A dashboard page's figures kept per rollup refresh (dashboards/cache.py): a second view reads no
rollup, a refresh shows the new figures, scopes and languages never share an entry, live pages and
grids are never cached, and the setting turns it off."""

from datetime import timedelta

import pytest
from django.urls import reverse

from dashboards.cache import scope_key
from dashboards.rollups import rollups_rebuild
from grid.models import Role

from .cases_factories import at
from .dashboard_factories import fixture_cases, make_case  # noqa: F401
from .factories import UserFactory

NOW = at(2026, 11, 30, 23, 55)
NOVEMBER = {"period": "custom", "first": "2026-11-01", "last": "2026-11-30"}
pytestmark = [pytest.mark.django_db, pytest.mark.clock(NOW)]


@pytest.fixture
def official(city, fixture_cases, make_user, client):
    rollups_rebuild(now=NOW - timedelta(minutes=5))
    user = make_user(Role.DISTRICT_OFFICIAL, city.district, username="official")
    client.force_login(user)
    return user


def page(client, area, **query):
    return client.get(reverse("cases:dashboard_place", args=[area.pk]), {**NOVEMBER, **query})


def reported(response):
    return response.context["kpis"].rows[0][1]


def rollup_reads(captured):
    return [q["sql"] for q in captured.captured_queries if "cases_caserollup" in q["sql"]]


def test_a_second_view_reads_no_rollup_until_the_next_refresh(city, official, client, django_assert_max_num_queries):
    from django.test.utils import CaptureQueriesContext
    from django.db import connection

    with CaptureQueriesContext(connection) as first_queries:
        first = page(client, city.district)
    assert reported(first) == 6 and rollup_reads(first_queries)
    with CaptureQueriesContext(connection) as second_queries:
        second = page(client, city.district)
    assert rollup_reads(second_queries) == [] and len(second_queries) < len(first_queries) - 10
    assert [t.rows for t in second.context["tables"]] == [t.rows for t in first.context["tables"]]
    assert second.context["kpis"].rows == first.context["kpis"].rows
    assert second.context["map_json"] == first.context["map_json"]
    # A new case counts once the rollups have been refreshed (the freshness note moves with it).
    make_case(city.grid_b, at(2026, 11, 20, 9, 0))
    assert reported(page(client, city.district)) == 6  # as of the last refresh, as the note says
    rollups_rebuild(now=NOW)  # a refresh or a rebuild: a new "as of"
    fresh = page(client, city.district)
    assert reported(fresh) == 7 and "2026-11-30 23:55" in fresh.content.decode()


def test_scopes_languages_and_periods_do_not_share_an_entry(city, official, client, make_user):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    second_official = make_user(Role.DISTRICT_OFFICIAL, city.district, username="official2")
    street = make_user(Role.STREET_STAFF, city.street_a, username="street_a")
    assert scope_key(official) == scope_key(second_official)
    assert len({scope_key(official), scope_key(admin), scope_key(street)}) == 3
    page(client, city.district)
    english = client.get(reverse("cases:dashboard_place", args=[city.district.pk]), NOVEMBER,
                         HTTP_ACCEPT_LANGUAGE="en")
    assert "Key figures" in english.content.decode()
    october = client.get(reverse("cases:dashboard_place", args=[city.district.pk]),
                         {"period": "custom", "first": "2026-10-01", "last": "2026-10-31"})
    assert reported(october) == 1
    client.force_login(street)
    street_page = page(client, city.street_a)
    # grid_a's cases (street A) only: the street_b case and the district's totals are not shown.
    assert reported(street_page) == 5
    assert page(client, city.district).status_code == 404


def test_live_pages_grids_and_the_setting_off_are_computed_each_time(city, official, client, settings):
    from django.test.utils import CaptureQueriesContext
    from django.db import connection

    before = reported(page(client, city.grid_a))
    make_case(city.grid_a, at(2026, 11, 22, 9, 0))
    assert reported(page(client, city.grid_a)) == before + 1  # a grid reads the cases live
    live = reported(page(client, city.district, source="live"))
    make_case(city.grid_a, at(2026, 11, 23, 9, 0))
    assert reported(page(client, city.district, source="live")) == live + 1
    settings.DASHBOARD_CACHE_SECONDS = 0
    page(client, city.district)
    with CaptureQueriesContext(connection) as again:
        page(client, city.district)
    assert rollup_reads(again)
