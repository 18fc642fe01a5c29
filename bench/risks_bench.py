"""Benchmark the early-warning sweep (issue #19: one beat run < 30 s, within 3× its raw-SQL floor,
idempotent when run twice) on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_risks2 \\
        .venv/bin/python bench/risks_bench.py [--risks-per-grid 4] [--repeat 5]

Runs on a city `seed_city` (or bench/run.py) seeded, with its cases; the
database name must contain "bench". Before measuring it adds, once (kept on
later runs), what the seeded city lacks for the rules: `--risks-per-grid`
open and closed risks in every grid (grades 10 % red, 20 % orange, 35 %
yellow, 35 % blue; registered over the last 90 days, so reviews are overdue
and clusters form; written with bulk_create, not the service), and one
community staff and one street staff post on every community and street (the
people the warnings notify). It then VACUUM ANALYZEs the tables the sweep reads.

Measured, each repetition in a transaction that is rolled back (so every one
starts with no warning raised and no review flagged):

- **first run**: `risks.early_warning.warnings_sweep`, what the hourly beat
  task runs: flag the overdue reviews, evaluate the six rules over the whole
  city (review overdue, risk clusters; repeated cases at a building, grids
  with many overdue cases, resident reports rising against last year and key
  persons not visited through the hub's hook), insert the warnings, claim them and write the notices to the
  outbox;
- **second run**: the same sweep again at once (must raise and notify nothing);
- **lower bound**: eight statements giving the same rows with the default
  thresholds: one UPDATE of the overdue reviews, six INSERT … SELECT … ON
  CONFLICT DO NOTHING (one per rule, evidence built with jsonb in SQL), and one
  UPDATE … RETURNING of the new warnings feeding an INSERT of one inbox row per
  staff member. It takes no lock beyond the rows, reads no settings and builds
  no title text. Before timing, the runner checks both write the same number of
  warnings and outbox rows.

Also the grid worker's day page (`/risks/day/`, target < 50 ms): in-process
through Django's test client as a worker on the grid with the most open risks,
with a patrol under way and a plan due, beside the replay of the page's own SQL
(as bench/dashboard_bench.py does).

Writes bench/results/risks.json and prints it.
"""

import argparse
import json
import os
import platform
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MS = 30_000
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_bench_risks2"


# With --seed: the cases of the last quarter only, at the large city's rate (700,000 a year): the
# rules read the last 30 days, so older cases would only cost seeding time.
RECENT_DAYS = 91
CASES_A_YEAR = {"large": 700_000, "medium": 70_000}


def seed(scale_name):
    import random

    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from cases import seed as case_seed
    from grid.models import Area
    from grid.seeding import SCALES

    if Area.objects.exists():
        return False
    call_command("seed_city", scale=scale_name, accounts=False, places_only=True)
    case_seed.YEARS = RECENT_DAYS / 365
    case_seed.CASES_BY_SCALE[scale_name] = CASES_A_YEAR[scale_name] * RECENT_DAYS // 365
    started = time.perf_counter()
    with transaction.atomic():
        case_seed.seed(scale=SCALES[scale_name], rng=random.Random(1), stdout=sys.stdout, now=timezone.now())
    print(f"cases seeded in {time.perf_counter() - started:.0f} s")
    return True


class Rollback(Exception):
    pass


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--risks-per-grid", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", choices=["large", "medium"],
                        help="on an empty database: seed_city --places-only at this scale, then the cases "
                             "seeder over the last RECENT_DAYS only, at the city's rate of cases a day")
    args = parser.parse_args()
    if not 1 <= args.repeat <= 100 or not 1 <= args.risks_per_grid <= 50:
        parser.error("--repeat 1–100, --risks-per-grid 1–50")
    return args


def add_people_and_risks(per_grid, now):
    """Staff posts and risks, once (a city that has risks already keeps them)."""
    from django.db import connection, transaction

    from grid.models import Area, AreaKind, Building, Post, Role, User
    from risks.grading import REVIEW_DAYS, Grade
    from risks.models import Risk, RiskType

    if Risk.objects.exists():
        return False
    rng = random.Random(19)
    with transaction.atomic():
        places = list(Area.objects.filter(kind__in=[AreaKind.STREET, AreaKind.COMMUNITY], is_active=True)
                      .values_list("pk", "kind"))
        users = User.objects.bulk_create([User(username=f"bench-staff-{pk}", full_name=f"干部{pk}")
                                          for pk, _kind in places], batch_size=2000)
        Post.objects.bulk_create([
            Post(user=u, area_id=pk, role=Role.STREET_STAFF if kind == AreaKind.STREET else Role.COMMUNITY_STAFF,
                 started_at=now) for u, (pk, kind) in zip(users, places)], batch_size=2000)
        author = User.objects.create(username="bench-risk-author", full_name="网格员")
        parents = dict(Area.objects.values_list("pk", "parent_id"))
        buildings = {}
        for pk, grid_id in Building.objects.values_list("pk", "grid_id").iterator(chunk_size=50_000):
            buildings.setdefault(grid_id, []).append(pk)
        grades = [Grade.RED] * 10 + [Grade.ORANGE] * 20 + [Grade.YELLOW] * 35 + [Grade.BLUE] * 35
        kinds = [k for k in RiskType.values if k != RiskType.OTHER]
        rows = []
        for grid_id in Area.objects.filter(kind=AreaKind.GRID, is_active=True).values_list("pk", flat=True):
            community = parents[grid_id]
            street = parents[community]
            district = parents[street]
            for _n in range(per_grid):
                grade = rng.choice(grades)
                created = now - timedelta(days=rng.uniform(0, 90))
                closed = rng.random() < 0.15
                rows.append(Risk(
                    district_id=district, street_id=street, community_id=community, grid_id=grid_id,
                    building_id=rng.choice(buildings[grid_id]) if buildings.get(grid_id) else None,
                    kind=rng.choice(kinds), title="楼道堆放杂物", description="一楼楼道堆放纸箱",
                    method="matrix", score=16, grade=grade, assessed_at=created, responsible="物业公司",
                    measures="通知清理", review_on=(created + timedelta(days=REVIEW_DAYS[grade])).date(),
                    status="closed" if closed else "open", closed_at=created + timedelta(days=1) if closed else None,
                    closed_by=author if closed else None, close_evidence="已清理" if closed else "",
                    created_by=author, created_at=created))
        Risk.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        for table in ("risks_risk", "grid_post", "cases_case"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return True


LOWER_BOUND = [
    # 1. the overdue reviews
    """UPDATE risks_risk SET review_overdue_since = %(now)s
        WHERE status = 'open' AND review_overdue_since IS NULL AND review_on < %(today)s""",
    # 2. review overdue (red and orange, a day past)
    """INSERT INTO risks_earlywarning (district_id, street_id, community_id, grid_id, rule, subject, evidence_key,
            title, evidence, building_id, risk_id, raised_at, status, note)
        SELECT district_id, street_id, community_id, grid_id, 'review_overdue', 'risk:' || id,
               'review_overdue:risk:' || id || ':' || review_on, title,
               jsonb_build_object('risks', jsonb_build_array(id), 'grade', grade, 'review_on', review_on,
                                  'days_overdue', %(today)s::date - review_on),
               building_id, id, %(now)s, 'open', ''
          FROM risks_risk
         WHERE status = 'open' AND grade IN ('1red', '2orange') AND review_overdue_since IS NOT NULL
           AND review_on <= %(today)s::date - 1
        ON CONFLICT DO NOTHING""",
    # 3. clusters: 3 open risks of one type in one grid within 30 days
    """INSERT INTO risks_earlywarning (district_id, street_id, community_id, grid_id, rule, subject, evidence_key,
            title, evidence, raised_at, status, note)
        SELECT min(district_id), min(street_id), min(community_id), grid_id, 'risk_cluster',
               'grid:' || grid_id || ':' || kind, 'risk_cluster:grid:' || grid_id || ':' || kind || ':' || max(id),
               count(*) || ' ' || kind, jsonb_build_object('risks', jsonb_agg(id ORDER BY id), 'kind', kind,
                                                            'window_days', 30),
               %(now)s, 'open', ''
          FROM risks_risk
         WHERE status = 'open' AND grid_id IS NOT NULL AND created_at >= %(since)s
         GROUP BY grid_id, kind HAVING count(*) >= 3
        ON CONFLICT DO NOTHING""",
    # 4. the same category at one building, 3 times within 30 days
    """INSERT INTO risks_earlywarning (district_id, street_id, community_id, grid_id, rule, subject, evidence_key,
            title, evidence, building_id, raised_at, status, note)
        SELECT min(district_id), min(street_id), min(community_id), min(grid_id), 'case_repeat',
               'building:' || building_id || ':category:' || category_id,
               'case_repeat:building:' || building_id || ':category:' || category_id || ':' || max(id),
               count(*) || ' cases', jsonb_build_object('cases', jsonb_agg(number ORDER BY id), 'count', count(*)),
               building_id, %(now)s, 'open', ''
          FROM cases_case
         WHERE created_at >= %(since)s AND building_id IS NOT NULL AND duplicate_of_id IS NULL
         GROUP BY building_id, category_id HAVING count(*) >= 3
        ON CONFLICT DO NOTHING""",
    # 5. a grid with 10 or more open cases past their deadline
    """INSERT INTO risks_earlywarning (district_id, street_id, community_id, grid_id, rule, subject, evidence_key,
            title, evidence, raised_at, status, note)
        SELECT district_id, street_id, community_id, grid_id, 'grid_overdue', 'grid:' || grid_id,
               'grid_overdue:grid:' || grid_id || ':' || max(id), count(*) || ' overdue',
               jsonb_build_object('cases', (array_agg(number ORDER BY id DESC))[1:20], 'count', count(*)),
               %(now)s, 'open', ''
          FROM cases_case
         WHERE status IN ('reported', 'registered', 'dispatched', 'handling') AND due_at < %(now)s
           AND grid_id IS NOT NULL
         GROUP BY grid_id, district_id, street_id, community_id HAVING count(*) >= 10
        ON CONFLICT DO NOTHING""",
    # 6. resident reports of one category in one community: 5 or more in the last 28 days and 50 % more than
    #    in the same 28 days 52 weeks before (hub/warning_rules.py report_rise)
    """INSERT INTO risks_earlywarning (district_id, street_id, community_id, grid_id, rule, subject, evidence_key,
            title, evidence, raised_at, status, note)
        SELECT min(n.district_id), min(n.street_id), n.community_id, NULL, 'report_rise',
               'community:' || n.community_id || ':category:' || n.category_id,
               'report_rise:community:' || n.community_id || ':category:' || n.category_id || ':' || max(n.id),
               count(*) || ' reports',
               jsonb_build_object('cases', (array_agg(n.number ORDER BY n.id DESC))[1:20], 'this_year', count(*),
                                  'last_year', coalesce(max(l.n), 0)),
               %(now)s, 'open', ''
          FROM cases_case n
          LEFT JOIN (SELECT community_id, category_id, count(*) AS n FROM cases_case
                      WHERE created_at >= %(last_year_since)s AND created_at < %(last_year_until)s
                        AND channel IN ('web', 'qr', 'open311', 'hotline') AND duplicate_of_id IS NULL
                      GROUP BY community_id, category_id) l
            ON l.community_id = n.community_id AND l.category_id = n.category_id
         WHERE n.created_at >= %(rise_since)s AND n.created_at < %(now)s
           AND n.channel IN ('web', 'qr', 'open311', 'hotline') AND n.community_id IS NOT NULL
           AND n.duplicate_of_id IS NULL
         GROUP BY n.community_id, n.category_id
        HAVING count(*) >= 5 AND count(*) * 100 >= coalesce(max(l.n), 0) * 150
        ON CONFLICT DO NOTHING""",
    # 7. key persons not visited for 30 days (hub/warning_rules_people.py)
    """INSERT INTO risks_earlywarning (district_id, street_id, community_id, grid_id, rule, subject, evidence_key,
            title, evidence, building_id, raised_at, status, note)
        SELECT r.district_id, r.street_id, r.community_id, r.grid_id, 'key_person_visit', 'resident:' || r.id,
               'key_person_visit:resident:' || r.id || ':' || coalesce(r.last_visited_at::text, 'never'),
               'key person', jsonb_build_object('resident', r.id, 'last_visit', r.last_visited_at),
               r.building_id, %(now)s, 'open', ''
          FROM residents_resident r
         WHERE r.status = 'living' AND coalesce(r.last_visited_at, r.created_at) <= %(key_person_cutoff)s
           AND r.id IN (SELECT rt.resident_id FROM residents_resident_tags rt
                          JOIN residents_tag t ON t.id = rt.tag_id WHERE t.key_person)
        ON CONFLICT DO NOTHING""",
    # 8. tell the community and street staff, once
    """WITH claimed AS (
            UPDATE risks_earlywarning SET notified_at = %(now)s WHERE notified_at IS NULL
            RETURNING title, community_id, street_id)
        INSERT INTO cases_delivery (channel, user_id, address, subject, body, status, attempts, next_attempt_at,
                                    last_error, created_at)
        SELECT 'inbox', p.user_id, '', left('预警：' || c.title, 200), c.title, 'pending', 0, %(now)s, '', %(now)s
          FROM claimed c JOIN grid_post p ON p.area_id IN (c.community_id, c.street_id)
         WHERE p.role IN ('community_staff', 'street_staff') AND p.ended_at IS NULL""",
]


def counts():
    from cases.models import Delivery
    from risks.models import EarlyWarning

    return EarlyWarning.objects.count(), Delivery.objects.filter(case__isnull=True).count()


def rolled_back(fn):
    from django.db import transaction
    from django.db.models import Count

    result = {}
    try:
        with transaction.atomic():
            started = time.perf_counter()
            result["value"] = fn()
            result["ms"] = (time.perf_counter() - started) * 1000
            result["counts"] = counts()
            from risks.models import EarlyWarning

            result["by_rule"] = dict(EarlyWarning.objects.values_list("rule").annotate(n=Count("pk")).order_by())
            raise Rollback
    except Rollback:
        pass
    return result


def day_page(repeat, now):
    """The grid worker's day (`/risks/day/`, issue #19: < 50 ms) in-process through the test client, as a
    worker posted on the grid with the most open risks (a patrol under way, a plan due), beside the
    replay of the page's own SQL through a bare cursor (bench/dashboard_bench.py's lower bound)."""
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from bench.dashboard_bench import median_ms, record_queries, replay
    from grid.models import Post, Role, User
    from risks.models import InspectionPlan, Patrol, Risk

    grid_id = (Risk.objects.filter(status="open").values("grid_id").annotate(n=Count("pk")).order_by("-n")
               .values_list("grid_id", flat=True)[0])
    worker, _new = User.objects.get_or_create(username="bench-grid-worker", defaults={"full_name": "网格员"})
    Post.objects.get_or_create(user=worker, area_id=grid_id, role=Role.GRID_WORKER, ended_at=None,
                               defaults={"started_at": now})
    if not Patrol.objects.filter(worker=worker, ended_at__isnull=True).exists():
        Patrol.objects.create(worker=worker, grid_id=grid_id, started_at=now)
    InspectionPlan.objects.get_or_create(grid_id=grid_id, title="楼栋巡查", defaults={
        "interval_days": 7, "next_due": now.date(), "created_by": worker, "created_at": now})
    client = Client()
    client.force_login(worker)
    url = reverse("risks:day")

    def page():
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    statements = record_queries(page)
    portal_ms, portal_best = median_ms(page, repeat)
    raw_ms, raw_best = median_ms(replay(statements), repeat)
    return {"portal_ms": round(portal_ms, 2), "portal_best_ms": round(portal_best, 2),
            "lower_bound_ms": round(raw_ms, 2), "lower_bound_best_ms": round(raw_best, 2),
            "ratio": round(portal_ms / raw_ms, 2), "queries": len(statements), "target_ms": 50,
            "open_risks_in_grid": Risk.objects.filter(grid_id=grid_id, status="open").count()}


def main():
    args = parse_args()
    from bench.run import ensure_database, setup_django

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    name = ensure_database(url)
    if "bench" not in name:
        sys.exit("refusing to write to a database whose name does not contain 'bench'")
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from cases.models import Case
    from grid.models import Area, AreaKind
    from risks.early_warning import warnings_sweep
    from risks.models import Risk

    call_command("migrate", verbosity=0, interactive=False)
    seeded = seed(args.seed) if args.seed else False
    now = timezone.now()
    added = add_people_and_risks(args.risks_per_grid, now)
    params = {"now": now, "today": timezone.localdate(now), "since": now - timedelta(days=30),
              "rise_since": now - timedelta(days=28), "last_year_since": now - timedelta(days=28 + 364),
              "last_year_until": now - timedelta(days=364), "key_person_cutoff": now - timedelta(days=30)}
    before = counts()

    def portal():
        return warnings_sweep(now=now)

    def twice():
        warnings_sweep(now=now)
        started = time.perf_counter()
        second = warnings_sweep(now=now)
        return second, (time.perf_counter() - started) * 1000

    def floor():
        with connection.cursor() as cursor:
            for statement in LOWER_BOUND:
                cursor.execute(statement, params)

    check_portal, check_floor = rolled_back(portal), rolled_back(floor)
    print("portal:", check_portal["value"], check_portal["counts"], "lower bound:", check_floor["counts"])
    if check_portal["counts"] != check_floor["counts"]:
        sys.exit(f"portal and lower bound disagree: {check_portal['counts']} != {check_floor['counts']}")
    first, raw, second = [], [], []
    for i in range(1 + args.repeat):  # one warm-up
        p, r = rolled_back(portal), rolled_back(floor)
        s = rolled_back(twice)
        if i:
            first.append(p["ms"])
            raw.append(r["ms"])
            second.append(s["value"][1])
        assert s["value"][0] == {"flagged": 0, "raised": 0, "notified": 0}, s["value"]
    assert counts() == before
    import statistics

    day = day_page(max(args.repeat, 15), now)

    med = statistics.median
    grids = Area.objects.filter(kind=AreaKind.GRID, is_active=True).count()
    report = {
        "scale": f"{grids:,} grids",
        "grids": grids, "cases": Case.objects.count(), "risks": Risk.objects.count(),
        "risks_open": Risk.objects.filter(status="open").count(), "risks_added_now": added,
        "city_seeded_now": seeded, "cases_last_30_days": Case.objects.filter(created_at__gte=params["since"]).count(),
        "sweep_result": check_portal["value"],
        "warnings": check_portal["counts"][0], "warnings_by_rule": check_portal["by_rule"], "outbox_rows": check_portal["counts"][1],
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.cursor().connection.info.parameter_status("server_version"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]},
        "repetitions": args.repeat,
        "first_run_ms": {"median": round(med(first), 1), "best": round(min(first), 1), "all": [round(x) for x in first]},
        "lower_bound_ms": {"median": round(med(raw), 1), "best": round(min(raw), 1), "all": [round(x) for x in raw]},
        "ratio_median": round(med(first) / med(raw), 2),
        "second_run_ms": {"median": round(med(second), 1), "best": round(min(second), 1)},
        "target_ms": TARGET_MS,
        "day_page": day,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("risks.json" if grids < 5000 else "risks-large.json")
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
