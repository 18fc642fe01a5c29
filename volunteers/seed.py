"""Volunteers and a year of points for `manage.py seed_city` (the app seeder hook).

Per community: one to three teams (convenience services always; party members
and safety patrol often) and one emergency-rescue team per street; a service
station per street and at one community in five; about 25 volunteers (at
demo scale 15), residents of the community when the residents seeder ran, and
every chief (三长) with a portal account. Over the last year: two activities a
month with 4–10 volunteers each, their hours confirmed by the community's
organiser; three residents' orders a month, most served and confirmed; a few
bonuses a quarter; redemptions from a catalogue of four items when the
volunteer's balance allows; a "社区好人" honour for the year's top volunteer.
A few activities and orders are left open or in progress so the pages have
something to do.

The ledger is written as the services would write it — every transaction
balanced, a person's balance never below zero in the order the entries are
written — and the cached balances are then recomputed from the entries in one
statement (inside grid.seeding.trusted_bulk_load the balance trigger does not
fire; outside it, the recomputation changes nothing). The run ends with
ledger.books_problems(): any lost or doubled point aborts the seeding.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

VOLUNTEERS_PER_COMMUNITY = {"demo": 15, "medium": 25, "large": 25}
ACTIVITIES_PER_MONTH = 2
ORDERS_PER_MONTH = 3
COMMUNITIES_PER_CHUNK = 200
CATALOGUE = (("理发券", "service", 30), ("家电维修", "service", 60), ("洗衣液", "prize", 50),
             ("大米5公斤", "prize", 80))
ACTIVITY_TITLES = ("楼道清理", "敬老院探访", "文明劝导", "垃圾分类宣传", "防诈骗宣传", "夜间治安巡逻", "义务理发",
                   "关爱独居老人", "消防安全检查", "植树护绿", "反电诈入户宣传", "环境卫生整治")
ORDER_TEXTS = {
    "errand": ("帮忙去药店买降压药", "代取快递送上楼", "帮忙缴纳水电费", "代买米面油"),
    "opinion": ("反映小区路灯不亮", "对加装电梯的意见", "建议增加健身器材"),
    "hard_matter": ("帮忙办理高龄津贴", "代办医保报销材料", "协助办理居住证"),
}
BONUS_REASONS = ("社区好人", "见义勇为", "疫情防控突出贡献", "邻里互助")


@dataclass
class Ids:
    """Next explicit id per table (rows are written with their ids, like cases.seed)."""

    next: dict = field(default_factory=dict)

    def take(self, model):
        value = self.next[model]
        self.next[model] = value + 1
        return value


@dataclass
class Rows:
    tables: dict = field(default_factory=dict)

    def add(self, model, row):
        self.tables.setdefault(model, []).append(row)


# Reporters' and orderers' names and phones go in encrypted and masked, as the services write them
# (portal/personal.py); the keys are derived once per seed run.
_sealer = None


def seal(name, phone):
    global _sealer
    if _sealer is None:
        from portal.personal import Sealer

        _sealer = Sealer()
    return _sealer(name, phone)


def _local(day, hour, minute=0, tz=None):
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def seed(*, scale, rng, stdout, now):
    global _sealer
    _sealer = None  # keys as configured now
    from django.contrib.auth.hashers import make_password
    from django.db.models import Max

    from grid import seeding
    from grid.models import Area, AreaKind, Post, Role, User

    from . import ledger
    from .models import (
        Account,
        Activity,
        CatalogueItem,
        Entry,
        Honour,
        LedgerTransaction,
        Order,
        Redemption,
        ServiceRecord,
        Signup,
        Station,
        Team,
        Volunteer,
    )

    communities = list(Area.objects.filter(kind=AreaKind.COMMUNITY, is_active=True)
                       .values_list("id", "name", "code", "parent_id", "parent__parent_id").order_by("tree_id", "lft"))
    if not communities:
        stdout.write("  volunteers: no communities, nothing to seed")
        return
    grids_of = {}
    for pk, parent_id in Area.objects.filter(kind=AreaKind.GRID, is_active=True).values_list("id", "parent_id"):
        grids_of.setdefault(parent_id, []).append(pk)
    streets = dict(Area.objects.filter(kind=AreaKind.STREET).values_list("id", "name"))
    buildings_of = _buildings(grids_of)
    staff = {}
    for user_id, area_id in Post.objects.filter(role=Role.COMMUNITY_STAFF, ended_at__isnull=True).values_list(
            "user_id", "area_id"):
        staff.setdefault(area_id, user_id)
    posted_staff = dict(staff)  # before organisers stand in: the staff who may write households' cards
    chiefs = _chiefs(Post, Role)
    tz = now.tzinfo
    models = [User, Team, Station, Volunteer, Volunteer.teams.through, Activity, Signup, ServiceRecord, Order, Account,
              LedgerTransaction, Entry, CatalogueItem, Redemption, Honour]

    unusable = make_password(None)
    # One organiser per community without community staff: the account that confirms its hours.
    missing = [c for c in communities if c[0] not in staff]
    if missing:
        made = User.objects.bulk_create([
            User(username=f"organiser-{code}", full_name=f"{name}志愿服务站", password=unusable, is_active=False,
                 date_joined=now) for _pk, name, code, _s, _d in missing], batch_size=2_000)
        for (pk, *_rest), user in zip(missing, made):
            staff[pk] = user.pk
        if any(user.pk is None for user in made):  # backends without RETURNING
            by_name = dict(User.objects.filter(username__startswith="organiser-").values_list("username", "pk"))
            for pk, _name, code, _s, _d in missing:
                staff[pk] = by_name[f"organiser-{code}"]

    ids = Ids({m: (m.objects.aggregate(m=Max("id"))["m"] or 0) + 1 for m in models})
    per_community = VOLUNTEERS_PER_COMMUNITY.get(scale.name, 25)
    start = (now - timedelta(days=365)).date()
    counts = dict.fromkeys(("volunteers", "activities", "records", "orders", "transactions"), 0)
    streets_done = set()  # each street's rescue team and station, once
    with seeding.trusted_bulk_load(models):
        for first in range(0, len(communities), COMMUNITIES_PER_CHUNK):
            chunk = communities[first:first + COMMUNITIES_PER_CHUNK]
            people = _residents(chunk, per_community, rng, now)
            rows = Rows()
            for community in chunk:
                _plan_community(rows=rows, ids=ids, rng=rng, community=community, streets=streets,
                                grids=grids_of.get(community[0], []), buildings=buildings_of,
                                residents=people.get(community[0], []), chiefs=chiefs.get(community[0], []),
                                organiser=staff[community[0]], start=start, now=now, tz=tz, counts=counts,
                                street_done=streets_done, per_community=per_community, unusable=unusable)
            for model in models:
                table = rows.tables.get(model)
                if table:
                    seeding.write_rows(model=model, fields=FIELDS[model._meta.object_name], rows=table)
            if len(communities) > COMMUNITIES_PER_CHUNK:
                stdout.write(f"    volunteers: {first + len(chunk):,} / {len(communities):,} communities")
    _recompute_balances(Account)
    seeding.finish_bulk_load(models)
    if scale.name in HOUSEHOLD_CARD_SCALES:
        # A random stream of its own: the seeders after this one see the numbers they saw before.
        counts["household entries"] = _household_cards(posted_staff, random.Random(23), now)
    problems = ledger.books_problems()
    if problems:
        raise seeding.SeedingError("points ledger: " + "; ".join(problems[:10]))
    stdout.write(f"    {counts['volunteers']:,} volunteers, {counts['activities']:,} activities, "
                 f"{counts['records']:,} service records, {counts['orders']:,} orders, "
                 f"{counts['transactions']:,} points transactions, "
                 f"{counts.get('household entries', 0):,} households' card entries")


# The households' points card is seeded through its service, entry by entry, on the scales a
# person looks at; a city's millions of households would take that path hours.
HOUSEHOLD_CARD_SCALES = ("demo",)
HOUSEHOLDS_PER_COMMUNITY = 12
CARD_LINES = (  # (aspect, points, reason): what community staff write on a card
    ("环境卫生", 5, "门前三包做得好，楼道整洁"),
    ("垃圾分类", 3, "垃圾分类检查连续四周合格"),
    ("邻里互助", 8, "帮助独居老人买菜送药"),
    ("移风易俗", 6, "婚事新办，不收彩礼"),
    ("遵纪守法", 4, "主动配合消防安全检查"),
    ("参与议事", 5, "参加楼栋议事会，提出加装电梯方案"),
    ("环境卫生", -2, "楼道堆放杂物，经提醒后清理"),
)


def _household_cards(posted_staff, rng, now):
    """A few entries on the cards of some households of each community with staff, dated this year,
    written by the community's staff through household_entry_add; the first such community shows
    its stars on its buildings' notice boards. Returns the number of entries."""
    from grid.models import Area, User

    from . import household_points
    from .household_models import HouseholdEntry

    Household = HouseholdEntry._meta.get_field("household").related_model
    year_start = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    earliest = max(year_start, now - timedelta(days=120))
    span = max(int((now - earliest).total_seconds()), 1)
    written, first = 0, True
    for community_id, user_id in sorted(posted_staff.items()):
        user = User.objects.get(pk=user_id)
        households = list(Household.objects.filter(community_id=community_id).order_by("id")
                          [:HOUSEHOLDS_PER_COMMUNITY])
        if not households:
            continue
        if first:
            household_points.stars_on_boards_set(community=Area.objects.get(pk=community_id), enabled=True,
                                                 acting_user=user)
            first = False
        for household in households:
            lines = rng.sample(range(len(CARD_LINES)), rng.randint(1, 4))
            # Deductions last, and never alone: a card's balance never goes below zero.
            lines.sort(key=lambda i: CARD_LINES[i][1] < 0)
            if CARD_LINES[lines[0]][1] < 0:
                lines = [0]
            moments = sorted(earliest + timedelta(seconds=rng.randrange(span)) for _ in lines)
            for index, at in zip(lines, moments):
                aspect_name, points, reason = CARD_LINES[index]
                aspect = household_points.aspects_for(household.district_id).get(name=aspect_name)
                household_points.household_entry_add(household=household, aspect=aspect, points=points,
                                                     reason=reason, acting_user=user, now=at)
                written += 1
    return written


FIELDS = {
    "User": ("id", "password", "is_superuser", "username", "first_name", "last_name", "email", "is_staff",
             "is_active", "date_joined", "full_name", "phone"),
    "Team": ("id", "name", "kind", "kind_other", "area_id", "leader_id", "is_active", "created_at"),
    "Station": ("id", "name", "area_id", "address", "phone", "is_active"),
    "Volunteer": ("id", "district_id", "street_id", "community_id", "grid_id", "user_id", "resident_id", "name",
                  "skills", "availability", "is_active", "joined_on"),
    "Volunteer_teams": ("id", "volunteer_id", "team_id"),
    "Activity": ("id", "title", "description", "area_id", "team_id", "organiser_id", "location", "starts_at",
                 "ends_at", "capacity", "points_per_hour", "status", "created_at"),
    "Signup": ("id", "activity_id", "volunteer_id", "status", "signed_up_at", "checked_in_at", "checked_out_at"),
    "ServiceRecord": ("id", "volunteer_id", "activity_id", "order_id", "started_at", "ended_at", "hours", "content",
                      "confirmed_by_id", "confirmed_at", "voided_at", "void_reason"),
    "Order": ("id", "district_id", "street_id", "community_id", "grid_id", "kind", "description", "building_id",
              "address", "resident_id", "contact_name", "contact_name_masked", "contact_phone",
              "contact_phone_masked", "placed_by_id", "tracking_code", "status",
              "placed_at", "claim_due_at", "claimed_by_id", "claimed_at", "done_at", "confirmed_at", "escalated_at",
              "points", "request_key"),
    "Account": ("id", "kind", "community_id", "volunteer_id", "balance"),
    "LedgerTransaction": ("id", "kind", "at", "actor_id", "memo", "idempotency_key", "reverses_id",
                          "service_record_id", "order_id", "case_id", "redemption_id"),
    "Entry": ("id", "transaction_id", "account_id", "amount", "at"),
    "CatalogueItem": ("id", "community_id", "name", "kind", "price", "stock", "is_active"),
    "Redemption": ("id", "item_id", "volunteer_id", "quantity", "points", "status", "requested_at", "picked_up_at",
                   "confirmed_by_id"),
    "Honour": ("id", "title", "volunteer_id", "area_id", "period", "citation", "confirmed_by_id", "confirmed_at"),
}


def _model(name):
    from django.apps import apps

    return apps.get_model("volunteers", name)


def _buildings(grids_of):
    from grid.models import Building

    found = {}
    for pk, grid_id, address in Building.objects.values_list("id", "grid_id", "address").iterator(chunk_size=50_000):
        bucket = found.setdefault(grid_id, [])
        if len(bucket) < 20:  # a few per grid is all orders need
            bucket.append((pk, address))
    return found


def _chiefs(Post, Role):
    """{community_id: [(user_id, name, grid_id)]}: the three chiefs (三长) are volunteers by office."""
    from grid.models import Area, Building, Unit

    rows = list(Post.objects.filter(role__in=[Role.GRID_CHIEF, Role.BUILDING_CHIEF, Role.UNIT_CHIEF],
                                    ended_at__isnull=True)
                .values_list("user_id", "user__full_name", "user__username", "area_id", "building_id", "unit_id"))
    grid_of_building = dict(Building.objects.filter(pk__in=[r[4] for r in rows if r[4]]).values_list("id", "grid_id"))
    grid_of_unit = dict(Unit.objects.filter(pk__in=[r[5] for r in rows if r[5]]).values_list("id", "building__grid_id"))
    grids = [grid_of_building.get(r[4]) or grid_of_unit.get(r[5]) or r[3] for r in rows]
    parent = dict(Area.objects.filter(pk__in=[g for g in grids if g]).values_list("id", "parent_id"))
    found, seen = {}, set()
    for (user_id, full_name, username, *_place), grid_id in zip(rows, grids):
        if user_id in seen or grid_id not in parent:
            continue
        seen.add(user_id)
        found.setdefault(parent[grid_id], []).append((user_id, full_name or username, grid_id))
    return found


def _residents(chunk, per_community, rng, now):
    """{community_id: [(resident_id, name, district, street, community, grid)]}: living adults, sampled
    (what the residents seeder wrote, read through Volunteer.resident: volunteers imports no other domain app)."""
    from .models import Volunteer

    Resident = Volunteer._meta.get_field("resident").related_model
    cutoff = now.date() - timedelta(days=365 * 18 + 5)
    found = {}
    for community_id, *_rest in chunk:
        # Name order walks the (community, status, name) index; id order walked the whole primary key.
        rows = list(Resident.objects.filter(community_id=community_id, status="living", birth_date__lte=cutoff)
                    .order_by("name", "id").values_list("id", "name", "district_id", "street_id", "community_id",
                                                "grid_id")[:per_community * 8])
        found[community_id] = rng.sample(rows, min(per_community, len(rows)))
    return found


def _team_kinds(rng):
    kinds = ["convenience"]
    if rng.random() < 0.6:
        kinds.append("party")
    if rng.random() < 0.4:
        kinds.append("patrol")
    return kinds


TEAM_NAMES = {"convenience": "便民服务队", "party": "党员先锋队", "patrol": "平安巡逻队", "rescue": "应急救援队"}


def _plan_community(*, rows, ids, rng, community, streets, grids, buildings, residents, chiefs, organiser, start,
                    now, tz, counts, street_done, per_community, unusable):
    community_id, name, code, street_id, district_id = community
    Team, Station, Volunteer = _model("Team"), _model("Station"), _model("Volunteer")
    Activity, Signup, ServiceRecord, Order = (_model("Activity"), _model("Signup"), _model("ServiceRecord"),
                                              _model("Order"))
    Account, LedgerTransaction, Entry = _model("Account"), _model("LedgerTransaction"), _model("Entry")
    CatalogueItem, Redemption, Honour = _model("CatalogueItem"), _model("Redemption"), _model("Honour")
    created = datetime.combine(start, time(9), tzinfo=tz) - timedelta(days=400)

    teams = []
    for kind in _team_kinds(rng):
        pk = ids.take(Team)
        rows.add(Team, (pk, f"{name}{TEAM_NAMES[kind]}", kind, "", community_id, None, True, created))
        teams.append(pk)
    if street_id and street_id not in street_done:
        street_done.add(street_id)
        rows.add(Team, (ids.take(Team), f"{streets.get(street_id, '')}{TEAM_NAMES['rescue']}", "rescue", "",
                        street_id, None, True, created))
        rows.add(Station, (ids.take(Station), f"{streets.get(street_id, '')}志愿服务站", street_id, "", "", True))
    if rng.random() < 0.2:
        rows.add(Station, (ids.take(Station), f"{name}新时代文明实践站", community_id, "", "", True))

    # Volunteers: residents (or, without the residents seeder, people who signed up
    # with a portal account), then the chiefs with accounts.
    members = []  # (volunteer_id, path, user_id, resident_id, name)
    for resident_id, person, d, s, c, g in residents:
        members.append((ids.take(Volunteer), (d, s, c, g), None, resident_id, person))
    if not residents and grids:
        from grid.models import User
        from grid.seeding import person as someone

        for n in range(per_community):
            user_id, (person, phone) = ids.take(User), someone(rng)
            rows.add(User, (user_id, unusable, False, f"v{code}-{n}", "", "", "", False, True,
                            created, person, phone))
            members.append((ids.take(Volunteer), (district_id, street_id, community_id, rng.choice(grids)),
                            user_id, None, person))
    for user_id, person, grid_id in chiefs:
        members.append((ids.take(Volunteer), (district_id, street_id, community_id, grid_id), user_id, None, person))
    if not members:
        return
    for pk, path, user_id, resident_id, person in members:
        joined = start - timedelta(days=rng.randrange(0, 900))
        rows.add(Volunteer, (pk, *path, user_id, resident_id, person, rng.choice(("", "理发", "维修", "医护", "驾驶")),
                             rng.choice(("", "周末", "工作日晚上")), True, joined))
        rows.add(Volunteer.teams.through, (ids.take(Volunteer.teams.through), pk, rng.choice(teams)))
    counts["volunteers"] += len(members)

    # The books: the community's issuing and redemption accounts, one per volunteer.
    issuing, redeemed = ids.take(Account), ids.take(Account)
    rows.add(Account, (issuing, "issuing", community_id, None, 0))
    rows.add(Account, (redeemed, "redemption", community_id, None, 0))
    account = {}
    for pk, *_rest in members:
        account[pk] = ids.take(Account)
        rows.add(Account, (account[pk], "member", community_id, pk, 0))
    balance = dict.fromkeys(account, 0)
    earned = dict.fromkeys(account, 0)

    def book(kind, at, memo, legs, actor=organiser, **refs):
        txn = ids.take(LedgerTransaction)
        rows.add(LedgerTransaction, (txn, kind, at, actor, memo, None, None, refs.get("record"), refs.get("order"),
                                     None, refs.get("redemption")))
        for account_id, amount in legs:
            rows.add(Entry, (ids.take(Entry), txn, account_id, amount, at))
        counts["transactions"] += 1

    def award(volunteer_id, points, at, kind, memo, **refs):
        if points <= 0:
            return
        book(kind, at, memo, [(issuing, -points), (account[volunteer_id], points)], **refs)
        balance[volunteer_id] += points
        earned[volunteer_id] += points

    items = []
    for item_name, item_kind, price in CATALOGUE:
        pk = ids.take(CatalogueItem)
        items.append([pk, item_name, item_kind, price, rng.randrange(20, 100)])

    # Events of the year, in time order, so each account's running balance stays >= 0 as written.
    events = []
    months = 12
    for month in range(months):
        base = start + timedelta(days=30 * month)
        for _n in range(ACTIVITIES_PER_MONTH):
            events.append(("activity", base + timedelta(days=rng.randrange(30))))
        for _n in range(ORDERS_PER_MONTH):
            events.append(("order", base + timedelta(days=rng.randrange(30))))
        if month % 3 == 2:
            events.append(("bonus", base + timedelta(days=rng.randrange(30))))
            events.append(("redeem", base + timedelta(days=rng.randrange(30))))
    events.sort(key=lambda e: e[1])
    grid_ids = grids or [None]
    for kind, day in events:
        if day >= now.date():
            continue
        if kind == "activity":
            hour = rng.choice((8, 9, 14, 15, 19))
            starts = _local(day, hour, tz=tz)
            ends = starts + timedelta(hours=rng.choice((1, 2, 2, 3, 4)))
            if ends >= now:
                continue
            pk = ids.take(Activity)
            rate = rng.choice((10, 10, 10, 15, 20))
            title = rng.choice(ACTIVITY_TITLES)
            taking = rng.sample(members, min(len(members), rng.randrange(4, 11)))
            rows.add(Activity, (pk, title, "", community_id, rng.choice(teams), organiser, f"{name}党群服务中心",
                                starts, ends, max(len(taking), rng.randrange(8, 21)), rate, "finished",
                                starts - timedelta(days=7)))
            counts["activities"] += 1
            for volunteer_id, *_rest in taking:
                checked_in = starts + timedelta(minutes=rng.randrange(0, 15))
                checked_out = ends - timedelta(minutes=rng.randrange(0, 15))
                rows.add(Signup, (ids.take(Signup), pk, volunteer_id, "confirmed", starts - timedelta(days=3),
                                  checked_in, checked_out))
                hours = (Decimal((checked_out - checked_in).total_seconds()) / 3600).quantize(Decimal("0.01"))
                record = ids.take(ServiceRecord)
                confirmed = ends + timedelta(hours=1)
                rows.add(ServiceRecord, (record, volunteer_id, pk, None, checked_in, checked_out, hours, title,
                                         organiser, confirmed, None, ""))
                counts["records"] += 1
                points = int((hours * rate).quantize(Decimal(1), rounding=ROUND_DOWN))
                award(volunteer_id, points, confirmed, "hours", f"{hours} 小时：{title}", record=record)
        elif kind == "order":
            placed = _local(day, rng.randrange(8, 20), rng.randrange(60), tz=tz)
            order_kind = rng.choice(("errand", "errand", "opinion", "hard_matter"))
            grid_id = rng.choice(grid_ids)
            building = rng.choice(buildings.get(grid_id) or [(None, "")])
            pk = ids.take(Order)
            server = rng.choice(members)[0]
            claimed = placed + timedelta(minutes=rng.randrange(10, 240))
            done = claimed + timedelta(hours=rng.randrange(1, 24))
            confirmed = done + timedelta(hours=rng.randrange(1, 48))
            cancelled = rng.random() < 0.05
            status = "cancelled" if cancelled else "confirmed"
            rows.add(Order, (pk, district_id, street_id, community_id, grid_id, order_kind,
                             rng.choice(ORDER_TEXTS[order_kind]), building[0], building[1], None,
                             *seal(rng.choice("王李张刘陈杨") + "阿姨", f"13{rng.randrange(10**9):09d}"), None,
                             f"{pk:012X}", status, placed, placed + timedelta(hours=4),
                             None if cancelled else server, None if cancelled else claimed,
                             None if cancelled else done, None if cancelled else confirmed, None, 10, None))
            counts["orders"] += 1
            if not cancelled:
                award(server, 10, confirmed, "order", f"下单 {pk:012X}", order=pk)
        elif kind == "bonus":
            lucky = rng.choice(members)[0]
            award(lucky, rng.choice((20, 30, 50)), _local(day, 10, tz=tz), "bonus", rng.choice(BONUS_REASONS))
        else:  # redeem: a third of those who can afford something
            at = _local(day, 15, tz=tz)
            for volunteer_id, *_rest in members:
                if rng.random() > 0.35:
                    continue
                affordable = [item for item in items if item[3] <= balance[volunteer_id] and item[4] > 0]
                if not affordable:
                    continue
                item = rng.choice(affordable)
                item[4] -= 1
                pk = ids.take(Redemption)
                rows.add(Redemption, (pk, item[0], volunteer_id, 1, item[3], "picked_up", at,
                                      at + timedelta(days=rng.randrange(0, 5)), organiser))
                book("redeem", at, f"{item[1]} × 1", [(account[volunteer_id], -item[3]), (redeemed, item[3])],
                     actor=None, redemption=pk)
                balance[volunteer_id] -= item[3]
    for pk, item_name, item_kind, price, stock in items:
        rows.add(CatalogueItem, (pk, community_id, item_name, item_kind, price, stock, True))

    # Something open for the pages: two upcoming activities and a few orders in progress.
    for n in range(2):
        starts = _local(now.date() + timedelta(days=3 + 4 * n), 9, tz=tz)
        rows.add(Activity, (ids.take(Activity), rng.choice(ACTIVITY_TITLES), "", community_id, teams[0], organiser,
                            f"{name}党群服务中心", starts, starts + timedelta(hours=2), 10, 10, "open",
                            now - timedelta(days=2)))
    for status in ("open", "open", "claimed", "done"):
        placed = now - timedelta(hours=rng.randrange(1, 30))
        grid_id = rng.choice(grid_ids)
        building = rng.choice(buildings.get(grid_id) or [(None, "")])
        pk = ids.take(Order)
        server = rng.choice(members)[0] if status != "open" else None
        order_kind = rng.choice(("errand", "opinion", "hard_matter"))
        rows.add(Order, (pk, district_id, street_id, community_id, grid_id, order_kind,
                         rng.choice(ORDER_TEXTS[order_kind]), building[0], building[1], None,
                         *seal("刘大爷", f"13{rng.randrange(10**9):09d}"), None, f"{pk:012X}", status, placed,
                         placed + timedelta(hours=4), server, placed + timedelta(minutes=30) if server else None,
                         placed + timedelta(hours=1) if status == "done" else None, None, None, 10, None))
        counts["orders"] += 1

    # The year's honour, confirmed by the organiser.
    top = max(earned, key=lambda v: (earned[v], -v))
    if earned[top] > 0:
        rows.add(Honour, (ids.take(Honour), "社区好人", top, community_id, str((now - timedelta(days=30)).year),
                          "热心公益，服务时长居社区前列", organiser, now - timedelta(days=20)))


def _recompute_balances(Account):
    """Each account's cached balance from its entries, in one statement."""
    from django.db import connection

    account, entry = Account._meta.db_table, _model("Entry")._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {account} SET balance = COALESCE((SELECT SUM(e.amount) FROM {entry} e "
                       f"WHERE e.account_id = {account}.id), 0)")
