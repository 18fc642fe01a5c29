"""Does the rollup refresh keep up with 100 status changes a second? (issue #18)

    .venv/bin/python bench/rollup_refresh_bench.py [--scale medium|large] [--reuse] [--changes 6000]

Uses DATABASE_URL if set, else postgres://postgres@127.0.0.1:5432/portal_bench. Prepares the city
like bench/dashboard_bench.py (seed unless --reuse finds one, rebuild the rollups).

The beat runs `rollups_refresh` every minute, so at 100 changes a second one run must fold in
6,000 changed cases in under 60 s. Each repetition writes one timeline line for each of
`--changes` distinct cases reported in the last 30 days, picked at random (the cases that
change are the recent ones, spread over the city), in one statement: the database trigger
lists them in the backlog exactly as status changes would (the refresh reads the backlog and
the case rows, never the event itself). Then it times one `rollups_refresh`. A smaller batch
(a tenth) shows how the cost scales with the buckets touched.

Writes bench/results/rollup-refresh-<scale>.json and prints a table.
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"
TARGET_PER_SECOND = 100


def changed(ids):
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_caseevent (case_id, action, from_status, to_status, actor_id, at, note, is_public, "
            "data) SELECT id, 'note', '', '', NULL, now(), 'bench', FALSE, '{}'::jsonb FROM cases_case "
            "WHERE id = ANY(%s)", [list(ids)])


def measure(changes, repeat):
    from django.utils import timezone

    from cases.models import Case
    from dashboards.rollups import rollups_refresh

    rng = random.Random(18)
    recent = list(Case.objects.filter(created_at__gte=timezone.now() - timedelta(days=30))
                  .values_list("pk", flat=True))
    rows = []
    for size in (changes // 10, changes):
        times, buckets = [], 0
        for _ in range(repeat):
            changed(rng.sample(recent, min(size, len(recent))))
            started = time.perf_counter()
            buckets = rollups_refresh(now=timezone.now())
            times.append(time.perf_counter() - started)
        seconds = statistics.median(times)
        rows.append({
            "operation": f"rollups_refresh after {size:,} changed cases ({buckets:,} buckets)",
            "key": f"refresh_{size}", "portal_ms": seconds * 1000, "lower_bound_ms": None, "ratio": None,
            "target_ms": size / TARGET_PER_SECOND * 1000,
            "note": f"{size / seconds:,.0f} changes/s (target {TARGET_PER_SECOND}/s)",
            "portal_best_ms": min(times) * 1000,
        })
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["large", "medium"], default="medium")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded city of this scale")
    parser.add_argument("--changes", type=int, default=6000, help="changed cases per refresh (a minute at 100/s)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from bench.dashboard_bench import prepare
    from bench.run import DEFAULT_URL, ensure_database, print_table, setup_django

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    ensure_database(url)
    setup_django(url)
    from django.db import connection

    from cases.models import Case

    rows = prepare(args.scale, args.reuse, cases_only=True, keep_rollups=True)
    rows += measure(args.changes, args.repeat)
    report = {
        "scale": args.scale,
        "cases": Case.objects.count(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.cursor().connection.info.parameter_status("server_version"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]},
        "repetitions": args.repeat,
        "operations": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
    }
    print_table(report)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"rollup-refresh-{args.scale}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
