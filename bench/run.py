"""Benchmark the place tree at city scale: the portal's services and selectors
beside the raw SQL that does the least work giving the same result.

    .venv/bin/python bench/run.py [--scale large|medium] [--reuse] [--repeat N]

Uses DATABASE_URL if set, else postgres://postgres@127.0.0.1:5432/portal_bench
(created if missing). See bench/README.md for what each lower bound is.
"""

import argparse
import json
import os
import platform
import statistics
import sys
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"
RESULTS = Path(__file__).resolve().parent / "results"
WARMUP = 2

# Targets from issue 2, in ms (None: no target, the ratio is what matters).
TARGETS = {
    "seed": 10 * 60 * 1000,
    "unit_add": 10,
    "grid_add": None,
    "community_move": 100,
    "community_move_near": 100,
    "district_counts": None,
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["large", "medium"], default="large")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded city of this scale")
    parser.add_argument("--repeat", type=int, default=15, help="measured repetitions per operation (median)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--places-only", action="store_true",
                        help="seed without the app seeders (no cases…): the tree alone, in seconds")
    parser.add_argument("--dashboard", action="store_true",
                        help="also the officials' dashboards (bench/dashboard_bench.py: rollups, three pages)")
    return parser.parse_args()


def ensure_database(url):
    """Create the benchmark database if it is missing (trust auth on the local server)."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    db = dj_database_url.parse(url)
    if db["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("bench/run.py measures PostgreSQL; DATABASE_URL must be a postgres:// URL.")
    params = {"host": db["HOST"] or None, "port": db["PORT"] or None, "user": db["USER"] or None,
              "password": db["PASSWORD"] or None, "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
            print(f"created database {db['NAME']}")
    return db["NAME"]


def recreate_database(url):
    import dj_database_url
    import psycopg
    from psycopg import sql

    db = dj_database_url.parse(url)
    params = {"host": db["HOST"] or None, "port": db["PORT"] or None, "user": db["USER"] or None,
              "password": db["PASSWORD"] or None, "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(db["NAME"])))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def main():
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    db_name = ensure_database(url)
    setup_django(url)

    from django.core.management import call_command
    from django.db import connection

    from grid.seeding import SCALES

    scale = SCALES[args.scale]
    call_command("migrate", verbosity=0, interactive=False)
    seed_rows, seed_log = [], []
    if args.reuse and is_seeded(scale):
        seed_rows, seed_log = previous_seed(args.scale, args.places_only)
        for row in seed_rows:
            row["note"] = "reused: time from the previous run"
        print(f"Reusing the {scale.name} city already in {db_name}.")
    else:
        from grid.models import Area

        if Area.objects.exists():
            # Only ever on a database meant for this.
            if "bench" not in db_name:
                sys.exit(f"{db_name} already has places and is not a bench database; refusing to empty it.")
            # Dropped and created again, not flushed: flush would also empty the reference rows the
            # migrations load (the residents' care tags, the case categories), and the seeders would
            # then write less than on a fresh database.
            print(f"Creating {db_name} again…")
            connection.close()
            recreate_database(url)
            call_command("migrate", verbosity=0, interactive=False)
        from grid.management.commands.seed_city import Command as SeedCity

        log, command = Tee(sys.stdout), SeedCity()
        call_command(command, scale=scale.name, seed=args.seed, accounts=False, places_only=args.places_only,
                     stdout=log)
        seed_rows, seed_log = seeding_rows(scale, command.timings), log.lines()
    with connection.cursor() as cursor:
        # The freshly loaded tables have no visibility map yet; autovacuum would
        # get there eventually, the measurements should not depend on when.
        for table in ("grid_area", "grid_building", "grid_unit"):
            cursor.execute(f"VACUUM ANALYZE {table}")

    from bench import operations, volunteers_bench

    rows = list(seed_rows)
    fixture = operations.Fixture.build()
    # The apps' pairs follow the tree's; each yields nothing when its data was not seeded.
    app_pairs = volunteers_bench.pairs() if not args.places_only else ()
    for key, label, portal, raw in chain(operations.pairs(fixture), app_pairs):
        measured = measure_pair(portal, raw, repeat=args.repeat)
        (portal_ms, portal_best), (raw_ms, raw_best) = measured["portal"], measured["raw"]
        rows.append({
            "operation": label, "key": key, "portal_ms": portal_ms, "lower_bound_ms": raw_ms,
            "ratio": portal_ms / raw_ms if raw_ms else None, "target_ms": TARGETS.get(key), "note": "",
            "portal_best_ms": portal_best, "lower_bound_best_ms": raw_best,
        })
    if args.dashboard and not args.places_only:
        from bench import dashboard_bench

        rows += dashboard_bench.rebuild()
        rows += dashboard_bench.measure(repeat=args.repeat)
    report = {
        "scale": scale.name,
        "places_only": args.places_only,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.cursor().connection.info.parameter_status("server_version"),
        # The machine is shared: the load says how quiet it was while measuring.
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]},
        "repetitions": args.repeat,
        "fixture": fixture.describe(),
        "seed_log": seed_log,
        "operations": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
    }
    print_table(report)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / results_name(scale.name, args.places_only)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


class Tee:
    """Echo the seeding's progress and keep it for the results file."""

    def __init__(self, stream):
        self.stream, self.chunks = stream, []

    def write(self, text):
        self.stream.write(text)
        self.chunks.append(text)

    def flush(self):
        self.stream.flush()

    def lines(self):
        return [line.rstrip() for line in "".join(self.chunks).splitlines() if line.strip()]


def is_seeded(scale):
    from django.db.models import Count

    from grid.models import Area, AreaKind, Building, Unit

    counts = dict(Area.objects.values_list("kind").annotate(n=Count("id")).order_by())
    return (
        all(counts.get(k.value, 0) == scale.count_of(k) for k in AreaKind)
        and Building.objects.count() == scale.buildings
        and Unit.objects.count() == scale.units
    )


# Phases of seed_city that build the place tree, buildings and units (grid's own work).
PLACE_PHASES = ("plan", "places", "buildings", "units", "analyze", "check", "accounts")


def seeding_rows(scale, timings):
    """Table rows for the seeding: grid's part, each app seeder, and the total (with the target)."""
    from grid.models import AreaKind

    place_rows = sum(scale.count_of(k) for k in AreaKind) + scale.buildings + scale.units
    row = {"lower_bound_ms": None, "ratio": None, "note": ""}
    rows = [{**row, "operation": f"seed {scale.name}: places, buildings, units ({place_rows:,} rows)",
             "key": "seed_places", "portal_ms": 1000 * sum(timings.get(p, 0) for p in PLACE_PHASES),
             "target_ms": None}]
    for key, seconds in timings.items():
        if key not in PLACE_PHASES and key != "total":
            rows.append({**row, "operation": f"seed {scale.name}: {key} (app seeder)", "key": f"seed_{key}",
                         "portal_ms": 1000 * seconds, "target_ms": None})
    rows.append({**row, "operation": f"seed {scale.name}: total, commit included", "key": "seed",
                 "portal_ms": 1000 * timings["total"], "target_ms": TARGETS["seed"] if scale.name == "large" else None})
    return rows


def results_name(scale_name, places_only):
    return f"{scale_name}-places-only.json" if places_only else f"{scale_name}.json"


def previous_seed(scale_name, places_only):
    """The seeding rows and log last recorded for this scale, if any."""
    path = RESULTS / results_name(scale_name, places_only)
    if not path.exists():
        return [], []
    previous = json.loads(path.read_text())
    return [r for r in previous["operations"] if r["key"].startswith("seed")], previous.get("seed_log", [])


def measure_pair(portal, raw, *, repeat):
    """ms of each (median and best), alternating so changes in machine load hit both alike."""
    times = {"portal": [], "raw": []}
    for i in range(WARMUP + repeat):
        for name, operation in (("portal", portal), ("raw", raw)):
            elapsed = operation.run_once()
            if i >= WARMUP:
                times[name].append(elapsed * 1000)
    return {name: (statistics.median(t), min(t)) for name, t in times.items()}


def fmt_ms(ms):
    if ms is None:
        return "—"
    if ms >= 1_000:
        return f"{ms / 1000:,.1f} s"
    return f"{ms:,.2f}"


def print_table(report):
    header = ("operation", "portal ms", "lower bound ms", "ratio", "target")
    lines = [header]
    for r in report["operations"]:
        target = "—"
        if r["target_ms"] is not None:
            limit = f"< {r['target_ms'] / 60000:g} min" if r["target_ms"] >= 60000 else f"< {r['target_ms']:g} ms"
            met = r["portal_ms"] is not None and r["portal_ms"] < r["target_ms"]
            target = f"{limit} {'met' if met else 'MISSED'}"
        ratio = f"{r['ratio']:.1f}×" if r["ratio"] is not None else "—"
        lines.append((r["operation"] + (f" [{r['note']}]" if r["note"] else ""), fmt_ms(r["portal_ms"]),
                      fmt_ms(r["lower_bound_ms"]), ratio, target))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print()
    machine = report["machine"]
    print(f"scale {report['scale']} · PostgreSQL {report['database']} · {machine['cpus']} CPUs "
          f"(load {machine['load_average_1_5_15'][0]}) · median of {report['repetitions']}")
    for n, line in enumerate(lines):
        print(" | ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        if n == 0:
            print("-+-".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
