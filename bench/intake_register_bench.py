"""Issue #24: received reports registered as cases, per worker, in batches and one by one.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
        .venv/bin/python bench/intake_register_bench.py [--reports 3000] [--runs 3] [--one-by-one 300]

On the city bench/run.py seeded: receives `--reports` public reports (intake_receive, committed, the
bench's [bench] mark in the description) at buildings across the city, with community staff to notify
(half with an e-mail), then times `intake_register_pending` (one worker, in-process, batches of
INTAKE_BATCH_SIZE) and, for comparison, `intake_register_one_by_one` on `--one-by-one` more. The cases,
their timeline and outbox rows, and the staff are deleted afterwards (bench/cases_bench.py's helpers).
Each run starts from a VACUUM of the tables it writes. Prints cases/s with the load average.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def receive(buildings, n, offset):
    from unittest import mock

    from django.utils import timezone

    from bench.cases_bench import MARK
    from cases import services_intake

    with mock.patch.object(services_intake, "_kick"):  # no broker: the bench registers them itself
        for i in range(n):
            building, grid, community, street = buildings[(offset + i) % len(buildings)]
            services_intake.intake_receive(
                category="E0101", description=f"{MARK} 路边有一堆暴露垃圾 #{offset + i}", channel="web",
                building=building, grid=grid, community=community, street=street, now=timezone.now(),
            )


def timed(fn, **kwargs):
    started = time.perf_counter()
    made = fn(**kwargs)
    return made, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one-by-one", type=int, default=300)
    args = parser.parse_args()
    from bench.cases_bench import database_url, setup_django

    setup_django(database_url())
    from django.db import connection
    from django.db.models import Max

    from bench.cases_bench import _intake_staff, _remove_intake_staff, delete_bench_cases, sample_buildings
    from cases import services_intake
    from cases.models import Case, Intake

    buildings = sample_buildings(400)
    staff = _intake_staff(buildings)
    after = Case.objects.aggregate(m=Max("pk"))["m"] or 0
    try:
        for run in range(args.runs):
            with connection.cursor() as cursor:
                for table in ("cases_case", "cases_caseevent", "cases_intake", "cases_delivery"):
                    cursor.execute(f"VACUUM {table}")
            receive(buildings, args.reports, run * args.reports)
            load = [round(x, 2) for x in os.getloadavg()]
            made, seconds = timed(services_intake.intake_register_pending, limit=args.reports)
            print(f"batches of {services_intake.INTAKE_BATCH_SIZE}: {made:,} cases in {seconds:.2f} s = "
                  f"{made / seconds:,.0f} cases/s (load {load})", flush=True)
            if args.one_by_one:
                receive(buildings, args.one_by_one, 10**6 + run * args.one_by_one)
                load = [round(x, 2) for x in os.getloadavg()]
                made, seconds = timed(services_intake.intake_register_one_by_one, limit=args.one_by_one)
                print(f"one by one: {made:,} cases in {seconds:.2f} s = {made / seconds:,.0f} cases/s "
                      f"(load {load})", flush=True)
            assert not Intake.objects.filter(description__startswith="[bench]").exists()
    finally:
        Intake.objects.filter(description__startswith="[bench]").delete()
        print(f"cleaned up {delete_bench_cases(after):,} bench cases", flush=True)
        _remove_intake_staff(staff)


if __name__ == "__main__":
    main()
