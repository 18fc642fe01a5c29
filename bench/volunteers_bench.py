"""Points at city scale: a volunteer's balance and history, and rankings, beside raw SQL.

    .venv/bin/python bench/volunteers_bench.py [--scale large|medium] [--repeat N] [--reseed]

Uses DATABASE_URL if set, else postgres://postgres@127.0.0.1:5432/portal_bench_volunteers
(created if missing, migrated). On a database without points it seeds the
city's places (`seed_city --places-only`, no accounts), then only the
volunteers' seeder (volunteers/seed.py, the seed_city hook; without the
residents seeder its volunteers are portal users), timing it. A seeded
database is reused. `bench/run.py` runs the same pairs after its own when its
city has volunteers (seeded with the app seeders).

Measured, each the median of N runs after two warm-ups, portal and lower bound
alternating, each run in a rolled-back transaction:

| operation | portal | lower bound (raw SQL, same connection) |
|---|---|---|
| balance | `ledger.balance_of` | `SELECT balance FROM volunteers_account WHERE volunteer_id = ?` |
| statement (latest 20) | `selectors.statement` (entries + their transactions) | the same 20 rows by the `(account, at)` index, joined to their transactions |
| a year of history | `selectors.certificate_records` for the year (records, who certified, total) as the volunteer | the year's records joined to activity, place and certifier, by `(volunteer, started_at)` |
| community ranking, a year | `selectors.ranking(community)` | one `GROUP BY` over the community's member accounts' entries of the year, less redemptions |
| street ranking, a year | `selectors.ranking(street)` (every community inside) | the same over the street's communities |

The volunteer measured served every day of the last year in the community with
the most volunteers: 365 hour-long activities, their points and a daily bonus
(~730 entries), written once through the services and kept (the seeded
volunteers have a dozen entries a year: the report gives that count too). The
street is that community's street. Before timing, the runner checks each pair
gives the same answer.
"""

import argparse
import json
import os
import platform
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_bench_volunteers"
RESULTS = Path(__file__).resolve().parent / "results"
# Targets in ms (None: the ratio is what matters).
TARGETS = {"vol_balance": None, "vol_statement": None, "vol_history": None, "vol_ranking": None,
           "vol_ranking_street": None}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["large", "medium", "demo"], default="large")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reseed", action="store_true", help="flush the bench database and seed again")
    return parser.parse_args()


def seed_if_needed(scale_name, seed, reseed, db_name):
    """Places (if missing) and the volunteers' seeder (if no points yet); returns its seconds or None."""
    from django.core.management import call_command
    from django.core.management.base import OutputWrapper
    from django.db import connection, transaction
    from django.utils import timezone

    from grid.models import Area
    from grid.seeding import SCALES
    from volunteers import seed as volunteers_seed
    from volunteers.models import LedgerTransaction

    if reseed:
        if "bench" not in db_name:
            sys.exit(f"{db_name} is not a bench database; refusing to flush it.")
        call_command("flush", interactive=False, verbosity=0)
    if LedgerTransaction.objects.exists():
        return None
    if not Area.objects.exists():
        call_command("seed_city", scale=scale_name, seed=seed, accounts=False, places_only=True)
    started = perf_counter()
    with transaction.atomic():
        volunteers_seed.seed(scale=SCALES[scale_name], rng=random.Random(f"{seed}:volunteers"),
                             stdout=OutputWrapper(sys.stdout), now=timezone.now())
    seconds = perf_counter() - started
    with connection.cursor() as cursor:
        for table in ("volunteers_entry", "volunteers_account", "volunteers_ledgertransaction",
                      "volunteers_servicerecord", "volunteers_volunteer"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return seconds


class Fixture:
    """The volunteer, community and street measured, picked the same way on every run."""

    def __init__(self):
        from django.db.models import Count
        from django.utils import timezone

        from grid.models import Area
        from volunteers.models import Account, Entry

        self.until = timezone.now()
        self.since = self.until - timedelta(days=365)
        busiest = (Account.objects.filter(kind="member").values("community").annotate(n=Count("id"))
                   .order_by("-n", "community").first())
        self.community = Area.objects.get(pk=busiest["community"])
        self.street = self.community.parent
        top = (Entry.objects.filter(account__community=self.community, account__kind="member")
               .values("account").annotate(n=Count("id")).order_by("-n", "account").first())
        self.typical_entries = top["n"]
        self.user = self._viewer()
        self.volunteer = self._daily_volunteer()
        self.account = Account.objects.get(volunteer=self.volunteer)
        self.entries = Entry.objects.filter(account=self.account).count()

    def _viewer(self):
        """Staff of the volunteer's community (an unrestricted reader would skip the scoping)."""
        from grid.models import Role, User
        from grid.services import post_grant

        user, created = User.objects.get_or_create(username="bench-volunteers-staff",
                                                   defaults={"full_name": "测评员"})
        if created:
            post_grant(user=user, role=Role.COMMUNITY_STAFF, place=self.community)
        return user

    def _daily_volunteer(self):
        """A volunteer who served every day of the year (an hour's activity each day, its points, and a
        bonus a day): about 730 entries. Written once through the services and committed; reused after."""
        from django.db import transaction

        from grid.models import Area, User
        from volunteers import ledger, services
        from volunteers.models import Activity, ServiceRecord, Signup, Volunteer

        existing = Volunteer.objects.filter(user__username="bench-daily-volunteer").first()
        if existing is not None:
            return existing
        grid = Area.objects.filter(parent=self.community, kind="grid").order_by("code").first()
        person = User.objects.create(username="bench-daily-volunteer", full_name="每日志愿者")
        first = self.until - timedelta(days=365)
        with transaction.atomic():
            volunteer = services.volunteer_register(home=grid, user=person, acting_user=person, now=first)
            days = [first + timedelta(days=n) for n in range(365)]
            activities = Activity.objects.bulk_create([Activity(
                title="每日巡逻", area=self.community, organiser=self.user, location="社区", starts_at=day,
                ends_at=day + timedelta(hours=1), capacity=5, status="finished", created_at=day) for day in days])
            Signup.objects.bulk_create([Signup(activity=a, volunteer=volunteer, status="confirmed",
                                               signed_up_at=a.starts_at, checked_in_at=a.starts_at,
                                               checked_out_at=a.ends_at) for a in activities])
            records = ServiceRecord.objects.bulk_create([ServiceRecord(
                volunteer=volunteer, activity=a, started_at=a.starts_at, ended_at=a.ends_at, hours=1,
                content=a.title, confirmed_by=self.user, confirmed_at=a.ends_at) for a in activities])
            for record in records:
                ledger.award_hours(record=record, acting_user=self.user, now=record.confirmed_at)
                ledger.award_bonus(volunteer=volunteer, points=5, reason="每日之星", acting_user=self.user,
                                   now=record.confirmed_at + timedelta(minutes=5))
        return volunteer

    def describe(self):
        from volunteers.models import Account, Entry, Volunteer

        return {"community": self.community.name, "street": self.street.name, "volunteer_id": self.volunteer.pk,
                "volunteer_entries": self.entries, "typical_volunteer_entries": self.typical_entries,
                "volunteers": Volunteer.objects.count(),
                "accounts": Account.objects.count(), "entries": Entry.objects.count()}


def pairs(fixture=None):
    """(key, label, portal Timed, lower-bound Timed); nothing when the database has no points."""
    from django.db import connection

    from bench.operations import Timed
    from grid.selectors import scope_of
    from volunteers import ledger, selectors
    from volunteers.models import LedgerTransaction

    if fixture is None:
        if not LedgerTransaction.objects.exists():
            return
        fixture = Fixture()
    f = fixture

    def raw(sql, params):
        def act(_prepared):
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        return act

    def fresh_user():
        f.user.__dict__.pop("_portal_scope", None)  # the scope is computed once per request
        return f.user

    balance_sql = raw("SELECT balance FROM volunteers_account WHERE volunteer_id = %s", [f.volunteer.pk])
    statement_sql = raw(
        "SELECT e.id, e.amount, e.at, t.id, t.kind, t.memo FROM volunteers_entry e "
        "JOIN volunteers_ledgertransaction t ON t.id = e.transaction_id "
        "WHERE e.account_id = %s ORDER BY e.at DESC, e.id DESC LIMIT 20", [f.account.pk])
    history_sql = raw(
        "SELECT r.id, r.started_at, r.ended_at, r.hours, r.content, a.title, p.name, u.full_name, u.username "
        "FROM volunteers_servicerecord r LEFT JOIN volunteers_activity a ON a.id = r.activity_id "
        "LEFT JOIN grid_area p ON p.id = a.area_id JOIN grid_user u ON u.id = r.confirmed_by_id "
        "WHERE r.volunteer_id = %s AND r.voided_at IS NULL AND r.started_at >= %s AND r.started_at < %s "
        "ORDER BY r.started_at, r.id", [f.volunteer.pk, f.since, f.until])
    ranking_sql = (
        "SELECT a.volunteer_id, v.name, SUM(e.amount) AS points FROM volunteers_entry e "
        "JOIN volunteers_account a ON a.id = e.account_id JOIN volunteers_volunteer v ON v.id = a.volunteer_id "
        "JOIN volunteers_ledgertransaction t ON t.id = e.transaction_id "
        "LEFT JOIN volunteers_ledgertransaction o ON o.id = t.reverses_id "
        "WHERE {where} AND a.kind = 'member' AND e.at >= %s AND e.at < %s AND t.kind <> 'redeem' "
        "AND NOT (t.kind = 'reversal' AND o.kind IS NOT DISTINCT FROM 'redeem') "
        "GROUP BY a.volunteer_id, v.name HAVING SUM(e.amount) > 0 ORDER BY points DESC, a.volunteer_id LIMIT 20")
    community_sql = raw(ranking_sql.format(where="a.community_id = %s"), [f.community.pk, f.since, f.until])
    street_sql = raw(ranking_sql.format(
        where="a.community_id IN (SELECT id FROM grid_area WHERE tree_id = %s AND lft BETWEEN %s AND %s)"),
        [f.street.tree_id, f.street.lft, f.street.rght, f.since, f.until])

    checks = [
        ("vol_balance", "a volunteer's balance", lambda _p: ledger.balance_of(f.volunteer), balance_sql,
         lambda p, r: p == r[0][0]),
        ("vol_statement", f"a volunteer's statement, latest 20 of {f.entries} entries",
         lambda _p: selectors.statement(f.account, limit=20), statement_sql,
         lambda p, r: [e.pk for e in p] == [row[0] for row in r]),
        ("vol_history", "a volunteer's year of service records (certificate)",
         lambda _p: selectors.certificate_records(f.volunteer, user=fresh_user(), since=f.since, until=f.until),
         history_sql, lambda p, r: [x["id"] for x in p[0]] == [row[0] for row in r]),
        ("vol_ranking", f"community ranking, a year ({f.community.name})",
         lambda _p: selectors.ranking(f.community, since=f.since, until=f.until), community_sql,
         lambda p, r: [(x["account__volunteer"], x["points"]) for x in p] == [(row[0], row[2]) for row in r]),
        ("vol_ranking_street", f"street ranking, a year ({f.street.name})",
         lambda _p: selectors.ranking(f.street, since=f.since, until=f.until), street_sql,
         lambda p, r: [(x["account__volunteer"], x["points"]) for x in p] == [(row[0], row[2]) for row in r]),
    ]
    scope_of(fresh_user())
    for key, label, portal, lower, same in checks:
        if not same(portal(None), lower(None)):
            raise SystemExit(f"{key}: the portal and the lower bound disagree")
        yield key, label, Timed(act=portal), Timed(act=lower)


def main():
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    from bench.run import ensure_database, measure_pair, print_table, setup_django

    db_name = ensure_database(url)
    setup_django(url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    seconds = seed_if_needed(args.scale, args.seed, args.reseed, db_name)
    fixture = Fixture()
    rows = []
    if seconds is not None:
        rows.append({"operation": "seed: volunteers' seeder (a year of points)", "key": "vol_seed",
                     "portal_ms": seconds * 1000, "lower_bound_ms": None, "ratio": None, "target_ms": None,
                     "note": ""})
    for key, label, portal, lower in pairs(fixture):
        measured = measure_pair(portal, lower, repeat=args.repeat)
        (portal_ms, portal_best), (raw_ms, raw_best) = measured["portal"], measured["raw"]
        rows.append({"operation": label, "key": key, "portal_ms": portal_ms, "lower_bound_ms": raw_ms,
                     "ratio": portal_ms / raw_ms if raw_ms else None, "target_ms": TARGETS[key], "note": "",
                     "portal_best_ms": portal_best, "lower_bound_best_ms": raw_best})
    report = {
        "scale": args.scale,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.cursor().connection.info.parameter_status("server_version"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]},
        "repetitions": args.repeat,
        "fixture": fixture.describe(),
        "operations": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
    }
    print_table(report)
    print(json.dumps(report["fixture"], ensure_ascii=False))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "volunteers.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
