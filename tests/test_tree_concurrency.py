"""Concurrent writers on one district tree, on PostgreSQL: the services' tree locks
keep the nested sets valid. Each writer is a thread with its own connection;
a barrier starts them together.

On SQLite (which serialises every write) these tests are skipped.
"""

import threading
import time

import pytest
from django.db import connections, transaction
from django.utils import translation

from grid import services
from grid.integrity import tree_problems
from grid.models import Area, AreaKind, Building
from portal.errors import DomainError

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 20


def run_together(*jobs, timeout=60):
    """Run each job in its own thread (own DB connection), all released at once."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def work(i, job):
        try:
            barrier.wait(timeout=timeout)
            # Threads do not inherit the caller's active language; refusals are
            # compared in English.
            with translation.override("en"):
                results[i] = job()
        except BaseException as exc:  # noqa: BLE001 - reported below, with the thread's job
            errors.append((i, exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    assert errors == []
    return results


def codes_are_unique_and_extend_their_parents():
    rows = list(Area.objects.select_related("parent"))
    assert len({a.code for a in rows}) == len(rows)
    for area in rows:
        if area.parent:
            assert area.code.startswith(area.parent.code), area


def test_lock_trees_takes_one_advisory_lock_per_tree(on_postgres, city):
    with transaction.atomic():
        services.lock_trees(city.district.tree_id, city.other_district.tree_id, city.district.tree_id)
        with on_postgres.cursor() as cursor:
            cursor.execute(
                "SELECT classid, objid FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                " ORDER BY objid"
            )
            held = cursor.fetchall()
    assert held == [(services._LOCK_NAMESPACE, city.district.tree_id),
                    (services._LOCK_NAMESPACE, city.other_district.tree_id)]


def test_concurrent_grid_adds_under_one_community(on_postgres, city):
    def adder(k):
        return lambda: [
            services.area_add(kind=AreaKind.GRID, name=f"并发{k}-{i}", parent=city.community_a).pk for i in range(5)
        ]

    made = run_together(*(adder(k) for k in range(4)))
    assert tree_problems() == []
    grids = Area.objects.get(pk=city.community_a.pk).get_children()
    assert grids.count() == 2 + 20
    assert set(grids.values_list("pk", flat=True)) >= {pk for batch in made for pk in batch}
    assert sorted(c[-3:] for c in grids.values_list("code", flat=True)) == [f"{n:03d}" for n in range(1, 23)]
    codes_are_unique_and_extend_their_parents()


def test_concurrent_adds_across_one_tree_for_many_rounds(on_postgres, city):
    parents = [city.community_a, city.community_b, city.community_a, city.street_b]
    for r in range(ROUNDS):
        run_together(*(
            (lambda p=p, k=k: services.area_add(kind=p.child_kind, name=f"第{r}轮{k}", parent=p))
            for k, p in enumerate(parents)
        ))
        assert tree_problems() == [], f"round {r}"
    assert Area.objects.get(pk=city.community_a.pk).get_children().count() == 2 + 2 * ROUNDS
    assert Area.objects.get(pk=city.community_b.pk).get_children().count() == 1 + ROUNDS
    assert Area.objects.get(pk=city.street_b.pk).get_children().count() == 1 + ROUNDS
    codes_are_unique_and_extend_their_parents()


def test_concurrent_moves_within_one_district(on_postgres, city):
    streets = [city.street_a, city.street_b]
    communities = [city.community_a, city.community_b]
    for i in range(2):
        community = services.area_add(kind=AreaKind.COMMUNITY, name=f"移动{i}社区", parent=streets[i])
        services.area_add(kind=AreaKind.GRID, name=f"移动{i}网格", parent=community)
        communities.append(community)
    home = {c.pk: Area.objects.get(pk=c.pk).parent_id for c in communities}
    other = {streets[0].pk: streets[1], streets[1].pk: streets[0]}

    for r in range(ROUNDS):
        run_together(*(
            (lambda c=c: services.area_move(area=c, new_parent=other[Area.objects.get(pk=c.pk).parent_id]))
            for c in communities
        ))
        assert tree_problems() == [], f"round {r}"
        expected = home if r % 2 else {pk: other[parent].pk for pk, parent in home.items()}
        assert {c.pk: Area.objects.get(pk=c.pk).parent_id for c in communities} == expected
    codes_are_unique_and_extend_their_parents()
    assert Area.objects.filter(tree_id=city.district.tree_id).count() == 8 + 4


def test_add_and_move_at_once(on_postgres, city):
    streets = {city.street_a.pk: city.street_b, city.street_b.pk: city.street_a}
    for r in range(ROUNDS):
        run_together(
            # The community moves while a grid is added under it and beside it.
            lambda: services.area_move(
                area=city.community_a, new_parent=streets[Area.objects.get(pk=city.community_a.pk).parent_id]
            ),
            lambda: services.area_add(kind=AreaKind.GRID, name=f"随迁{r}", parent=city.community_a),
            lambda: services.area_add(kind=AreaKind.GRID, name=f"邻居{r}", parent=city.community_b),
            lambda: services.area_add(kind=AreaKind.COMMUNITY, name=f"新社区{r}", parent=city.street_b),
        )
        assert tree_problems() == [], f"round {r}"
    community_a = Area.objects.get(pk=city.community_a.pk)
    assert community_a.get_children().count() == 2 + ROUNDS
    assert Area.objects.get(pk=city.community_b.pk).get_children().count() == 1 + ROUNDS
    assert all(code.startswith(community_a.code)
               for code in community_a.get_children().values_list("code", flat=True))
    codes_are_unique_and_extend_their_parents()


def test_moves_between_districts_with_adds_in_both(on_postgres, city):
    districts = {city.district.pk: city.other_district, city.other_district.pk: city.district}
    for r in range(ROUNDS):
        run_together(
            lambda: services.area_move(
                area=city.street_a, new_parent=districts[Area.objects.get(pk=city.street_a.pk).parent_id]
            ),
            # Its community changes tree under this writer's feet.
            lambda: services.area_add(kind=AreaKind.GRID, name=f"跨区{r}", parent=city.community_a),
            lambda: services.area_add(kind=AreaKind.STREET, name=f"本区{r}", parent=city.district),
            lambda: services.area_add(kind=AreaKind.STREET, name=f"他区{r}", parent=city.other_district),
        )
        assert tree_problems() == [], f"round {r}"
    assert Area.objects.get(pk=city.community_a.pk).get_children().count() == 2 + ROUNDS
    assert Area.objects.filter(kind=AreaKind.STREET).count() == 2 + 2 * ROUNDS
    codes_are_unique_and_extend_their_parents()


def test_concurrent_merges_and_splits(on_postgres, city):
    grids = []
    for i in range(4):
        grid = services.area_add(kind=AreaKind.GRID, name=f"合并{i}", parent=city.community_b)
        services.building_add(grid=grid, number=f"{i}号楼")
        services.building_add(grid=grid, number=f"{i}号附楼")
        grids.append(grid)
    annex = {g.pk: g.buildings.get(number__endswith="附楼") for g in grids}
    run_together(
        lambda: services.area_merge(source=grids[0], target=grids[1]),
        lambda: services.area_merge(source=grids[2], target=city.grid_a),
        lambda: services.grid_split(grid=grids[3], name="拆出", buildings=[annex[grids[3].pk]]),
        lambda: services.area_move(area=city.grid_a2, new_parent=city.community_b),
    )
    assert tree_problems() == []
    assert Area.objects.filter(is_active=False).count() == 2
    assert Area.objects.get(pk=grids[1].pk).buildings.count() == 4
    codes_are_unique_and_extend_their_parents()


# --- the lock follows the tree a place is in now ---------------------------------------

def hold_tree_lock(tree_id, held, release):
    def hold():
        with transaction.atomic():
            services.lock_trees(tree_id)
            held.set()
            assert release.wait(30)
    return hold


def test_a_writer_on_a_locked_tree_waits(on_postgres, city):
    held, release, added = threading.Event(), threading.Event(), threading.Event()

    def add():
        held.wait(30)
        services.area_add(kind=AreaKind.GRID, name="排队", parent=city.community_a)
        added.set()

    def referee():
        held.wait(30)
        waited = not added.wait(1.5)
        release.set()
        return waited

    _, _, waited = run_together(hold_tree_lock(city.district.tree_id, held, release), add, referee)
    assert waited, "the add went through while another writer held the tree"
    assert added.is_set()
    assert tree_problems() == []


def test_a_writer_on_another_tree_does_not_wait(on_postgres, city):
    held, release, added = threading.Event(), threading.Event(), threading.Event()

    def add():
        held.wait(30)
        services.area_add(kind=AreaKind.STREET, name="隔壁", parent=city.other_district)
        added.set()

    def referee():
        held.wait(30)
        went_through = added.wait(20)
        release.set()
        return went_through

    _, _, went_through = run_together(hold_tree_lock(city.district.tree_id, held, release), add, referee)
    assert went_through
    assert tree_problems() == []


@pytest.mark.parametrize("service", ["area_add", "area_move", "area_merge", "area_delete"])
def test_a_stale_instance_locks_the_tree_the_place_is_in_now(on_postgres, city, service):
    """A street moved to the other district; a writer still holding the old instance
    (tree_id of the first district) must queue behind the other district's lock."""
    stale = {name: Area.objects.get(pk=getattr(city, name).pk)
             for name in ("community_a", "grid_a", "grid_a2", "street_a")}
    empty = services.area_add(kind=AreaKind.GRID, name="空网格", parent=city.community_a)
    stale["empty"] = Area.objects.get(pk=empty.pk)
    second = services.area_add(kind=AreaKind.COMMUNITY, name="第二社区", parent=city.street_a)
    stale["second"] = Area.objects.get(pk=second.pk)
    services.area_move(area=city.street_a, new_parent=city.other_district)
    new_tree = Area.objects.get(pk=city.street_a.pk).tree_id
    assert stale["community_a"].tree_id != new_tree

    write = {
        "area_add": lambda: services.area_add(kind=AreaKind.GRID, name="迟来", parent=stale["community_a"]),
        "area_move": lambda: services.area_move(area=stale["grid_a2"], new_parent=stale["second"]),
        "area_merge": lambda: services.area_merge(source=stale["grid_a2"], target=stale["grid_a"]),
        "area_delete": lambda: services.area_delete(area=stale["empty"]),
    }[service]

    held, release, done = threading.Event(), threading.Event(), threading.Event()

    def writer():
        held.wait(30)
        write()
        done.set()

    def referee():
        held.wait(30)
        waited = not done.wait(1.5)
        release.set()
        return waited

    _, _, waited = run_together(hold_tree_lock(new_tree, held, release), writer, referee)
    assert waited, f"{service} wrote into tree {new_tree} without its lock"
    assert done.is_set()
    assert tree_problems() == []


# --- a merge that commits while a writer waits for the tree ------------------------------

@pytest.mark.parametrize("service", ["area_add", "area_move", "building_add", "grid_split"])
def test_a_writer_queued_behind_a_merge_sees_the_place_merged_away(on_postgres, city, service):
    """The writer checked "is it active?" on its own copy before the merge committed;
    it must check again under the lock, or it leaves something on a merged place."""
    third = services.area_add(kind=AreaKind.COMMUNITY, name="第三社区", parent=city.street_b)
    annex = services.building_add(grid=city.grid_b, number="9号附楼")
    stale_b, stale_grid_b = Area.objects.get(pk=city.community_b.pk), Area.objects.get(pk=city.grid_b.pk)
    write = {
        "area_add": lambda: services.area_add(kind=AreaKind.GRID, name="迟到网格", parent=stale_b),
        "area_move": lambda: services.area_move(area=city.grid_a2, new_parent=stale_b),
        "building_add": lambda: services.building_add(grid=stale_grid_b, number="迟到楼"),
        "grid_split": lambda: services.grid_split(grid=stale_grid_b, name="迟到拆分", buildings=[annex]),
    }[service]
    grid_merge = service in ("building_add", "grid_split")
    held, release, outcome = threading.Event(), threading.Event(), {}

    def merge_and_hold():
        with transaction.atomic():
            if grid_merge:
                services.area_merge(source=city.grid_b, target=city.grid_a)
            else:
                services.area_merge(source=city.community_b, target=third)
            held.set()
            assert release.wait(30)

    def writer():
        held.wait(30)
        try:
            write()
            outcome["result"] = "written"
        except DomainError as exc:
            outcome["result"] = str(exc)

    def referee():
        held.wait(30)
        time.sleep(1.0)  # let the writer queue for the lock before the merge commits
        release.set()

    with translation.override("en"):
        run_together(merge_and_hold, writer, referee)
    merged = "和平第一网格" if grid_merge else "和平社区"
    assert outcome["result"].startswith(f"“{merged}” was merged away"), outcome
    if grid_merge:  # nothing left on the merged grid, and no grid split off it
        assert not Building.objects.filter(grid=city.grid_b).exists()
        assert set(Building.objects.filter(grid=city.grid_a).values_list("number", flat=True)) == {
            "1号楼", "9号楼", "9号附楼",
        }
        assert not Area.objects.filter(name="迟到拆分").exists()
    else:  # nothing under the merged community
        assert not Area.objects.filter(parent=city.community_b).exists()
        assert Area.objects.get(pk=city.grid_a2.pk).parent_id == city.community_a.pk
    assert tree_problems() == []


def test_same_unit_number_added_at_once_gives_one_unit_and_one_clear_refusal(on_postgres, city):
    from grid.models import Unit
    from portal.errors import DomainError

    def add():
        try:
            return services.unit_add(building=city.building_a, number="9单元").pk
        except DomainError as exc:
            return exc.code

    for _ in range(5):
        Unit.objects.filter(building=city.building_a, number="9单元").delete()
        outcomes = run_together(add, add)
        assert sorted(outcomes, key=str)[-1] == "clash", outcomes
        assert sum(isinstance(o, int) for o in outcomes) == 1, outcomes
        assert Unit.objects.filter(building=city.building_a, number="9单元").count() == 1
