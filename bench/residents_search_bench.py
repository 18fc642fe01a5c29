"""Resident search for a street at city scale, beside its lower bound in raw SQL.

    .venv/bin/python bench/residents_search_bench.py [--repeat N] [--seed-only] [--reseed]

Uses DATABASE_URL if set, else postgres://postgres@127.0.0.1:5432/portal_bench_residents
(created if missing). On an empty database it seeds the large city's places
(`seed_city --scale large --places-only`, no cases) and then only the residents'
seeder (residents/seed.py), timing it; an already seeded database is reused.

Measured, each as the median of N runs after two warm-ups:

- the street staff's resident list (the real view, residents:list, through the
  Django test client: middleware, scoping, filters, paginator count, first
  page of 50, template) for a name prefix, a care tag and a status; beside the
  same page's two queries (count + first 50 rows of the masked columns) in raw
  SQL over one connection: the least work that can give the same page;
- the exact ID-number lookup through the blind index (residents.services
  find_by_id_number: parse, HMAC, indexed equality) beside the raw indexed
  SELECT with the index value computed beforehand.

Writes bench/results/residents_search.json and prints a table.
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_bench_residents"
RESULTS = Path(__file__).resolve().parent / "results"
WARMUP = 2
# The seeding run's log and times, for later runs that reuse the seeded city.
SEED_RECORD = Path(os.environ.get("RESIDENTS_BENCH_SEED_RECORD", "/tmp/portal_bench_residents_seed.json"))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15, help="measured runs per operation (median)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seed-only", action="store_true", help="seed (if needed) and stop")
    parser.add_argument("--reseed", action="store_true", help="flush the bench database and seed again")
    parser.add_argument("--workers", type=int, default=None, help="encryption processes for the seeder")
    parser.add_argument("--districts", type=int, default=None,
                        help="seed residents in the first N districts only (default: the whole city)")
    return parser.parse_args()


def ensure_database(url):
    import dj_database_url
    import psycopg
    from psycopg import sql

    db = dj_database_url.parse(url)
    if db["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("This benchmark measures PostgreSQL; DATABASE_URL must be a postgres:// URL.")
    params = {"host": db["HOST"] or None, "port": db["PORT"] or None, "user": db["USER"] or None,
              "password": db["PASSWORD"] or None, "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
            print(f"created database {db['NAME']}")
    return db["NAME"]


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()


class Tee:
    def __init__(self, stream):
        self.stream, self.chunks = stream, []

    def write(self, text):
        self.stream.write(text if text.endswith("\n") else text + "\n")
        self.chunks.append(text if text.endswith("\n") else text + "\n")

    def flush(self):
        self.stream.flush()

    def lines(self):
        return [line.rstrip() for line in "".join(self.chunks).splitlines() if line.strip()]


def seed(args, db_name):
    """Places (large, no app seeders) then the residents' seeder alone; returns the log and timings."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from grid.management.commands.seed_city import Command as SeedCity
    from grid.models import Area
    from grid.seeding import SCALES
    from residents import seed as residents_seed
    from residents.models import Resident

    call_command("migrate", verbosity=0, interactive=False)
    log = Tee(sys.stdout)
    timings = {}
    if args.reseed and Area.objects.exists():
        if "bench" not in db_name:
            sys.exit(f"{db_name} is not a bench database; refusing to flush it.")
        call_command("flush", interactive=False, verbosity=0)
    if not Area.objects.exists():
        command = SeedCity()
        call_command(command, scale="large", seed=args.seed, accounts=False, places_only=True, stdout=log)
        timings["places_s"] = round(command.timings["total"], 2)
    if not Resident.objects.exists():
        scale = SCALES["large"]
        started = perf_counter()
        districts = None
        if args.districts:
            districts = list(Area.objects.filter(level=0).order_by("id").values_list("id", flat=True)[:args.districts])
        with transaction.atomic():
            result = residents_seed.seed(scale=scale, rng=random.Random(f"{args.seed}:residents"), stdout=log,
                                         now=timezone.now(), workers=args.workers, districts=districts)
        timings["districts_seeded"] = args.districts or "all"
        timings["residents_s"] = round(perf_counter() - started, 2)  # commit included
        timings["residents"] = result
        with connection.cursor() as cursor:
            for table in ("residents_household", "residents_resident", "residents_resident_tags"):
                cursor.execute(f"VACUUM ANALYZE {table}")
        timings["vacuum_analyze_s"] = round(perf_counter() - started - timings["residents_s"], 2)
    return log.lines(), timings


def main():
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    db_name = ensure_database(url)
    setup_django(url)
    seed_log, seed_timings = seed(args, db_name)
    if seed_timings.get("residents_s"):
        SEED_RECORD.write_text(json.dumps({"log": seed_log, "timings": seed_timings}, ensure_ascii=False,
                                          default=str))
    elif SEED_RECORD.exists():
        # Reused city: report the seeding as last measured.
        record = json.loads(SEED_RECORD.read_text())
        seed_log, seed_timings = record["log"], {**record["timings"], "note": "reused: times of the seeding run"}
    if args.seed_only:
        print(json.dumps(seed_timings, indent=2, default=str))
        return
    measure(args, seed_log, seed_timings)


# --- measuring --------------------------------------------------------------------------------

PAGE = 50
COUNT_CAP = 1000  # residents/views.py counts up to here ("1000+")
LIST_SQL = """
    SELECT r.id, r.name, r.gender, r.birth_date, r.id_masked, r.phone_masked, r.status, r.relation,
           r.visit_due_on, r.household_id, h.number, u.number, b.number, g.name
    FROM residents_resident r
    JOIN residents_household h ON h.id = r.household_id
    JOIN grid_unit u ON u.id = h.unit_id
    JOIN grid_building b ON b.id = r.building_id
    JOIN grid_area g ON g.id = r.grid_id
    WHERE r.street_id = %(street)s {where}
    ORDER BY r.name, r.id LIMIT 50
"""
COUNT_SQL = "SELECT count(*) FROM (SELECT 1 FROM residents_resident r WHERE r.street_id = %(street)s {where} LIMIT 1001) t"
TAGS_SQL = """
    SELECT rt.resident_id, t.name, t.visit_interval_days FROM residents_resident_tags rt
    JOIN residents_tag t ON t.id = rt.tag_id WHERE rt.resident_id = ANY(%(ids)s) ORDER BY t.ordering, rt.tag_id
"""
LOOKUP_SQL = """
    SELECT r.id, r.name, r.gender, r.birth_date, r.id_masked, r.phone_masked, r.status, r.relation,
           r.visit_due_on, r.household_id, h.number, u.number, b.number, g.name
    FROM residents_resident r
    JOIN residents_household h ON h.id = r.household_id
    JOIN grid_unit u ON u.id = h.unit_id
    JOIN grid_building b ON b.id = r.building_id
    JOIN grid_area g ON g.id = r.grid_id
    WHERE r.street_id = %(street)s AND r.id_index = %(index)s
    ORDER BY r.name, r.id LIMIT 50
"""


def raw_page(cursor, params, where):
    """The least the list page needs from the database: the capped count, 50 rows, their tags."""
    cursor.execute(COUNT_SQL.format(where=where), params)
    count = cursor.fetchone()[0]
    cursor.execute(LIST_SQL.format(where=where), params)
    rows = cursor.fetchall()
    cursor.execute(TAGS_SQL, {"ids": [r[0] for r in rows]})
    cursor.fetchall()
    return count, rows


def timed(fn, repeat):
    times = []
    for i in range(WARMUP + repeat):
        started = perf_counter()
        fn()
        if i >= WARMUP:
            times.append((perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def measure_pair(portal, raw, repeat):
    """Alternating, so a change in machine load hits both alike."""
    times = {"portal": [], "raw": []}
    for i in range(WARMUP + repeat):
        for name, fn in (("portal", portal), ("raw", raw)):
            started = perf_counter()
            fn()
            if i >= WARMUP:
                times[name].append((perf_counter() - started) * 1000)
    return {name: (statistics.median(t), min(t)) for name, t in times.items()}


def measure(args, seed_log, seed_timings):
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse
    from django.utils import timezone

    from grid import services as grid_services
    from grid.models import Area, AreaKind, Role, User
    from residents.identity import blind_index
    from residents.models import Household, Resident, Tag
    from residents.services import find_by_id_number

    setup_test_environment()  # 'testserver' in ALLOWED_HOSTS, as for any test client
    # The street with the most residents: the worst page a street official opens.
    street_id, street_residents = (Resident.objects.order_by().values("street_id").annotate(n=Count("id"))
                                   .order_by("-n").values_list("street_id", "n").first())
    street = Area.objects.get(pk=street_id)
    user, _ = User.objects.get_or_create(username="bench_street_staff", defaults={"full_name": "街道工作人员"})
    if not user.posts.filter(role=Role.STREET_STAFF, area=street, ended_at__isnull=True).exists():
        grid_services.post_grant(user=user, role=Role.STREET_STAFF, place=street, now=timezone.now())
    client = Client()
    client.force_login(user)
    url = reverse("residents:list")
    tag = Tag.objects.get(code="elderly_alone")
    sample = (Resident.objects.filter(street_id=street_id).order_by("id").only("id", "id_number")
              [street_residents // 2])
    number = sample.id_number  # decrypted by the field: the bench plays the person typing it

    cases = [
        ("street list, living (first page of 50 + count)", {}, "AND r.status = 'living'", {}),
        ("street list, name contains 王", {"name": "王"}, "AND r.status = 'living' AND r.name LIKE %(name)s",
         {"name": "%王%"}),
        ("street list, name contains 王伟", {"name": "王伟"}, "AND r.status = 'living' AND r.name LIKE %(name)s",
         {"name": "%王伟%"}),
        ("street list, tag elderly living alone", {"tag": tag.pk},
         "AND r.status = 'living' AND EXISTS (SELECT 1 FROM residents_resident_tags rt "
         "WHERE rt.resident_id = r.id AND rt.tag_id = %(tag)s)", {"tag": tag.pk}),
        ("street list, status moved out", {"status": "moved_out"}, "AND r.status = 'moved_out'", {}),
        ("street list, name 王 + tag party member + living", {"name": "王", "tag": Tag.objects.get(
            code="party_member").pk},
         "AND r.status = 'living' AND r.name LIKE %(name)s AND EXISTS (SELECT 1 FROM residents_resident_tags rt "
         "WHERE rt.resident_id = r.id AND rt.tag_id = %(tag)s)",
         {"name": "%王%", "tag": Tag.objects.get(code="party_member").pk}),
    ]
    rows = []
    with connection.cursor() as cursor:
        for label, query, where, extra in cases:
            params = {"street": street_id, **extra}
            response = client.get(url, query)
            assert response.status_code == 200, (label, response.status_code)
            count, page_rows = raw_page(cursor, params, where)
            shown = response.context["page"].object_list
            # Same page both ways: the lower bound gives the portal's result.
            assert [r["pk"] for r in shown] == [r[0] for r in page_rows], label
            measured = measure_pair(lambda: client.get(url, query), lambda: raw_page(cursor, params, where),
                                    args.repeat)
            rows.append(_row(label, measured, note=f"{min(count, COUNT_CAP)}{'+' if count > COUNT_CAP else ''} rows"))

        # Exact ID-number lookup (POST, the number never in a URL) through the blind index.
        index = blind_index("id", number)
        response = client.post(url, {"number": number})
        assert response.status_code == 200 and [r["pk"] for r in response.context["lookup"]["rows"]] == [sample.pk]

        def raw_lookup():
            cursor.execute(LOOKUP_SQL, {"street": street_id, "index": blind_index("id", number)})
            found = cursor.fetchall()
            cursor.execute(TAGS_SQL, {"ids": [r[0] for r in found]})
            cursor.fetchall()

        measured = measure_pair(lambda: client.post(url, {"number": number}), raw_lookup, args.repeat)
        rows.append(_row("ID number lookup on the list page (POST, blind index)", measured, note="1 row"))
        assert find_by_id_number(number).pk == sample.pk

        def raw_find():
            cursor.execute("SELECT id FROM residents_resident WHERE id_index = %s LIMIT 1", [index])
            cursor.fetchone()

        measured = measure_pair(lambda: find_by_id_number(number), raw_find, args.repeat)
        rows.append(_row("find_by_id_number (service: parse + HMAC + indexed get)", measured,
                         note="lower bound: index value precomputed"))
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('residents_resident'))")
        table_size = cursor.fetchone()[0]

    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.cursor().connection.info.parameter_status("server_version"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]},
        "repetitions": args.repeat,
        "city": {
            "places": "large (10 districts, 100 streets, 2,600 communities, 10,000 grids, 250,000 buildings, "
                      "1,000,000 units)",
            "households": Household.objects.count(),
            "residents": Resident.objects.count(),
            "resident_table_size": table_size,
            "districts_with_residents": Area.objects.filter(
                kind=AreaKind.DISTRICT, pk__in=Resident.objects.values("district_id").distinct()).count(),
        },
        "fixture": {"street": str(street), "street_residents": street_residents,
                    "user": "street staff posted on that street (a real session through django.test.Client)"},
        "seeding": {"log": seed_log, "timings": seed_timings},
        "operations": rows,
    }
    print_table(report)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "residents_search.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


def _row(label, measured, note=""):
    (portal, portal_best), (raw, raw_best) = measured["portal"], measured["raw"]
    return {"operation": label, "portal_ms": round(portal, 3), "lower_bound_ms": round(raw, 3),
            "ratio": round(portal / raw, 2) if raw else None, "portal_best_ms": round(portal_best, 3),
            "lower_bound_best_ms": round(raw_best, 3), "note": note}


def print_table(report):
    header = ("operation", "portal ms", "lower bound ms", "ratio", "note")
    lines = [header] + [(r["operation"], f"{r['portal_ms']:,.2f}", f"{r['lower_bound_ms']:,.2f}",
                         f"{r['ratio']:.1f}×" if r["ratio"] else "—", r["note"]) for r in report["operations"]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    city, machine = report["city"], report["machine"]
    print()
    print(f"PostgreSQL {report['database']} · {city['residents']:,} residents in {city['households']:,} households "
          f"({city['resident_table_size']}) · {machine['cpus']} CPUs (load {machine['load_average_1_5_15'][0]}) · "
          f"median of {report['repetitions']}")
    print(f"{report['fixture']['street']}: {report['fixture']['street_residents']:,} residents")
    for n, line in enumerate(lines):
        print(" | ".join(cell.ljust(w) if i in (0, 4) else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        if n == 0:
            print("-+-".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
