"""Benchmark the case pages, the public intake and the escalation sweep on PostgreSQL.

    .venv/bin/python bench/cases_bench.py [--only intake,sweep,pages] [--repeat 15]
                                          [--report-requests 1200] [--bare-requests 3000]
                                          [--concurrency 8] [--sweep-cases 100000]

Uses DATABASE_URL if set, else postgres://postgres@127.0.0.1:5432/portal_bench
(the city seeded by bench/run.py). If the database holds no cases, the cases'
own seeder adds the medium scale's 210,000 (three years of a district).

(a) intake: gunicorn (--workers sync workers, default 2, 127.0.0.1) serves bench.settings_bench;
    a client of several processes × threads sends a bounded number of valid
    public reports (POST /report/, CSRF token and all, each creating a case),
    and as many GETs of a bare Django view through the same middleware.
    Requests/s and p95 of each; target: reports ≥ 1/4 of the bare view's rate.
    The cases it created are deleted afterwards; their notifications go to a
    Redis database of their own (CELERY_BROKER_URL, default db 14), purged after.
(b) the escalation sweep over 100,000 overdue open cases, inserted (COPY) in a
    transaction that is rolled back afterwards; timed: the sweep itself and the
    enqueueing of its notifications that would follow each batch's commit.
    Lower bound: one UPDATE … SET level = next level of the same rows plus one
    INSERT … SELECT of their timeline rows. Target < 10 s.
(d) register (--only register): --register-reports waiting reports (bulk-inserted as the
    report page leaves them) registered by one worker in-process in batches
    (intake_register_pending), beside the raw SQL floor over the same rows (INSERT … SELECT
    per table and batch, rolled back); then --register-single more one by one (the old path).
    Community staff are added so each case writes its outbox rows; all is deleted after.
    Target ≥ 500 cases/s per worker. Written to results/cases_register.json when run alone.
(c) pages, in-process through Django's test client (the whole middleware stack,
    view and template; no network): the busiest grid worker's queue and the
    busiest street's case board, each beside the raw SQL that returns the same
    page of rows and its count, after a VACUUM ANALYZE of cases_case. Target < 50 ms.

Writes bench/results/cases.json and prints a table. Loopback traffic only; every
loop is bounded.
"""

import argparse
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"
DEFAULT_BROKER = "redis://127.0.0.1:6379/14"
RESULTS = Path(__file__).resolve().parent / "results"
MARK = "[bench]"
WARMUP = 2

TARGETS = {"intake_ratio": 0.25, "sweep_ms": 10_000, "queue_ms": 50, "board_ms": 50, "register_per_s": 500}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="intake,sweep,pages", help="comma-separated: intake, sweep, pages, register")
    parser.add_argument("--repeat", type=int, default=15, help="measured repetitions of each page (median)")
    parser.add_argument("--report-requests", type=int, default=1200)
    parser.add_argument("--bare-requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8, help="client connections in flight")
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn sync workers serving both the report and the bare view (the image runs 4)")
    parser.add_argument("--sweep-cases", type=int, default=100_000)
    parser.add_argument("--register-reports", type=int, default=20_000,
                        help="waiting reports registered in batches (and by the raw SQL floor)")
    parser.add_argument("--register-single", type=int, default=5_000,
                        help="waiting reports registered one by one (the old path; ~85/s)")
    parser.add_argument("--register-batch", type=int, default=REGISTER_BATCH)
    args = parser.parse_args()
    args.only = {part.strip() for part in args.only.split(",") if part.strip()}
    for name in ("report_requests", "bare_requests", "concurrency", "sweep_cases", "repeat", "workers",
                 "register_reports", "register_single", "register_batch"):
        value = getattr(args, name)
        if not 1 <= value <= 1_000_000:
            parser.error(f"--{name.replace('_', '-')} must be between 1 and 1,000,000")
    return args


def database_url():
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    os.environ.setdefault("CELERY_BROKER_URL", DEFAULT_BROKER)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/cases_bench.py measures PostgreSQL; DATABASE_URL must be a postgres:// URL.")


def ms(seconds):
    return round(seconds * 1000, 3)


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return None
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


# --- data --------------------------------------------------------------------------------

def ensure_cases():
    """Seed cases with the cases app's own seeder if the database has places but no cases."""
    from django.utils import timezone

    from cases.models import Case
    from grid.models import Area
    from grid.seeding import SCALES

    if not Area.objects.exists():
        sys.exit("The database holds no places: run bench/run.py (or manage.py seed_city) first.")
    count = Case.objects.count()
    if count:
        return {"cases": count, "seeded_here": 0}
    from cases import seed

    print("no cases: seeding the medium scale's 210,000 cases (cases.seed) …", flush=True)
    started = time.perf_counter()
    seed.seed(scale=SCALES["medium"], rng=random.Random(1), stdout=sys.stdout, now=timezone.now())
    print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    return {"cases": Case.objects.count(), "seeded_here": Case.objects.count()}


def sample_buildings(n):
    """Buildings with their street/community/grid ids, for valid report forms."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT b.id, g.id, c.id, s.id FROM grid_building b
            JOIN grid_area g ON g.id = b.grid_id AND g.is_active
            JOIN grid_area c ON c.id = g.parent_id AND c.kind = 'community'
            JOIN grid_area s ON s.id = c.parent_id AND s.kind = 'street'
            WHERE b.id %% 97 = 0 ORDER BY b.id LIMIT %s
            """,
            [n],
        )
        return cursor.fetchall()


# --- (a) intake under gunicorn -------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port, url, workers=2, settings="bench.settings_bench"):
    env = dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE=settings,
               DATABASE_CONN_MAX_AGE="60", PYTHONPATH=str(ROOT))
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "portal.wsgi:application", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--worker-class", "sync", "--log-level", "warning", "--timeout", "60"],
        cwd=str(ROOT), env=env, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("gunicorn exited at start-up")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/bare/", timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    stop_gunicorn(proc)
    sys.exit("gunicorn did not answer within 60 s")


def stop_gunicorn(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def csrf_pair(port):
    """A CSRF cookie and a form token that goes with it, as a browser gets them from the form."""
    import re

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/report/", timeout=10) as response:
        html = response.read().decode()
        cookie = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie.load(header)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return cookie["csrftoken"].value, token


def build_report_requests(port, buildings, count, cookie, token):
    requests = []
    for i in range(count):
        building, grid, community, street = buildings[i % len(buildings)]
        body = urllib.parse.urlencode({
            "csrfmiddlewaretoken": token, "category": "E0101", "street": street, "community": community,
            "grid": grid, "building": building, "description": f"{MARK} 路边有一堆暴露垃圾 #{i}",
        }).encode()
        head = (
            f"POST /report/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
            f"Cookie: csrftoken={cookie}\r\nReferer: http://127.0.0.1:{port}/report/\r\n"
            f"Accept-Language: zh-CN\r\n\r\n"
        ).encode()
        requests.append(head + body)
    return requests


def build_bare_requests(port, count):
    one = (f"GET /bench/bare/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
           f"Accept-Language: zh-CN\r\n\r\n").encode()
    return [one] * count


def _send(port, payload):
    """One request on a fresh connection (sync gunicorn workers close after each); returns status."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    head = b"".join(chunks)[:16]
    try:
        return int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def _client_process(port, payloads, threads):
    """Send `payloads` from `threads` threads; return (latencies in s, statuses)."""
    latencies, statuses = [], []
    lock = threading.Lock()
    position = {"next": 0}

    def run():
        while True:
            with lock:
                i = position["next"]
                position["next"] += 1
            if i >= len(payloads):
                return
            started = time.perf_counter()
            status = _send(port, payloads[i])
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses.append(status)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies, statuses


def load(port, payloads, concurrency):
    """Drive the server with `concurrency` connections in flight from two client processes."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    processes = 2 if concurrency >= 2 else 1
    threads = max(1, concurrency // processes)
    shares = [payloads[i::processes] for i in range(processes)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(_client_process, [port] * processes, shares, [threads] * processes))
    wall = time.perf_counter() - started
    latencies = [x for lat, _s in results for x in lat]
    statuses = [x for _l, st in results for x in st]
    return {
        "requests": len(latencies),
        "seconds": round(wall, 3),
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": ms(percentile(latencies, 50)),
        "p95_ms": ms(percentile(latencies, 95)),
        "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
    }


def purge_broker():
    """Drop what the bench enqueued in its own Redis database (nobody consumes it)."""
    url = os.environ.get("CELERY_BROKER_URL", DEFAULT_BROKER)
    if not url.startswith("redis://") or url.rstrip("/").endswith(("/0", ":6379")):
        return "left alone (not a bench-only Redis database)"
    try:
        import redis

        client = redis.Redis.from_url(url)
        removed = client.flushdb()
        return f"flushed {url}" if removed else "nothing to flush"
    except Exception as exc:  # noqa: BLE001 - a missing Redis only means nothing was enqueued there
        return f"not purged: {exc}"


def _fast_delete(cursor, statements, ids):
    """Delete rows nothing else points at, without the per-row foreign-key checks.

    Several columns that reference cases and users have no index (by design:
    they are never searched), so PostgreSQL's check for each deleted row would
    scan millions of rows. The caller has made sure nothing references the rows;
    `session_replication_role = replica` (superuser, this transaction only)
    skips the checks.
    """
    cursor.execute("SET LOCAL session_replication_role = replica")
    for statement in statements:
        cursor.execute(statement, [ids])


def delete_bench_cases(after_id):
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM cases_case WHERE id > %s AND description LIKE %s", [after_id, MARK + "%"])
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return 0
        cursor.execute("SELECT count(*) FROM cases_case WHERE duplicate_of_id = ANY(%s) AND NOT id = ANY(%s)",
                       [ids, ids])
        if cursor.fetchone()[0]:
            raise RuntimeError("another case points at a bench case: left in place, remove by hand")
        _fast_delete(cursor, [
            "DELETE FROM cases_delivery WHERE case_id = ANY(%s)",
            "DELETE FROM cases_notification WHERE case_id = ANY(%s)",
            "DELETE FROM cases_casephoto WHERE case_id = ANY(%s)",
            "DELETE FROM cases_extensionrequest WHERE case_id = ANY(%s)",
            "DELETE FROM cases_mediation_mediators WHERE mediation_id = ANY(%s)",
            "DELETE FROM cases_mediation WHERE case_id = ANY(%s)",
            "DELETE FROM cases_caseevent WHERE case_id = ANY(%s)",
            "DELETE FROM cases_case WHERE id = ANY(%s)",
        ], ids)
    return len(ids)


def _intake_staff(buildings):
    """Community staff to notify of each new report (the seeded large city has no people).

    Committed, because gunicorn's processes must see them; removed afterwards.
    Half have an e-mail address, so a report writes inbox and e-mail deliveries.
    """
    from django.utils import timezone

    from grid.models import Post, Role, User

    communities = sorted({community for _b, _g, community, _s in buildings})
    staffed = set(Post.objects.filter(role=Role.COMMUNITY_STAFF, ended_at__isnull=True,
                                      area_id__in=communities).values_list("area_id", flat=True))
    wanted = [c for c in communities if c not in staffed]
    users = User.objects.bulk_create([
        User(username=f"bench-intake-{c}", full_name=f"bench-intake-{c}", password="!",
             email=f"bench-intake-{c}@example.org" if n % 2 else "")
        for n, c in enumerate(wanted)
    ])
    Post.objects.bulk_create([Post(user=u, role=Role.COMMUNITY_STAFF, area_id=c, started_at=timezone.now())
                              for u, c in zip(users, wanted)])
    return [u.pk for u in users]


# Columns that reference grid_user, apart from the bench users' own posts.
USER_REFERENCES = (
    ("cases_case", ("assignee_id", "reporter_id", "resolved_by_id", "supervised_by_id")),
    ("cases_caseevent", ("actor_id",)),
    ("cases_delivery", ("user_id",)),
    ("cases_notification", ("user_id",)),
    ("cases_extensionrequest", ("requested_by_id", "decided_by_id")),
    ("cases_mediation_mediators", ("user_id",)),
    ("cases_mediationsession", ("recorded_by_id",)),
    ("grid_areaevent", ("actor_id",)),
    ("django_admin_log", ("user_id",)),
    ("grid_user_groups", ("user_id",)),
    ("grid_user_user_permissions", ("user_id",)),
)


def _remove_intake_staff(user_ids):
    """Remove the staff made for the intake run (their cases and deliveries are gone by now)."""
    from django.db import connection, transaction

    if not user_ids:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for table, columns in USER_REFERENCES:
            where = " OR ".join(f"{column} = ANY(%(ids)s)" for column in columns)
            cursor.execute(f"SELECT 1 FROM {table} WHERE {where} LIMIT 1", {"ids": user_ids})
            if cursor.fetchone():
                raise RuntimeError(f"{table} still points at a bench user: left in place, remove by hand")
        _fast_delete(cursor, ["DELETE FROM grid_post WHERE user_id = ANY(%s)",
                              "DELETE FROM grid_user WHERE id = ANY(%s)"], user_ids)


def intake_bench(args, url):
    from django.db import connection
    from django.db.models import Max

    from cases.models import Case

    buildings = sample_buildings(500)
    if not buildings:
        sys.exit("no buildings under communities: is the city seeded?")
    before = Case.objects.aggregate(m=Max("id"))["m"] or 0
    staff = _intake_staff(buildings)
    connection.close()  # the server's processes open their own
    port = free_port()
    print(f"(a) intake: gunicorn, {args.workers} workers on 127.0.0.1:{port}; {args.concurrency} connections in flight",
          flush=True)
    proc = None
    try:
        proc = start_gunicorn(port, url, args.workers)
        cookie, token = csrf_pair(port)
        warm_reports = build_report_requests(port, buildings, 40, cookie, token)
        assert _send(port, warm_reports[0]) == 302, "a valid report did not redirect to its tracking code"
        load(port, build_bare_requests(port, 200), args.concurrency)
        load(port, warm_reports[1:], args.concurrency)
        reports = build_report_requests(port, buildings, args.report_requests, cookie, token)
        bare = build_bare_requests(port, args.bare_requests)
        # Interleave halves so a change in machine load hits both alike.
        half_r, half_b = len(reports) // 2, len(bare) // 2
        runs = {"bare": [], "report": []}
        runs["bare"].append(load(port, bare[:half_b], args.concurrency))
        runs["report"].append(load(port, reports[:half_r], args.concurrency))
        runs["bare"].append(load(port, bare[half_b:], args.concurrency))
        runs["report"].append(load(port, reports[half_r:], args.concurrency))
        if proc is not None:
            stop_gunicorn(proc)
            proc = None
        registration = register_received()
    finally:
        # Leave the shared database as it was, whatever happened.
        if proc is not None:
            stop_gunicorn(proc)
        deleted = delete_bench_cases(before)
        dropped = delete_bench_intake()
        _remove_intake_staff(staff)
        purged = purge_broker()

    def merge(parts):
        total = sum(p["requests"] for p in parts)
        seconds = sum(p["seconds"] for p in parts)
        statuses = {}
        for p in parts:
            for k, v in p["statuses"].items():
                statuses[k] = statuses.get(k, 0) + v
        return {"requests": total, "requests_per_s": round(total / seconds, 1),
                "p95_ms": max(p["p95_ms"] for p in parts), "p50_ms": statistics.median(p["p50_ms"] for p in parts),
                "statuses": statuses, "runs": parts}

    bare_all, report_all = merge(runs["bare"]), merge(runs["report"])
    ratio = round(report_all["requests_per_s"] / bare_all["requests_per_s"], 3)
    print(f"    cleaned up: {deleted} bench cases and {dropped} received reports deleted; broker {purged}",
          flush=True)
    return {"bare": bare_all, "report": report_all, "ratio": ratio, "cases_deleted": deleted,
            "registration": registration, "concurrency": args.concurrency, "workers": args.workers,
            "staff_added": len(staff)}


def register_received():
    """What the Celery worker does with the reports the load left: register them as cases,
    in-process (one worker), timed. Returns the count and the rate."""
    from cases.models import Intake
    from cases.services_intake import intake_register_pending

    waiting = Intake.objects.filter(description__startswith=MARK, failed_at__isnull=True).count()
    started = time.perf_counter()
    registered = intake_register_pending(limit=waiting)
    seconds = time.perf_counter() - started
    left = Intake.objects.filter(description__startswith=MARK).count()
    print(f"    registration: {registered:,} of {waiting:,} received reports in {seconds:.1f} s "
          f"({registered / seconds if seconds else 0:.0f} cases/s, one worker); {left} left", flush=True)
    return {"waiting": waiting, "registered": registered, "seconds": round(seconds, 2),
            "cases_per_s": round(registered / seconds, 1) if seconds else None, "left": left}


def delete_bench_intake():
    """Received reports the bench left (none once registered; some if it was interrupted)."""
    from cases.models import Intake

    rows = Intake.objects.filter(description__startswith=MARK)
    for row in rows.exclude(photo=""):
        row.photo.delete(save=False)
    return rows.delete()[0]


# --- (d) registering received reports: batch, one by one, raw SQL ------------------------------

# Categories the bench's reports take, none a mediation (those go one by one in both paths):
# a big matter, a small one, a component, one on the seeded 准入 list, one with a routing rule.
REGISTER_CATEGORIES = ("E0101", "E0105", "C0301", "E0301", "E0201", "E0303")
REGISTER_BATCH = 500


def _seed_intakes(n, buildings, photo_name):
    """`n` waiting reports as the report page leaves them (encrypted reporter, masked copy), committed.

    Written with bulk_create rather than n × intake_receive: what is timed is the worker.
    One in four is at a grid only, one in five has a photo, two in three name a reporter,
    one in ten was received outside working hours.
    """
    from django.db import transaction
    from django.utils import timezone

    from cases.models import Category, Channel, Intake
    from cases.privacy import reporter_columns
    from cases.services import new_tracking_code

    categories = dict(Category.objects.filter(code__in=REGISTER_CATEGORIES).values_list("code", "pk"))
    now = timezone.now().replace(microsecond=0)
    rows = []
    for i in range(n):
        building, grid, _community, _street = buildings[i % len(buildings)]
        at_grid = i % 4 == 3
        received = now - timedelta(minutes=i % 600) if i % 10 else now.replace(hour=14) - timedelta(days=1)
        rows.append(Intake(
            tracking_code=new_tracking_code(), received_at=received, channel=Channel.QR if i % 7 == 0 else Channel.WEB,
            category_id=categories[REGISTER_CATEGORIES[i % len(REGISTER_CATEGORIES)]],
            grid_id=grid if at_grid else None, building_id=None if at_grid else building,
            description=f"{MARK} 路边有一堆暴露垃圾 #{i}",
            photo=photo_name if i % 5 == 0 else "",
            **reporter_columns(name="李四" if i % 3 else "", phone=f"139{i:08d}" if i % 3 else ""),
        ))
    with transaction.atomic():
        Intake.objects.bulk_create(rows, batch_size=2000)
    return n


def _bench_photo():
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    return default_storage.save("cases/bench/register.png", ContentFile(b"\x89PNG bench"))


# The floor: what registering a batch must at least write, as SQL alone. Per batch of the
# oldest waiting rows (claimed with SKIP LOCKED, as the worker does): count on the day's
# numbers, INSERT … SELECT the cases (path from the place's chain, reporter columns copied
# as stored, the dispatch deadline as received_at plus the category's limit in clock time),
# then their timeline events, photos and the community staff's outbox rows, and delete the rows.
RAW_REGISTER = [
    """
    CREATE TEMP TABLE bench_claim ON COMMIT DROP AS
    SELECT i.*, row_number() OVER (ORDER BY i.id) AS n
    FROM (SELECT * FROM cases_intake WHERE failed_at IS NULL AND description LIKE %(mark)s
          ORDER BY id LIMIT %(size)s FOR UPDATE SKIP LOCKED) i
    """,
    """
    INSERT INTO cases_casenumbercounter (day, last) SELECT CURRENT_DATE, count(*) FROM bench_claim
    ON CONFLICT (day) DO UPDATE SET last = cases_casenumbercounter.last + EXCLUDED.last
    """,
    """
    CREATE TEMP TABLE bench_new ON COMMIT DROP AS WITH
    base AS (SELECT last FROM cases_casenumbercounter WHERE day = CURRENT_DATE),
    made AS (
      INSERT INTO cases_case (number, tracking_code, kind, channel, external_ref, reporter_kind, reporter_name,
                              reporter_name_masked, reporter_phone, reporter_phone_masked, category_id, description,
                              address, building_id, latitude, longitude, status, responsible_level, due_at,
                              created_at, district_id, street_id, community_id, grid_id, carried_over_reason,
                              rework_count, extension_count, escalation_count, alarm_count, rating_comment,
                              deadline_stage, rating_count, satisfied_count)
      SELECT to_char(CURRENT_DATE, 'YYYYMMDD')
             || lpad((base.last - (SELECT count(*) FROM bench_claim) + c.n)::text, 5, '0'),
             c.tracking_code, 'ordinary', c.channel, c.external_ref, 'resident', c.reporter_name,
             c.reporter_name_masked, c.reporter_phone, c.reporter_phone_masked, c.category_id, c.description,
             coalesce(nullif(c.address, ''), b.address, ''), c.building_id, c.latitude, c.longitude, 'reported',
             'community', c.received_at + interval '1 hour', c.received_at, s.parent_id, cm.parent_id, g.parent_id,
             g.id, '', 0, 0, 0, 0, '', '', 0, 0
      FROM bench_claim c CROSS JOIN base
      LEFT JOIN grid_building b ON b.id = c.building_id
      JOIN grid_area g ON g.id = coalesce(b.grid_id, c.grid_id)
      JOIN grid_area cm ON cm.id = g.parent_id
      JOIN grid_area s ON s.id = cm.parent_id
      RETURNING id, tracking_code, number, created_at, community_id, category_id, description
    ) SELECT * FROM made
    """,
    """
    INSERT INTO cases_caseevent (case_id, action, from_status, to_status, at, note, is_public, data)
    SELECT id, 'report', '', 'reported', created_at, '', true, '{"channel": "web"}'::jsonb FROM bench_new
    """,
    """
    INSERT INTO cases_casephoto (case_id, event_id, stage, image, uploaded_at)
    SELECT n.id, e.id, 'report', c.photo, n.created_at
    FROM bench_new n JOIN bench_claim c ON c.tracking_code = n.tracking_code
    JOIN cases_caseevent e ON e.case_id = n.id WHERE c.photo <> ''
    """,
    """
    INSERT INTO cases_delivery (channel, user_id, address, case_id, subject, body, status, attempts,
                                next_attempt_at, last_error, created_at)
    SELECT ch.channel, u.id, CASE WHEN ch.channel = 'email' THEN u.email ELSE '' END, n.id,
           'New report to register: ' || n.number, n.number || ' ' || cat.name || '：' || left(n.description, 60),
           'pending', 0, n.created_at, '', n.created_at
    FROM bench_new n JOIN cases_category cat ON cat.id = n.category_id
    JOIN grid_post p ON p.area_id = n.community_id AND p.ended_at IS NULL
         AND p.role IN ('community_staff', 'community_head')
    JOIN grid_user u ON u.id = p.user_id AND u.is_active
    CROSS JOIN (VALUES ('inbox'), ('email')) ch(channel)
    WHERE ch.channel = 'inbox' OR u.email <> ''
    """,
    "DELETE FROM cases_intake WHERE id IN (SELECT id FROM bench_claim)",
]


def _raw_register(size):
    """The floor over every waiting bench row, batch by batch; all rolled back. Returns (rows, seconds)."""
    from django.db import connection, transaction

    done = 0
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            while True:
                with transaction.atomic():
                    cursor.execute(RAW_REGISTER[0], {"mark": MARK + "%", "size": size})
                    cursor.execute("SELECT count(*) FROM bench_claim")
                    claimed = cursor.fetchone()[0]
                    if not claimed:
                        break
                    for statement in RAW_REGISTER[1:]:
                        cursor.execute(statement)
                    cursor.execute("DROP TABLE bench_claim; DROP TABLE bench_new")
                done += claimed
            seconds = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return done, seconds


def _timed_registration(function, **kwargs):
    from cases.models import Intake

    waiting = Intake.objects.filter(description__startswith=MARK, failed_at__isnull=True).count()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    registered = function(limit=waiting, **kwargs)
    seconds = time.perf_counter() - started
    left = Intake.objects.filter(description__startswith=MARK).count()
    return {"waiting": waiting, "registered": registered, "left": left, "seconds": round(seconds, 2),
            "cases_per_s": round(registered / seconds, 1) if seconds else None,
            "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


def register_bench(args):
    """Register --register-reports waiting reports in batches and, separately, --register-single
    one by one, in-process (one worker); the raw SQL floor over the same rows first."""
    from django.core.files.storage import default_storage
    from django.db import connection
    from django.db.models import Max

    from cases.models import Case, Delivery
    from cases.services_intake import intake_register_one_by_one, intake_register_pending

    buildings = sample_buildings(500)
    if not buildings:
        sys.exit("no buildings under communities: is the city seeded?")
    before = Case.objects.aggregate(m=Max("id"))["m"] or 0
    staff = _intake_staff(buildings)
    photo = _bench_photo()
    result = {"batch_size": args.register_batch, "staff_added": len(staff)}
    try:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE cases_intake")
        _seed_intakes(args.register_reports, buildings, photo)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_intake")
        load_before = os.getloadavg()[0]
        rows, seconds = _raw_register(args.register_batch)
        result["raw"] = {"registered": rows, "seconds": round(seconds, 2), "cases_per_s": round(rows / seconds, 1),
                         "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
        print(f"(d) register: raw SQL floor {rows:,} in {seconds:.1f} s ({rows / seconds:,.0f} /s)", flush=True)
        result["batch"] = _timed_registration(intake_register_pending, batch_size=args.register_batch)
        result["batch"]["deliveries"] = Delivery.objects.filter(case_id__gt=before).count()
        print(f"    batch: {result['batch']}", flush=True)
        result["cleaned_batch"] = delete_bench_cases(before)
        _seed_intakes(args.register_single, buildings, photo)
        result["one_by_one"] = _timed_registration(intake_register_one_by_one)
        print(f"    one by one: {result['one_by_one']}", flush=True)
    finally:
        result["cleaned"] = delete_bench_cases(before)
        result["intake_left_dropped"] = delete_bench_intake()
        _remove_intake_staff(staff)
        default_storage.delete(photo)
        purge_broker()
    raw, batch, single = result.get("raw"), result.get("batch"), result.get("one_by_one")
    if raw and batch:
        result["batch_ratio_to_floor"] = round(raw["cases_per_s"] / batch["cases_per_s"], 2)
    if raw and single:
        result["one_by_one_ratio_to_floor"] = round(raw["cases_per_s"] / single["cases_per_s"], 2)
    return result


# --- (b) the escalation sweep ---------------------------------------------------------------

class Rollback(Exception):
    pass


def _sweep_places(now, grids=2000):
    """Grids spread over the city, each with a grid worker and its community with staff to notify.

    The seeded large city has no people; those missing are created here (inside
    the caller's transaction, rolled back afterwards). Half the staff have an
    e-mail address, so escalations write inbox and e-mail deliveries.
    """
    from django.db import connection

    from grid.models import Post, Role, User

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT g.id, c.id, s.id, s.parent_id FROM grid_area g
            JOIN grid_area c ON c.id = g.parent_id JOIN grid_area s ON s.id = c.parent_id
            WHERE g.kind = 'grid' AND g.is_active ORDER BY md5(g.id::text) LIMIT %s
            """,
            [grids],
        )
        places = cursor.fetchall()
    if not places:
        sys.exit("no grids: is the city seeded?")
    workers = dict(Post.objects.filter(role=Role.GRID_WORKER, ended_at__isnull=True,
                                       area_id__in=[p[0] for p in places]).values_list("area_id", "user_id"))
    staffed = set(Post.objects.filter(role=Role.COMMUNITY_STAFF, ended_at__isnull=True,
                                      area_id__in=[p[1] for p in places]).values_list("area_id", flat=True))
    wanted = [(f"bench-gw-{g}", Role.GRID_WORKER, g) for g, *_r in places if g not in workers]
    wanted += [(f"bench-cs-{c}", Role.COMMUNITY_STAFF, c) for c in sorted({p[1] for p in places} - staffed)]
    users = User.objects.bulk_create([
        User(username=name, full_name=name, password="!", email=f"{name}@example.org" if n % 2 else "")
        for n, (name, _role, _area) in enumerate(wanted)
    ])
    Post.objects.bulk_create([Post(user=u, role=role, area_id=area, started_at=now)
                              for u, (_n, role, area) in zip(users, wanted)])
    for user, (_name, role, area) in zip(users, wanted):
        if role == Role.GRID_WORKER:
            workers[area] = user.pk
    return [(g, c, s, d, workers[g]) for g, c, s, d in places], len(users)


def _sweep_rows(n, now, rng, places):
    """Overdue open cases at grid level (a third awaiting acceptance, the rest in hand)."""
    from cases.models import Category

    categories = list(Category.objects.filter(parent__isnull=False, is_active=True).values_list("pk", flat=True))
    fields = (
        "number", "tracking_code", "kind", "channel", "external_ref", "reporter_kind", "reporter_name",
        "reporter_phone", "category_id", "description", "address", "status", "responsible_level", "assignee_id",
        "due_at", "handle_due_at", "carried_over_reason", "rework_count", "extension_count", "escalation_count",
        "alarm_count", "rating_comment", "created_at", "registered_at", "accepted_at",
        "district_id", "street_id", "community_id", "grid_id",
    )

    def rows():
        for i in range(n):
            grid, community, street, district, worker = places[i % len(places)]
            created = now - timedelta(hours=rng.uniform(6, 72))
            due = now - timedelta(minutes=rng.uniform(1, 600))
            handling = i % 3 != 0
            yield (
                f"B{i:015d}", f"BT{i:014d}", "ordinary", "patrol", "", "grid_worker", "", "",
                rng.choice(categories), f"{MARK} overdue #{i}", "", "handling" if handling else "dispatched",
                "grid", worker, due, due if handling else None, "", 0, 0, 0, 0, "", created, created,
                created + timedelta(minutes=20) if handling else None, district, street, community, grid,
            )

    return fields, rows()


def _raw_sweep(now):
    """The least the database must do: move every overdue case one level up and write its timeline row."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH moved AS (
                UPDATE cases_case SET
                    responsible_level = CASE responsible_level WHEN 'grid' THEN 'community'
                                        WHEN 'community' THEN 'street' ELSE 'district' END,
                    status = CASE status WHEN 'handling' THEN 'dispatched' ELSE status END,
                    assignee_id = NULL, accepted_at = NULL, due_at = %s + interval '1 hour',
                    escalation_count = escalation_count + 1
                WHERE status IN ('reported', 'registered', 'dispatched', 'handling')
                  AND carried_over_at IS NULL AND due_at < %s AND responsible_level <> 'district'
                RETURNING id, status
            )
            INSERT INTO cases_caseevent (case_id, action, from_status, to_status, at, note, is_public, data)
            SELECT id, 'escalate', status, status, %s, '', true, '{}'::jsonb FROM moved
            """,
            [now, now, now],
        )
        return cursor.rowcount


def _overdue_count(now):
    from cases.models import Case
    from grid.models import AreaKind

    return Case.objects.filter(
        status__in=("reported", "registered", "dispatched", "handling"), carried_over_at__isnull=True, due_at__lt=now,
    ).exclude(responsible_level=AreaKind.DISTRICT).count()


def sweep_bench(args):
    from django.db import connection, transaction
    from django.utils import timezone

    from cases import escalation
    from cases.models import Case
    from grid import seeding

    now = timezone.now()
    rng = random.Random(7)
    result = {}
    print(f"(b) sweep: {args.sweep_cases:,} overdue open cases (inserted, rolled back afterwards)", flush=True)
    for mode in ("portal", "raw"):
        # Each mode starts from a vacuumed table: the intake run's deleted cases and the
        # other mode's rolled-back row versions would otherwise slow whichever runs later.
        with connection.cursor() as cursor:
            for table in ("cases_case", "cases_caseevent"):
                cursor.execute(f"VACUUM ANALYZE {table}")
        try:
            with transaction.atomic():
                already = _overdue_count(now)
                places, people_added = _sweep_places(now)
                fields, rows = _sweep_rows(max(0, args.sweep_cases - already), now, rng, places)
                seeding.write_rows(model=Case, fields=fields, rows=rows)
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE cases_case")
                overdue = _overdue_count(now)
                started = time.perf_counter()
                if mode == "portal":
                    moved = escalation.escalate_overdue(now=now)
                    swept = time.perf_counter() - started
                    # What each batch's commit would then do: enqueue its notifications.
                    callbacks = list(connection.run_on_commit)
                    connection.run_on_commit = []
                    started_enqueue = time.perf_counter()
                    for _sids, func, _robust in callbacks:
                        func()
                    enqueued = time.perf_counter() - started_enqueue
                    from cases.models import Delivery

                    # What the Celery worker then does with the batches' notices: word the
                    # notifications (outbox rows). Not part of the sweep's time; shown beside it.
                    started_wording = time.perf_counter()
                    worded = escalation.escalation_notices_expand()
                    wording = time.perf_counter() - started_wording
                    connection.run_on_commit = []
                    result["portal"] = {"overdue": overdue, "moved": moved, "sweep_ms": ms(swept),
                                        "enqueue_ms": ms(enqueued), "enqueue_callbacks": len(callbacks),
                                        "wording_ms": ms(wording), "worded": worded,
                                        "deliveries": Delivery.objects.filter(created_at=now).count(),
                                        "total_ms": ms(swept + enqueued), "already_overdue": already,
                                        "grids": len(places), "people_added": people_added}
                    again = escalation.escalate_overdue(now=now)
                    result["portal"]["second_run_moved"] = again
                else:
                    moved = _raw_sweep(now)
                    result["raw"] = {"overdue": overdue, "moved": moved, "ms": ms(time.perf_counter() - started)}
                raise Rollback
        except Rollback:
            pass
    purge_broker()
    return result


# --- (c) pages ----------------------------------------------------------------------------------

def _median_ms(fn, repeat):
    for _ in range(WARMUP):
        fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return ms(statistics.median(times)), ms(min(times))


def _queue_owner(in_hand=30):
    """A grid worker with a full queue: the grid with most cases waiting at grid level gets a
    worker (created if the seeded city has none), who also holds `in_hand` open cases of the
    community. Runs inside the caller's transaction, which is rolled back."""
    from django.db import connection
    from django.utils import timezone

    from grid.models import Post, Role, User

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT grid_id, community_id, count(*) FROM cases_case
            WHERE status IN ('dispatched', 'handling') AND responsible_level = 'grid' AND grid_id IS NOT NULL
            GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 1
            """
        )
        row = cursor.fetchone()
    if row is None:
        return None
    grid_id, community_id, _waiting = row
    post = Post.objects.filter(role=Role.GRID_WORKER, area_id=grid_id, ended_at__isnull=True,
                               user__is_active=True).select_related("user").first()
    if post is not None:
        worker = post.user
    else:
        worker = User.objects.create(username=f"bench-worker-{grid_id}", full_name="网格员（基准）")
        Post.objects.create(user=worker, role=Role.GRID_WORKER, area_id=grid_id, started_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE cases_case SET assignee_id = %s WHERE id IN (
                SELECT id FROM cases_case WHERE community_id = %s AND status IN ('dispatched', 'handling')
                  AND assignee_id IS NULL ORDER BY id LIMIT %s)
            """,
            [worker.pk, community_id, in_hand],
        )
    return worker, grid_id


def _busiest_street():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT street_id, count(*) FROM cases_case GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        return cursor.fetchone()


# The least the database must do for the same page: the capped count and the page of rows.
QUEUE_SQL = (
    """
    SELECT count(*) FROM (SELECT 1 FROM cases_case c
        WHERE c.status IN ('dispatched', 'handling')
          AND (c.assignee_id = %(user)s OR (c.assignee_id IS NULL AND c.responsible_level = 'grid'
                                            AND c.grid_id = %(grid)s))) s
    """,
    """
    SELECT c.id, c.number, c.status, c.due_at, c.supervised_at, c.description, c.assignee_id, cat.name, b.number
    FROM cases_case c
    JOIN cases_category cat ON cat.id = c.category_id
    LEFT JOIN grid_building b ON b.id = c.building_id
    WHERE c.status IN ('dispatched', 'handling')
      AND (c.assignee_id = %(user)s OR (c.assignee_id IS NULL AND c.responsible_level = 'grid'
                                        AND c.grid_id = %(grid)s))
    ORDER BY c.supervised_at IS NULL, c.due_at, c.id
    LIMIT 50
    """,
)

BOARD_SQL = (
    """
    SELECT count(*) FROM (SELECT 1 FROM cases_case c WHERE c.street_id = %(street)s {extra} LIMIT 1001) s
    """,
    """
    SELECT c.id, c.number, c.status, c.channel, c.created_at, c.due_at, c.supervised_at, c.description,
           c.responsible_level, cat.name, parent.name, u.full_name, g.name, com.name, b.number
    FROM cases_case c
    JOIN cases_category cat ON cat.id = c.category_id
    LEFT JOIN cases_category parent ON parent.id = cat.parent_id
    LEFT JOIN grid_user u ON u.id = c.assignee_id
    LEFT JOIN grid_area g ON g.id = c.grid_id
    LEFT JOIN grid_area com ON com.id = c.community_id
    LEFT JOIN grid_building b ON b.id = c.building_id
    WHERE c.street_id = %(street)s {extra}
    ORDER BY c.created_at DESC, c.id DESC
    LIMIT 50
    """,
)
OVERDUE_SQL = "AND c.status IN ('reported', 'registered', 'dispatched', 'handling') AND c.due_at < now()"


def pages_bench(args):
    from django.db import connection, transaction
    from django.test import Client
    from django.urls import reverse

    from grid import services as grid_services
    from grid.models import Area, Post, Role, User

    def raw(statements, params):
        def run():
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql, params)
                    rows = cursor.fetchall()
            return rows

        return run

    def page(client, url, query=None):
        def run():
            response = client.get(url, query or {})
            assert response.status_code == 200, (url, response.status_code)
            return response

        return run

    from cases.selectors import queue_for

    # Earlier runs of the sweep and intake leave dead row versions behind (their rows are
    # rolled back or deleted); vacuum first, so the pages do not depend on when autovacuum
    # happens to come by (bench/run.py does the same for the place tables).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")
    results = []
    street = _busiest_street()
    try:
        with transaction.atomic():
            owner = _queue_owner()
            if owner:
                worker, grid_id = owner
                queue_size = queue_for(User.objects.get(pk=worker.pk)).count()
                client = Client(headers={"Accept-Language": "zh-CN"})
                client.force_login(worker)
                portal_ms, portal_best = _median_ms(page(client, reverse("cases:queue")), args.repeat)
                rows = raw(QUEUE_SQL, {"user": worker.pk, "grid": grid_id})
                raw_ms, raw_best = _median_ms(rows, args.repeat)
                results.append({"operation": "grid worker's queue", "note": f"{queue_size} cases in the queue",
                                "portal_ms": portal_ms, "portal_best_ms": portal_best, "lower_bound_ms": raw_ms,
                                "lower_bound_best_ms": raw_best, "target_ms": TARGETS["queue_ms"],
                                "rows": len(rows())})
            if street:
                street_id, total = street
                post = Post.objects.filter(role=Role.STREET_STAFF, area_id=street_id, ended_at__isnull=True,
                                           user__is_active=True).select_related("user").first()
                if post is None:
                    staff = User.objects.create(username=f"bench-street-{street_id}", full_name="街道干部（基准）")
                    grid_services.post_grant(user=staff, role=Role.STREET_STAFF, place=Area.objects.get(pk=street_id))
                else:
                    staff = post.user
                client = Client(headers={"Accept-Language": "zh-CN"})
                client.force_login(staff)
                for label, query, extra in (
                    ("street's case board", {}, ""),
                    ("street's case board, overdue filter", {"overdue": "yes"}, OVERDUE_SQL),
                ):
                    portal_ms, portal_best = _median_ms(page(client, reverse("cases:board"), query), args.repeat)
                    rows = raw([sql.format(extra=extra) for sql in BOARD_SQL], {"street": street_id})
                    raw_ms, raw_best = _median_ms(rows, args.repeat)
                    results.append({"operation": label, "note": f"{total:,} cases in the street",
                                    "portal_ms": portal_ms, "portal_best_ms": portal_best,
                                    "lower_bound_ms": raw_ms, "lower_bound_best_ms": raw_best,
                                    "target_ms": TARGETS["board_ms"], "rows": len(rows())})
            raise Rollback
    except Rollback:
        pass
    for r in results:
        r["ratio"] = round(r["portal_ms"] / r["lower_bound_ms"], 1) if r["lower_bound_ms"] else None
    return results


# --- report -------------------------------------------------------------------------------------

def machine():
    return {"cpus": os.cpu_count(), "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "platform": platform.platform()}


def print_table(report):
    lines = [("measure", "portal", "lower bound / bare", "ratio", "target")]
    intake = report.get("intake")
    if intake:
        b, r = intake["bare"], intake["report"]
        met = intake["ratio"] >= TARGETS["intake_ratio"]
        lines.append((f"public report POST (gunicorn ×{intake.get('workers', 2)}, {intake['concurrency']} conns)",
                      f"{r['requests_per_s']:,.0f} req/s, p95 {r['p95_ms']:.0f} ms",
                      f"{b['requests_per_s']:,.0f} req/s, p95 {b['p95_ms']:.0f} ms",
                      f"{intake['ratio']:.2f}", f"≥ 0.25 {'met' if met else 'MISSED'}"))
        reg = intake.get("registration")
        if reg and reg.get("cases_per_s"):
            lines.append(("  then registering them as cases (one worker)",
                          f"{reg['cases_per_s']:,.0f} cases/s ({reg['registered']:,})", "—", "—", "(no target)"))
    register = report.get("register")
    if register and register.get("raw"):
        raw = register["raw"]
        for mode, label in (("batch", f"in batches of {register['batch_size']}"), ("one_by_one", "one by one")):
            r = register.get(mode)
            if r and r.get("cases_per_s"):
                met = r["cases_per_s"] >= TARGETS["register_per_s"]
                lines.append((f"received reports registered {label} (one worker, {r['registered']:,})",
                              f"{r['cases_per_s']:,.0f} cases/s", f"{raw['cases_per_s']:,.0f} cases/s (raw SQL)",
                              f"{raw['cases_per_s'] / r['cases_per_s']:.1f}×",
                              f"≥ 500/s {'met' if met else 'MISSED'}"))
    sweep = report.get("sweep")
    if sweep and "portal" in sweep:
        p, raw = sweep["portal"], sweep.get("raw", {})
        met = p["total_ms"] < TARGETS["sweep_ms"]
        ratio = f"{p['total_ms'] / raw['ms']:.1f}×" if raw.get("ms") else "—"
        lines.append((f"escalation sweep ({p['overdue']:,} overdue, {p['moved']:,} moved)",
                      f"{p['total_ms'] / 1000:.2f} s (sweep {p['sweep_ms'] / 1000:.2f} + enqueue "
                      f"{p['enqueue_ms'] / 1000:.2f})",
                      f"{raw.get('ms', 0) / 1000:.2f} s", ratio, f"< 10 s {'met' if met else 'MISSED'}"))
        if p.get("wording_ms") is not None:
            lines.append(("  then wording its notifications (worker)",
                          f"{p['wording_ms'] / 1000:.2f} s ({p['deliveries']:,} outbox rows)", "—", "—",
                          "(no target)"))
    for r in report.get("pages", []):
        met = r["portal_ms"] < r["target_ms"]
        lines.append((f"{r['operation']} [{r['note']}]", f"{r['portal_ms']:.1f} ms", f"{r['lower_bound_ms']:.1f} ms",
                      f"{r['ratio']:.1f}×" if r["ratio"] else "—", f"< {r['target_ms']} ms {'met' if met else 'MISSED'}"))
    widths = [max(len(line[i]) for line in lines) for i in range(5)]
    m = report["machine"]
    print()
    print(f"PostgreSQL {report['database']} · {report['data']['cases']:,} cases · {m['cpus']} CPUs "
          f"(load {m['load_average_1_5_15'][0]})")
    for n, line in enumerate(lines):
        print(" | ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        if n == 0:
            print("-+-".join("-" * w for w in widths))


def main():
    args = parse_args()
    url = database_url()
    setup_django(url)
    from django.conf import settings

    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": settings.DATABASES["default"]["NAME"],
        "machine": machine(),
        "data": ensure_cases(),
        "targets": TARGETS,
    }
    if "pages" in args.only:
        report["pages"] = pages_bench(args)
    if "sweep" in args.only:
        report["sweep"] = sweep_bench(args)
    if "intake" in args.only:
        report["intake"] = intake_bench(args, url)
    if "register" in args.only:
        report["register"] = register_bench(args)
    report["machine_after"] = machine()
    RESULTS.mkdir(exist_ok=True)
    # A run of the registration alone keeps its own file (cases.json holds the other parts' last run).
    out = RESULTS / ("cases_register.json" if args.only == {"register"} else "cases.json")
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    print_table(report)
    print(f"\nwritten {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
