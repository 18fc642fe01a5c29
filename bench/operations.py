"""The measured operations: each portal call paired with its raw-SQL lower bound.

Every repetition runs inside a transaction that is rolled back, so the city is
the same before and after the benchmark and repetitions do not drift.
"""

from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from grid import selectors, services
from grid.integrity import tree_problems
from grid.models import Area, AreaKind, Building, Post, Role, User

BENCH_USERNAME = "bench-district"


def vacuum_places():
    """Clear the dead rows a rolled-back tree write leaves behind.

    Each rolled-back move leaves ~1,000 dead row versions and index entries in
    grid_area, and the moved community's rows in every PlacePath table (cases…);
    without this every repetition would scan more of them than the last, and
    the numbers would drift upwards with the repetition count rather than
    describe tables in their steady, autovacuumed state.
    """
    tables = ["grid_area"] + [m._meta.db_table for m in services.placepath_models()]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM {connection.ops.quote_name(table)}")


@dataclass
class Timed:
    """One operation: `prepare()` untimed, `act(prepared)` timed, rollback, `cleanup()` untimed."""

    act: Callable
    prepare: Callable = lambda: None
    cleanup: Callable = lambda: None

    def run_once(self):
        with transaction.atomic():
            prepared = self.prepare()
            started = perf_counter()
            self.act(prepared)
            elapsed = perf_counter() - started
            transaction.set_rollback(True)
        self.cleanup()
        return elapsed


@dataclass
class Fixture:
    """The places the operations work on, picked the same way on every run."""

    user: User
    district: Area
    building_id: int
    community_for_grid_id: int
    # (community, street it moves to): the worst case inside a district, from
    # the first street to the last, so nearly every node of the tree shifts;
    # and a typical one, from a street in the middle to its neighbour.
    far_move: tuple[int, int]
    near_move: tuple[int, int]

    @classmethod
    def build(cls):
        # The biggest district: every operation below is measured where it costs most.
        district = Area.objects.filter(kind=AreaKind.DISTRICT).order_by(F("rght") - F("lft"), "-code").last()
        user = _bench_user(district)
        in_tree = Area.objects.filter(tree_id=district.tree_id).order_by("lft")
        grids = list(in_tree.filter(kind=AreaKind.GRID).values_list("id", flat=True))
        communities = list(in_tree.filter(kind=AreaKind.COMMUNITY).values_list("id", flat=True))
        streets = list(in_tree.filter(kind=AreaKind.STREET).values_list("id", flat=True))
        # A building and a community in the middle of the tree: typical, not a
        # best case at the right edge where nothing needs shifting.
        middle_grid = grids[len(grids) // 2]
        building_id = Building.objects.filter(grid_id=middle_grid).order_by("id").values_list("id", flat=True)[0]

        def first_community(street_id):
            return in_tree.filter(parent_id=street_id).values_list("id", flat=True)[0]

        middle = len(streets) // 2
        return cls(user=user, district=district, building_id=building_id,
                   community_for_grid_id=communities[len(communities) // 2],
                   far_move=(first_community(streets[0]), streets[-1]),
                   near_move=(first_community(streets[middle]), streets[middle + 1]))

    def describe(self):
        ids = [self.community_for_grid_id, *self.far_move, *self.near_move]
        places = Area.objects.in_bulk(ids)

        def move(pair):
            community, street = places[pair[0]], places[pair[1]]
            return {"community": str(community), "subtree_nodes": (community.rght - community.lft + 1) // 2,
                    "to_street": str(street)}

        return {
            "district": str(self.district),
            "district_tree_nodes": (self.district.rght - self.district.lft + 1) // 2,
            "unit_added_to_building_id": self.building_id,
            "grid_added_under": str(places[self.community_for_grid_id]),
            "far_move": move(self.far_move),
            "near_move": move(self.near_move),
            "acting_user": "district official on the district (scope recomputed every call)",
        }


def _bench_user(district):
    """A district official on `district` and nowhere else (an earlier run may have picked another)."""
    user, _ = User.objects.get_or_create(username=BENCH_USERNAME, defaults={"full_name": "基准测试"})
    mine = Post.objects.filter(user=user, ended_at__isnull=True)
    for post in mine.exclude(area=district, role=Role.DISTRICT_OFFICIAL):
        services.post_end(post=post)
    if not mine.filter(area=district, role=Role.DISTRICT_OFFICIAL).exists():
        services.post_grant(user=user, role=Role.DISTRICT_OFFICIAL, place=district)
    return User.objects.get(pk=user.pk)


def _fresh_user(fixture):
    # Every request loads the user and computes its scope once; so does every call here.
    selectors.forget_scope(fixture.user)
    return fixture.user


def pairs(fixture):
    """(key, label, portal Timed, lower-bound Timed) for each measured operation."""
    now = timezone.now()
    yield _unit_add(fixture, now)
    yield _grid_add(fixture, now)
    yield _community_move(fixture, now, key="community_move", label="move a community (first street → last)",
                          pair=fixture.far_move)
    yield _community_move(fixture, now, key="community_move_near", label="move a community (to the next street)",
                          pair=fixture.near_move)
    yield _district_counts(fixture)


# --- 1. add a unit ------------------------------------------------------------------

def _unit_add(fixture, now):
    def prepare():
        return Building.objects.get(pk=fixture.building_id), _fresh_user(fixture)

    def portal(prepared):
        building, user = prepared
        services.unit_add(building=building, number="99单元", acting_user=user)

    def raw(_):
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO grid_unit (building_id, number, created_at) VALUES (%s, %s, %s)",
                [fixture.building_id, "99单元", now],
            )

    return "unit_add", "add a unit", Timed(portal, prepare), Timed(raw)


# --- 2. add a grid ------------------------------------------------------------------

def _grid_add(fixture, now):
    def prepare():
        return Area.objects.get(pk=fixture.community_for_grid_id), _fresh_user(fixture)

    def portal(prepared):
        community, user = prepared
        services.area_add(kind=AreaKind.GRID, name="基准网格", parent=community, acting_user=user, now=now)

    def raw(_):
        # Read the parent's right bound and its highest child code, open a gap
        # of two at the right bound, insert the node into it.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tree_id, rght, code, (SELECT max(code) FROM grid_area c WHERE c.parent_id = p.id) "
                "FROM grid_area p WHERE id = %s",
                [fixture.community_for_grid_id],
            )
            tree_id, right, code, top = cursor.fetchone()
            suffix = int(top[-3:]) + 1 if top else 1
            cursor.execute(
                "UPDATE grid_area SET lft = CASE WHEN lft > %(r)s THEN lft + 2 ELSE lft END, rght = rght + 2 "
                "WHERE tree_id = %(t)s AND rght >= %(r)s",
                {"r": right, "t": tree_id},
            )
            cursor.execute(
                "INSERT INTO grid_area (kind, name, code, parent_id, is_active, created_at, lft, rght, tree_id, level) "
                "VALUES ('grid', %s, %s, %s, true, %s, %s, %s, %s, 3)",
                ["基准网格", f"{code}{suffix:03d}", fixture.community_for_grid_id, now, right, right + 1, tree_id],
            )

    return "grid_add", "add a grid", Timed(portal, prepare, vacuum_places), Timed(raw, cleanup=vacuum_places)


# --- 3. move a community --------------------------------------------------------------

def raw_move(cursor, *, node_id, parent_id):
    """Move a subtree to be the last child of another node of the same tree with one UPDATE.

    The subtree [l, r] (width w) goes to end just before the new parent's right
    bound p; the nodes between old and new position shift by w the other way;
    the subtree's codes take the new parent's prefix with the next free suffix.
    """
    cursor.execute(
        "SELECT n.tree_id, n.lft, n.rght, length(n.code), p.rght, p.code, "
        "(SELECT max(code) FROM grid_area c WHERE c.parent_id = p.id) "
        "FROM grid_area n, grid_area p WHERE n.id = %s AND p.id = %s",
        [node_id, parent_id],
    )
    tree_id, left, right, code_length, target, parent_code, top = cursor.fetchone()
    width = right - left + 1
    if target > right:  # moving right
        low, high, shift, offset = right + 1, target - 1, -width, target - right - 1
        span = (left, target - 1)
    else:  # moving left
        low, high, shift, offset = target, left - 1, width, target - left
        span = (target, right)
    suffix = int(top[-3:]) + 1 if top else 1
    cursor.execute(
        """
        UPDATE grid_area SET
          lft = lft + CASE WHEN lft BETWEEN %(l)s AND %(r)s THEN %(off)s
                           WHEN lft BETWEEN %(lo)s AND %(hi)s THEN %(shift)s ELSE 0 END,
          rght = rght + CASE WHEN rght BETWEEN %(l)s AND %(r)s THEN %(off)s
                             WHEN rght BETWEEN %(lo)s AND %(hi)s THEN %(shift)s ELSE 0 END,
          parent_id = CASE WHEN id = %(node)s THEN %(parent)s ELSE parent_id END,
          code = CASE WHEN lft BETWEEN %(l)s AND %(r)s THEN %(prefix)s || substr(code, %(cut)s) ELSE code END
        WHERE tree_id = %(t)s AND (lft BETWEEN %(a)s AND %(b)s OR rght BETWEEN %(a)s AND %(b)s)
        """,
        {"l": left, "r": right, "off": offset, "lo": low, "hi": high, "shift": shift, "node": node_id,
         "parent": parent_id, "prefix": f"{parent_code}{suffix:03d}", "cut": code_length + 1, "t": tree_id,
         "a": span[0], "b": span[1]},
    )
    return tree_id


def raw_repath(cursor, *, community_id, street_id):
    """The stored paths (PlacePath rows: cases, residents…) of everything in the community."""
    for model in services.placepath_models():
        cursor.execute(
            f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET street_id = %s WHERE community_id = %s",
            [street_id, community_id],
        )


def check_raw_move(community_id, street_id):
    """Prove the lower bound does the same job: the moved tree must be sound."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            tree_id = raw_move(cursor, node_id=community_id, parent_id=street_id)
        problems = tree_problems([tree_id])
        moved = Area.objects.get(pk=community_id)
        transaction.set_rollback(True)
    if problems or moved.parent_id != street_id:
        raise AssertionError(f"the raw move broke the tree: {problems[:5]}")


def _community_move(fixture, now, *, key, label, pair):
    community_id, street_id = pair
    check_raw_move(community_id, street_id)

    def prepare():
        return Area.objects.get(pk=community_id), Area.objects.get(pk=street_id), _fresh_user(fixture)

    def portal(prepared):
        community, street, user = prepared
        services.area_move(area=community, new_parent=street, acting_user=user, now=now)

    def raw(_):
        with connection.cursor() as cursor:
            raw_move(cursor, node_id=community_id, parent_id=street_id)
            raw_repath(cursor, community_id=community_id, street_id=street_id)

    return key, label, Timed(portal, prepare, vacuum_places), Timed(raw, cleanup=vacuum_places)


# --- 4. count everything under a district --------------------------------------------

def portal_counts(user):
    areas, buildings, units = selectors.reach_summary(user)
    return {str(kind): n for kind, n in areas if n}, buildings, units


def raw_counts(district):
    """The same counts in three plain statements over the district's nested-set range."""
    subtree = {"t": district.tree_id, "l": district.lft, "r": district.rght}
    in_subtree = "g.tree_id = %(t)s AND g.lft BETWEEN %(l)s AND %(r)s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT kind, count(*) FROM grid_area g WHERE {in_subtree} AND is_active GROUP BY kind", subtree
        )
        kinds = dict(cursor.fetchall())
        cursor.execute(f"SELECT count(*) FROM grid_building b JOIN grid_area g ON g.id = b.grid_id WHERE {in_subtree}",
                       subtree)
        buildings = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM grid_unit u JOIN grid_building b ON b.id = u.building_id "
            f"JOIN grid_area g ON g.id = b.grid_id WHERE {in_subtree}",
            subtree,
        )
        units = cursor.fetchone()[0]
    return kinds, buildings, units


def _district_counts(fixture):
    district = fixture.district
    # Both sides must count the same things, or the ratio means nothing.
    portal, raw = portal_counts(_fresh_user(fixture)), raw_counts(district)
    if portal != raw:
        raise AssertionError(f"portal counts {portal} differ from raw {raw}")
    return ("district_counts", "count everything under a district",
            Timed(portal_counts, lambda: _fresh_user(fixture)), Timed(lambda _: raw_counts(district)))
