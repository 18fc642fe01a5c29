"""Households and residents follow the tree: moves, merges, splits and building
moves in grid/services.py rewrite their stored district/street/community/grid
ids, and nothing is lost on the way."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from grid import services as grid_services
from grid.models import AreaKind, Role
from portal.errors import DomainError
from residents import selectors
from residents.models import Household, Resident

from .factories import user_with_post
from .residents_factories import household_in, resident_in

NOW = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
PATH = ("district_id", "street_id", "community_id", "grid_id", "building_id")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def homes(city):
    """Two households with two residents each in grid_a, one household in grid_a2, one in grid_b."""
    unit_a2 = grid_services.unit_add(building=city.building_a2, number="1单元")
    result = {}
    for key, unit, number in (("a", city.unit_a, "101"), ("a_bis", city.unit_a, "102"), ("a2", unit_a2, "201"),
                              ("b", city.unit_b, "301")):
        household = household_in(unit, number)
        resident_in(household, f"{key}-1", now=NOW)
        resident_in(household, f"{key}-2", phone="", now=NOW)
        result[key] = household
    return result


def paths(model, household):
    """The stored paths of a household and of everyone in it (all equal)."""
    rows = {tuple(getattr(household.__class__.objects.get(pk=household.pk), f) for f in PATH)}
    rows |= set(Resident.objects.filter(household=household).values_list(*PATH))
    assert len(rows) == 1, rows
    return rows.pop()


def snapshot():
    return (Household.objects.count(), Resident.objects.count(),
            sorted(Resident.objects.values_list("pk", "name", "id_index", "household_id")))


def test_placepath_models_rewrite_households_before_residents():
    # resident_add relies on it: its lock on the household orders it with a move.
    models = grid_services.placepath_models()
    assert models.index(Household) < models.index(Resident)


def test_moving_a_community_to_another_street_carries_its_households_and_residents(city, homes):
    before = snapshot()
    grid_services.area_move(area=city.community_a, new_parent=city.street_b, now=NOW)
    for key, grid, building in (("a", city.grid_a, city.building_a), ("a_bis", city.grid_a, city.building_a),
                                ("a2", city.grid_a2, city.building_a2)):
        assert paths(Household, homes[key]) == (city.district.pk, city.street_b.pk, city.community_a.pk, grid.pk,
                                                building.pk)
    assert paths(Household, homes["b"]) == (city.district.pk, city.street_b.pk, city.community_b.pk,
                                            city.grid_b.pk, city.building_b.pk)
    assert snapshot() == before
    # Scoping follows the stored path.
    old, new = (user_with_post(Role.STREET_STAFF, s) for s in (city.street_a, city.street_b))
    assert not selectors.residents_visible_to(old).exists()
    assert selectors.residents_visible_to(new).count() == 8


def test_moving_a_street_to_another_district_carries_everything(city, homes):
    grid_services.area_move(area=city.street_a, new_parent=city.other_district, now=NOW)
    assert paths(Household, homes["a"])[:3] == (city.other_district.pk, city.street_a.pk, city.community_a.pk)
    assert paths(Household, homes["a2"])[0] == city.other_district.pk
    assert paths(Household, homes["b"])[0] == city.district.pk
    assert selectors.residents_visible_to(user_with_post(Role.DISTRICT_OFFICIAL, city.other_district)).count() == 6


def test_merging_two_grids_carries_the_source_grids_households(city, homes):
    before = snapshot()
    grid_services.area_merge(source=city.grid_a2, target=city.grid_a, now=NOW)
    assert paths(Household, homes["a2"]) == (city.district.pk, city.street_a.pk, city.community_a.pk,
                                             city.grid_a.pk, city.building_a2.pk)
    assert paths(Household, homes["a"])[3] == city.grid_a.pk
    assert snapshot() == before
    assert selectors.residents_visible_to(user_with_post(Role.GRID_WORKER, city.grid_a)).count() == 6


def test_merging_communities_across_streets_carries_grids_and_residents(city, homes):
    grid_services.area_merge(source=city.community_b, target=city.community_a, now=NOW)
    assert paths(Household, homes["b"]) == (city.district.pk, city.street_a.pk, city.community_a.pk,
                                            city.grid_b.pk, city.building_b.pk)
    assert selectors.residents_visible_to(user_with_post(Role.COMMUNITY_STAFF, city.community_a)).count() == 8


def test_splitting_a_grid_takes_the_chosen_buildings_households_along(city, homes):
    building = grid_services.building_add(grid=city.grid_a, number="2号楼")
    unit = grid_services.unit_add(building=building, number="1单元")
    moving = household_in(unit, "601")
    resident_in(moving, "随楼迁", now=NOW)
    before = snapshot()
    new_grid = grid_services.grid_split(grid=city.grid_a, name="幸福第三网格", buildings=[building], now=NOW)
    assert paths(Household, moving) == (city.district.pk, city.street_a.pk, city.community_a.pk, new_grid.pk,
                                        building.pk)
    assert paths(Household, homes["a"])[3] == city.grid_a.pk  # the building that stayed
    assert snapshot() == before
    assert list(selectors.residents_visible_to(user_with_post(Role.GRID_WORKER, new_grid))
                .values_list("name", flat=True)) == ["随楼迁"]


def test_moving_a_building_to_a_grid_in_another_street(city, homes):
    before = snapshot()
    grid_services.building_move(building=city.building_a, grid=city.grid_b, now=NOW)
    for key in ("a", "a_bis"):
        assert paths(Household, homes[key]) == (city.district.pk, city.street_b.pk, city.community_b.pk,
                                                city.grid_b.pk, city.building_a.pk)
    assert paths(Household, homes["a2"])[3] == city.grid_a2.pk
    assert snapshot() == before
    assert not selectors.residents_visible_to(user_with_post(Role.GRID_WORKER, city.grid_a)).exists()


def test_residents_who_left_move_with_their_household_too(city, homes):
    gone = Resident.objects.filter(household=homes["a"]).first()
    from residents import services

    services.resident_move_out(resident=gone, acting_user=user_with_post(Role.GRID_WORKER, city.grid_a), now=NOW)
    grid_services.building_move(building=city.building_a, grid=city.grid_b, now=NOW)
    gone.refresh_from_db()
    assert (gone.grid_id, gone.street_id, gone.status) == (city.grid_b.pk, city.street_b.pk, "moved_out")


def test_a_place_with_households_cannot_be_deleted(city, homes):
    empty = grid_services.area_add(kind=AreaKind.GRID, name="空网格", parent=city.community_a)
    grid_services.area_delete(area=empty, now=NOW)  # nothing attached: fine
    grid = grid_services.area_add(kind=AreaKind.GRID, name="临时网格", parent=city.community_a)
    grid_services.building_move(building=city.building_a, grid=grid, now=NOW)
    grid_services.building_move(building=city.building_a, grid=city.grid_a, now=NOW)
    grid_services.area_delete(area=grid, now=NOW)  # the households went back with their building
    with pytest.raises(DomainError) as err:
        grid_services.area_delete(area=city.grid_a2, now=NOW)
    assert err.value.code == "attached"
    assert "households" in str(err.value) and "residents" in str(err.value)
    assert Household.objects.filter(grid=city.grid_a2).count() == 1


def test_a_unit_or_building_with_households_cannot_be_deleted(city, homes):
    with pytest.raises(DomainError) as err:
        grid_services.unit_delete(unit=city.unit_b)
    assert err.value.code == "attached"
    assert Household.objects.filter(unit=city.unit_b).count() == 1
