"""Benchmark the officials' dashboards (issue 6) on PostgreSQL.

    .venv/bin/python bench/dashboard_bench.py [--scale medium|large] [--reuse] [--repeat 9]
                                              [--period quarter] [--skip-live]
    .venv/bin/python bench/run.py --reuse --dashboard      # the same rows, after the tree's

Uses DATABASE_URL if set, else postgres://postgres@127.0.0.1:5432/portal_bench.
Seeds the city with `seed_city --scale <scale>` unless `--reuse` finds one of that
scale (large: 2.1 million cases; medium: 210,000), then rebuilds the rollups
(timed) and runs VACUUM ANALYZE on the case and rollup tables.

Three pages, in-process through Django's test client (middleware, view,
template; no network), as the users who would open them: the busiest
district's page as its district official, that district's busiest street as
street staff, and the whole city as an administrator, for the period given
(default: this quarter). Each is measured reading the rollups (the default)
and live from the case table (`?source=live`).

Lower bound: the page's own SQL statements, recorded while it renders (minus
the session and user look-ups) and replayed through a bare cursor: the time the
database needs for exactly these figures, without Python, the ORM or the
template. The ratio is the portal's overhead on top of its queries.

Writes bench/results/dashboard-<scale>.json and prints a table.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"
WARMUP = 2
# Targets from issue 6, in ms, for the rollup pages.
TARGETS = {"district": 150, "street": None, "city": 400}
SKIP_IN_LOWER_BOUND = ('"django_session"', 'FROM "grid_user" WHERE "grid_user"."id" =')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["large", "medium"], default="medium")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded city of this scale")
    parser.add_argument("--repeat", type=int, default=9, help="measured repetitions per page (median)")
    parser.add_argument("--period", default="quarter", choices=["today", "week", "month", "quarter", "year"])
    parser.add_argument("--skip-live", action="store_true", help="measure the rollup pages only")
    parser.add_argument("--keep-rollups", action="store_true",
                        help="with --reuse: do not rebuild rollups that were built before (minutes at large)")
    parser.add_argument("--cases-only", action="store_true",
                        help="seed the places and the cases only (no residents or volunteers: much faster at large)")
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= 1000:
        parser.error("--repeat must be between 1 and 1000")
    return args


def median_ms(fn, repeat):
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def _user(username, role=None, area_id=None, **fields):
    from django.utils import timezone

    from grid.models import Post, User

    user, _ = User.objects.get_or_create(username=username, defaults={"full_name": username, **fields})
    if role and not Post.objects.filter(user=user, role=role, area_id=area_id, ended_at__isnull=True).exists():
        Post.objects.create(user=user, role=role, area_id=area_id, started_at=timezone.now())
    return user


def fixture():
    """The busiest district, its busiest street, and a user for each page."""
    from django.db import connection

    from grid.models import Area, Role

    with connection.cursor() as cursor:
        cursor.execute("SELECT district_id, count(*) FROM cases_case GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        district_id, district_cases = cursor.fetchone()
        cursor.execute("SELECT street_id, count(*) FROM cases_case WHERE district_id = %s AND street_id IS NOT NULL "
                       "GROUP BY 1 ORDER BY 2 DESC LIMIT 1", [district_id])
        street_id, street_cases = cursor.fetchone()
    return {
        "district": (Area.objects.get(pk=district_id), district_cases,
                     _user("bench-dashboard-district", Role.DISTRICT_OFFICIAL, district_id)),
        "street": (Area.objects.get(pk=street_id), street_cases,
                   _user("bench-dashboard-street", Role.STREET_STAFF, street_id)),
        "city": (None, None, _user("bench-dashboard-admin", is_superuser=True, is_staff=True)),
    }


def record_queries(fn):
    """Run fn() once and return the (sql, params) it sent, minus the session and user look-ups."""
    from django.db import connection

    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        fn()
    return [(sql, params) for sql, params in seen if not any(s in sql for s in SKIP_IN_LOWER_BOUND)]


def replay(statements):
    from django.db import connection

    def run():
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                if cursor.description:
                    cursor.fetchall()

    return run


def measure(*, repeat=9, period="quarter", skip_live=False):
    """Rows for the results table: each page beside its lower bound."""
    from django.test import Client
    from django.urls import reverse

    rows = []
    fx = fixture()
    for name, (area, cases, user) in fx.items():
        client = Client()
        client.force_login(user)
        url = reverse("cases:dashboard") if area is None else reverse("cases:dashboard_place", args=[area.pk])
        for source in ("rollup",) if skip_live else ("rollup", "live"):
            query = {"period": period, **({"source": "live"} if source == "live" else {})}

            def page():
                response = client.get(url, query)
                assert response.status_code == 200, (url, response.status_code)

            statements = record_queries(page)
            portal_ms, portal_best = median_ms(page, repeat)
            raw_ms, raw_best = median_ms(replay(statements), repeat)
            label = area.name if area else "city"
            rows.append({
                "operation": f"{name} page ({label}{f', {cases:,} cases' if cases else ''}), {source}",
                "key": f"dashboard_{name}_{source}", "portal_ms": portal_ms, "lower_bound_ms": raw_ms,
                "ratio": portal_ms / raw_ms if raw_ms else None,
                "target_ms": TARGETS[name] if source == "rollup" else None,
                "note": f"{len(statements)} queries", "portal_best_ms": portal_best, "lower_bound_best_ms": raw_best,
            })
        rows.append(_people_row(client, name, area, period, repeat))
    return rows


def _people_row(client, name, area, period, repeat):
    """The people panel, which the page loads after itself (residents are counted live)."""
    from django.urls import reverse

    url = (reverse("cases:dashboard_people") if area is None
           else reverse("cases:dashboard_place_people", args=[area.pk]))

    def panel():
        response = client.get(url, {"period": period, "fragment": "1"})
        assert response.status_code == 200, (url, response.status_code)

    statements = record_queries(panel)
    portal_ms, portal_best = median_ms(panel, repeat)
    raw_ms, raw_best = median_ms(replay(statements), repeat)
    return {"operation": f"{name} people panel (loaded after the page)", "key": f"dashboard_{name}_people",
            "portal_ms": portal_ms, "lower_bound_ms": raw_ms, "ratio": portal_ms / raw_ms if raw_ms else None,
            "target_ms": None, "note": f"{len(statements)} queries", "portal_best_ms": portal_best,
            "lower_bound_best_ms": raw_best}


def prepare(scale_name, reuse, cases_only=False, keep_rollups=False):
    """Migrate, seed if needed, rebuild the rollups; returns extra rows (the rebuild's time)."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from bench.run import is_seeded
    from grid.models import Area
    from grid.seeding import SCALES

    scale = SCALES[scale_name]
    call_command("migrate", verbosity=0, interactive=False)
    seeded = reuse and is_seeded(scale)
    if seeded and keep_rollups:
        from dashboards.models import RollupState

        if RollupState.objects.filter(rebuilt_at__isnull=False).exists():
            return []
    if not seeded:
        if Area.objects.exists():
            if "bench" not in connection.settings_dict["NAME"]:
                sys.exit("refusing to flush a database whose name does not contain 'bench'")
            call_command("flush", interactive=False, verbosity=0)
        call_command("seed_city", scale=scale.name, accounts=False, places_only=cases_only)
        if cases_only:
            import random

            from django.db import transaction

            from cases import seed

            with transaction.atomic():
                seed.seed(scale=scale, rng=random.Random(1), stdout=sys.stdout, now=timezone.now())
    return rebuild()


def rebuild():
    """Rebuild the rollups (timed) and vacuum the tables the pages read; returns its row."""
    from django.db import connection
    from django.utils import timezone

    from dashboards.rollups import rollups_rebuild

    started = time.perf_counter()
    written = rollups_rebuild(now=timezone.now())
    rebuild_ms = (time.perf_counter() - started) * 1000
    with connection.cursor() as cursor:
        for table in ("cases_case", "cases_caserollup", "grid_area"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return [{"operation": f"rebuild_rollups ({written:,} rows)", "key": "dashboard_rebuild", "portal_ms": rebuild_ms,
             "lower_bound_ms": None, "ratio": None, "target_ms": None, "note": ""}]


def main():
    args = parse_args()
    from bench.run import DEFAULT_URL, ensure_database, print_table, setup_django

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    ensure_database(url)
    setup_django(url)
    from django.db import connection

    rows = prepare(args.scale, args.reuse, args.cases_only, args.keep_rollups)
    rows += measure(repeat=args.repeat, period=args.period, skip_live=args.skip_live)
    from cases.models import Case

    report = {
        "scale": args.scale,
        "cases": Case.objects.count(),
        "period": args.period,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.cursor().connection.info.parameter_status("server_version"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]},
        "repetitions": args.repeat,
        "operations": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
    }
    print_table(report)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"dashboard-{args.scale}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
