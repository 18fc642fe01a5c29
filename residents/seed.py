"""Households and residents for `manage.py seed_city` (the app seeder hook).

Every grid gets 400–700 households (户) spread over its units, ~2.5 residents
each: singles (many of them elderly), couples, young families, three
generations, grandparents raising a left-behind child. ID numbers are
synthetic but valid GB 11643 numbers (the district's area code, or one from
elsewhere for floating residents; the birth date of the person's age; a serial
unique per area, date and sex; the right check digit), phones for most adults,
care tags at plausible rates, a few residents moved out or deceased.

Stored values are exactly what residents/services.py stores: the ID number and
phone encrypted by the model fields' own Fernet objects, the blind indexes of
residents.identity, the masks of residents.identity. Only the speed differs:
one Fernet object per field reused for every value, the HMAC key derived once
(checked against identity.blind_index before use), rows written by COPY on
PostgreSQL with the indexes built after the load, and at city scale whole
streets planned, encrypted and formatted in worker processes while the main
process only streams their rows to the server (see `seed`).

Every plain value is drawn from a street's own random stream, itself drawn from
the seeder's `rng`, so a seed always yields the same residents however many
processes plan them (the ciphertexts differ: Fernet draws a fresh IV each time).
No history rows (ResidentEvent) are written for seeded residents: they were
never added by anyone.
"""

import hashlib
import hmac
import math
import multiprocessing
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from time import perf_counter

from django.conf import settings
from django.db import connection
from django.utils import timezone
from stdnum.cn import ric

from .identity import blind_index, mask_id_number, mask_phone

HOUSEHOLDS_PER_GRID = (400, 700)
# Above this many households streets are planned in worker processes (PostgreSQL only).
POOL_THRESHOLD = 100_000

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁于蒋"
GIVEN_MALE = ("伟 强 磊 军 洋 勇 杰 涛 明 超 刚 平 建国 建华 志强 国庆 晓东 浩然 思远 俊杰 子轩 宇航 "
              "文博 家豪 德明 永福 成林 海波 建军 小龙").split()
GIVEN_FEMALE = ("芳 娜 敏 静 丽 艳 娟 秀英 桂英 海燕 丹 玲 春梅 红梅 子涵 雨桐 欣怡 梓萱 诗琪 "
                "淑华 玉兰 秀兰 慧 婷 雪 佳怡 晓燕 美玲 凤英 翠花").split()
MOBILE_PREFIXES = ("130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 "
                   "177 180 181 182 183 186 187 188 189 191 198 199").split()
# Floating residents (流动人口): registered elsewhere, mostly nearby in Sichuan and Chongqing.
ELSEWHERE = (
    ("511302", "四川省南充市顺庆区"),
    ("510107", "四川省成都市武侯区"),
    ("511621", "四川省广安市岳池县"),
    ("510623", "四川省德阳市中江县"),
    ("511102", "四川省乐山市市中区"),
    ("513401", "四川省凉山彝族自治州西昌市"),
    ("500101", "重庆市万州区"),
    ("500228", "重庆市梁平县"),
    ("620102", "甘肃省兰州市城关区"),
    ("411302", "河南省南阳市宛城区"),
)
STREET_NAMES = "人民路 建设路 解放路 和平街 胜利路 新华街 中山路 文化路".split()

# Household compositions: (name, weight). Mean size ≈ 2.5 (2020 census: 2.62).
COMPOSITIONS = (
    ("single", 20),
    ("couple", 28),
    ("family1", 30),
    ("family2", 10),
    ("three_gen", 6),
    ("left_behind", 2.5),
    ("three_gen5", 3.5),
)

# Care tags: probabilities per resident of the matching kind (see _tags).
P_DISABLED = 0.02
P_LOW_INCOME_HOUSEHOLD = 0.02  # 低保 is granted per household (~2% of households and residents)
P_PARTY_ADULT = 0.075  # ~6% of all residents
P_VETERAN_MAN = 0.03  # men over 25: ~1% of residents
P_CORRECTION_ADULT = 0.0006  # ~0.05%
P_SERIOUS_ILLNESS = 0.005
P_EMPTY_NEST_COUPLE = 0.6
P_ELDERLY_SINGLE = 0.4  # of single-person households: ~3% of residents live alone aged 60+
P_FLOATING_HOUSEHOLD = 0.15
P_AWAY_ADULT = 0.03
P_MOVED_OUT_CHILD = 0.06
P_DECEASED_ELDER = 0.08
P_VISITED = 0.75  # of tagged residents in a grid with a worker: visited recently

HOUSEHOLD_FIELDS = ("id", "district_id", "street_id", "community_id", "grid_id", "building_id", "unit_id",
                    "number", "created_at")
RESIDENT_FIELDS = (
    "id", "district_id", "street_id", "community_id", "grid_id", "household_id", "building_id", "name",
    "gender", "birth_date", "id_number", "id_index", "id_masked", "phone", "phone_index", "phone_masked",
    "relation", "registration", "registered_address", "status", "moved_in_on", "left_on", "note",
    "visit_due_on", "last_visited_at", "created_at", "updated_at",
)
TAG_FIELDS = ("resident_id", "tag_id")
VISIT_FIELDS = ("resident_id", "visited_by_id", "visited_at", "notes", "findings", "follow_up", "recorded_at")
VISIT_NOTES = ("上门走访，身体状况良好", "电话回访，生活正常", "入户了解近况，无特殊需求", "陪同就医后回访，恢复良好")
# Column positions in RESIDENT_FIELDS the encryption fills in.
ID_AT = RESIDENT_FIELDS.index("id_number")
PHONE_AT = RESIDENT_FIELDS.index("phone")


# --- stored forms, exactly as the services make them ---------------------------------------

class Secrets:
    """Encrypt and index like the model fields and residents.identity, but once-derived keys."""

    def __init__(self):
        from .models import Resident

        self.id_fernet = Resident._meta.get_field("id_number").f
        self.phone_fernet = Resident._meta.get_field("phone").f
        self._hmac = {}
        for kind, sample in (("id", "11010519800517001X"), ("phone", "13800138000")):
            # django.utils.crypto.salted_hmac: key = sha256(key_salt + secret), HMAC-SHA256.
            key = hashlib.sha256(f"residents.{kind}{settings.RESIDENT_INDEX_KEY}".encode()).digest()
            base = hmac.new(key, digestmod=hashlib.sha256)
            fast = self._fast(base)
            # If identity.blind_index ever changes, fall back to it rather than store other indexes.
            self._hmac[kind] = fast if fast(sample) == blind_index(kind, sample) else (
                lambda value, kind=kind: blind_index(kind, value))

    @staticmethod
    def _fast(base):
        def index(value):
            h = base.copy()
            h.update(value.encode())
            return h.hexdigest()
        return index

    def id_index(self, number):
        return self._hmac["id"](number)

    def phone_index(self, phone):
        return self._hmac["phone"](phone)


_SECRETS = None


def _secrets():
    global _SECRETS
    if _SECRETS is None:
        _SECRETS = Secrets()
    return _SECRETS


def encrypt_values(pairs):
    """[(id_number or None, phone or None)] → the same with ciphertexts (runs in a worker or in-process)."""
    s = _secrets()
    id_enc, phone_enc = s.id_fernet.encrypt, s.phone_fernet.encrypt
    return [
        (id_enc(n.encode()).decode() if n else None, phone_enc(p.encode()).decode() if p else None)
        for n, p in pairs
    ]


# --- planning --------------------------------------------------------------------------------

@dataclass
class GridInfo:
    id: int
    path: tuple  # district_id, street_id, community_id, grid_id
    area_code: str  # the district's administrative code: local residents' ID prefix
    units: list  # [(unit_id, building_id)]
    worker_id: int | None = None


@dataclass
class Chunk:
    households: list = field(default_factory=list)
    residents: list = field(default_factory=list)  # lists in RESIDENT_FIELDS order, plain values
    tags: list = field(default_factory=list)
    visits: list = field(default_factory=list)
    plain: list = field(default_factory=list)  # [(id_number, phone)] per resident, to encrypt

    def counts(self):
        return {"households": len(self.households), "residents": len(self.residents), "tags": len(self.tags),
                "visits": len(self.visits)}


class Planner:
    """Draws households and residents grid by grid; holds the ID serial counters."""

    def __init__(self, *, rng, now, tags, secrets, first_household=1, first_resident=1, slots=None):
        self.rng = rng
        self.now = now
        self.today = now.date()  # the services' `today` (refresh_visit_due)
        self.today_ord = self.today.toordinal()
        self.tags = tags  # code → (id, visit interval or None)
        self.secrets = secrets
        self.serials = {}
        # area code → (offset, stride): this planner's share of the 499 serials of each
        # (area, birth date, sex), so planners working side by side never draw the same number.
        self.slots = slots or {}
        self._dates = {}
        self._date_objects = {}
        self.next_household = first_household
        self.next_resident = first_resident
        self.composition_names = [c for c, _ in COMPOSITIONS]
        self.composition_weights = [w for _, w in COMPOSITIONS]

    # -- people

    def _age_birth(self, age):
        """The ordinal of a birth date for someone `age` years old today (never in the future)."""
        ordinal = self.today_ord - int(age * 365.25) - int(self.rng.random() * 365)
        return min(ordinal, self.today_ord - 1)

    def _ymd(self, ordinal):
        text = self._dates.get(ordinal)
        if text is None:
            text = self._dates[ordinal] = f"{date.fromordinal(ordinal):%Y%m%d}"
        return text

    def _id_number(self, area, birth_ordinal, male):
        """A valid number, unique: one serial per (area, birth date, sex) at a time.

        Returns (number, birth ordinal): a day already full for the area moves the birth a day earlier.
        """
        offset, stride = self.slots.get(area) or self.slots.get(None) or (0, 1)
        while True:
            stem = area + self._ymd(birth_ordinal)
            key = stem + ("M" if male else "F")
            n = self.serials.get(key, 0)
            slot = offset + stride * n
            if slot < 499:
                self.serials[key] = n + 1
                serial = 2 * slot + 1 if male else 2 * slot + 2  # the 17th digit is odd for men
                body = f"{stem}{serial:03d}"
                return body + ric.calc_check_digit(body + "0"), birth_ordinal  # ignores the last character
            birth_ordinal -= 1

    def _date(self, ordinal):
        value = self._date_objects.get(ordinal)
        if value is None:
            value = self._date_objects[ordinal] = date.fromordinal(ordinal)
        return value

    def _phone(self):
        rng = self.rng
        return rng.choice(MOBILE_PREFIXES) + f"{int(rng.random() * 100_000_000):08d}"

    def _name(self, surname, male):
        return surname + self.rng.choice(GIVEN_MALE if male else GIVEN_FEMALE)

    # -- households

    def _members(self):
        """[(relation, age, male, same_surname)] for one household."""
        rng = self.rng
        kind = rng.choices(self.composition_names, self.composition_weights)[0]
        male = rng.random() < 0.55
        if kind == "single":
            age = rng.randint(60, 92) if rng.random() < P_ELDERLY_SINGLE else rng.randint(20, 59)
            return kind, [("head", age, male, True)]
        if kind == "couple":
            age = rng.choice((rng.randint(23, 40), rng.randint(41, 59), rng.randint(60, 88)))
            return kind, [("head", age, male, True), ("spouse", max(20, age + rng.randint(-5, 4)), not male, False)]
        if kind == "left_behind":
            age = rng.randint(52, 78)
            return kind, [("head", age, male, True), ("grandchild", rng.randint(3, 15), rng.random() < 0.52, True)]
        age = rng.randint(26, 58)
        members = [("head", age, male, True), ("spouse", max(20, age + rng.randint(-5, 4)), not male, False)]
        children = {"family1": 1, "family2": 2, "three_gen": 1, "three_gen5": 2}[kind]
        for _ in range(children):
            members.append(("child", rng.randint(0, max(0, min(age - 22, 30))), rng.random() < 0.52, True))
        if kind in ("three_gen", "three_gen5"):
            members.append(("parent", min(98, age + rng.randint(22, 34)), rng.random() < 0.4, True))
        return kind, members

    def plan_grid(self, grid, chunk):
        rng = self.rng
        total = rng.randint(*HOUSEHOLDS_PER_GRID)
        units = grid.units
        per_unit = [0] * len(units)
        for j in range(total):
            per_unit[j * len(units) // total] += 1
        for (unit_id, building_id), count in zip(units, per_unit):
            per_floor = 2 if count <= 36 else math.ceil(count / 18)
            for k in range(count):
                floor, room = divmod(k, per_floor)
                self._plan_household(grid, unit_id, building_id, f"{floor + 1}{room + 1:02d}", chunk)

    def _plan_household(self, grid, unit_id, building_id, number, chunk):
        rng, now = self.rng, self.now
        household_id = self.next_household
        self.next_household += 1
        chunk.households.append((household_id, *grid.path, building_id, unit_id, number, now))
        kind, members = self._members()
        floating = rng.random() < P_FLOATING_HOUSEHOLD
        area, registered_address = grid.area_code, ""
        if floating:
            area, registered_address = rng.choice(ELSEWHERE)
            registered_address += rng.choice(STREET_NAMES) + f"{rng.randint(1, 300)}号"
        low_income = rng.random() < P_LOW_INCOME_HOUSEHOLD
        moved_in = self._date(self.today_ord - rng.randint(30, 30 * 365))
        surname = rng.choice(SURNAMES)
        empty_nest = kind == "couple" and min(m[1] for m in members) >= 60 and rng.random() < P_EMPTY_NEST_COUPLE
        for relation, age, male, same_surname in members:
            number_, birth_ordinal = self._id_number(area, self._age_birth(age), male)
            birth = self._date(birth_ordinal)
            name = self._name(surname if same_surname else rng.choice(SURNAMES), male)
            phone = None
            if age >= 16 and rng.random() < (0.55 if age >= 80 else 0.93):
                phone = self._phone()
            status, left_on = "living", None
            if relation == "child" and age >= 18 and rng.random() < P_MOVED_OUT_CHILD:
                status = "moved_out"
                left_on = self._date(self.today_ord - rng.randint(1, 3 * 365))
            elif relation == "parent" and age >= 75 and rng.random() < P_DECEASED_ELDER:
                status = "deceased"
                left_on = self._date(self.today_ord - rng.randint(1, 5 * 365))
            if left_on is not None and left_on < birth:
                left_on = birth
            registration = "floating" if floating else (
                "away" if relation != "head" and age >= 18 and status == "living" and rng.random() < P_AWAY_ADULT
                else "local")
            tags = self._tags(kind=kind, relation=relation, age=age, male=male, low_income=low_income,
                              empty_nest=empty_nest)
            resident_id = self.next_resident
            self.next_resident += 1
            visit_due, last_visit = None, None
            intervals = [self.tags[code][1] for code in tags if self.tags[code][1]]
            if intervals and status == "living":
                interval = min(intervals)
                visit_due = self.today
                if grid.worker_id and rng.random() < P_VISITED:
                    last_visit = now - timedelta(days=rng.uniform(0.5, interval * 1.5), minutes=rng.randrange(600))
                    visit_due = timezone.localdate(last_visit) + timedelta(days=interval)
                    chunk.visits.append((resident_id, grid.worker_id, last_visit, rng.choice(VISIT_NOTES), "",
                                         False, last_visit))
            for code in tags:
                chunk.tags.append((resident_id, self.tags[code][0]))
            index = self.secrets
            chunk.residents.append([
                resident_id, *grid.path, household_id, building_id, name, "M" if male else "F", birth,
                None, index.id_index(number_), mask_id_number(number_),
                None, index.phone_index(phone) if phone else None, mask_phone(phone) if phone else "",
                relation, registration, registered_address if floating else "", status,
                max(moved_in, birth), left_on, "", visit_due, last_visit, now, now,
            ])
            chunk.plain.append((number_, phone))

    def _tags(self, *, kind, relation, age, male, low_income, empty_nest):
        rng = self.rng
        tags = []
        if kind == "single" and age >= 60:
            tags.append("elderly_alone")
        if empty_nest:
            tags.append("empty_nest")
        if rng.random() < P_DISABLED * (2 if age >= 65 else 1) * 0.8:
            tags.append("disabled")
        if low_income:
            tags.append("low_income")
        if kind == "left_behind" and relation == "grandchild":
            tags.append("left_behind_child")
        if rng.random() < P_SERIOUS_ILLNESS:
            tags.append("serious_illness")
        if age >= 18 and rng.random() < P_PARTY_ADULT:
            tags.append("party_member")
        if male and age >= 25 and rng.random() < P_VETERAN_MAN:
            tags.append("veteran")
        if 18 <= age <= 60 and rng.random() < P_CORRECTION_ADULT:
            tags.append("community_correction")
        return [t for t in tags if t in self.tags]  # a renamed or removed built-in tag is skipped


# --- reading the city ------------------------------------------------------------------------

def _grids():
    """Active grids with their path, district code, units and (first) active grid worker, in id order."""
    from grid.models import Area, AreaKind, Building, Post, Role, Unit

    kind = {}
    parent = {}
    code = {}
    for pk, k, p, c in Area.objects.values_list("id", "kind", "parent_id", "code").iterator(chunk_size=20_000):
        kind[pk], parent[pk], code[pk] = k, p, c
    grid_of_building = dict(Building.objects.values_list("id", "grid_id").iterator(chunk_size=50_000))
    units = {}
    for unit_id, building_id in Unit.objects.order_by("id").values_list("id", "building_id").iterator(
            chunk_size=50_000):
        units.setdefault(grid_of_building[building_id], []).append((unit_id, building_id))
    workers = {}
    for area_id, user_id in (Post.objects.filter(role=Role.GRID_WORKER, ended_at__isnull=True)
                             .order_by("started_at", "id").values_list("area_id", "user_id")):
        workers.setdefault(area_id, user_id)
    grids = []
    active = set(Area.objects.filter(kind=AreaKind.GRID, is_active=True).values_list("id", flat=True))
    for pk in sorted(active):
        if pk not in units:
            continue  # a grid without units has nowhere to put households
        community = parent[pk]
        street = parent[community]
        district = parent[street]
        grids.append(GridInfo(id=pk, path=(district, street, community, pk), area_code=code[district][:6],
                              units=units[pk], worker_id=workers.get(pk)))
    return grids


# --- writing ---------------------------------------------------------------------------------

def _insert(model, fields, rows):
    """COPY on PostgreSQL (grid.seeding); plain executemany elsewhere.

    Not bulk_create: it would run the encrypted fields' get_prep_value and
    encrypt the ciphertexts a second time.
    """
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        from grid.seeding import _copy_rows

        return _copy_rows(model=model, fields=fields, rows=rows)
    meta = model._meta
    adapt = []
    for name in fields:
        internal = meta.get_field(name).get_internal_type()
        adapt.append(connection.ops.adapt_datetimefield_value if internal == "DateTimeField"
                     else connection.ops.adapt_datefield_value if internal == "DateField" else None)
    converters = [(i, f) for i, f in enumerate(adapt) if f]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(meta.get_field(f).column) for f in fields)
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    memo = {i: {} for i, _ in converters}  # dates repeat a lot (created_at is one `now`)
    prepared = []
    for row in rows:
        row = list(row)
        for i, convert in converters:
            value = row[i]
            if value is not None:
                seen = memo[i]
                converted = seen.get(value)
                if converted is None:
                    converted = seen[value] = convert(value)
                row[i] = converted
        prepared.append(row)
    with connection.cursor() as cursor:
        for start in range(0, len(prepared), 5_000):
            cursor.executemany(sql, prepared[start:start + 5_000])
    return len(prepared)


def _workers():
    return max(1, min(4, (os.cpu_count() or 1)))


# --- streets: the unit of work ---------------------------------------------------------------

MAX_MEMBERS = 5  # the largest composition (three_gen5)


@dataclass
class StreetTask:
    """One street's grids, planned by one Planner: its own random stream, id ranges and serial slots."""

    grids: list
    seed: int
    first_household: int
    first_resident: int
    slots: dict  # area code (None: any other) → (offset, stride)

    @property
    def capacity(self):
        return len(self.grids) * HOUSEHOLDS_PER_GRID[1]


def street_tasks(grids, rng):
    """Split `grids` (id order) by street, each with disjoint ids and ID-number serials.

    A street's plan depends only on the seeder's `rng` and the street itself,
    so the city comes out the same however many processes plan it. Ids are
    drawn from per-street ranges sized for the most households a street's grids
    can get (the sequences are moved past them afterwards, gaps and all).
    ID-number serials are shared out like this: the 499 serials of a birth date
    and sex under a district's own area code go round that code's streets, and
    those under the codes of elsewhere (floating residents) go round all streets.
    """
    by_street = {}
    for grid in grids:
        by_street.setdefault(grid.path[1], []).append(grid)
    streets = list(by_street)
    if len(streets) > 499:
        raise ValueError(f"{len(streets)} streets: ID-number serials can be shared by at most 499")
    elsewhere = {code for code, _ in ELSEWHERE}
    streets_of_code = {}
    for street, street_grids in by_street.items():
        streets_of_code.setdefault(street_grids[0].area_code, []).append(street)
    base_seed = rng.getrandbits(64)
    tasks, next_household = [], 1
    for index, street in enumerate(streets):
        street_grids = by_street[street]
        code = street_grids[0].area_code
        slots = {None: (index, len(streets))}
        if code not in elsewhere:
            slots[code] = (streets_of_code[code].index(street), len(streets_of_code[code]))
        task = StreetTask(grids=street_grids, seed=base_seed ^ street, first_household=next_household,
                          first_resident=(next_household - 1) * MAX_MEMBERS + 1, slots=slots)
        tasks.append(task)
        next_household += task.capacity
    return tasks


def plan_street(task, *, now, tags, secrets):
    """The street's Chunk (plain values; id numbers and phones still to encrypt)."""
    import random

    planner = Planner(rng=random.Random(task.seed), now=now, tags=tags, secrets=secrets,
                      first_household=task.first_household, first_resident=task.first_resident, slots=task.slots)
    chunk = Chunk()
    for grid in task.grids:
        planner.plan_grid(grid, chunk)
    # A street never spills into the next one's ids.
    assert planner.next_household <= task.first_household + task.capacity
    assert planner.next_resident <= task.first_resident + task.capacity * MAX_MEMBERS
    return chunk


def _fill_encrypted(chunk, encrypted):
    for row, (id_number, phone) in zip(chunk.residents, encrypted):
        row[ID_AT] = id_number
        row[PHONE_AT] = phone


# Set in the parent before the pool forks; the workers read it (no database access there).
_CONTEXT = {}


def _street_copy(task):
    """Worker: plan, encrypt and format one street; return its counts and COPY text per table."""
    chunk = plan_street(task, now=_CONTEXT["now"], tags=_CONTEXT["tags"], secrets=_secrets())
    _fill_encrypted(chunk, encrypt_values(chunk.plain))
    from grid.seeding import copy_text

    return chunk.counts(), [copy_text(chunk.households), copy_text(chunk.residents), copy_text(chunk.tags),
                    copy_text(chunk.visits)]


def seed(*, scale, rng, stdout, now, workers=None, districts=None):
    """seed_city's hook: households and residents for every grid of the (freshly seeded) city.

    `workers` (planning processes) and `districts` (only the grids of these
    district ids) are for the benchmark; seed_city passes neither.

    At city scale on PostgreSQL, worker processes plan, encrypt and format one
    street each while this process only streams their COPY text to the server,
    inside seed_city's transaction; the tables' indexes are built once after the
    load (grid.seeding.indexes_after_load). Elsewhere streets are planned here.
    """
    from grid import seeding

    from .models import CareVisit, Household, Resident, Tag

    started = perf_counter()
    if Household.objects.exists() or Resident.objects.exists():
        stdout.write("  residents: households already exist, nothing seeded")
        return None
    grids = _grids()
    if districts is not None:
        wanted = set(districts)
        grids = [g for g in grids if g.path[0] in wanted]
    if not grids:
        stdout.write("  residents: no grids with units, nothing to seed")
        return None
    secrets = _secrets()
    tags = {code: (pk, interval) for code, pk, interval in Tag.objects.values_list("code", "id", "visit_interval_days")}
    tasks = street_tasks(grids, rng)
    Through = Resident.tags.through
    models = (Household, Resident, Through, CareVisit)
    fields = (HOUSEHOLD_FIELDS, RESIDENT_FIELDS, TAG_FIELDS, VISIT_FIELDS)
    expected_households = len(grids) * sum(HOUSEHOLDS_PER_GRID) // 2
    workers = _workers() if workers is None else workers
    use_pool = (connection.vendor == "postgresql" and workers > 1 and expected_households > POOL_THRESHOLD
                and "fork" in multiprocessing.get_all_start_methods())
    counts = {"households": 0, "residents": 0, "tags": 0, "visits": 0}
    timing = {"wait": 0.0, "write": 0.0}

    def written(added):
        before = counts["households"]
        for key, n in added.items():
            counts[key] += n
        if expected_households > POOL_THRESHOLD and counts["households"] // 200_000 != before // 200_000:
            stdout.write(f"    residents {counts['residents']:,} in {counts['households']:,} households "
                         f"({perf_counter() - started:.0f} s)")
            stdout.flush()

    with seeding.trusted_bulk_load(list(models), indexes_after=True):
        if use_pool:
            _CONTEXT.update(now=now, tags=tags)
            for added, data in seeding.planned_in_workers(_street_copy, tasks, workers=workers, timing=timing):
                t = perf_counter()
                for model, names, text in zip(models, fields, data):
                    seeding.copy_text_into(model, names, text)
                timing["write"] += perf_counter() - t
                written(added)
        else:
            for task in tasks:
                t = perf_counter()
                chunk = plan_street(task, now=now, tags=tags, secrets=secrets)
                _fill_encrypted(chunk, encrypt_values(chunk.plain))
                timing["wait"] += perf_counter() - t
                t = perf_counter()
                for model, names, rows in zip(models, fields, (chunk.households, chunk.residents, chunk.tags,
                                                               chunk.visits)):
                    _insert(model, names, rows)
                timing["write"] += perf_counter() - t
                written(chunk.counts())
        loaded = perf_counter()
    timing["indexes"] = perf_counter() - loaded  # leaving the block: index builds and the foreign-key checks
    t = perf_counter()
    seeding.finish_bulk_load(list(models))
    timing["analyze"] = perf_counter() - t
    elapsed = perf_counter() - started
    stdout.write(
        f"    {counts['households']:,} households, {counts['residents']:,} residents, {counts['tags']:,} tags, "
        f"{counts['visits']:,} care visits in {elapsed:.1f} s "
        f"({'%d planning processes' % workers if use_pool else 'planned in-process'}, {len(tasks)} streets; "
        f"waiting on plans {timing['wait']:.1f} s, write {timing['write']:.1f} s, "
        f"indexes and key checks {timing['indexes']:.1f} s, analyze {timing['analyze']:.1f} s)"
    )
    return {**counts, "seconds": elapsed, "workers": workers if use_pool else 1,
            **{f"{k}_seconds": round(v, 2) for k, v in timing.items()}}
