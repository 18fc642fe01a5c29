"""Resident participation at district scale, beside its lower bounds in raw SQL.

    .venv/bin/python bench/participation_bench.py [--repeat N] [--reseed]

Uses DATABASE_URL if set, else postgres://postgres@127.0.0.1:5432/portal_bench_participation
(created if missing). On an empty database it seeds one district: 2 streets, 10
communities, 100 grids, and per community 10,000 proposals, 1,000 decided agenda
items, 2,000 四议两公开 tracks (half of them overdue) and 1,000 projects with three
progress updates each; rows are bulk-inserted (the services are what is measured,
not what seeds). Measured, each the median of N runs after two warm-ups, portal
and raw SQL alternating:

- the public board of a community (selectors.board_for: proposals, decisions,
  tracks, projects and their latest progress) beside the same five SELECTs in
  raw SQL over one connection;
- one support (services.proposal_support: lock, checks, insert, count, event)
  beside one INSERT of the support and one UPDATE of the count, in a transaction
  rolled back each time;
- the escalation sweep over the district's 10,000 overdue tracks
  (services.escalate_overdue) beside one UPDATE of the tracks and one
  INSERT … SELECT of their events, rolled back each time.

Writes bench/results/participation.json and prints a table.
"""

import argparse
import json
import os
import platform
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_bench_participation"
RESULTS = Path(__file__).resolve().parent / "results"
COMMUNITIES, GRIDS_PER_COMMUNITY = 10, 10
PROPOSALS, DECISIONS, TRACKS, PROJECTS = 10_000, 1_000, 2_000, 1_000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15, help="measured runs per operation (median)")
    parser.add_argument("--reseed", action="store_true", help="flush the bench database and seed again")
    return parser.parse_args()


def timed(fn):
    """Timed in a transaction rolled back afterwards, so every repetition starts from the same rows."""
    from bench.operations import Timed

    return Timed(act=lambda _prepared: fn())


def seed(now):
    from django.db import connection

    from grid import services as grid
    from grid.models import AreaKind, Role, User
    from residents.models import Household, Resident
    from residents.participation.models import (
        AgendaItem,
        Meeting,
        Project,
        ProjectUpdate,
        Proposal,
        Track,
    )

    district = grid.area_add(kind=AreaKind.DISTRICT, name="议事区", code="519901")
    staff = User.objects.create_user(username="bench_staff", password="x")
    grid.post_grant(user=staff, role=Role.DISTRICT_OFFICIAL, place=district)
    communities = []
    for s in range(2):
        street = grid.area_add(kind=AreaKind.STREET, name=f"街道{s}", parent=district)
        for c in range(COMMUNITIES // 2):
            community = grid.area_add(kind=AreaKind.COMMUNITY, name=f"社区{s}-{c}", parent=street)
            grids = [grid.area_add(kind=AreaKind.GRID, name=f"网格{s}-{c}-{g}", parent=community)
                     for g in range(GRIDS_PER_COMMUNITY)]
            communities.append((street, community, grids))
    first_grid = communities[0][2][0]
    building = grid.building_add(grid=first_grid, number="1号楼")
    unit = grid.unit_add(building=building, number="1单元")
    path = {"district_id": district.pk, "street_id": communities[0][0].pk, "community_id": communities[0][1].pk,
            "grid_id": first_grid.pk}
    home = Household.objects.create(unit=unit, building=building, number="101", **path)
    Resident.objects.bulk_create([Resident(household=home, building=building, name=f"居民{n}", **path)
                                  for n in range(200)])
    for street, community, grids in communities:
        def placed(n, street=street, community=community, grids=grids):
            place = grids[n % len(grids)]
            return {"district_id": district.pk, "street_id": street.pk,
                    "community_id": community.pk, "grid_id": place.pk}

        Proposal.objects.bulk_create([
            Proposal(title=f"议题{n}", description="建议加装充电桩" * 5, origin="staff", threshold=10_000,
                     status=("collecting", "deliberation", "adopted", "rejected")[n % 4], created_by=staff,
                     created_at=now - timedelta(minutes=n), **placed(n)) for n in range(PROPOSALS)],
            batch_size=5000)
        proposals = list(Proposal.objects.filter(community_id=community.pk).order_by("pk").values_list("pk",
                                                                                                     flat=True))
        meeting = Meeting.objects.create(kind="council", title="议事会", held_at=now, created_by=staff,
                                         created_at=now, attendance=100, **placed(0))
        AgendaItem.objects.bulk_create([
            AgendaItem(meeting=meeting, proposal_id=pk, votes_for=60, votes_against=30, votes_abstain=10,
                       decision="adopted", decision_text="同意", decided_at=now - timedelta(minutes=n))
            for n, pk in enumerate(proposals[:DECISIONS])], batch_size=5000)
        Track.objects.bulk_create([
            Track(proposal_id=pk, stage="proposed", created_at=now - timedelta(minutes=n),
                  due_at=now - timedelta(days=1) if n % 2 else now + timedelta(days=10), **placed(n))
            for n, pk in enumerate(proposals[DECISIONS:DECISIONS + TRACKS])], batch_size=5000)
        Project.objects.bulk_create([
            Project(title=f"项目{n}", description="楼道修缮", applicant="业委会", status="implementing", progress=30,
                    created_by=staff, created_at=now - timedelta(minutes=n), **placed(n)) for n in range(PROJECTS)],
            batch_size=5000)
        ProjectUpdate.objects.bulk_create([
            ProjectUpdate(project_id=pk, note=f"进展{k}", progress=10 * k, at=now - timedelta(hours=k), by=staff)
            for pk in Project.objects.filter(community_id=community.pk).values_list("pk", flat=True)
            for k in range(1, 4)], batch_size=5000)


def vacuum():
    """Fresh statistics and no dead rows from an earlier run's rolled-back repetitions."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("participation_proposal", "participation_agendaitem", "participation_track",
                      "participation_project", "participation_projectupdate", "participation_support",
                      "participation_event", "residents_resident"):
            cursor.execute(f"VACUUM ANALYZE {table}")


BOARD_SQL = [
    """SELECT p.id, p.title, p.description, p.status, p.support_count, p.threshold, p.created_at, a.name,
              p.decided_at
       FROM participation_proposal p LEFT JOIN grid_area a ON a.id = p.grid_id
       WHERE p.community_id = %(c)s AND p.status <> 'withdrawn' ORDER BY p.created_at DESC, p.id DESC LIMIT 30""",
    """SELECT p.title, m.kind, m.held_at, i.decision, i.decision_text, i.votes_for, i.votes_against, i.votes_abstain
       FROM participation_agendaitem i JOIN participation_meeting m ON m.id = i.meeting_id
       JOIN participation_proposal p ON p.id = i.proposal_id
       WHERE m.community_id = %(c)s AND i.decided_at IS NOT NULL ORDER BY i.decided_at DESC, i.id DESC LIMIT 30""",
    """SELECT t.id, p.title, t.stage, t.decision, t.decision_text, t.published_at, t.publication_ends_at,
              t.result_text, t.result_published_at
       FROM participation_track t JOIN participation_proposal p ON p.id = t.proposal_id
       WHERE t.community_id = %(c)s AND t.stage <> 'opened' ORDER BY t.created_at DESC, t.id DESC LIMIT 30""",
    """WITH page AS (SELECT id, title, description, applicant, status, progress, budget, rating_count,
                            rating_total, completed_at
                     FROM participation_project WHERE community_id = %(c)s AND status <> 'rejected'
                     ORDER BY created_at DESC, id DESC LIMIT 30)
       SELECT page.*, u.note, u.at FROM page LEFT JOIN LATERAL (
           SELECT note, at FROM participation_projectupdate WHERE project_id = page.id
           ORDER BY at DESC, id DESC LIMIT 1) u ON true""",
]


def main():
    args = parse_args()
    from bench.run import ensure_database, measure_pair, setup_django

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    db_name = ensure_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from grid.models import Area, AreaKind, User
    from residents.models import Resident
    from residents.participation import selectors, services
    from residents.participation.models import Proposal, Track

    call_command("migrate", verbosity=0, interactive=False)
    now = timezone.now()
    if args.reseed or not Area.objects.filter(code="519901").exists():
        if "bench" not in db_name:
            sys.exit(f"{db_name} is not a bench database; refusing to flush it.")
        call_command("flush", verbosity=0, interactive=False)
        print("seeding…")
        seed(now)
    vacuum()
    community = Area.objects.filter(kind=AreaKind.COMMUNITY, name="社区0-0").get()
    staff = User.objects.get(username="bench_staff")
    resident = Resident.objects.filter(community_id=community.pk).first()
    target = Proposal.objects.filter(community_id=community.pk, status="collecting",
                                     grid_id=resident.grid_id).first()

    def board_raw():
        with connection.cursor() as cursor:
            for statement in BOARD_SQL:
                cursor.execute(statement, {"c": community.pk})
                cursor.fetchall()

    def support_portal():
        staff.__dict__.pop("_portal_scope", None)  # once per request
        services.proposal_support(proposal=target, resident=resident, acting_user=staff, now=now)

    def support_raw():
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO participation_support (proposal_id, resident_id, recorded_by_id, at) "
                           "VALUES (%s, %s, %s, %s)", [target.pk, resident.pk, staff.pk, now])
            cursor.execute("UPDATE participation_proposal SET support_count = support_count + 1 WHERE id = %s",
                           [target.pk])

    overdue = Track.objects.filter(due_at__lt=now, responsible_level="community").count()

    def sweep_raw():
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH moved AS (UPDATE participation_track SET responsible_level = 'street', due_at = %(due)s, "
                "escalation_count = escalation_count + 1 WHERE due_at < %(now)s AND stage <> 'done' "
                "AND responsible_level = 'community' RETURNING id, stage) "
                "INSERT INTO participation_event (track_id, action, at, note, data) "
                "SELECT id, 'track.escalate', %(now)s, '', jsonb_build_object('stage', stage) FROM moved",
                {"due": now + timedelta(days=14), "now": now})

    pairs = [
        ("board", "public board of a community", timed(lambda: selectors.board_for(community, now=now)),
         timed(board_raw)),
        ("support", "one support", timed(support_portal), timed(support_raw)),
        ("sweep", f"escalation sweep ({overdue:,} overdue tracks)",
         timed(lambda: services.escalate_overdue(now=now)), timed(sweep_raw)),
    ]
    rows = []
    for key, label, portal, raw in pairs:
        measured = measure_pair(portal, raw, repeat=args.repeat)
        (portal_ms, portal_best), (raw_ms, raw_best) = measured["portal"], measured["raw"]
        rows.append({"operation": label, "key": key, "portal_ms": round(portal_ms, 3),
                     "lower_bound_ms": round(raw_ms, 3), "ratio": round(portal_ms / raw_ms, 2),
                     "portal_best_ms": round(portal_best, 3), "lower_bound_best_ms": round(raw_best, 3)})
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.cursor().connection.info.parameter_status("server_version"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]},
        "repetitions": args.repeat,
        "rows": {"proposals": Proposal.objects.count(), "tracks": Track.objects.count()},
        "operations": rows,
    }
    print(f"\nPostgreSQL {report['database']} · {report['rows']['proposals']:,} proposals · "
          f"{report['rows']['tracks']:,} tracks · median of {args.repeat}")
    width = max(len(r["operation"]) for r in rows)
    for r in rows:
        print(f"{r['operation'].ljust(width)} | portal {r['portal_ms']:9.2f} ms | lower bound "
              f"{r['lower_bound_ms']:8.2f} ms | {r['ratio']:.1f}×")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "participation.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
