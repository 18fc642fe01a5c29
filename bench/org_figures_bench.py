"""Benchmark the organisations' figures on the dashboard (issue 16 item 7: "Organisation dashboard
for a district: within 3× its raw-SQL floor") on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_orgfig_bench \\
        .venv/bin/python bench/org_figures_bench.py [--scale medium] [--sendings 20000] [--repeat 9]

Seeds the city (places and cases: `seed_city --scale <scale>` with the cases seeder, as
bench/dashboard_bench.py --cases-only does) unless one of that scale is there, in a database whose
name contains `bench`. Then adds, once, synthetic sendings to organisations on the busiest district's
cases of this quarter (`--sendings` lead sendings over the district's organisations: 85% signed in,
most within their time, 8% returned and ruled to another organisation, 20% with a co-handler; the
closed cases point at their sending), runs VACUUM ANALYZE, and measures, as the district's official
and its busiest street's staff, period = this quarter:

- the organisations' figures (dashboards.organisations.figure_tables: the table, the ranking, the
  12345 三率 per organisation), in-process;
- their floor: the same SQL statements, recorded while they run, replayed through a bare cursor
  (the time the database needs for exactly these figures, without Python or the ORM);
- the raw-SQL floor (RAW_SQL): one hand-written statement giving the table's sendings measures;
- the whole organisations page (/dashboard/<id>/organisations/) through the test client, beside
  its own SQL replayed.

Target: figures within 3× the raw-SQL floor. Writes bench/results/org_figures.json and prints a table.
"""

import argparse
import json
import os
import platform
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_orgfig_bench"
TARGET_RATIO = 3

# The least work giving the figures table's sendings measures (whistles aside, extensions ignored,
# no organisation visibility): one statement, the first sign-in by LATERAL, run with JIT off.
RAW_SQL = """
WITH s AS (
  SELECT a.id, a.organisation_id, a.case_id, a.sign_in_due_at, c.status, c.org_assignment_id, c.resolved_at,
         (SELECT min(b.assigned_at) FROM cases_orgassignment b WHERE b.case_id = a.case_id AND b.role = 'lead'
            AND (b.assigned_at, b.id) > (a.assigned_at, a.id)) AS next_at,
         si.at AS signed_at, (si.data ->> 'handle_due')::timestamptz AS handle_due,
         (SELECT min(e.at) FROM cases_caseevent e WHERE e.case_id = a.case_id AND e.action = 'org_return'
            AND e.at >= a.assigned_at) AS returned_at
  FROM cases_orgassignment a JOIN cases_case c ON c.id = a.case_id
  LEFT JOIN LATERAL (SELECT e.at, e.data FROM cases_caseevent e WHERE e.case_id = a.case_id
                       AND e.action = 'org_sign_in' AND e.at >= a.assigned_at ORDER BY e.at, e.id LIMIT 1) si ON true
  WHERE {place} AND a.role = 'lead' AND a.assigned_at >= %(start)s AND a.assigned_at < %(end)s
), t AS (
  SELECT s.*, CASE WHEN signed_at < coalesce(next_at, 'infinity') THEN signed_at END AS signed,
         CASE WHEN returned_at <= coalesce(next_at, 'infinity') THEN returned_at END AS returned,
         (status = 'closed' AND org_assignment_id = id) AS closed
  FROM s
)
SELECT organisation_id, count(*),
       count(*) FILTER (WHERE signed IS NOT NULL OR sign_in_due_at < %(cutoff)s),
       count(*) FILTER (WHERE signed <= sign_in_due_at),
       count(*) FILTER (WHERE returned IS NOT NULL),
       count(*) FILTER (WHERE returned IS NULL AND signed IS NOT NULL AND (closed OR handle_due < %(cutoff)s)),
       count(*) FILTER (WHERE returned IS NULL AND signed IS NOT NULL AND closed AND resolved_at <= handle_due),
       sum(r.n) FILTER (WHERE closed), sum(r.sat) FILTER (WHERE closed)
FROM t LEFT JOIN LATERAL (SELECT count(*) AS n, count(*) FILTER (WHERE rating >= 4) AS sat
                          FROM cases_caserating r WHERE r.case_id = t.case_id) r ON true
GROUP BY 1
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["medium", "large"], default="medium")
    parser.add_argument("--sendings", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    if not 1 <= args.repeat <= 1000 or not 0 < args.sendings <= 1_000_000:
        parser.error("--repeat 1..1000, --sendings 1..1,000,000")
    return args


def _organisations(district, now):
    """The district's organisations (seed_city seeds them; a places-only seed gets a few departments)."""
    from grid.models import Area, AreaKind, Organisation, OrgFunction, OrgKind

    seated = list(Organisation.objects.filter(seat__tree_id=district.tree_id, kind=OrgKind.DEPARTMENT,
                                              is_active=True).values_list("pk", flat=True))
    if len(seated) >= 10:
        return seated
    streets = list(Area.objects.filter(parent=district, kind=AreaKind.STREET))
    functions = [OrgFunction.URBAN_MANAGEMENT, OrgFunction.POLICE, OrgFunction.MARKET]
    made = Organisation.objects.bulk_create([
        Organisation(name=f"{street.name}{function.label}", code=f"BENCH-{street.pk}-{function.value}",
                     kind=OrgKind.DEPARTMENT, function=function, seat=street, phone="0816-0000000", created_at=now)
        for street in [district, *streets] for function in functions])
    return seated + [o.pk for o in made]


def add_sendings(district, total, now, rng):
    """Synthetic sendings on the district's registered cases of the last 80 days (skipped if any exist)."""
    from django.db import connection

    from cases.models import AssignmentRole, Case, CaseEvent, OrgAssignment, Status
    from grid.models import User

    if OrgAssignment.objects.filter(case__district_id=district.pk, reason="bench").exists():
        return 0
    orgs = _organisations(district, now)
    actor = User.objects.filter(posts__area__tree_id=district.tree_id).first() or User.objects.first()
    cases = list(Case.objects.filter(district_id=district.pk, created_at__gte=now - timedelta(days=80),
                                     registered_at__isnull=False, organisation__isnull=True)
                 .values_list("pk", "created_at", "status")[:total])
    leads, plans = [], []
    for pk, created, status in cases:
        org = rng.choice(orgs)
        at = created + timedelta(hours=1)
        leads.append(OrgAssignment(case_id=pk, organisation_id=org, role=AssignmentRole.LEAD, reason="bench",
                                   assigned_by=actor, assigned_at=at, sign_in_due_at=at + timedelta(hours=2)))
        plans.append((pk, org, at, status))
    OrgAssignment.objects.bulk_create(leads, batch_size=5000)
    extra, events, current = [], [], {}
    for row, (pk, org, at, status) in zip(leads, plans):
        roll = rng.random()
        if roll < 0.2:
            extra.append(OrgAssignment(case_id=pk, organisation_id=rng.choice(orgs), role=AssignmentRole.CO,
                                       lead=row, reason="bench", assigned_by=actor, assigned_at=at))
        if roll < 0.08:  # returned, ruled to another organisation
            events.append(CaseEvent(case_id=pk, action=CaseEvent.Action.ORG_RETURN, actor=actor,
                                    at=at + timedelta(minutes=40), data={"organisation": org}))
            ruled = OrgAssignment(case_id=pk, organisation_id=rng.choice(orgs), role=AssignmentRole.LEAD,
                                  kind="ruling", reason="bench", assigned_by=actor, assigned_at=at + timedelta(hours=1),
                                  sign_in_due_at=at + timedelta(hours=3))
            extra.append(ruled)
            at, row = ruled.assigned_at, ruled
        if rng.random() < 0.85:
            signed = at + timedelta(minutes=rng.randint(5, 180))
            events.append(CaseEvent(case_id=pk, action=CaseEvent.Action.ORG_SIGN_IN, actor=actor, at=signed,
                                    data={"organisation": row.organisation_id,
                                          "handle_due": (signed + timedelta(days=2)).isoformat()}))
        current[pk] = row
    OrgAssignment.objects.bulk_create([r for r in extra if r.role == AssignmentRole.LEAD], batch_size=5000)
    OrgAssignment.objects.bulk_create([r for r in extra if r.role == AssignmentRole.CO], batch_size=5000)
    CaseEvent.objects.bulk_create(events, batch_size=5000)
    closed = [(pk, current[pk].pk, current[pk].organisation_id) for pk, _o, _a, status in plans
              if status == Status.CLOSED]
    with connection.cursor() as cursor:
        for start in range(0, len(closed), 5000):
            chunk = closed[start:start + 5000]
            values = ",".join(["(%s, %s, %s)"] * len(chunk))
            cursor.execute(f"UPDATE cases_case c SET org_assignment_id = v.a, organisation_id = v.o "
                           f"FROM (VALUES {values}) AS v(id, a, o) WHERE c.id = v.id",
                           [x for triple in chunk for x in triple])
        for table in ("cases_orgassignment", "cases_caseevent", "cases_case", "cases_caserating"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return len(leads)


def main(argv=None):
    args = parse_args(argv)
    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    from bench.cases_bench import setup_django

    setup_django(os.environ["DATABASE_URL"])
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from bench.dashboard_bench import fixture, median_ms, prepare, record_queries, replay
    from dashboards import organisations
    from dashboards.figures import Place, local_day, period_for

    if "bench" not in connection.settings_dict["NAME"]:
        sys.exit("refusing: the database name must contain 'bench'")
    prepare(args.scale, reuse=True, cases_only=True, keep_rollups=True)
    now = timezone.now()
    fx = fixture()
    district = fx["district"][0]
    added = add_sendings(district, args.sendings, now, random.Random(16))
    period = period_for("quarter", local_day(now))
    rows = []
    for name in ("district", "street"):
        area, _cases, user = fx[name]
        place = Place.of(area)

        def figures():
            # A fresh user object per call: the scope is computed once per request, as a page does.
            from grid.models import User

            return organisations.figure_tables(User.objects.get(pk=user.pk), place, period, now)

        statements = record_queries(figures)
        portal_ms, _best = median_ms(figures, args.repeat)
        floor_ms, _ = median_ms(replay(statements), args.repeat)
        client = Client()
        client.force_login(user)
        url = reverse("cases:dashboard_place_organisations", args=[area.pk])

        def page():
            response = client.get(url, {"period": "quarter"})
            assert response.status_code == 200, response.status_code

        params = {"start": period.start, "end": period.end, "cutoff": min(period.end, now), "area": area.pk}
        sql = RAW_SQL.format(place=f"c.{area.kind}_id = %(area)s")

        def raw():
            with connection.cursor() as cursor:
                cursor.execute("SET jit = off")
                cursor.execute(sql, params)
                found = cursor.fetchall()
                cursor.execute("RESET jit")
            return found

        raw_ms, _ = median_ms(raw, args.repeat)
        raw_received = sum(r[1] for r in raw())
        page_statements = record_queries(page)
        page_ms, _ = median_ms(page, args.repeat)
        page_floor_ms, _ = median_ms(replay(page_statements), args.repeat)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM cases_orgassignment a JOIN cases_case c ON c.id = a.case_id "
                           f"WHERE c.{area.kind}_id = %s AND a.assigned_at >= %s AND a.assigned_at < %s "
                           f"AND a.role = 'lead'", [area.pk, period.start, period.end])
            in_period = cursor.fetchone()[0]
        table = figures()[0]
        rows.append({
            "operation": f"organisation figures, {name} ({area.name}), quarter, {in_period:,} lead sendings, "
                         f"{max(0, len(table.rows) - 1)} organisations",
            "figures_ms": round(portal_ms, 1), "figures_sql_replayed_ms": round(floor_ms, 1),
            "ratio": round(portal_ms / floor_ms, 2), "queries": len(statements),
            "raw_sql_ms": round(raw_ms, 1), "ratio_to_raw": round(portal_ms / raw_ms, 2),
            "raw_received": raw_received,
            "page_ms": round(page_ms, 1), "page_sql_replayed_ms": round(page_floor_ms, 1),
            "page_ratio": round(page_ms / page_floor_ms, 2), "page_queries": len(page_statements),
            "target_ratio": TARGET_RATIO,
        })
    result = {"at": datetime.now(UTC).isoformat(), "host": platform.node(), "scale": args.scale,
              "added_sendings": added, "load": os.getloadavg(), "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "org_figures.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    for row in rows:
        print(f"{row['operation']}: figures {row['figures_ms']} ms, their SQL {row['figures_sql_replayed_ms']} ms "
              f"(×{row['ratio']}, {row['queries']} queries), raw SQL {row['raw_sql_ms']} ms (×{row['ratio_to_raw']}); "
              f"page {row['page_ms']} ms, its SQL "
              f"{row['page_sql_replayed_ms']} ms (×{row['page_ratio']})")


if __name__ == "__main__":
    main()
