"""residents/seed.py: the seed_city hook growing households and residents.

The demo city is seeded once through `manage.py seed_city` (residents' seeder
only) and checked from every side: households per grid in the band, ~2.5
residents per household, every stored ID number decrypting to a valid GB 11643
number whose blind index and mask are what the services would store, phones
likewise, tags at plausible rates, visits due in the demo grid worker's grid.
Determinism is checked on the planner alone (no database).
"""

import random
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F
from django.utils import timezone

from grid.management.commands import seed_city
from grid.models import Area, AreaKind, Post, Role
from residents import seed as residents_seed
from residents.identity import blind_index, mask_id_number, mask_phone, normalize_phone, parse_id_number
from residents.models import CareVisit, Household, Resident, ResidentStatus, Tag
from residents.services import identity_values


@pytest.fixture
def demo(db, monkeypatch):
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ("residents",))
    out = StringIO()
    call_command("seed_city", scale="demo", seed=3, stdout=out)
    return out.getvalue()


def test_demo_city_gets_households_in_the_band_and_plausible_residents(demo):
    assert "households" in demo and "residents" in demo
    grids = Area.objects.filter(kind=AreaKind.GRID).count()
    per_grid = dict(Household.objects.values_list("grid_id").annotate(n=Count("id")).order_by())
    assert len(per_grid) == grids
    assert all(400 <= n <= 700 for n in per_grid.values()), per_grid
    households = sum(per_grid.values())
    residents = Resident.objects.count()
    assert 2.3 <= residents / households <= 2.8
    # Every household has exactly one head, and its path matches its unit's building and grid.
    assert Resident.objects.filter(relation="head").count() == households
    for household in Household.objects.select_related("unit__building__grid__parent")[:200]:
        assert household.building_id == household.unit.building_id
        assert household.grid_id == household.unit.building.grid_id
        assert household.community_id == household.unit.building.grid.parent_id
    # Residents carry their household's path and building.
    for name in ("grid_id", "community_id", "street_id", "district_id", "building_id"):
        assert not Resident.objects.exclude(**{name: F(f"household__{name}")}).exists(), name


def test_every_stored_id_number_and_phone_is_what_the_services_would_store(demo):
    today = timezone.now().date()
    rows = Resident.objects.values_list("id_number", "id_index", "id_masked", "phone", "phone_index",
                                        "phone_masked", "birth_date", "gender")
    # values_list goes through the encrypted fields' from_db_value: these are decrypted.
    checked = phones = 0
    for number, index, masked, phone, phone_index, phone_masked, birth, gender in rows:
        parsed = parse_id_number(number, today=today)  # raises on any invalid number
        assert parsed.value == number
        assert index == blind_index("id", number)
        assert masked == mask_id_number(number) and "*" in masked
        assert parsed.birth_date == birth and parsed.gender == gender
        values, _, _ = identity_values(id_number=number, phone=phone or "", today=today)
        assert (values["id_index"], values["id_masked"]) == (index, masked)
        if phone:
            assert normalize_phone(phone) == phone
            assert phone_index == blind_index("phone", phone) == values["phone_index"]
            assert phone_masked == mask_phone(phone) == values["phone_masked"]
            phones += 1
        else:
            assert phone_index is None and phone_masked == ""
        checked += 1
    assert checked == Resident.objects.count()
    assert 0.6 < phones / checked < 0.9  # adults mostly; children and some elderly have none
    # Stored encrypted: the raw column is a Fernet token, not the number.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM residents_resident WHERE phone IS NOT NULL LIMIT 5")
        for raw_id, raw_phone in cursor.fetchall():
            assert raw_id.startswith("gAAAAA") and raw_phone.startswith("gAAAAA")


def test_id_numbers_are_unique_and_the_blind_index_finds_them(demo):
    from residents.services import find_by_id_number

    assert Resident.objects.values("id_index").distinct().count() == Resident.objects.count()
    resident = Resident.objects.order_by("?").first()
    assert find_by_id_number(resident.id_number).pk == resident.pk


def test_tags_come_at_plausible_rates(demo):
    total = Resident.objects.count()
    counts = dict(Tag.objects.annotate(n=Count("residents")).values_list("code", "n"))
    rate = {code: n / total for code, n in counts.items()}
    assert 0.02 <= rate["elderly_alone"] <= 0.045
    assert 0.01 <= rate["disabled"] <= 0.035
    assert 0.008 <= rate["low_income"] <= 0.04
    assert 0.004 <= rate["left_behind_child"] <= 0.02
    assert 0.045 <= rate["party_member"] <= 0.075
    assert 0.005 <= rate["veteran"] <= 0.02
    assert rate["community_correction"] <= 0.002
    # Elderly living alone are alone and old; left-behind children are children.
    alone = Resident.objects.filter(tags__code="elderly_alone")
    assert not alone.filter(birth_date__gt=timezone.now().date() - timedelta(days=60 * 365)).exists()
    assert all(Resident.objects.filter(household_id=h).count() == 1 for h in alone.values_list("household_id",
                                                                                                flat=True)[:50])
    kids = Resident.objects.filter(tags__code="left_behind_child")
    assert not kids.filter(birth_date__lt=timezone.now().date() - timedelta(days=17 * 365)).exists()


def test_statuses_and_registration_mix(demo):
    total = Resident.objects.count()
    status = Counter(Resident.objects.values_list("status", flat=True))
    assert status[ResidentStatus.LIVING] / total > 0.95
    assert status[ResidentStatus.MOVED_OUT] and status[ResidentStatus.DECEASED]
    assert not Resident.objects.exclude(status=ResidentStatus.LIVING).filter(left_on__isnull=True).exists()
    assert not Resident.objects.exclude(status=ResidentStatus.LIVING).filter(visit_due_on__isnull=False).exists()
    registration = Counter(Resident.objects.values_list("registration", flat=True))
    assert 0.10 <= registration["floating"] / total <= 0.20
    assert registration["local"] / total > 0.7
    assert not Resident.objects.filter(registration="floating", registered_address="").exists()


def test_visits_are_due_as_refresh_visit_due_would_compute_them(demo):
    from residents.services import refresh_visit_due

    now = timezone.now()
    tagged = Resident.objects.filter(status=ResidentStatus.LIVING, tags__visit_interval_days__isnull=False)
    assert tagged.exists()
    assert not tagged.filter(visit_due_on__isnull=True).exists()
    before = dict(Resident.objects.values_list("pk", "visit_due_on"))
    sample = list(Resident.objects.order_by("pk").values_list("pk", flat=True)[:3000])
    visited = list(Resident.objects.filter(last_visited_at__isnull=False).values_list("pk", flat=True))
    refresh_visit_due(sample + visited, today=now.date())
    after = dict(Resident.objects.filter(pk__in=sample + visited).values_list("pk", "visit_due_on"))
    assert {pk: before[pk] for pk in after} == after


def test_the_demo_grid_worker_has_residents_visits_and_some_due(demo):
    post = Post.objects.get(user__username="gridworker", role=Role.GRID_WORKER)
    grid = post.area
    mine = Resident.objects.filter(grid=grid, status=ResidentStatus.LIVING)
    assert mine.count() > 800
    assert mine.filter(tags__isnull=False).exists()
    today = timezone.now().date()
    assert mine.filter(visit_due_on__lte=today).exists()  # overdue or due today
    assert mine.filter(visit_due_on__gt=today).exists()  # visited recently
    visits = CareVisit.objects.filter(resident__grid=grid)
    assert visits.exists() and not visits.exclude(visited_by=post.user).exists()
    for visit in visits.select_related("resident")[:50]:
        assert visit.resident.last_visited_at == visit.visited_at
    # Grids without a worker have no visits (nobody to have made them).
    assert not CareVisit.objects.exclude(resident__grid=grid).exists()


def test_seeding_twice_adds_nothing(demo):
    before = Resident.objects.count()
    out = StringIO()
    residents_seed.seed(scale=seed_city.seeding.SCALES["demo"], rng=random.Random(1), stdout=out,
                        now=timezone.now())
    assert "already" in out.getvalue()
    assert Resident.objects.count() == before


def _plan(seed):
    grids = [
        residents_seed.GridInfo(id=10 + g, path=(1, 2, 3, 10 + g), area_code="510703",
                                units=[(100 * g + u, 1000 + g) for u in range(30)], worker_id=7 if g == 0 else None)
        for g in range(3)
    ]
    tags = {code: (n, interval) for n, (code, interval) in enumerate([
        ("elderly_alone", 7), ("empty_nest", 14), ("disabled", 30), ("low_income", 30),
        ("left_behind_child", 14), ("serious_illness", 14), ("party_member", None), ("veteran", 90),
        ("community_correction", 7)], start=1)}
    now = timezone.now().replace(year=2026, month=6, day=1, hour=3, minute=0, second=0, microsecond=0)
    planner = residents_seed.Planner(rng=random.Random(seed), now=now, tags=tags,
                                     secrets=residents_seed._secrets())
    chunk = residents_seed.Chunk()
    for grid in grids:
        planner.plan_grid(grid, chunk)
    return chunk


def test_a_seed_always_plans_the_same_residents():
    a, b, c = _plan("x"), _plan("x"), _plan("y")
    assert a.households == b.households and a.residents == b.residents and a.plain == b.plain
    assert a.tags == b.tags and a.visits == b.visits
    assert a.plain != c.plain
    # Household numbers are unique per unit.
    numbers = [(h[6], h[7]) for h in a.households]
    assert len(numbers) == len(set(numbers))
    ids = [number for number, _ in a.plain]
    assert len(ids) == len(set(ids))


def test_a_full_day_moves_the_birth_date_not_the_rules():
    planner = residents_seed.Planner(rng=random.Random(1), now=timezone.now(), tags={},
                                     secrets=residents_seed._secrets())
    day = timezone.now().date().toordinal() - 40 * 365
    numbers = [planner._id_number("510703", day, True)[0] for _ in range(501)]
    assert len(set(numbers)) == 501
    for number in numbers:
        parsed = parse_id_number(number)
        assert parsed.gender == "M"
    assert parse_id_number(numbers[-1]).birth_date.toordinal() == day - 1


def test_encryption_matches_the_model_field():
    (token_id, token_phone), = residents_seed.encrypt_values([("11010519800517001X", "13800138000")])
    field = Resident._meta.get_field("id_number")
    assert field.to_python(token_id) == "11010519800517001X"
    assert Resident._meta.get_field("phone").to_python(token_phone) == "13800138000"
    assert residents_seed.encrypt_values([(None, None)]) == [(None, None)]


# --- streets planned side by side (city scale: worker processes) -------------------------------

def _street_grids(street, first_grid, area_code="510703"):
    return [
        residents_seed.GridInfo(id=first_grid + g, path=(1, street, 3, first_grid + g), area_code=area_code,
                                units=[(1000 * (first_grid + g) + u, first_grid + g) for u in range(20)])
        for g in range(2)
    ]


def _plan_streets(tasks):
    now = timezone.now().replace(year=2026, month=6, day=1, hour=3, minute=0, second=0, microsecond=0)
    return [residents_seed.plan_street(task, now=now, tags={}, secrets=residents_seed._secrets()) for task in tasks]


def test_streets_planned_apart_never_share_an_id_or_an_id_number():
    grids = _street_grids(20, 100) + _street_grids(21, 200) + _street_grids(22, 300, area_code="510704")
    tasks = residents_seed.street_tasks(grids, random.Random(5))
    assert len(tasks) == 3
    chunks = _plan_streets(tasks)
    households = [h[0] for c in chunks for h in c.households]
    residents = [r[0] for c in chunks for r in c.residents]
    numbers = [number for c in chunks for number, _ in c.plain]
    assert len(households) == len(set(households)) and len(residents) == len(set(residents))
    assert len(numbers) == len(set(numbers))
    # Each street draws from its own share: the two streets of 510703 alternate, 510704's has all of its own.
    serials = {tuple(task.slots.get("510703", task.slots[None])) for task in tasks[:2]}
    assert serials == {(0, 2), (1, 2)}
    assert tasks[2].slots["510704"] == (0, 1)
    # Residents point at their own street's households.
    for chunk in chunks:
        own = {h[0] for h in chunk.households}
        assert {r[5] for r in chunk.residents} <= own


def test_a_street_plans_the_same_whoever_plans_it_and_in_whatever_order():
    grids = _street_grids(20, 100) + _street_grids(21, 200)
    tasks = residents_seed.street_tasks(grids, random.Random(5))
    forward = _plan_streets(tasks)
    backward = _plan_streets(reversed(tasks))[::-1]
    assert [c.residents for c in forward] == [c.residents for c in backward]
    assert [c.plain for c in forward] == [c.plain for c in backward]
    other = _plan_streets(residents_seed.street_tasks(grids, random.Random(6)))
    assert [c.plain for c in other] != [c.plain for c in forward]


def test_more_streets_than_serials_is_refused():
    grids = [g for street in range(500) for g in _street_grids(10_000 + street, 100 * street)[:1]]
    with pytest.raises(ValueError, match="500 streets"):
        residents_seed.street_tasks(grids, random.Random(1))


def _stored():
    return list(Resident.objects.order_by("id").values_list(
        "id", "household_id", "household__number", "name", "gender", "birth_date", "id_index", "id_masked",
        "phone_index", "phone_masked", "relation", "registration", "status", "visit_due_on", "grid_id"))


def test_worker_processes_store_what_the_in_process_path_stores(db, on_postgres, monkeypatch):
    """The city-scale path (streets planned and formatted in forked workers, COPY text) on the demo city."""
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ())
    call_command("seed_city", scale="demo", seed=3, stdout=StringIO())
    now = timezone.now()
    scale = seed_city.seeding.SCALES["demo"]

    def seed(**options):
        out = StringIO()
        result = residents_seed.seed(scale=scale, rng=random.Random("3:residents"), stdout=out, now=now, **options)
        return result, out.getvalue()

    monkeypatch.setattr(residents_seed, "POOL_THRESHOLD", 0)
    result, log = seed(workers=2)
    assert result["workers"] == 2 and "2 planning processes" in log
    pooled = _stored()
    pooled_numbers = {r.pk: r.id_number for r in Resident.objects.all()}
    pooled_tags = sorted(Resident.tags.through.objects.values_list("resident_id", "tag_id"))
    assert len(pooled) > 5_000 and pooled_tags
    Resident.tags.through.objects.all().delete()
    CareVisit.objects.all().delete()
    Resident.objects.all().delete()
    Household.objects.all().delete()

    result, log = seed(workers=1)
    assert result["workers"] == 1 and "planned in-process" in log
    assert _stored() == pooled
    assert {r.pk: r.id_number for r in Resident.objects.all()} == pooled_numbers
    assert sorted(Resident.tags.through.objects.values_list("resident_id", "tag_id")) == pooled_tags
