"""The synthetic city behind `manage.py seed_city`: places, buildings, units and
the demo accounts.

The place tree is planned in memory first: every node gets its id, its
nested-set fields (one tree per district, numbered depth-first) and its code
before a single row is written, so the whole city goes in with bulk inserts
(PostgreSQL COPY where available). Inserting node by node through MPTT, or
rebuilding afterwards, shifts thousands of rows per insert and would take hours
at the large scale.

Everything is drawn from `random.Random` instances seeded from the `--seed`
string and a phase name, so a seed always yields the same city, and adding a
phase does not reshuffle the others.
"""

import json
import multiprocessing
import random
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import batched
from math import cos, radians
from time import perf_counter

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max

from . import services
from .demo import DEMO_PASSWORD
from .models import KIND_BY_LEVEL, Area, AreaKind, Building, Organisation, OrgFunction, Role, Unit, User
from .voronoi import PointSampler, cell_of, jittered_seeds


@dataclass(frozen=True)
class Scale:
    """How many places of each kind a seeded city has."""

    name: str
    districts: int
    streets: int
    communities: int
    grids: int
    buildings: int
    units: int

    def count_of(self, kind):
        return {
            AreaKind.DISTRICT: self.districts,
            AreaKind.STREET: self.streets,
            AreaKind.COMMUNITY: self.communities,
            AreaKind.GRID: self.grids,
        }[kind]


SCALES = {
    # Small enough to seed in a few seconds on SQLite every time the demo starts.
    "demo": Scale("demo", districts=1, streets=3, communities=6, grids=20, buildings=300, units=1000),
    "medium": Scale("medium", districts=1, streets=10, communities=260, grids=1_000, buildings=25_000,
                    units=100_000),
    # About one prefecture-level city (DOMAIN: Changchun, thousands of communities, ~10,000 grids).
    "large": Scale("large", districts=10, streets=100, communities=2_600, grids=10_000, buildings=250_000,
                   units=1_000_000),
}

# City centre the grids are laid out around (Mianyang).
CENTRE_LAT, CENTRE_LON = 31.46, 104.68
CITY_NAME = "绵阳市"
# Side of one grid's square, in metres: a grid of 400–700 households is a few blocks.
GRID_CELL_METRES = 350
METRES_PER_DEGREE_LAT = 111_320

# (administrative division code, name). Urban districts first, so small scales
# seed a city district; a name ending in 县 gets towns (镇) and villages (村).
DISTRICTS = (
    ("510703", "涪城区"),
    ("510704", "游仙区"),
    ("510705", "安州区"),
    ("510791", "高新区"),
    ("510792", "经开区"),
    ("510781", "江油市"),
    ("510722", "三台县"),
    ("510723", "盐亭县"),
    ("510725", "梓潼县"),
    ("510726", "北川羌族自治县"),
    ("510727", "平武县"),
    ("510793", "科创区"),
)

STREET_WORDS = (
    "城北 城南 城东 城西 朝阳 富乐 普明 青义 工区 园艺 金峰 石塘 松垭 玉河 新桥 塘汛 吴家 杨家 "
    "高水 丰谷 小枧 忠兴 魏城 沉抗 柏林 东宣 白蝉 石马 新店 刘家 永兴 龙门 仙海 河边 界牌 秀水 "
    "花荄 桑枣 雎水 黄土 塔水 石板 芙蓉 磨家 西山 华丰 太平 永安 青莲 新安 双河 三合 金孔 观义"
).split()
COMMUNITY_WORDS = (
    "幸福 和平 光明 团结 友谊 建设 胜利 民主 新华 长虹 锦华 碧水 桃园 金桂 翠屏 东津 南湖 龙泉 "
    "青龙 临园 跃进 红星 石桥 柳林 杏花 新民 兴隆 永丰 双碑 花园 滨江 文昌 书院 涪江 安昌 平政 "
    "五里 七里 高坎 凤凰 白鹤 鹤林 金家 李家 新园 东方 西园 北街 南街 园丁 公园 育才 锦江 玉泉 "
    "金泉 丰收 红旗 河堤 望江 江南 清泉 桂香 松林 竹园 梨园 荷花 朝天 圣水 沙坝 黄家 马家 三星 "
    "新河 古井 铁牛 堰塘 槐树 白果 龙井 紫荆 芙蓉 映山"
).split()
ROAD_WORDS = (
    "临园 剑南 绵兴 涪城 跃进 安昌 滨河 御营 文昌 人民 建设 红星 东津 南河 高水 园艺 长虹 绵州 "
    "九洲 富乐 三江 迎宾 永兴 科创 金家林 沈家坝 警钟 交通 火炬 飞云"
).split()
ROAD_KINDS = ("路", "路", "街", "大道", "巷")
COMPOUND_WORDS = (
    "锦绣 阳光 金桂 滨江 香榭 翠湖 龙湾 御景 东方 南山 紫荆 银杏 书香 长虹 梧桐 丽景 蓝湾 富乐 "
    "花城 世纪 碧桂 凯旋 华府 江南"
).split()
COMPOUND_KINDS = ("花园", "小区", "苑", "家园", "雅居", "新城", "公寓", "名苑")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁"
GIVEN_NAMES = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 华 平 刚 桂英 建国 建华 志强 海燕 "
    "丹 玲 晓东 春梅 国庆 红梅 子涵 雨桐 浩然 思远 俊杰 欣怡"
).split()
CHINESE_DIGITS = "零一二三四五六七八九"


def chinese_number(n):
    """1 → 一, 10 → 十, 23 → 二十三 (grids are named 第一网格, 第二网格…; up to 99)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    text = ("" if tens < 2 else CHINESE_DIGITS[tens]) + ("十" if tens else "")
    return text + (CHINESE_DIGITS[ones] if ones else "")


def phase_rng(seed, phase):
    # A string seed is hashed with SHA-512 by `random`, independent of PYTHONHASHSEED.
    return random.Random(f"{seed}:{phase}")


def spread(total, parents, rng, *, spread_factor=0.5, minimum=1):
    """Deal `total` children to `parents` unevenly but exactly (each gets at least `minimum`)."""
    if total < parents * minimum:
        raise ValueError(f"cannot deal {total} children to {parents} parents with at least {minimum} each")
    weights = [rng.uniform(1 - spread_factor, 1 + spread_factor) for _ in range(parents)]
    free = total - parents * minimum
    scale = free / sum(weights)
    shares = [w * scale for w in weights]
    counts = [minimum + int(s) for s in shares]
    # Largest remainders take what rounding down left over (ties by position: deterministic).
    left = total - sum(counts)
    by_remainder = sorted(range(parents), key=lambda i: (int(shares[i]) - shares[i], i))
    for i in by_remainder[:left]:
        counts[i] += 1
    return counts


def distinct_names(words, count, rng):
    """`count` different words; past the list's end, numbered variants (幸福二…)."""
    chosen = rng.sample(words, min(count, len(words)))
    n = 2
    while len(chosen) < count:
        chosen.extend(f"{w}{chinese_number(n)}" for w in rng.sample(words, min(count - len(chosen), len(words))))
        n += 1
    return chosen


@dataclass
class PlannedArea:
    id: int
    kind: str
    name: str
    code: str
    parent_id: int | None
    tree_id: int
    level: int
    word: str = ""  # the bare name (幸福 for 幸福社区), reused for grid names
    district_name: str = ""
    rural: bool = False
    lft: int = 0
    rght: int = 0
    # A grid's outline: a convex polygon [(longitude, latitude)], counter-clockwise (grid/voronoi.py).
    outline: list[tuple[float, float]] | None = field(default=None, repr=False)
    children: list["PlannedArea"] = field(default_factory=list, repr=False)

    @property
    def cell(self):
        """The outline's bounding box: west, south, east, north (degrees)."""
        if self.outline is None:
            return None
        lons, lats = [p[0] for p in self.outline], [p[1] for p in self.outline]
        return min(lons), min(lats), max(lons), max(lats)

    def boundary(self):
        if self.outline is None:
            return None
        ring = [[round(lon, 6), round(lat, 6)] for lon, lat in self.outline]
        # RFC 7946: [longitude, latitude], exterior ring counter-clockwise and closed.
        return {"type": "Polygon", "coordinates": [ring + [ring[0]]]}


@dataclass
class CityPlan:
    scale: Scale
    areas: list[PlannedArea]  # depth-first order: every parent before its children

    def of_kind(self, kind):
        return [a for a in self.areas if a.kind == kind]


def plan_places(*, scale, seed, first_id=1, first_tree_id=1):
    """Every place of the city with its id, code, name, nested-set fields and grid cell."""
    if scale.districts > len(DISTRICTS):
        raise ValueError(f"at most {len(DISTRICTS)} districts are named")
    rng = phase_rng(seed, "places")
    districts = []
    for index, (code, name) in enumerate(DISTRICTS[: scale.districts]):
        districts.append(PlannedArea(
            id=0, kind=AreaKind.DISTRICT, name=name, code=code, parent_id=None,
            tree_id=first_tree_id + index, level=0, district_name=name, rural=name.endswith("县"),
        ))
    _add_children(districts, scale.streets, rng)
    streets = [s for d in districts for s in d.children]
    _add_children(streets, scale.communities, rng)
    communities = [c for s in streets for c in s.children]
    _add_children(communities, scale.grids, rng)

    ordered = []
    for district in districts:
        _number_depth_first(district, ordered)
    # Ids follow depth-first order, so a tree's rows sit together on disk.
    for new_id, area in zip(range(first_id, first_id + len(ordered)), ordered):
        area.id = new_id
    for area in ordered:
        for child in area.children:
            child.parent_id = area.id
    _lay_out_grids([a for a in ordered if a.kind == AreaKind.GRID], phase_rng(seed, "grid-outlines"))
    return CityPlan(scale=scale, areas=ordered)


def _add_children(parents, total, rng):
    kind = KIND_BY_LEVEL[parents[0].level + 1]
    for parent, count in zip(parents, spread(total, len(parents), rng)):
        if count > 999:
            raise ValueError(f"{parent.name} would get {count} children; codes have room for 999")
        if kind == AreaKind.GRID:
            names = [f"{parent.word}第{chinese_number(n)}网格" for n in range(1, count + 1)]
            words = [""] * count
        else:
            words = distinct_names(STREET_WORDS if kind == AreaKind.STREET else COMMUNITY_WORDS, count, rng)
            names = [_place_name(kind, word, parent.rural, rng) for word in words]
        for n, (name, word) in enumerate(zip(names, words), start=1):
            parent.children.append(PlannedArea(
                id=0, kind=kind, name=name, code=f"{parent.code}{n:03d}", parent_id=None,
                tree_id=parent.tree_id, level=parent.level + 1, word=word,
                district_name=parent.district_name, rural=parent.rural,
            ))


def _place_name(kind, word, rural, rng):
    if kind == AreaKind.STREET:
        return word + ("镇" if rural else "街道")
    # Villages in the counties, with the odd town-centre community among them.
    return word + ("村" if rural and rng.random() < 0.8 else "社区")


def _number_depth_first(root, ordered):
    """Give a tree its lft/rght values, 1..2n, walking it depth-first without recursion."""
    counter = 1
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            node.rght = counter
            counter += 1
            continue
        node.lft = counter
        counter += 1
        ordered.append(node)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.children))


def _hilbert_cell(index, side):
    """(x, y) of the index-th cell along a Hilbert curve filling a side×side square.

    Consecutive cells touch, and any run of consecutive cells is a compact blob;
    laying grids out in depth-first order therefore keeps every community's grids
    (and every street's and district's) together on the map.
    """
    x = y = 0
    step = 1
    while step < side:
        rx = 1 & (index // 2)
        ry = 1 & (index ^ rx)
        if ry == 0:
            if rx == 1:
                x, y = step - 1 - x, step - 1 - y
            x, y = y, x
        x += step * rx
        y += step * ry
        index //= 4
        step *= 2
    return x, y


def _lay_out_grids(grids, rng):
    """Each grid's outline: the Voronoi cell of a point jittered in its Hilbert square (grid/voronoi.py)."""
    side = 1
    while side * side < len(grids):
        side *= 2
    cells = [_hilbert_cell(i, side) for i in range(len(grids))]
    seeds = jittered_seeds(cells, rng)
    dlat = GRID_CELL_METRES / METRES_PER_DEGREE_LAT
    dlon = GRID_CELL_METRES / (METRES_PER_DEGREE_LAT * cos(radians(CENTRE_LAT)))
    # Centre the cells actually used, not the whole square.
    mid_x = (min(x for x, _ in cells) + max(x for x, _ in cells) + 1) / 2
    mid_y = (min(y for _, y in cells) + max(y for _, y in cells) + 1) / 2
    for grid, square in zip(grids, cells):
        grid.outline = [(CENTRE_LON + (x - mid_x) * dlon, CENTRE_LAT + (y - mid_y) * dlat)
                        for x, y in cell_of(square, seeds)]


# --- rows -------------------------------------------------------------------------

AREA_FIELDS = ("id", "kind", "name", "code", "parent_id", "is_active", "boundary", "created_at",
               "lft", "rght", "tree_id", "level")
BUILDING_FIELDS = ("id", "grid_id", "number", "name", "address", "latitude", "longitude", "created_at")
UNIT_FIELDS = ("id", "building_id", "number", "created_at")


def area_rows(plan, *, now):
    for a in plan.areas:
        yield (a.id, a.kind, a.name, a.code, a.parent_id, True, a.boundary(), now, a.lft, a.rght, a.tree_id,
               a.level)


@dataclass
class BuildingPlan:
    """What later phases need to know about the buildings, without holding the rows."""

    first_id: int
    per_grid: list[int]  # buildings per grid, in the order of plan.of_kind(GRID)

    @property
    def count(self):
        return sum(self.per_grid)


def plan_buildings(*, plan, seed, first_id=1):
    grids = plan.of_kind(AreaKind.GRID)
    return BuildingPlan(first_id=first_id, per_grid=spread(plan.scale.buildings, len(grids),
                                                          phase_rng(seed, "buildings-per-grid")))


def building_rows(*, plan, buildings, seed, now):
    rng = phase_rng(seed, "buildings")
    # Positions from their own stream, so the outlines did not reshuffle names and addresses.
    where = phase_rng(seed, "building-positions")
    next_id = buildings.first_id
    named = {}  # community id -> compound names taken there: a name is one compound in its community
    for grid, count in zip(plan.of_kind(AreaKind.GRID), buildings.per_grid):
        road = rng.choice(ROAD_WORDS) + rng.choice(ROAD_KINDS)
        drawn = [rng.choice(COMPOUND_WORDS) + rng.choice(COMPOUND_KINDS) for _ in range(rng.randint(1, 3))]
        compounds = [_unique_compound_name(name, named.setdefault(grid.parent_id, set())) for name in drawn]
        house_numbers = sorted(rng.sample(range(1, 400), len(compounds)))
        # Kept off the outline's edge so they sit clearly inside it.
        sampler = PointSampler(grid.outline)
        for n in range(1, count + 1):
            which = (n - 1) * len(compounds) // count  # each compound a run of building numbers
            number = f"{n}号楼"
            name = f"{compounds[which]}{number}"
            address = f"{CITY_NAME}{grid.district_name}{road}{house_numbers[which]}号{name}"
            lon, lat = sampler.point(where)
            yield (next_id, grid.id, number, name, address, f"{lat:.6f}", f"{lon:.6f}", now)
            next_id += 1


PHASE_NAMES = ("二期", "三期", "四期", "五期", "六期", "七期", "八期", "九期")


def _unique_compound_name(name, taken):
    """`name`, or its next phase (二期, 三期…) where the community already has one so named,
    as developers name the later phases of an estate."""
    candidates = (name, *(name + phase for phase in PHASE_NAMES))
    chosen = next((c for c in candidates if c not in taken), None)
    n = 10
    while chosen is None:
        chosen = f"{name}{n}期" if f"{name}{n}期" not in taken else None
        n += 1
    taken.add(chosen)
    return chosen


def plan_units(*, buildings, units, seed):
    """Units per building, in building-id order."""
    return spread(units, buildings.count, phase_rng(seed, "units"), spread_factor=0.75)


UNIT_NUMBERS = [f"{k}单元" for k in range(1, 100)]


def unit_rows(*, buildings, per_building, first_id, now):
    next_id = first_id
    for building_id, count in enumerate(per_building, start=buildings.first_id):
        for number in UNIT_NUMBERS[:count]:
            yield (next_id, building_id, number, now)
            next_id += 1


# --- writing ----------------------------------------------------------------------

def first_free_id(model):
    return (model.objects.aggregate(m=Max("id"))["m"] or 0) + 1


def write_rows(*, model, fields, rows, batch_size=5_000):
    """Insert `rows` (tuples in `fields` order); return how many were written.

    PostgreSQL gets one COPY per table, an order of magnitude faster than batched
    INSERTs at a million rows; other databases get bulk_create in batches.
    """
    if connection.vendor == "postgresql":
        return _copy_rows(model=model, fields=fields, rows=rows)
    written = 0
    for batch in batched(rows, batch_size):
        model.objects.bulk_create([model(**dict(zip(fields, row))) for row in batch])
        written += len(batch)
    return written


def _copy_rows(*, model, fields, rows):
    from psycopg.types.json import Jsonb

    meta = model._meta
    columns = [meta.get_field(f).column for f in fields]  # get_field knows attnames (grid_id) too
    json_at = [i for i, f in enumerate(fields) if meta.get_field(f).get_internal_type() == "JSONField"]
    quote = connection.ops.quote_name
    statement = f"COPY {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    written = 0
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    row[i] = None if row[i] is None else Jsonb(row[i])
            copy.write_row(row)
            written += 1
    return written


def _copy_escape(text):
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:  # four scans: cheaper than translate
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def copy_text(rows):
    """Rows in PostgreSQL's COPY text format (tab-separated, \\N for NULL), as bytes.

    Made where psycopg's own COPY cannot be (a worker process without a
    connection). Only the types the seeders write: str, int, bool, date, aware
    datetime (str() of which, "2026-06-01 03:00:00+00:00", timestamptz reads as
    the same instant), and dict or list for JSON columns. Dates and datetimes
    repeat a lot and are formatted once each.
    """
    memo = {}
    lines = []
    for row in rows:
        cells = []
        for value in row:
            kind = type(value)
            if kind is str:
                cells.append(_copy_escape(value))
            elif value is None:
                cells.append("\\N")
            elif kind is int:
                cells.append(str(value))
            elif kind is dict or kind is list:
                cells.append(_copy_escape(json.dumps(value, ensure_ascii=False)) if value else str(value))
            else:
                cell = memo.get(value)
                if cell is None:
                    cell = memo[value] = ("t" if value else "f") if kind is bool else str(value)
                cells.append(cell)
        lines.append("\t".join(cells))
    lines.append("")
    return "\n".join(lines).encode() if rows else b""


def copy_text_into(model, fields, data):
    """Stream COPY text (copy_text) into the model's table, inside the current transaction."""
    if not data:
        return
    meta = model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(f).column) for f in fields)
    with connection.cursor() as cursor, cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
        copy.write(data)


def planned_in_workers(plan, tasks, *, workers, depth=3, timing=None):
    """Yield plan(task) for each task, in order, computed in `workers` forked processes.

    For the city-scale seeders: the workers plan and format rows (pure Python,
    the CPU-heavy part) while this process streams the results into its one
    transaction. At most `depth` results wait beyond the one being written.
    The children inherit everything the parent set up before the fork, and
    never touch the database: a query there raises (it would otherwise talk
    over the parent's connection). `timing["wait"]` adds up the time spent
    waiting on the workers. Needs the fork start method (Linux).
    """
    with multiprocessing.get_context("fork").Pool(workers, initializer=_refuse_queries) as pool:
        pending = deque()
        for task in list(tasks) + [None] * depth:
            if task is not None:
                pending.append(pool.apply_async(plan, (task,)))
            if pending and (len(pending) > depth or task is None):
                started = perf_counter()
                result = pending.popleft().get()
                if timing is not None:
                    timing["wait"] = timing.get("wait", 0.0) + perf_counter() - started
                yield result


def _refuse_queries():
    def refuse(execute, sql, params, many, context):
        raise RuntimeError("a seeding worker process must not use the parent's database connection")

    from django.db import connections

    for alias in connections:
        connections[alias].execute_wrappers.append(refuse)


def finish_bulk_load(models):
    """Move id sequences past the explicit ids, and refresh planner statistics."""
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            # Without fresh statistics the first queries plan for empty tables.
            for model in models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _run_deferred_checks(cursor):
    """Run the foreign-key checks queued so far in this transaction now, not at the commit.

    PostgreSQL refuses to alter or index a table with deferred trigger events
    pending (rows written earlier in the transaction with the triggers on).
    The portal's only deferrable constraints are foreign keys, all initially
    deferred, so DEFERRED afterwards is where they were.
    """
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class SeedingError(Exception):
    """The seeded rows break an invariant; the caller rolls everything back."""


@contextmanager
def trusted_bulk_load(models, *, indexes_after=False):
    """Load rows into `models` without per-row foreign-key checks, then check every key at once.

    PostgreSQL checks each inserted row's foreign keys with a trigger, deferred
    to the commit: for millions of seeded rows that queue alone costs minutes
    (at large scale, more than the COPY itself). As a superuser we switch those
    triggers off for the transaction (session_replication_role = replica) and,
    when the block ends, run one anti-join per foreign key of `models` instead,
    which is seconds. Check and unique constraints stay on throughout. Without
    superuser rights (or on SQLite) this changes nothing and the usual checks run.

    Inside the block no trigger fires at all, user triggers included: load
    rows, do not update them. Every model written inside must be in `models`.

    `indexes_after`: also build the tables' secondary indexes after the load
    (indexes_after_load), for seeders that only write inside the block.
    """
    skipping = skip_row_triggers()
    with indexes_after_load(models if indexes_after else ()):
        yield
    if skipping:
        restore_row_triggers()
        problems = foreign_key_problems(models)
        if problems:
            raise SeedingError("; ".join(problems[:20]))


@contextmanager
def indexes_after_load(models):
    """Drop the secondary indexes of `models`' tables for the block, then build them again.

    COPY into a table with ten indexes updates ten B-trees per row, at random
    places for hashed or name-ordered keys: at city scale that, not the COPY,
    is most of the seeding's time. Building an index from the loaded rows is one
    sort. Unique indexes and unique constraints go too and come back the same
    way, so a duplicate loaded in the block fails the rebuild, and with it the
    transaction: the invariant is checked once, at the end, not per row.
    Primary keys stay (seeded ids ascend: appending to that B-tree is cheap),
    and so does any unique constraint a foreign key depends on.

    PostgreSQL only, inside a transaction (the drop is rolled back with
    everything else if the load fails). Queries in the block that need a
    dropped index still run, slowly.
    """
    if connection.vendor != "postgresql" or not models:
        yield
        return
    tables = [m._meta.db_table for m in models]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = ANY(%s) AND c.contype = 'u' "
            "AND t.relnamespace = current_schema()::regnamespace "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid) "
            "ORDER BY t.relname, c.conname",
            [tables],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace "
            "AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
            "ORDER BY t.relname, i.relname",
            [tables],
        )
        indexes = cursor.fetchall()
        _run_deferred_checks(cursor)
        for table, name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor:
        # One sort per index; the memory is the session's, for this transaction only.
        _run_deferred_checks(cursor)
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute("RESET maintenance_work_mem")


def skip_row_triggers():
    """Switch row triggers off until restore_row_triggers() or the transaction's end.

    Returns whether it did (PostgreSQL, superuser); see trusted_bulk_load.
    """
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        if not cursor.fetchone()[0]:
            return False
        cursor.execute("SET LOCAL session_replication_role = replica")
    return True


def restore_row_triggers():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = origin")


def foreign_key_problems(models):
    """One row per broken foreign key of `models` (the first offending row of each)."""
    quote = connection.ops.quote_name
    problems = []
    with connection.cursor() as cursor:
        for model in models:
            meta = model._meta
            for f in meta.local_fields:
                if not (f.is_relation and f.concrete and (f.many_to_one or f.one_to_one)) or not f.db_constraint:
                    continue
                target = f.target_field
                cursor.execute(
                    f"SELECT c.{quote(meta.pk.column)}, c.{quote(f.column)} FROM {quote(meta.db_table)} c "
                    f"WHERE c.{quote(f.column)} IS NOT NULL AND NOT EXISTS ("
                    f"SELECT 1 FROM {quote(target.model._meta.db_table)} p "
                    f"WHERE p.{quote(target.column)} = c.{quote(f.column)}) LIMIT 1"
                )
                row = cursor.fetchone()
                if row:
                    problems.append(f"{meta.db_table} row {row[0]}: {f.column} = {row[1]} points at nothing")
    return problems


# --- demo accounts ----------------------------------------------------------------

# username → role held (None: superuser without posts). Order is the login table's.
DEMO_ROLES = {
    "admin": None,
    "district": Role.DISTRICT_OFFICIAL,
    "street": Role.STREET_STAFF,
    "community": Role.COMMUNITY_STAFF,
    "gridworker": Role.GRID_WORKER,
    "gridchief": Role.GRID_CHIEF,
    "buildingchief": Role.BUILDING_CHIEF,
    "unitchief": Role.UNIT_CHIEF,
    "chengguan": Role.ORG_STAFF,
    "mediator": Role.PEOPLES_MEDIATOR,
}


def demo_places(plan):
    """One place per role, all along one branch, so the demo's people work together.

    The community is the first with at least two grids: its staff see more than
    the grid worker does, which is the point of the demo.
    """
    communities = plan.of_kind(AreaKind.COMMUNITY)
    community = next((c for c in communities if len(c.children) >= 2), communities[0])
    street = next(s for s in plan.of_kind(AreaKind.STREET) if s.id == community.parent_id)
    district = next(d for d in plan.of_kind(AreaKind.DISTRICT) if d.id == street.parent_id)
    grid = community.children[0]
    areas = Area.objects.in_bulk([district.id, street.id, community.id, grid.id])
    building = Building.objects.filter(grid_id=grid.id).order_by("id").first()
    unit = Unit.objects.filter(building=building).order_by("id").first()
    # The street's 城管执法中队: the functional department the demo's big matters go to.
    enforcement = Organisation.objects.filter(seat_id=street.id, function=OrgFunction.URBAN_MANAGEMENT).first()
    return {
        Role.ORG_STAFF: enforcement,
        Role.DISTRICT_OFFICIAL: areas[district.id],
        Role.STREET_STAFF: areas[street.id],
        Role.COMMUNITY_STAFF: areas[community.id],
        Role.GRID_WORKER: areas[grid.id],
        Role.GRID_CHIEF: areas[grid.id],
        Role.BUILDING_CHIEF: building,
        Role.UNIT_CHIEF: unit,
        Role.PEOPLES_MEDIATOR: areas[community.id],
    }


def person(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES), "1" + rng.choice("3589") + f"{rng.randrange(10**9):09d}"


def create_demo_accounts(*, plan, seed, now):
    """One account per role (see grid.demo); returns [(user, role, place)].

    The posts are granted through grid.services.post_grant like any other.
    """
    rng = phase_rng(seed, "accounts")
    places = demo_places(plan)
    # Hashing is deliberately slow (hundreds of ms); the accounts share one
    # password anyway, so hash it once.
    password = make_password(DEMO_PASSWORD)
    created = []
    for username, role in DEMO_ROLES.items():
        full_name, phone = person(rng)
        if role is not None and places.get(role) is None:
            continue  # e.g. no organisation seeded for the demo street
        superuser = role is None
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={"full_name": full_name, "phone": phone, "password": password, "is_active": True,
                      "is_superuser": superuser, "is_staff": superuser},
        )
        place = None
        if role is not None:
            place = places[role]
            services.post_grant(user=user, role=role, place=place, now=now)
        created.append((user, role, place))
    return created
