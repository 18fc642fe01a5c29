"""Benchmark the organisation track (issue #16) on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_route .venv/bin/python bench/orgs_bench.py \
        [--repeat 31] [--open-matters 20000] [--mine 2000]

Runs on a seeded city (manage.py seed_city --scale medium, or bench/run.py's); everything it
writes happens inside one transaction that is rolled back.

(a) registration with routing against today's case_register, in-process, alternating:
    - "today": case_register of a resident's report of a small category, with the organisation
      routing switched off (cases.routing_orgs.propose and grid_excluded patched to their
      trivial answers: main's code path before this change);
    - "small, routed": the same report with routing on (the district's rules and 准入 list read);
    - "big, routed": a report of a ruled category (违法建设 → 城管执法), registered as a big matter:
      the rules, the covering organisations and their jurisdiction read, the command centre told.
    Each repetition reports a fresh matter (untimed) and times only case_register. Target: routed
    ≤ 1.5× today.
(b) an organisation's queue with --open-matters (20,000) open organisation matters city-wide,
    --mine (2,000) of them with the measured street 城管执法中队: the page (/cases/org/) through the
    test client (whole middleware, view, template) beside the raw SQL of the same page (its count,
    capped at 501 rows like the page's, and first 50 rows with category and building). Target < 50 ms.

Writes bench/results/orgs.json and prints a table.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.cases_bench import DEFAULT_URL, machine, ms, setup_django  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"register_ratio": 1.5, "queue_ms": 50}


class Rollback(Exception):
    pass


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=31)
    parser.add_argument("--open-matters", type=int, default=20_000)
    parser.add_argument("--mine", type=int, default=2_000)
    return parser.parse_args()


def _place_and_people():
    """The busiest street's first community with a grid worker; its staff and the street's staff."""
    from django.db import connection

    from grid import services as grid_services
    from grid.models import Area, AreaKind, Building, Post, Role, User

    with connection.cursor() as cursor:
        cursor.execute("SELECT street_id FROM cases_case GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        street_id = cursor.fetchone()[0]
    post = (Post.objects.filter(role=Role.GRID_WORKER, ended_at__isnull=True, area__parent__parent_id=street_id)
            .select_related("area").first())
    grid = post.area if post else Area.objects.filter(kind=AreaKind.GRID, parent__parent_id=street_id).first()
    community = grid.parent
    if post is None:
        worker = User.objects.create(username="bench-org-worker", full_name="网格员（基准）")
        grid_services.post_grant(user=worker, role=Role.GRID_WORKER, place=grid)
    staff = User.objects.create(username="bench-org-community", full_name="社区（基准）")
    grid_services.post_grant(user=staff, role=Role.COMMUNITY_STAFF, place=community)
    building = Building.objects.filter(grid=grid).first()
    return Area.objects.get(pk=street_id), building, staff


def _time_register(staff, building, code, triage, repeat_index, *, routing):
    from cases import routing_orgs, services, services_report
    from cases.models import Channel

    case = services_report.case_report(category=code, description=f"基准事件 {repeat_index}", channel=Channel.WEB,
                                       building=building)
    if routing:
        started = time.perf_counter()
        services.case_register(case=case, acting_user=staff, triage=triage)
        return time.perf_counter() - started
    trivial = routing_orgs.Proposal(triage="small")
    with mock.patch.object(routing_orgs, "propose", lambda case: trivial), \
            mock.patch("cases.routing.grid_excluded", lambda case: False):
        started = time.perf_counter()
        services.case_register(case=case, acting_user=staff)
        return time.perf_counter() - started


def registration_bench(args):
    from django.db import transaction

    from cases import seed_orgs
    from cases.models import RoutingRule

    results = {}
    try:
        with transaction.atomic():
            if not RoutingRule.objects.exists():
                seed_orgs.seed_rules(now=datetime.now(UTC))
            street, building, staff = _place_and_people()
            runs = {"today": [], "small_routed": [], "big_routed": []}
            for n in range(args.repeat + 2):
                for name, code, triage, routing in (("today", "E0101", None, False),
                                                    ("small_routed", "E0101", None, True),
                                                    ("big_routed", "E0201", "public", True)):
                    spent = _time_register(staff, building, code, triage, n, routing=routing)
                    if n >= 2:
                        runs[name].append(spent)
            for name, times in runs.items():
                results[name] = {"median_ms": ms(statistics.median(times)), "best_ms": ms(min(times))}
            results["street"] = street.name
            raise Rollback
    except Rollback:
        pass
    base = results["today"]["median_ms"]
    for name in ("small_routed", "big_routed"):
        results[name]["ratio"] = round(results[name]["median_ms"] / base, 2)
    return results


QUEUE_SQL = (
    # The page counts up to its cap (cases.views_orgs.QUEUE_COUNT_CAP, 500: "500+"), so does its floor.
    "SELECT count(*) FROM (SELECT 1 FROM cases_case c WHERE c.organisation_id = %(org)s "
    "AND c.status IN ('dispatched', 'handling') LIMIT 501) capped",
    """
    SELECT c.id, c.number, c.status, c.due_at, c.org_supervised_due, c.description, cat.name, b.number
    FROM cases_case c
    JOIN cases_category cat ON cat.id = c.category_id
    LEFT JOIN grid_building b ON b.id = c.building_id
    WHERE c.organisation_id = %(org)s AND c.status IN ('dispatched', 'handling')
    ORDER BY c.due_at, c.id
    LIMIT 50
    """,
)

# Turn picked cases into open organisation matters: each gets a lead assignment row.
_MAKE_MATTERS = """
WITH picked AS (
    SELECT id, row_number() OVER () AS n FROM (
        SELECT id FROM cases_case WHERE street_id IS NOT NULL ORDER BY random() LIMIT %(total)s) p
), targets AS (
    SELECT p.id, CASE WHEN p.n <= %(mine)s THEN %(org)s
                      ELSE (%(others)s::bigint[])[1 + (p.n %% array_length(%(others)s::bigint[], 1))] END AS org,
           p.n
    FROM picked p
), rows AS (
    INSERT INTO cases_orgassignment (case_id, organisation_id, role, kind, reason, assigned_at, sign_in_due_at)
    SELECT id, org, 'lead', 'dispatch', '', %(now)s, %(now)s + interval '2 hours' FROM targets
    RETURNING id, case_id, organisation_id
)
UPDATE cases_case c SET status = CASE WHEN t.n %% 3 = 0 THEN 'handling' ELSE 'dispatched' END,
    triage_class = 'public', organisation_id = rows.organisation_id, org_assignment_id = rows.id,
    due_at = %(now)s + (t.n %% 500) * interval '1 minute', closed_at = NULL, rating = NULL, rated_at = NULL,
    rating_comment = '', duplicate_of_id = NULL, resolved_at = NULL, resolved_by_id = NULL,
    carried_over_at = NULL, carried_over_reason = '', responsible_level = 'street', assignee_id = NULL,
    returned_at = NULL, referred_to = ''
FROM rows JOIN targets t ON t.id = rows.case_id
WHERE c.id = rows.case_id
"""


def queue_bench(args):
    from django.db import connection, transaction
    from django.test import Client
    from django.urls import reverse

    from cases.selectors import org_queue_for
    from grid import services as grid_services
    from grid.models import OrgFunction, OrgKind, Organisation, Role, User

    results = {}
    try:
        with transaction.atomic():
            street, _building, _staff = _place_and_people()
            org = Organisation.objects.get(seat=street, function=OrgFunction.URBAN_MANAGEMENT)
            others = list(Organisation.objects.filter(kind=OrgKind.DEPARTMENT).exclude(pk=org.pk)
                          .values_list("pk", flat=True))
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(_MAKE_MATTERS, {"total": args.open_matters, "mine": args.mine, "org": org.pk,
                                               "others": others, "now": datetime.now(UTC)})
                cursor.execute("ANALYZE cases_case")
                cursor.execute("ANALYZE cases_orgassignment")
                cursor.execute("SELECT count(*) FROM cases_case WHERE organisation_id IS NOT NULL "
                               "AND status IN ('dispatched', 'handling')")
                open_total = cursor.fetchone()[0]
            setup_s = time.perf_counter() - started
            user = User.objects.create(username="bench-org-staff", full_name="城管（基准）")
            grid_services.post_grant(user=user, role=Role.ORG_STAFF, place=org)
            mine = org_queue_for(User.objects.get(pk=user.pk)).count()
            client = Client(headers={"Accept-Language": "zh-CN"})
            client.force_login(user)

            def page():
                response = client.get(reverse("cases:org_queue"))
                assert response.status_code == 200

            def raw():
                with connection.cursor() as cursor:
                    for sql in QUEUE_SQL:
                        cursor.execute(sql, {"org": org.pk})
                        cursor.fetchall()

            times = {"portal": [], "raw": []}
            for n in range(args.repeat + 2):
                for name, fn in (("portal", page), ("raw", raw)):
                    t = time.perf_counter()
                    fn()
                    if n >= 2:
                        times[name].append(time.perf_counter() - t)
            results = {
                "organisation": org.name, "open_city_wide": open_total, "in_its_queue": mine,
                "setup_s": round(setup_s, 1),
                "portal_ms": ms(statistics.median(times["portal"])), "portal_best_ms": ms(min(times["portal"])),
                "raw_ms": ms(statistics.median(times["raw"])), "raw_best_ms": ms(min(times["raw"])),
            }
            # For comparison under the same load: the grid worker's queue (the page the organisation's
            # copies) with a full page of 50 cases in hand, beside its own raw SQL (bench/cases_bench.py).
            from bench.cases_bench import QUEUE_SQL as WORKER_SQL
            from bench.cases_bench import _queue_owner
            from cases.selectors import queue_for

            owner = _queue_owner(in_hand=50)
            if owner:
                worker, grid_id = owner
                worker_client = Client(headers={"Accept-Language": "zh-CN"})
                worker_client.force_login(worker)
                wtimes = {"portal": [], "raw": []}

                def worker_page():
                    assert worker_client.get(reverse("cases:queue")).status_code == 200

                def worker_raw():
                    with connection.cursor() as cursor:
                        for sql in WORKER_SQL:
                            cursor.execute(sql, {"user": worker.pk, "grid": grid_id})
                            cursor.fetchall()

                for n in range(args.repeat + 2):
                    for name, fn in (("portal", worker_page), ("raw", worker_raw)):
                        t = time.perf_counter()
                        fn()
                        if n >= 2:
                            wtimes[name].append(time.perf_counter() - t)
                results["worker_queue"] = {
                    "cases": queue_for(User.objects.get(pk=worker.pk)).count(),
                    "portal_ms": ms(statistics.median(wtimes["portal"])), "raw_ms": ms(statistics.median(wtimes["raw"]))}
            results["plan"] = org_queue_for(User.objects.get(pk=user.pk))[:50].explain().splitlines()
            raise Rollback
    except Rollback:
        pass
    results["ratio"] = round(results["portal_ms"] / results["raw_ms"], 1)
    return results


def main():
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    setup_django(url)
    from django.conf import settings

    from cases.models import Case

    random.seed(1)
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
              "database": settings.DATABASES["default"]["NAME"], "cases": Case.objects.count(),
              "machine": machine(), "targets": TARGETS}
    report["registration"] = registration_bench(args)
    report["org_queue"] = queue_bench(args)
    report["machine_after"] = machine()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "orgs.json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    r, q = report["registration"], report["org_queue"]
    print(f"\nPostgreSQL {report['database']} · {report['cases']:,} cases · load {report['machine']['load_average_1_5_15']}")
    print(f"case_register today (routing off)   {r['today']['median_ms']:8.2f} ms (best {r['today']['best_ms']:.2f})")
    for name in ("small_routed", "big_routed"):
        met = "met" if r[name]["ratio"] <= TARGETS["register_ratio"] else "MISSED"
        print(f"case_register {name:<22}{r[name]['median_ms']:8.2f} ms (best {r[name]['best_ms']:.2f})"
              f"  {r[name]['ratio']:.2f}×  ≤ 1.5× {met}")
    met = "met" if q["portal_ms"] < TARGETS["queue_ms"] else "MISSED"
    print(f"organisation queue ({q['in_its_queue']:,} of {q['open_city_wide']:,} open)  {q['portal_ms']:8.2f} ms"
          f"  raw SQL {q['raw_ms']:.2f} ms  {q['ratio']:.1f}×  < 50 ms {met}")
    w = q.get("worker_queue")
    if w:
        print(f"  beside it, the grid worker's queue ({w['cases']} cases)  {w['portal_ms']:8.2f} ms"
              f"  raw SQL {w['raw_ms']:.2f} ms")
    print("written bench/results/orgs.json")


if __name__ == "__main__":
    main()
