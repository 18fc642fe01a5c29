"""Benchmark Open311 reads and the JSON API's case list on PostgreSQL (issue 8).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_open311 \\
        .venv/bin/python bench/open311_bench.py [--repeat 15]

Needs a seeded city with cases (manage.py seed_city --scale medium or large).
Measured in-process through Django's test client (middleware, view, rendering;
no network), in the busiest street, inside a transaction rolled back at the end
(the key it issues and the staff post it grants leave nothing behind):

- GET /open311/v2/requests.json with a key bound to the street: the default
  window (90 days) and page (1000 rows);
- GET /open311/v2/servicerequestupdates.json, same key, the last 7 days;
- GET /api/v1/cases/ signed in as the street's staff (50 rows).

Each beside the raw SQL that returns the same rows with the least work (no
scoping checks, no key look-up, no rendering). Writes bench/results/open311.json.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
WARMUP = 2

REQUESTS_SQL = """
    SELECT c.id, c.number, c.status, c.description, c.address, c.building_id, c.latitude, c.longitude,
           c.created_at, c.due_at, c.handle_due_at, cat.code, cat.name, b.latitude, b.longitude,
           (SELECT e.at FROM cases_caseevent e WHERE e.case_id = c.id ORDER BY e.at DESC, e.id DESC LIMIT 1),
           (SELECT e.note FROM cases_caseevent e WHERE e.case_id = c.id AND e.is_public AND e.note <> ''
            ORDER BY e.at DESC, e.id DESC LIMIT 1)
    FROM cases_case c
    JOIN cases_category cat ON cat.id = c.category_id
    LEFT JOIN grid_building b ON b.id = c.building_id
    WHERE c.street_id = %(street)s AND c.kind = 'ordinary' AND c.created_at BETWEEN %(start)s AND %(end)s
    ORDER BY c.created_at DESC, c.id DESC
    LIMIT 1000
"""
UPDATES_SQL = """
    SELECT e.id, c.number, e.to_status, e.at, e.note, e.is_public, e.action
    FROM cases_caseevent e JOIN cases_case c ON c.id = e.case_id
    WHERE c.street_id = %(street)s AND c.kind = 'ordinary' AND e.to_status <> ''
      AND e.at BETWEEN %(start)s AND %(end)s
    ORDER BY e.at, e.id
    LIMIT 1000
"""
CASES_SQL = """
    SELECT c.*, cat.code, cat.name FROM cases_case c JOIN cases_category cat ON cat.id = c.category_id
    WHERE c.street_id = %(street)s ORDER BY c.created_at DESC, c.id DESC LIMIT 51
"""


class Rollback(Exception):
    pass


def setup_django():
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/open311_bench.py measures PostgreSQL; set DATABASE_URL to a seeded postgres:// database.")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def median_ms(fn, repeat):
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 3), round(min(times) * 1000, 3)


def measure(repeat):
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.test import Client

    from cases.open311 import services
    from grid import services as grid_services
    from grid.models import Area, Role, User

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")
        cursor.execute("VACUUM ANALYZE cases_caseevent")
        cursor.execute("SELECT street_id, count(*) FROM cases_case WHERE street_id IS NOT NULL "
                       "GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        street_id, total = cursor.fetchone()
        cursor.execute("SELECT max(created_at) FROM cases_case")
        end = cursor.fetchone()[0]
    street = Area.objects.get(pk=street_id)
    results = []

    def raw(sql, params):
        def run():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        return run

    def get(client, url, params):
        def run():
            cache.clear()  # the rate limit counts every call; the bench is not a client
            response = client.get(url, params)
            assert response.status_code == 200, (url, response.status_code, response.content[:300])
            return response
        return run

    try:
        with transaction.atomic():
            admin = User.objects.create(username="bench-open311", is_superuser=True)
            api, key = services.client_issue(name="bench", area=street, acting_user=admin, rate_limit=10_000)
            staff = User.objects.create(username="bench-open311-street")
            grid_services.post_grant(user=staff, role=Role.STREET_STAFF, place=street)
            open311 = Client()
            signed_in = Client()
            signed_in.force_login(staff)
            # The seeded cases end at the seed's "now": put the windows there.
            window = {"start": (end - timedelta(days=90)).isoformat(), "end": end.isoformat()}
            week = {"start": (end - timedelta(days=7)).isoformat(), "end": end.isoformat()}
            cases = [
                ("Open311 GET requests (90 days, 1000 rows)", "/open311/v2/requests.json",
                 {"api_key": key, "start_date": window["start"], "end_date": window["end"]},
                 REQUESTS_SQL, {"street": street_id, "start": end - timedelta(days=90), "end": end}, open311),
                ("Open311 GET servicerequestupdates (7 days)", "/open311/v2/servicerequestupdates.json",
                 {"api_key": key, "start_date": week["start"], "end_date": week["end"]},
                 UPDATES_SQL, {"street": street_id, "start": end - timedelta(days=7), "end": end}, open311),
                ("/api/v1/cases/ (street staff, 50 rows)", "/api/v1/cases/", {}, CASES_SQL,
                 {"street": street_id}, signed_in),
            ]
            for label, url, params, sql, sql_params, client in cases:
                rows = len(get(client, url, params)().json() if "open311" in url
                           else get(client, url, params)().json()["results"])
                portal_ms, portal_best = median_ms(get(client, url, params), repeat)
                raw_ms, raw_best = median_ms(raw(sql, sql_params), repeat)
                results.append({"operation": label, "rows": rows, "raw_rows": len(raw(sql, sql_params)()),
                                "portal_ms": portal_ms, "portal_best_ms": portal_best, "lower_bound_ms": raw_ms,
                                "lower_bound_best_ms": raw_best,
                                "ratio": round(portal_ms / raw_ms, 1) if raw_ms else None,
                                "note": f"{total:,} cases in the street"})
            raise Rollback
    except Rollback:
        pass
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    if not 1 <= args.repeat <= 1000:
        parser.error("--repeat must be between 1 and 1000")
    setup_django()
    results = measure(args.repeat)
    print(f"{'operation':48} {'rows':>5} {'portal ms':>10} {'raw ms':>8} {'ratio':>6}")
    for r in results:
        print(f"{r['operation']:48} {r['rows']:>5} {r['portal_ms']:>10.1f} {r['lower_bound_ms']:>8.1f} "
              f"{r['ratio']:>6}")
    report = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "repetitions": args.repeat,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]},
              "operations": results}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "open311.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print("wrote bench/results/open311.json")


if __name__ == "__main__":
    main()
