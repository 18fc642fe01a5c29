"""Grid health (residents/health.py, the grid_health view): the 400–700 band, grids
without a worker or chief, buildings without a building chief; scoped to
managing posts (community staff and above), outside → 404.

Households are bulk-created here: hundreds of them through the services would
test nothing more and take minutes.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from grid import services as grid_services
from grid.models import Post, Role
from residents import health
from residents.models import Household, Resident, ResidentStatus

from .factories import user_with_post


def fill(grid, unit, count, *, start=1, living=True):
    """`count` households in `unit` of `grid`, one resident each (living or moved out)."""
    building = unit.building
    path = {"district_id": grid.parent.parent.parent_id, "street_id": grid.parent.parent_id,
            "community_id": grid.parent_id, "grid_id": grid.pk}
    households = Household.objects.bulk_create([
        Household(unit=unit, building=building, number=str(start + n), **path) for n in range(count)
    ])
    Resident.objects.bulk_create([
        Resident(household=h, building=building, name=f"居民{h.number}", **path,
                 status=ResidentStatus.LIVING if living else ResidentStatus.MOVED_OUT,
                 left_on=None if living else datetime.date(2025, 1, 1), relation="head")
        for h in households
    ])


@pytest.fixture
def healthy(city):
    """grid_a: 450 occupied households, a worker, a chief, building_a's chief. grid_a2: nothing."""
    fill(city.grid_a, city.unit_a, 450)
    user_with_post(Role.GRID_WORKER, city.grid_a)
    user_with_post(Role.GRID_CHIEF, city.grid_a)
    user_with_post(Role.BUILDING_CHIEF, city.building_a)
    return city


def health_url(place):
    return reverse("residents:health", args=[place.pk])


def rows_by_grid(response):
    return {g.grid.pk: g for row in response.context["rows"] for g in row.grids}


def test_a_grid_in_the_band_with_its_team_is_in_order(client, healthy, make_user):
    city = healthy
    client.force_login(make_user(Role.COMMUNITY_STAFF, city.community_a))
    response = client.get(health_url(city.community_a))
    assert response.status_code == 200
    grids = rows_by_grid(response)
    assert set(grids) == {city.grid_a.pk, city.grid_a2.pk}
    a = grids[city.grid_a.pk]
    assert (a.households, a.recorded, a.workers, a.chiefs, a.buildings, a.buildings_without_chief) == (
        450, 450, 1, 1, 1, 0)
    assert a.problems == [] and not a.flagged
    a2 = grids[city.grid_a2.pk]
    assert a2.problems == ["below", "no_worker", "no_chief", "buildings_without_chief"]
    html = response.content.decode()
    assert "幸福第二网格" in html and "is-flagged" in html


def test_band_edges_and_above(client, city, make_user):
    building = city.building_a
    unit2 = grid_services.unit_add(building=building, number="2单元")
    fill(city.grid_a, city.unit_a, 400)
    fill(city.grid_a2, unit2_of(city.building_a2), 700)
    rows = {g.grid.pk: g for g in health.grid_health([city.grid_a, city.grid_a2])}
    assert not rows[city.grid_a.pk].below_band and not rows[city.grid_a.pk].above_band  # 400: in
    assert not rows[city.grid_a2.pk].above_band  # 700: in
    fill(city.grid_a, unit2, 1, start=9000)  # 401
    fill(city.grid_a2, unit2_of(city.building_a2), 1, start=9000)  # 701
    rows = {g.grid.pk: g for g in health.grid_health([city.grid_a, city.grid_a2])}
    assert rows[city.grid_a.pk].households == 401 and "above" not in rows[city.grid_a.pk].problems
    assert rows[city.grid_a2.pk].households == 701 and "above" in rows[city.grid_a2.pk].problems


def unit2_of(building):
    return building.units.first() or grid_services.unit_add(building=building, number="1单元")


def test_households_nobody_lives_in_do_not_count_toward_the_band(city):
    fill(city.grid_a, city.unit_a, 398)
    fill(city.grid_a, city.unit_a, 5, start=1000, living=False)
    (row,) = health.grid_health([city.grid_a])
    assert (row.households, row.recorded) == (398, 403)
    assert row.below_band


def test_ended_posts_and_inactive_users_do_not_count(city):
    worker = user_with_post(Role.GRID_WORKER, city.grid_a)
    chief = user_with_post(Role.GRID_CHIEF, city.grid_a)
    building_chief = user_with_post(Role.BUILDING_CHIEF, city.building_a)
    (row,) = health.grid_health([city.grid_a])
    assert (row.workers, row.chiefs, row.buildings_without_chief) == (1, 1, 0)
    grid_services.post_end(post=Post.objects.get(user=worker))
    building_chief.is_active = False
    building_chief.save(update_fields=["is_active"])
    chief.is_active = False
    chief.save(update_fields=["is_active"])
    (row,) = health.grid_health([city.grid_a])
    assert row.problems == ["below", "no_worker", "no_chief", "buildings_without_chief"]


def test_grid_health_takes_three_queries_for_any_number_of_grids(city, django_assert_num_queries):
    fill(city.grid_a, city.unit_a, 10)
    with django_assert_num_queries(3):
        rows = health.grid_health([city.grid_a, city.grid_a2, city.grid_b])
    assert [r.households for r in rows] == [10, 0, 0]


@pytest.mark.parametrize("role,place_name,inside,outside", [
    (Role.COMMUNITY_STAFF, "community_a", "community_a", "community_b"),
    (Role.STREET_STAFF, "street_a", "street_a", "street_b"),
    (Role.STREET_STAFF, "street_a", "community_a", "community_b"),
    (Role.DISTRICT_OFFICIAL, "other_district", "other_district", "district"),
])
def test_managing_posts_reach_their_place_others_get_404(client, city, make_user, role, place_name, inside,
                                                          outside):
    client.force_login(make_user(role, getattr(city, place_name)))
    assert client.get(health_url(getattr(city, inside))).status_code == 200
    assert client.get(health_url(getattr(city, outside))).status_code == 404


@pytest.mark.parametrize("role,place_name", [
    (Role.GRID_WORKER, "grid_a"), (Role.GRID_CHIEF, "grid_a"), (Role.BUILDING_CHIEF, "building_a"),
])
def test_workers_and_chiefs_do_not_see_grid_health(client, city, make_user, role, place_name):
    client.force_login(make_user(role, getattr(city, place_name)))
    assert client.get(health_url(city.community_a)).status_code == 404
    assert client.get(health_url(city.grid_a)).status_code == 404


def test_a_grid_itself_has_no_health_page(client, city, make_user):
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    assert client.get(health_url(city.grid_a)).status_code == 404


def test_a_district_lists_each_community_under_it(client, healthy, make_user, django_assert_max_num_queries):
    city = healthy
    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    # session, user, scope, audience, place, count, communities, grids, the three grouped counts,
    # and the navigation asking whether the user volunteers
    with django_assert_max_num_queries(12):
        response = client.get(health_url(city.district))
    assert response.status_code == 200
    assert [r.community.pk for r in response.context["rows"]] == [city.community_a.pk, city.community_b.pk]
    assert set(rows_by_grid(response)) == {city.grid_a.pk, city.grid_a2.pk, city.grid_b.pk}


def test_the_district_page_query_count_does_not_grow_with_communities(client, city, make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from grid.models import AreaKind

    client.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    with CaptureQueriesContext(connection) as before:
        client.get(health_url(city.district))
    for n in range(3):
        community = grid_services.area_add(kind=AreaKind.COMMUNITY, name=f"新社区{n}", parent=city.street_b)
        for k in range(2):
            grid = grid_services.area_add(kind=AreaKind.GRID, name=f"新社区{n}第{k}网格", parent=community)
            grid_services.building_add(grid=grid, number="1号楼")
    with CaptureQueriesContext(connection) as after:
        response = client.get(health_url(city.district))
    assert len(response.context["rows"]) == 5
    assert len(after) == len(before)


def test_health_needs_sign_in(client, city):
    assert client.get(health_url(city.community_a)).status_code == 302


def test_seeded_timestamps_do_not_matter_to_the_count(city):
    # Guard against counting by created_at or similar: a household made long ago counts the same.
    fill(city.grid_a, city.unit_a, 3)
    Household.objects.update(created_at=timezone.now() - datetime.timedelta(days=3650))
    (row,) = health.grid_health([city.grid_a])
    assert row.households == 3
