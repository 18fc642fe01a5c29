"""manage.py seed_city (grid/management/commands/seed_city.py, grid/seeding.py)."""

import re
import sys
import types
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation

from grid.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from grid.geo import contains
from grid.integrity import tree_problems
from grid.management.commands import seed_city
from grid.models import KIND_CODE_LENGTH, Area, AreaKind, Building, Jurisdiction, Organisation, Post, Role, Unit, User
from grid.seeding import (
    SCALES,
    SeedingError,
    building_rows,
    chinese_number,
    foreign_key_problems,
    plan_buildings,
    plan_places,
    plan_units,
    spread,
    trusted_bulk_load,
    unit_rows,
)

DEMO = SCALES["demo"]


@pytest.fixture(autouse=True)
def only_the_places(monkeypatch):
    """These tests are about the places and accounts; other apps test their own seeders."""
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ())


@pytest.fixture
def fake_residents_seeder(monkeypatch):
    """Install `module` as residents/seed.py and let seed_city call it."""

    def install(module):
        monkeypatch.setattr(seed_city, "SEEDER_APPS", ("residents",))
        monkeypatch.setitem(sys.modules, "residents.seed", module)

    return install


def seed(*args, **options):
    out = StringIO()
    with translation.override("en"):  # messages are asserted in their English msgids
        call_command("seed_city", *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def demo_city(db):
    return seed(scale="demo", seed=7)


def test_demo_tree_is_sound(demo_city):
    assert tree_problems() == []


def test_demo_counts_match_the_scale(demo_city):
    for kind in AreaKind:
        assert Area.objects.filter(kind=kind).count() == DEMO.count_of(kind), kind
    assert Building.objects.count() == DEMO.buildings
    assert Unit.objects.count() == DEMO.units
    assert Area.objects.values("tree_id").distinct().count() == DEMO.districts


def documented_large_city():
    """The large city as the README states it, read from the README (not from SCALES)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    text = " ".join(readme.split())
    found = re.search(r"large: ([\d,]+) districts, ([\d,]+) streets, ([\d,]+) communities, ([\d,]+) grids, "
                      r"([\d,]+) buildings, ([\d,]+) units", text)
    assert found, "README.md no longer states the large city's size"
    names = ("districts", "streets", "communities", "grids", "buildings", "units")
    return dict(zip(names, (int(n.replace(",", "")) for n in found.groups())))


@pytest.mark.parametrize("name, share", [("large", 1), ("medium", 10)])  # medium is a tenth of each
def test_large_and_medium_plans_give_the_documented_city(name, share):
    """Plan the city in memory, as seed_city does before writing, and count what it would write."""
    expected = {key: n // share for key, n in documented_large_city().items()}
    plan = plan_places(scale=SCALES[name], seed=7)
    kinds = Counter(area.kind for area in plan.areas)
    assert [kinds[kind] for kind in AreaKind] == [expected["districts"], expected["streets"],
                                                 expected["communities"], expected["grids"]]
    codes = [area.code for area in plan.areas]
    assert len(set(codes)) == len(codes)  # no parent ran out of its 999 child codes
    assert all(len(area.code) == KIND_CODE_LENGTH[area.kind] for area in plan.areas)
    buildings = plan_buildings(plan=plan, seed=7)
    assert sum(1 for _ in building_rows(plan=plan, buildings=buildings, seed=7, now=None)) == expected["buildings"]
    assert len(buildings.per_grid) == expected["grids"] and min(buildings.per_grid) >= 1
    per_building = plan_units(buildings=buildings, units=SCALES[name].units, seed=7)
    units = unit_rows(buildings=buildings, per_building=per_building, first_id=1, now=None)
    assert sum(1 for _ in units) == expected["units"]  # every unit gets a number, none is dropped


def test_codes_are_hierarchical_and_unique(demo_city):
    areas = {a.pk: a for a in Area.objects.all()}
    codes = [a.code for a in areas.values()]
    assert len(codes) == len(set(codes))
    for area in areas.values():
        assert area.code.isdigit() and len(area.code) == KIND_CODE_LENGTH[area.kind], area
        if area.parent_id is None:
            assert area.kind == AreaKind.DISTRICT and area.code.startswith("51")
        else:
            parent = areas[area.parent_id]
            assert area.code[:-3] == parent.code and area.code[-3:] != "000"


def test_names_are_plausible_chinese(demo_city):
    for area in Area.objects.all():
        suffixes = {
            AreaKind.DISTRICT: ("区", "县", "市"),
            AreaKind.STREET: ("街道", "镇"),
            AreaKind.COMMUNITY: ("社区", "村"),
            AreaKind.GRID: ("网格",),
        }[area.kind]
        assert area.name.endswith(suffixes), area.name
    building = Building.objects.order_by("id").first()
    assert building.number.endswith("号楼") and building.number in building.address
    assert Unit.objects.order_by("id").first().number == "1单元"


def test_every_constraint_holds(demo_city):
    # Check and unique constraints as Django states them, and foreign keys in the database.
    for model in (Area, Building, Unit, Post):
        for row in model.objects.all()[:400]:
            row.validate_constraints()
    connection.check_constraints()
    assert not Building.objects.exclude(grid__kind=AreaKind.GRID).exists()


def test_grids_have_boundaries_and_buildings_sit_inside_them(demo_city):
    corners = Counter()
    for grid in Area.objects.filter(kind=AreaKind.GRID):
        ring = grid.boundary["coordinates"][0]
        assert grid.boundary["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) >= 5
        corners[len(ring) - 1] += 1
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        assert 103 < min(lons) < 106 and 30 < min(lats) < 33  # around Mianyang
        for building in grid.buildings.all():
            assert contains(grid.boundary, building.longitude, building.latitude), building
    assert len(corners) > 1, "Voronoi outlines, not squares"
    assert not Area.objects.exclude(kind=AreaKind.GRID).filter(boundary__isnull=False).exists()


def test_demo_accounts_hold_the_right_posts(demo_city):
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_ACCOUNTS)}
    # The app seeders are off here; the party seeder makes "partymember" (tests/test_party_seed.py).
    assert set(users) == set(DEMO_ACCOUNTS) - {"partymember"}
    for user in users.values():
        assert user.check_password(DEMO_PASSWORD)
        assert user.full_name and len(user.phone) == 11 and user.phone.isdigit()
    assert users["admin"].is_superuser and not users["admin"].posts.exists()

    def only_post(username, role):
        posts = list(Post.objects.filter(user=users[username], ended_at=None))
        assert [p.role for p in posts] == [role], username
        return posts[0]

    district = only_post("district", Role.DISTRICT_OFFICIAL).area
    street = only_post("street", Role.STREET_STAFF).area
    community = only_post("community", Role.COMMUNITY_STAFF).area
    grid = only_post("gridworker", Role.GRID_WORKER).area
    assert only_post("gridchief", Role.GRID_CHIEF).area == grid
    building = only_post("buildingchief", Role.BUILDING_CHIEF).building
    unit = only_post("unitchief", Role.UNIT_CHIEF).unit
    assert only_post("mediator", Role.PEOPLES_MEDIATOR).area == community
    # One branch of the tree, so the demo's people work together.
    assert (grid.parent, community.parent, street.parent) == (community, street, district)
    assert building.grid == grid and unit.building == building
    enforcement = only_post("chengguan", Role.ORG_STAFF).organisation
    assert enforcement.seat == street and enforcement.function == "urban_mgmt"
    assert users["community"].is_staff
    assert "portal-demo-2026" in demo_city and "gridworker" in demo_city


def test_organisations_follow_the_field_reports(demo_city):
    streets = Area.objects.filter(kind=AreaKind.STREET)
    for street in streets:
        functions = set(Organisation.objects.filter(seat=street).values_list("function", flat=True))
        assert {"urban_mgmt", "police", "justice", "market"} <= functions
        # Each covers its own street.
        police = Organisation.objects.get(seat=street, function="police")
        assert [j.area_id for j in police.jurisdiction.all()] == [street.pk]
    district = Area.objects.get(kind=AreaKind.DISTRICT)
    assert {"water", "power", "gas", "urban_mgmt"} <= set(
        Organisation.objects.filter(seat=district).values_list("function", flat=True))
    # Most compounds have a 物业 covering their buildings; some have none.
    covered = set(Jurisdiction.objects.filter(organisation__kind="property").values_list("building_id", flat=True))
    total = Building.objects.count()
    assert 0.6 * total < len(covered) < total
    assert Organisation.objects.filter(kind="owners").exists()


def test_accounts_are_optional(db):
    seed(scale="demo", accounts=False)
    assert not User.objects.exists()
    assert Area.objects.count() == DEMO.districts + DEMO.streets + DEMO.communities + DEMO.grids


def test_if_empty_is_a_no_op_on_the_second_run(demo_city):
    before = (Area.objects.count(), Building.objects.count(), Unit.objects.count(), User.objects.count())
    out = seed("--scale", "demo", "--if-empty")
    assert "already seeded" in out
    assert (Area.objects.count(), Building.objects.count(), Unit.objects.count(), User.objects.count()) == before


def test_seeding_twice_without_if_empty_is_refused(demo_city):
    with pytest.raises(CommandError, match="already has"):
        seed(scale="demo")


def city_snapshot(seed_value):
    """Seed inside a savepoint, note the city, roll it back."""
    with transaction.atomic():
        seed(scale="demo", seed=seed_value, accounts=False)
        snapshot = (
            list(Area.objects.order_by("code").values_list("code", "name", "lft", "rght")),
            list(Building.objects.order_by("id").values_list("grid__code", "number", "address")),
            list(Unit.objects.order_by("id").values_list("building__number", "number")),
        )
        transaction.set_rollback(True)
    return snapshot


@pytest.mark.django_db(transaction=False)
def test_the_same_seed_gives_the_same_city(db):
    first, again, other = city_snapshot(3), city_snapshot(3), city_snapshot(4)
    assert first == again
    assert first != other


def test_a_bad_scale_is_a_clear_error(db):
    with pytest.raises(CommandError, match="invalid choice: 'huge'"):
        seed("--scale", "huge")
    assert not Area.objects.exists()


def test_app_seeders_run_after_the_places(db, fake_residents_seeder):
    calls = []

    def fake_seed(*, scale, rng, stdout, now):
        calls.append({"scale": scale.name, "grids": Area.objects.filter(kind=AreaKind.GRID).count(),
                      "draw": rng.random(), "now": now})
        stdout.write("fake residents seeded")

    module = types.ModuleType("residents.seed")
    module.seed = fake_seed
    fake_residents_seeder(module)
    out = seed(scale="demo", seed=5, accounts=False)
    assert len(calls) == 1
    assert calls[0]["scale"] == "demo" and calls[0]["grids"] == DEMO.grids
    assert calls[0]["now"].tzinfo is not None
    assert "fake residents seeded" in out and "residents" in out


def test_a_failing_app_seeder_leaves_nothing_behind(db, fake_residents_seeder):
    module = types.ModuleType("residents.seed")

    def broken(**kwargs):
        raise RuntimeError("boom")

    module.seed = broken
    fake_residents_seeder(module)
    with pytest.raises(RuntimeError):
        seed(scale="demo")
    assert not Area.objects.exists() and not User.objects.exists()


def test_spread_deals_exactly_and_at_least_one_each():
    import random

    counts = spread(10_000, 2_600, random.Random(1))
    assert sum(counts) == 10_000 and min(counts) >= 1 and len(counts) == 2_600
    with pytest.raises(ValueError):
        spread(3, 4, random.Random(1))


def test_chinese_numbers():
    assert [chinese_number(n) for n in (1, 10, 11, 20, 23, 99)] == ["一", "十", "十一", "二十", "二十三", "九十九"]


def test_a_seed_module_without_seed_function_is_skipped_with_a_warning(db, fake_residents_seeder):
    fake_residents_seeder(types.ModuleType("residents.seed"))
    err = StringIO()
    call_command("seed_city", scale="demo", accounts=False, stdout=StringIO(), stderr=err)
    assert "residents.seed" in err.getvalue()
    assert Area.objects.exists()


def insert_orphan_unit():
    # Deferred foreign keys let the row in until the transaction's end.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO grid_unit (building_id, number, created_at) VALUES (%s, %s, %s)",
            [987_654_321, "1单元", timezone.now()],
        )


def test_foreign_key_problems_finds_a_row_pointing_at_nothing(db):
    assert foreign_key_problems([Unit, Building, Area]) == []
    with transaction.atomic():
        insert_orphan_unit()
        [problem] = foreign_key_problems([Unit, Building, Area])
        transaction.set_rollback(True)  # or the test's own constraint check fails at teardown
    assert "grid_unit" in problem and "987654321" in problem


def test_trusted_bulk_load_refuses_a_broken_key(db, on_postgres):
    with pytest.raises(SeedingError, match="987654321"), transaction.atomic():
        with trusted_bulk_load([Unit]):
            insert_orphan_unit()
    # The triggers are back on: the same insert now fails at once.
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_orphan_unit()
        on_postgres.check_constraints()


def test_places_only_skips_the_app_seeders(db, fake_residents_seeder):
    module = types.ModuleType("residents.seed")
    module.seed = lambda **kwargs: pytest.fail("the residents seeder ran")
    fake_residents_seeder(module)
    seed(scale="demo", places_only=True, accounts=False)
    assert Area.objects.exists()

