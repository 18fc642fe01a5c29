"""Reference data (categories, the working calendar) and seeded cases for seed_city.

`load_reference_data()` is idempotent: it creates what is missing and never
overwrites what staff changed. Migration 0002 runs it, so every database
(tests included) has the categories; the holidays come from workcalendar 0003.
"""

import multiprocessing
import os
from time import perf_counter

from django.db import connection

from portal.personal import Sealer
from portal.workcalendar.services import calendar_load_defaults

from . import seed_mediation
from .data import categories as category_data
from .seed_mediation import MEDIATION_FIELDS, PARTY_FIELDS, SESSION_FIELDS, plan_file, write_counters

# Reporters' and orderers' names and phones go in encrypted and masked, as the services write them
# (portal/personal.py); the keys are derived once per seed run.
_sealer = None


def _seal(name, phone):
    global _sealer
    if _sealer is None:
        _sealer = Sealer()
    return _sealer(name, phone)


def _model(apps, name):
    if apps is None:
        from django.apps import apps as live

        return live.get_model("cases", name)
    return apps.get_model("cases", name)


def load_categories(apps=None):
    """Create the shipped categories that do not exist yet (by code). Returns how many were created."""
    Category = _model(apps, "Category")
    created = 0
    tops = {}
    for order, (code, name, family, triage, dispatch, accept, handle, mediation) in enumerate(category_data.TOP):
        top, made = Category.objects.get_or_create(code=code, defaults=dict(
            name=name, family=family, triage=triage, is_mediation=mediation, sort_order=order * 100,
            **_limits(dispatch, accept, handle),
        ))
        tops[code] = top
        created += made
    for order, (parent, code, name, triage, dispatch, accept, handle) in enumerate(category_data.SUB):
        top = tops[parent]
        _cat, made = Category.objects.get_or_create(code=code, defaults=dict(
            parent=top, name=name, family=top.family, triage=triage, is_mediation=top.is_mediation,
            sort_order=top.sort_order + order + 1, **_limits(dispatch, accept, handle),
        ))
        created += made
    return created


def _limits(dispatch, accept, handle):
    return {
        "dispatch_limit": dispatch[0], "dispatch_limit_unit": dispatch[1],
        "accept_limit": accept[0], "accept_limit_unit": accept[1],
        "handle_limit": handle[0], "handle_limit_unit": handle[1],
    }


def load_reference_data(apps=None):
    """The categories, and outside migrations the working calendar's defaults too.

    Migration 0002 calls this with the state of its time. It used to load the
    calendar there as well (hand-typed 2025–2026 holidays); a new database now
    gets its calendar from the chinese-calendar package in workcalendar 0003.
    """
    created = load_categories(apps)
    if apps is None:
        created += calendar_load_defaults()
    return created


# --- seeded cases (manage.py seed_city) --------------------------------------------------

# Cases per scale: a Mianyang-size city logs ~700,000 matters a year (DOMAIN), so
# "large" holds three years of them; "demo" is a few hundred, some due within minutes.
CASES_BY_SCALE = {"demo": 400, "medium": 210_000, "large": 2_100_000}
YEARS = 3
CHUNK = 20_000
# From this many cases on, chunks are planned in worker processes (PostgreSQL only).
POOL_THRESHOLD = 100_000

# Relative frequency of the subcategories (the rest weigh 1): litter, parking and
# street vending dominate city-management logs; emergencies are rare.
CATEGORY_WEIGHTS = {
    "E0101": 14, "E0102": 9, "E0103": 5, "E0104": 5, "E0105": 6, "E0301": 10, "E0302": 12, "E0303": 6,
    "E0304": 4, "C0301": 6, "C0102": 3, "C0103": 5, "C0101": 2, "E0201": 2, "E0202": 3, "E0601": 4,
    "E0602": 4, "E0501": 3, "E0502": 1, "E0503": 2, "E0701": 2, "E0702": 2, "E0801": 2, "E0401": 0.2,
    "E0402": 0.1, "E0403": 0.3, "E0404": 0.1,
}
CHANNEL_WEIGHTS = (("patrol", 55), ("web", 12), ("qr", 6), ("hotline", 18), ("alarm", 4), ("department", 4),
                   ("open311", 1))
REPORTER_KIND = {"patrol": "grid_worker", "web": "resident", "qr": "resident", "open311": "resident",
                 "hotline": "hotline_operator", "alarm": "alarm_system", "department": "department"}
# Hours of the day reports come in (patrols and calls cluster in working hours).
HOUR_WEIGHTS = [1, 0.5, 0.3, 0.3, 0.3, 0.6, 1.5, 4, 8, 10, 10, 9, 6, 7, 9, 10, 9, 8, 6, 5, 4, 3, 2, 1.5]
RATING_WEIGHTS = ((5, 62), (4, 24), (3, 8), (2, 4), (1, 2))

EVENT_FIELDS = ("case_id", "action", "from_status", "to_status", "actor_id", "at", "note", "is_public", "data")
CASE_FIELDS = (
    "id", "number", "tracking_code", "kind", "channel", "external_ref", "reporter_kind", "reporter_id",
    "reporter_name", "reporter_name_masked", "reporter_phone", "reporter_phone_masked", "category_id",
    "description", "address", "building_id", "unit_id",
    "latitude", "longitude", "status", "responsible_level", "assignee_id", "due_at", "handle_due_at",
    "supervised_at", "supervised_by_id", "carried_over_at", "carried_over_reason", "duplicate_of_id",
    "rework_count", "extension_count", "escalation_count", "alarm_count", "rating", "rating_comment", "rated_at",
    "created_at", "registered_at", "accepted_at", "resolved_at", "resolved_by_id", "closed_at",
    "district_id", "street_id", "community_id", "grid_id",
    "rating_count", "satisfied_count", "deadline_at", "deadline_stage", "handling_minutes",
)
# History rows (issue #18): every rating, and the first deadlines of the hotline's work orders (their
# 响应率 reads them; other channels keep the judged deadline on the case row only, to keep seeding fast).
RATING_FIELDS = ("case_id", "rating", "solved", "comment", "at")
DEADLINE_FIELDS = ("case_id", "stage", "kind", "due_at", "previous_met", "value", "unit", "at")

PHRASES = {
    "E0101": "路边有一堆暴露垃圾，无人清理",
    "E0102": "路面有油污和泥土，行人易滑倒",
    "E0103": "空地上堆放建筑渣土",
    "E0104": "墙面被乱贴小广告",
    "E0105": "楼道里堆满杂物，影响通行",
    "E0301": "人行道上有摊贩占道经营",
    "E0302": "机动车停在消防通道和人行道上",
    "E0303": "共享单车乱停乱放堵住入口",
    "E0304": "夜间噪声很大，影响休息",
    "C0301": "垃圾箱破损，垃圾满溢",
    "C0102": "连续几盏路灯晚上不亮",
    "C0103": "一盏路灯不亮",
    "C0101": "井盖缺失，存在安全隐患",
    "E0201": "楼顶正在搭建违章建筑",
    "E0202": "工地夜间施工扰民",
    "E0601": "消防通道被车辆和杂物堵塞",
    "E0602": "有居民把电动车推进楼道充电",
    "E0501": "邻居之间因漏水发生纠纷",
    "E0502": "家庭成员因赡养问题发生矛盾",
    "E0503": "业主与物业因收费发生纠纷",
}

TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _tracking_code():
    # Unguessable even for seeded rows: from the OS's randomness, not the seeded rng.
    import secrets

    n = secrets.randbits(65)
    out = []
    for _ in range(13):
        n, r = divmod(n, 31)
        out.append(TRACKING_ALPHABET[r])
    return "".join(out)


def seed(*, scale, rng, stdout, now, workers=None):
    """Reference data, then cases over three years: mostly closed, the recent ones in every state.

    Cases are planned in chunks of CHUNK, each with its own random stream, so
    the chunks can be planned side by side: at city scale on PostgreSQL, worker
    processes plan and format them as COPY text while this process streams them
    into seed_city's transaction and numbers the mediation files in order. The
    tables' indexes are built once after the load. `workers` is for tests and
    the benchmark (default: one per CPU, at most four).
    """
    global _sealer
    _sealer = None  # keys as configured now
    started = perf_counter()
    from datetime import timedelta

    from django.db.models import Max

    from grid import seeding
    from grid.models import Area, AreaKind, Building, Post, Role, Unit
    from portal.workcalendar import calendar as working_calendar

    from .models import (
        Case,
        CaseDeadline,
        CaseEvent,
        CaseNumberCounter,
        CaseRating,
        Category,
        Mediation,
        MediationParty,
        MediationSession,
    )

    load_reference_data()
    total = CASES_BY_SCALE.get(scale.name, 400)
    grids = list(Area.objects.filter(kind=AreaKind.GRID, is_active=True).values_list("id", "tree_id", "lft"))
    if not grids:
        stdout.write("  cases: no grids, nothing to seed")
        return
    ancestors = _ancestors_of(Area)
    buildings = {}
    for pk, grid_id, address in Building.objects.values_list("id", "grid_id", "address").iterator(chunk_size=50_000):
        buildings.setdefault(grid_id, []).append((pk, address))
    first_unit = dict(Unit.objects.order_by().values_list("building_id").annotate(m=Max("id")).values_list(
        "building_id", "m")) if scale.name == "demo" else {}
    workers_of = {}
    for user_id, area_id in Post.objects.filter(role=Role.GRID_WORKER, ended_at__isnull=True).values_list(
            "user_id", "area_id"):
        workers_of.setdefault(area_id, []).append(user_id)
    staff = {}
    for user_id, area_id in Post.objects.filter(role=Role.COMMUNITY_STAFF, ended_at__isnull=True).values_list(
            "user_id", "area_id"):
        staff.setdefault(area_id, []).append(user_id)

    categories = list(Category.objects.filter(parent__isnull=False, is_active=True))
    weights = [CATEGORY_WEIGHTS.get(c.code, 1) for c in categories]
    if scale.name == "demo":
        # The demo shows the mediation file in each of its states: disputes come more often there.
        weights = [w * 4 if c.is_mediation else w for c, w in zip(categories, weights)]
    channels, channel_weights = zip(*CHANNEL_WEIGHTS)
    cal = working_calendar.current()
    first_case = (Case.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    start = now - timedelta(days=365 * YEARS)
    span_seconds = (now - start).total_seconds()

    # Creation times: more cases in later years (the portal's use grows), fewer at weekends.
    times = []
    while len(times) < total:
        # Triangular-ish growth: density rises linearly over the three years.
        x = max(rng.random(), rng.random()) if rng.random() < 0.6 else rng.random()
        t = start + timedelta(seconds=x * span_seconds)
        if scale.name == "demo" and rng.random() < 0.3:
            # The demo shows a living board: a good share of its cases are from the last days.
            t = now - timedelta(seconds=rng.uniform(600, 8 * 86400))
        local = t.astimezone(working_calendar.TZ)
        if not cal.is_working_day(local.date()) and rng.random() < 0.45:
            continue
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        t = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
        if t < now - timedelta(minutes=5):
            times.append(t)
    times.sort()
    # The demo needs something for escalation to do on the clock, in the demo accounts' grid.
    demo_grid = next(iter(workers_of), None) if scale.name == "demo" else None

    # Case numbers run per day in creation order: each chunk starts from the day's count so far.
    counters, chunk_counters = {}, []
    for index, created in enumerate(times):
        if index % CHUNK == 0:
            chunk_counters.append(counters.get(created.date(), 0))
        counters[created.date()] = counters.get(created.date(), 0) + 1
    _CONTEXT.clear()
    _CONTEXT.update(
        scale=scale, now=now, times=times, first_case=first_case, total=total, chunk_counters=chunk_counters,
        base_seed=rng.getrandbits(64), grids=grids, demo_grid=demo_grid, categories=categories, weights=weights,
        channels=channels, channel_weights=channel_weights, ancestors=ancestors, buildings=buildings,
        first_unit=first_unit, workers=workers_of, staff=staff, cal=cal,
    )
    chunks = range(len(chunk_counters))
    processes = (min(4, os.cpu_count() or 1) if workers is None else workers)
    use_pool = (connection.vendor == "postgresql" and processes > 1 and total >= POOL_THRESHOLD
                and "fork" in multiprocessing.get_all_start_methods())
    models = (Case, CaseEvent, CaseRating, CaseDeadline)
    fields = (CASE_FIELDS, EVENT_FIELDS, RATING_FIELDS, DEADLINE_FIELDS)
    file_counters, file_plans = {}, []
    written = events_written = parties_written = sessions_written = 0
    # Millions of rows: one foreign-key check per key at the end instead of a
    # deferred trigger per row at the commit, and each index built once, after
    # the load (grid.seeding.trusted_bulk_load).
    with seeding.trusted_bulk_load([Case, CaseEvent, Mediation, MediationParty, MediationSession, CaseRating,
                                    CaseDeadline], indexes_after=True):
        if use_pool:
            seed_mediation.seal_parties([])  # the field's keys derived here once, before the workers fork
            planned = seeding.planned_in_workers(_chunk_copy, chunks, workers=processes)
        else:
            planned = (_plan_chunk(k) for k in chunks)
        for planned_chunk in planned:
            tables, mediations, parties, sessions, counts = (planned_chunk[:4], *planned_chunk[4:7],
                                                             planned_chunk[7])
            for model, names, rows in zip(models, fields, tables):
                if use_pool:
                    seeding.copy_text_into(model, names, rows)
                else:
                    _write(model, names, rows)
            # Files are numbered per committee and year in the order they were opened (the cases' order).
            _write(Mediation, MEDIATION_FIELDS, [seed_mediation.number(f, file_counters) for f, _ in mediations])
            if use_pool:  # parties sealed by the worker
                seeding.copy_text_into(MediationParty, PARTY_FIELDS, parties)
                seeding.copy_text_into(MediationSession, SESSION_FIELDS, sessions)
            else:
                seed_mediation.write_parties(parties)
                _write(MediationSession, SESSION_FIELDS, sessions)
            file_plans.extend(details for _, details in mediations)
            written, events_written = written + counts[0], events_written + counts[1]
            parties_written, sessions_written = parties_written + counts[2], sessions_written + counts[3]
            if total >= CHUNK:
                stdout.write(f"    cases {written:,} / {total:,}")
                stdout.flush()
    # Live numbering continues after the seeded numbers of each day.
    existing = dict(CaseNumberCounter.objects.values_list("day", "last"))
    CaseNumberCounter.objects.bulk_create(
        [CaseNumberCounter(day=d, last=n) for d, n in counters.items() if d not in existing], batch_size=5_000
    )
    for d, n in counters.items():
        if d in existing:
            CaseNumberCounter.objects.filter(day=d).update(last=existing[d] + n)
    seeding.finish_bulk_load([Case, CaseEvent])
    stdout.write(f"    {written:,} cases, {events_written:,} timeline events in {perf_counter() - started:.1f} s "
                 f"({'%d planning processes' % processes if use_pool else 'planned in-process'})")
    started = perf_counter()
    _seed_mediators(file_plans, file_counters, demo=scale.name == "demo")
    stdout.write(f"    {len(file_plans):,} mediation files, {parties_written:,} parties, {sessions_written:,} sessions; "
                 f"mediators and file numbers in {perf_counter() - started:.1f} s")
    # 吹哨报到 and 12345 work orders, through the live services (demo scale: they need its accounts).
    from . import seed_whistles

    seed_whistles.seed(stdout=stdout, now=now)
    # Routing rules, the 准入 list and (demo) big matters along the organisation track.
    from . import seed_orgs

    seed_orgs.seed(scale=scale, rng=rng, stdout=stdout, now=now)


# Set in the parent before the pool forks (or before planning in-process); read by _plan_chunk.
_CONTEXT = {}


def _plan_chunk(k):
    """Rows of chunk `k` (pure Python, no database): cases, events, ratings, deadlines, files (unnumbered),
    the files' parties (ID numbers and phones in the clear) and sessions, and the counts of cases, events,
    parties and sessions."""
    import random

    from grid.seeding import person

    c = _CONTEXT
    rng = random.Random(c["base_seed"] ^ k)
    demo = c["scale"].name == "demo"
    first_case, total, times, demo_grid = c["first_case"], c["total"], c["times"], c["demo_grid"]
    counters = {}
    case_rows, event_rows, ratings, deadlines, mediations = [], [], [], [], []
    for index in range(k * CHUNK, min((k + 1) * CHUNK, total)):
        created = times[index]
        pk = first_case + index
        grid_id, _tree, _lft = rng.choice(c["grids"])
        category = rng.choices(c["categories"], c["weights"])[0]
        if demo_grid and (rng.random() < 0.25 or category.is_mediation):
            # The demo's disputes are all in its mediator's community, so each open one has its handler
            # and next session there, whatever the random stream and the day.
            grid_id = demo_grid
        channel = rng.choices(c["channels"], c["channel_weights"])[0]
        day = created.date()
        counters[day] = counters.get(day, c["chunk_counters"][k] if index == k * CHUNK else 0) + 1
        number = f"{day:%Y%m%d}{counters[day]:05d}"
        path = c["ancestors"][grid_id]
        case, events, mediation, (case_ratings, case_deadlines) = _plan_case(
            demo=demo, rng=rng, pk=pk, number=number, created=created, now=c["now"],
            category=category, channel=channel, grid_id=grid_id, path=path, buildings=c["buildings"].get(grid_id, ()),
            first_unit=c["first_unit"], workers=c["workers"].get(grid_id, ()),
            staff=c["staff"].get(path["community_id"], ()), cal=c["cal"], first_case=first_case,
            demo_clock=(grid_id == demo_grid and index >= total - 60),
        )
        case_rows.append(case)
        event_rows.extend(events)
        ratings.extend(case_ratings)
        deadlines.extend(case_deadlines)
        if mediation:
            mediations.append(mediation)
    # After the chunk's cases, so the cases' random draws do not depend on their files' parties.
    parties, sessions = [], []
    for _fields, details in mediations:
        file_parties, file_sessions = seed_mediation.plan_details(rng, details, person=person)
        parties += file_parties
        sessions += file_sessions
    counts = (len(case_rows), len(event_rows), len(parties), len(sessions))
    return case_rows, event_rows, ratings, deadlines, mediations, parties, sessions, counts


def _chunk_copy(k):
    """Worker: chunk `k` planned, its tables as COPY text, the parties encrypted (the files stay rows: the
    parent numbers them)."""
    from grid.seeding import copy_text

    cases, events, ratings, deadlines, mediations, parties, sessions, counts = _plan_chunk(k)
    return (copy_text(cases), copy_text(events), copy_text(ratings), copy_text(deadlines), mediations,
            copy_text(seed_mediation.seal_parties(parties)), copy_text(sessions), counts)


def _seed_mediators(plans, counters, *, demo):
    """Mediators of the seeded files and the committees' numbering; the demo's mediator mediates in their community."""
    from grid.models import Post, Role

    from .models import Case, MediationRoom

    extra = {}
    if demo:
        for user_id, area_id in Post.objects.filter(role=Role.PEOPLES_MEDIATOR, ended_at__isnull=True).values_list(
                "user_id", "area_id"):
            for case_id in Case.objects.filter(community_id=area_id, kind="mediation").values_list("pk", flat=True):
                extra.setdefault(case_id, []).append(user_id)
            # The mediator's community has its mediation room (调解室), to choose when scheduling a session.
            area = Post.objects.get(user_id=user_id, area_id=area_id, role=Role.PEOPLES_MEDIATOR).area
            MediationRoom.objects.get_or_create(area=area, name=f"{area.name}人民调解室",
                                                defaults={"address": f"{area.name}党群服务中心二楼"})
    seed_mediation.write_mediators(plans, extra_mediators=extra)
    write_counters(counters)


def _write(model, fields, rows):
    from grid import seeding

    return seeding.write_rows(model=model, fields=fields, rows=rows) if rows else 0


def _ancestors_of(Area):
    """{grid_id: {district_id, street_id, community_id, grid_id}} from the tree, in one pass."""
    parent = dict(Area.objects.values_list("id", "parent_id"))
    kind = dict(Area.objects.values_list("id", "kind"))
    found = {}
    for pk, k in kind.items():
        if k != "grid":
            continue
        path = {"grid_id": pk}
        node = parent[pk]
        while node is not None:
            path[f"{kind[node]}_id"] = node
            node = parent[node]
        found[pk] = path
    return found


def _plan_case(*, demo=False, rng, pk, number, created, now, category, channel, grid_id, path, buildings, first_unit,
               workers, staff, cal, first_case, demo_clock):
    from datetime import timedelta

    from grid.seeding import person

    def later(t, low_minutes, high_minutes):
        return t + timedelta(minutes=rng.uniform(low_minutes, high_minutes))

    building_id, address = rng.choice(buildings) if buildings else (None, "")
    unit_id = first_unit.get(building_id) if building_id and rng.random() < 0.3 else None
    mediation = category.is_mediation
    resident = channel in ("web", "qr", "open311", "hotline")
    name, phone = person(rng) if resident else ("", "")
    description = PHRASES.get(category.code, category.name)
    if address:
        description = f"{address}：{description}"
    worker = rng.choice(workers) if workers and not mediation else None
    level = "grid" if worker or (not mediation and not staff) else "community"
    handler = worker or (rng.choice(staff) if staff else None)
    if level == "grid" and not worker and not path.get("grid_id"):
        level = "community"
    age = now - created
    ev = []
    ratings = []

    def event(action, at, before, after, actor=None, note="", public=True, data=None):
        ev.append((pk, action, before, after, actor, at, note, public, data or {}))

    event("report", created, "", "reported", note="", data={"channel": channel})
    # Registered within the hour and a half, but never after now.
    registered = min(later(created, 3, 90), max(created, now - timedelta(minutes=1))) if resident else created
    event("register", registered, "reported", "registered")
    dispatched = registered
    event("dispatch", dispatched, "registered", "dispatched", data={"level": level, "assignee": handler})
    accept_v, accept_u = category.limit("accept")
    handle_v, handle_u = category.limit("handle")
    accepted = min(later(dispatched, 2, 120), cal.add(dispatched, accept_v, accept_u) + timedelta(minutes=30))
    handle_due = cal.add(accepted, handle_v, handle_u)
    # The judged deadline (cases/deadlines.py): the accept stage's first deadline, then, if it was
    # met, the handling stage's. Seeded cases keep it on the row only (no CaseDeadline lines).
    accept_due = cal.add(dispatched, accept_v, accept_u)
    judged = (handle_due, "handle") if accepted <= accept_due else (accept_due, "missed")
    row = dict(
        status="closed", responsible_level=level, assignee_id=handler, due_at=None, handle_due_at=handle_due,
        supervised_at=None, supervised_by_id=None, carried_over_at=None, carried_over_reason="",
        duplicate_of_id=None, rework_count=0, extension_count=0, escalation_count=0, rating=None,
        rating_comment="", rated_at=None, registered_at=registered, accepted_at=accepted, resolved_at=None,
        resolved_by_id=None, closed_at=None, rating_count=0, satisfied_count=0,
        deadline_at=judged[0], deadline_stage=judged[1], handling_minutes=None,
    )
    fate = rng.random()
    recent = age < timedelta(days=10)
    # The demo keeps more of its recent disputes open, so its mediators' lists are never empty.
    finished_share = 0.25 if demo and mediation else 0.55
    if not recent or fate < finished_share:
        # Finished: mostly on time, some late (escalated on the way), a few rejected or duplicates.
        if fate < 0.015:
            ev[1:] = []
            row.update(status="rejected", closed_at=registered, registered_at=None, accepted_at=None,
                       deadline_at=None, deadline_stage="",
                       handle_due_at=None, assignee_id=None, responsible_level="community" if path.get(
                           "community_id") else "grid")
            event("reject", registered, "reported", "rejected", note="非本系统受理事项")
        elif fate < 0.025 and pk > first_case:
            ev[2:] = []
            row.update(status="duplicate", closed_at=registered, duplicate_of_id=rng.randrange(first_case, pk),
                       accepted_at=None, handle_due_at=None, assignee_id=None)
            event("mark_duplicate", registered, "registered", "duplicate")
        else:
            late = rng.random() < 0.08
            share = rng.uniform(1.05, 2.5) if late else rng.uniform(0.1, 0.95)
            resolved = accepted + (handle_due - accepted) * share
            verified = later(resolved, 20, 600)
            closed = later(verified, 1, 30)
            if closed >= now:
                # A recent case whose planned finish is still ahead: in hand, or not yet accepted. A
                # seeded step (and so a mediation session) is never in the future.
                closed = None
                if accepted >= now:
                    row.update(status="dispatched", accepted_at=None, handle_due_at=None, deadline_at=accept_due,
                               deadline_stage="accept", due_at=accept_due)
                else:
                    event("accept", accepted, "dispatched", "handling", actor=handler)
                    row.update(status="handling", due_at=handle_due)
            else:
                event("accept", accepted, "dispatched", "handling", actor=handler)
                event("resolve", resolved, "handling", "resolved", actor=handler, note="已处理完毕")
                event("verify", verified, "resolved", "verified")
                event("close", closed, "verified", "closed")
                row.update(resolved_at=resolved, resolved_by_id=handler, closed_at=closed,
                           handling_minutes=round(cal.working_minutes_between(created, closed)))
            if closed is not None and rng.random() < 0.6 and channel in ("web", "qr", "open311", "hotline"):
                rating = rng.choices(*zip(*RATING_WEIGHTS))[0]
                rated = min(later(closed, 10, 4000), now)
                row.update(rating=rating, rated_at=rated, rating_comment="" if rating >= 4 else "处理不够及时",
                           rating_count=1, satisfied_count=int(rating >= 4))
                ratings.append((pk, rating, rating >= 3, row["rating_comment"], rated))
                event("rate", rated, "closed", "", data={"rating": rating})
            if closed is not None and not recent and rng.random() < 0.003:
                # A few old matters stay on the carry-over list (挂账).
                ev[:] = [e for e in ev if e[1] in ("report", "register", "dispatch", "accept")]
                ratings.clear()
                row.update(status="handling", resolved_at=None, resolved_by_id=None, closed_at=None, rating=None,
                           rating_count=0, satisfied_count=0, handling_minutes=None,
                           rated_at=None, rating_comment="", due_at=handle_due, carried_over_at=later(accepted, 60, 600),
                           carried_over_reason="涉及多部门，需列入年度计划解决")
                event("carry_over", row["carried_over_at"], "", "", note=row["carried_over_reason"], public=False)
    else:
        # Still open: spread over the loop, some past due.
        stage = rng.choices(("reported", "dispatched", "handling", "resolved", "verified"), (1, 2, 5, 2, 1))[0]
        if stage == "reported" and not resident:
            stage = "dispatched"
        if demo and mediation:
            # The demo's open disputes: one in three waits to be accepted, the rest are in mediation.
            stage = ("dispatched", "handling", "handling")[pk % 3]
        if stage not in ("reported", "dispatched") and accepted > now:
            stage = "dispatched"  # not accepted yet: a seeded event is never in the future
        if stage == "reported":
            ev[1:] = []
            row.update(status="reported", registered_at=None, accepted_at=None, handle_due_at=None, assignee_id=None,
                       deadline_at=None, deadline_stage="",
                       responsible_level="community" if path.get("community_id") else "grid",
                       due_at=cal.add(created, *category.limit("dispatch")))
        elif stage == "dispatched":
            row.update(status="dispatched", accepted_at=None, handle_due_at=None, deadline_at=accept_due,
                       deadline_stage="accept",
                       due_at=cal.add(dispatched, accept_v, accept_u))
        else:
            event("accept", accepted, "dispatched", "handling", actor=handler)
            row.update(status="handling", due_at=handle_due)
            if stage in ("resolved", "verified") and accepted < now - timedelta(minutes=30):
                resolved = later(accepted, 10, max(11, min(600, (now - accepted).total_seconds() / 60 - 5)))
                event("resolve", resolved, "handling", "resolved", actor=handler, note="已处理，请核查")
                row.update(status="resolved", resolved_at=resolved, resolved_by_id=handler, due_at=None)
                if stage == "verified":
                    verified = min(later(resolved, 5, 120), now)
                    event("verify", verified, "resolved", "verified")
                    row["status"] = "verified"
    if demo_clock and row["status"] in ("dispatched", "handling") and level == "grid" and pk % 4 == 0:
        # Due within the next half hour: the beat sweep visibly escalates a few in the demo (a few: a
        # grid worker opening the demo later still finds their list).
        row["due_at"] = now + timedelta(minutes=rng.uniform(5, 30))
    case = dict(
        id=pk, number=number, tracking_code=_tracking_code(), kind="mediation" if mediation else "ordinary",
        channel=channel, external_ref="", reporter_kind=REPORTER_KIND[channel],
        reporter_id=worker if channel == "patrol" else None,
        **dict(zip(("reporter_name", "reporter_name_masked", "reporter_phone", "reporter_phone_masked"),
                   _seal(name, phone), strict=True)),
        category_id=category.pk, description=description, address=address, building_id=building_id,
        unit_id=unit_id, latitude=None, longitude=None, alarm_count=1 if channel == "alarm" else 0,
        created_at=created, **row, **{k: path.get(k) for k in ("district_id", "street_id", "community_id",
                                                              "grid_id")},
    )
    med = None
    if mediation:
        med = plan_file(rng, pk=pk, code=category.code, row=row, path=path, created=created, now=now, demo=demo)
    deadlines = []
    if channel == "hotline" and row["deadline_stage"]:
        at = {e[1]: e[5] for e in ev if e[1] in ("register", "dispatch", "accept")}
        if "register" in at:
            due = cal.add(at["register"], *category.limit("dispatch"))
            deadlines.append((pk, "dispatch", "first", due, True, None, "", at["register"]))
        if "dispatch" in at:
            deadlines.append((pk, "accept", "first", accept_due, True, None, "", at["dispatch"]))
        if "accept" in at:
            deadlines.append((pk, "handle", "first", handle_due, accepted <= accept_due, None, "", at["accept"]))
    return tuple(case[f] for f in CASE_FIELDS), ev, med, (ratings, deadlines)
