"""Benchmark the organisations' dashboard (吹哨报到 figures, issue 16 item 7) on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_whistle \\
        .venv/bin/python bench/whistle_bench.py [--summonses 20000] [--repeat 9]

Needs a seeded city (bench/run.py or seed_city) in a database whose name contains
`bench`. Adds synthetic whistles to the busiest district's cases of this quarter
(once: `--summonses` summonses over half as many whistles, mixed on time / late /
no-show, most rated), runs VACUUM ANALYZE, then measures, as the district's official
and its busiest street's staff:

- the organisations page (/dashboard/<id>/organisations/, in-process through
  Django's test client: middleware, view, template);
- its floor, the page's own SQL replayed through a bare cursor (as
  bench/dashboard_bench.py does), and the one hand-written aggregate that gives the
  same table (`RAW_SQL`).

The issue's target: within 3× the raw-SQL floor. Writes bench/results/whistle.json.
"""

import argparse
import json
import platform
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"

RAW_SQL = """
SELECT s.organisation_id, o.name, count(*),
       count(*) FILTER (WHERE s.reported_in_at IS NOT NULL),
       count(*) FILTER (WHERE s.reported_in_at <= s.due_at),
       count(*) FILTER (WHERE s.reported_in_at > s.due_at),
       count(*) FILTER (WHERE s.reported_in_at IS NULL AND s.due_at < %(now)s),
       count(s.rating), sum(s.rating)
FROM cases_summons s
JOIN cases_whistle w ON w.id = s.whistle_id
JOIN cases_case c ON c.id = w.case_id
JOIN grid_organisation o ON o.id = s.organisation_id
WHERE {place} AND w.raised_at >= %(start)s AND w.raised_at < %(end)s
GROUP BY 1, 2 ORDER BY 3 DESC, 2
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--summonses", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=9)
    return parser.parse_args(argv)


def add_whistles(district, total, now, rng):
    """Synthetic whistles on the district's cases of the last 80 days (idempotent: skipped if any)."""
    from django.db import connection

    from cases.models import Case, Summons, SummonsStatus, Whistle
    from grid.models import Organisation, User

    if Whistle.objects.filter(case__district_id=district.pk).exists():
        return 0
    orgs = list(Organisation.objects.filter(seat__tree_id=district.tree_id).values_list("pk", flat=True))
    raiser = User.objects.filter(posts__area__tree_id=district.tree_id).first() or User.objects.first()
    cases = list(Case.objects.filter(district_id=district.pk, created_at__gte=now - timedelta(days=80))
                 .exclude(street_id=None).values_list("pk", "street_id", "created_at")[: total // 2])
    whistles = [Whistle(case_id=pk, place_id=street, situation="pressing", urgent=True, report_in_minutes=30,
                        reason="bench", raised_by=raiser, raised_at=created + timedelta(hours=1))
                for pk, street, created in cases]
    Whistle.objects.bulk_create(whistles, batch_size=5000)
    summonses = []
    for whistle in whistles:
        for org in rng.sample(orgs, 2):
            due = whistle.raised_at + timedelta(minutes=30)
            roll = rng.random()
            row = Summons(whistle=whistle, organisation_id=org, due_at=due)
            if roll < 0.85:
                row.status = SummonsStatus.REPORTED_IN
                row.reported_in_at = due + timedelta(minutes=rng.randint(-25, 20))
                row.reported_in_by = raiser
                if rng.random() < 0.8:
                    row.rating, row.rated_at, row.rated_by = rng.randint(2, 5), due + timedelta(days=1), raiser
            else:
                row.status, row.no_show_at = SummonsStatus.NO_SHOW, due + timedelta(minutes=1)
            summonses.append(row)
    Summons.objects.bulk_create(summonses, batch_size=5000)
    with connection.cursor() as cursor:
        for table in ("cases_whistle", "cases_summons"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return len(summonses)


def main(argv=None):
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from bench.dashboard_bench import fixture, median_ms, record_queries, replay
    from dashboards.figures import local_day, period_for

    args = parse_args(argv)
    if "bench" not in connection.settings_dict["NAME"]:
        sys.exit("refusing: the database name must contain 'bench'")
    now = timezone.now()
    fx = fixture()
    district = fx["district"][0]
    added = add_whistles(district, args.summonses, now, random.Random(16))
    period = period_for("quarter", local_day(now))
    rows = []
    for name in ("district", "street"):
        area, _cases, user = fx[name]
        client = Client()
        client.force_login(user)
        url = reverse("cases:dashboard_place_organisations", args=[area.pk])

        def page():
            response = client.get(url, {"period": "quarter"})
            assert response.status_code == 200, response.status_code

        statements = record_queries(page)
        portal_ms, _best = median_ms(page, args.repeat)
        floor_ms, _ = median_ms(replay(statements), args.repeat)
        params = {"now": now, "start": period.start, "end": period.end, "area": area.pk}
        sql = RAW_SQL.format(place=f"c.{area.kind}_id = %(area)s")

        def raw():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()

        raw_ms, _ = median_ms(raw, args.repeat)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM cases_summons s JOIN cases_whistle w ON w.id = s.whistle_id "
                           f"JOIN cases_case c ON c.id = w.case_id WHERE c.{area.kind}_id = %s "
                           f"AND w.raised_at >= %s AND w.raised_at < %s", [area.pk, period.start, period.end])
            in_period = cursor.fetchone()[0]
        rows.append({"operation": f"organisations page, {name} ({area.name}), quarter, {in_period:,} summonses",
                     "portal_ms": round(portal_ms, 1), "page_sql_replayed_ms": round(floor_ms, 1),
                     "raw_aggregate_ms": round(raw_ms, 1), "ratio_to_replayed": round(portal_ms / floor_ms, 2),
                     "ratio_to_raw": round(portal_ms / raw_ms, 2), "queries": len(statements)})
    result = {"at": datetime.now(UTC).isoformat(), "host": platform.node(), "added_summonses": added,
              "load": os.getloadavg(), "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "whistle.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    for row in rows:
        print(f"{row['operation']}: page {row['portal_ms']} ms, its SQL {row['page_sql_replayed_ms']} ms, "
              f"raw aggregate {row['raw_aggregate_ms']} ms, ×{row['ratio_to_raw']} raw ({row['queries']} queries)")


if __name__ == "__main__":
    main()
