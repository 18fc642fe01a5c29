"""Issue #24 item 3 for real: the district dashboard read from a streaming replica, over HTTP.

    .venv/bin/python bench/replica_bench.py [--scale medium|demo] [--cases-only] [--runs 3] [--duration 20]

One command, nothing to prepare: it brings up its own PostgreSQL primary and streaming replica on
free ports (bench/pgcluster.py: initdb with wal_level=replica, pg_basebackup -R; the machine's own
PostgreSQL is not touched), migrates and seeds the primary (`seed_city --scale <scale>` through
bench/dashboard_bench.py's prepare: rollups rebuilt, VACUUM ANALYZE), waits until the replica has
replayed all of it (pg_last_wal_replay_lsn), and measures the busiest district's dashboard as its
district official under gunicorn (2 sync workers, bench.settings_bench) with
`wrk -t2 -c4 -d20s`, twice:

- DATABASE_REPLICA_URL unset: everything on the primary;
- DATABASE_REPLICA_URL set to the replica: the dashboard reads from the replica (portal/replica.py).

Each run's lower bound is the page's own SQL statements replayed through a bare cursor by the same
gunicorn (bench/urls_bench.py's replay view), on the database the page reads from, alternating with
the page. Before measuring it checks that the replica run answers 200 with the same page (the
freshness note aside), that its page says it was read from the replica, and that after a write
(POST /i18n/setlang/) the same user's next dashboard within REPLICA_STICKY_SECONDS reads the primary.

Writes bench/results/replica.json; stops and removes both clusters at the end, also on error.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"
DBNAME = "portal_replica_bench"
REPLICA_NOTE = ("Read from the replica database", "读自只读副本数据库")
FRESH_NOTE = re.compile(r'<p class="muted dash-fresh" data-dash-fresh>.*?</p>', re.S)
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+|("csrfToken":\s*")[^"]+')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["medium", "demo"], default="medium",
                        help="medium: 210,000 cases; demo: seconds, for trying the bench out")
    parser.add_argument("--cases-only", action="store_true", help="seed the places and the cases only")
    parser.add_argument("--runs", type=int, default=3, help="wrk runs per page and per lower bound, alternating")
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args()


def fetch(port, path, *, cookies, data=None):
    """(status, body, Set-Cookie values) of one request, redirects not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                     headers={"Accept-Language": "zh-hans",
                                              "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(request, timeout=120)
    except urllib.error.HTTPError as error:  # a 302 arrives as an error without the redirect handler
        response = error
    with response:
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return response.status, response.read().decode(), {k: m.value for k, m in jar.items()}


def figures(html):
    """The page less what may differ between two reads of the same figures (freshness note, CSRF token)."""
    return CSRF.sub(r"\1\2", FRESH_NOTE.sub("", html))


def check_correctness(port, path, session, reference, replica_on):
    """The page answers 200 with the reference figures; says where it was read from; and, with the replica
    on, a write pins the writer to the primary for the next read."""
    from bench.cases_bench import csrf_pair

    status, html, _ = fetch(port, path, cookies={"sessionid": session})
    assert status == 200, f"dashboard answered {status}"
    same = figures(html) == reference
    note = FRESH_NOTE.search(html).group(0)
    from_replica = any(text in note for text in REPLICA_NOTE)
    assert from_replica == replica_on, f"replica note {'missing' if replica_on else 'present'}: {note}"
    result = {"status": status, "same_figures_as_primary": same, "page_bytes": len(html.encode()),
              "read_from_replica": from_replica}
    if replica_on:
        csrf_cookie, token = csrf_pair(port)
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "language": "zh-hans", "next": path}).encode()
        status, _, set_cookies = fetch(port, "/i18n/setlang/", data=body,
                                       cookies={"sessionid": session, "csrftoken": csrf_cookie})
        assert status == 302 and "portal_primary_until" in set_cookies, (status, set_cookies)
        pinned = {"sessionid": session, "portal_primary_until": set_cookies["portal_primary_until"]}
        status, html, _ = fetch(port, path, cookies=pinned)
        sticky_on_primary = not any(text in FRESH_NOTE.search(html).group(0) for text in REPLICA_NOTE)
        assert status == 200 and sticky_on_primary, "a read right after a write did not read the primary"
        result.update(write_then_read_reads_primary=True, sticky_same_figures=figures(html) == reference)
    assert same, "the page read from the replica differs from the primary's"
    return result


def measure(binary, port, path, floor_path, session, args):
    from bench.speed_bench import wrk

    portal, floor = [], []
    for _ in range(args.runs):
        common = {"connections": args.connections, "duration": args.duration, "threads": args.threads,
                  "timeout": 60}
        portal.append(wrk(binary, port, path, cookie=session, **common))
        floor.append(wrk(binary, port, floor_path, cookie=None, **common))
    bad = [r for r in portal + floor if r["non_2xx"] or r["timeouts"] or not r["p50_ms"]]
    assert not bad, f"wrk saw non-2xx answers, timeouts or no answer at all: {bad}"
    p50 = statistics.median(r["p50_ms"] for r in portal)
    f50 = statistics.median(r["p50_ms"] for r in floor)
    return {"portal": portal, "lower_bound": floor, "portal_p50_ms": p50, "lower_bound_p50_ms": f50,
            "ratio": round(p50 / f50, 2) if f50 else None,
            "portal_rps": statistics.median(r["rps"] for r in portal),
            "lower_bound_rps": statistics.median(r["rps"] for r in floor)}


def slowest(statements, top=5):
    """The page's statements that take longest, each timed once on the primary (what the floor is made of)."""
    from django.db import connection

    timed = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            started = time.perf_counter()
            cursor.execute(sql, params)
            if cursor.description:
                cursor.fetchall()
            timed.append((round((time.perf_counter() - started) * 1000, 1), " ".join(sql.split())[:160]))
    timed.sort(reverse=True)
    return [{"ms": ms, "sql": sql} for ms, sql in timed[:top]] + [{"total_ms": round(sum(t[0] for t in timed), 1)}]


def run(pair, args, binary, report):
    from bench.cases_bench import free_port, start_gunicorn, stop_gunicorn
    from bench.run import setup_django
    from bench.speed_bench import load

    with pair.connect("primary") as primary:
        primary.execute(f'CREATE DATABASE "{DBNAME}"')
    url, replica_url = pair.url("primary", DBNAME), pair.url("replica", DBNAME)
    os.environ.pop("DATABASE_REPLICA_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    setup_django(url)
    from django.db import connection

    from bench.dashboard_bench import prepare, record_queries
    from bench.speed_bench import fixture

    started = time.perf_counter()
    rows = prepare(args.scale, reuse=False, cases_only=args.cases_only)
    report["seed_and_rollups_s"] = round(time.perf_counter() - started, 1)
    # Every table analysed and its visibility map set, on both servers (VACUUM's effects stream):
    # no autovacuum catching up with the load while wrk measures, and the same plans on both.
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    report["vacuum_analyze_s"] = round(time.perf_counter() - started, 1)
    report["rollup_rebuild_ms"] = round(rows[0]["portal_ms"], 1) if rows else None
    print(f"seeded {args.scale}{' (cases only)' if args.cases_only else ''} in {report['seed_and_rollups_s']} s",
          flush=True)
    fix = fixture()
    path = f"/dashboard/{fix['district_id']}/"
    client, session = fix["sessions"]["district"]
    assert client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200
    statements = record_queries(lambda: client.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    replay_dir = Path(tempfile.mkdtemp(prefix="replica-replay-"))
    import pickle

    (replay_dir / "dashboard.pickle").write_bytes(pickle.dumps(statements))
    report["slowest_statements_on_primary"] = slowest(statements)
    report.update(district_id=fix["district_id"], cases_in_district=fix["district_cases"],
                  dashboard_queries=len(statements),
                  database=connection.cursor().connection.info.parameter_status("server_version"))
    from cases.models import Case

    report["cases"] = Case.objects.count()
    connection.close()
    report["replica_catch_up_s"] = round(pair.wait_caught_up(timeout=900), 2)
    print(f"replica caught up ({report['replica_catch_up_s']} s after the seeding's last commit)", flush=True)

    os.environ["BENCH_REPLAY_DIR"] = str(replay_dir)
    reference = None
    try:
        for mode in ("primary", "replica"):
            if mode == "replica":
                os.environ["DATABASE_REPLICA_URL"] = replica_url
            else:
                os.environ.pop("DATABASE_REPLICA_URL", None)
            port = free_port()
            proc = start_gunicorn(port, url, workers=2)
            try:
                for _ in range(3):  # both workers warm
                    fetch(port, path, cookies={"sessionid": session})
                if reference is None:
                    reference = figures(fetch(port, path, cookies={"sessionid": session})[1])
                checks = check_correctness(port, path, session, reference, replica_on=mode == "replica")
                floor_path = "/bench/replay/dashboard/" + ("?db=replica" if mode == "replica" else "")
                row = measure(binary, port, path, floor_path, session, args)
            finally:
                stop_gunicorn(proc)
            row.update(mode=mode, page=path, checks=checks, load_after=load())
            report["rows"].append(row)
            loads = [r["load"][0] for r in row["portal"] + row["lower_bound"]]
            print(f"{mode:8} dashboard p50 {row['portal_p50_ms']} ms (runs {[r['p50_ms'] for r in row['portal']]}, "
                  f"{row['portal_rps']} req/s) | lower bound p50 {row['lower_bound_p50_ms']} ms "
                  f"(runs {[r['p50_ms'] for r in row['lower_bound']]}) | ratio {row['ratio']} | "
                  f"load {min(loads)}–{max(loads)} | checks {checks}", flush=True)
    finally:
        shutil.rmtree(replay_dir, ignore_errors=True)
        os.environ.pop("DATABASE_REPLICA_URL", None)
    primary_row, replica_row = report["rows"]
    report["replica_over_primary_p50"] = round(replica_row["portal_p50_ms"] / primary_row["portal_p50_ms"], 2)
    report["wrk_command"] = primary_row["portal"][0]["command"]


def main():
    args = parse_args()
    from bench.pgcluster import ReplicaPair, Unavailable
    from bench.speed_bench import ensure_wrk, load

    binary = ensure_wrk()
    report = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "scale": args.scale,
              "cases_only": args.cases_only, "cpus": os.cpu_count(), "load_at_start": load(),
              "wrk": {"threads": args.threads, "connections": args.connections, "duration_s": args.duration,
                      "runs": args.runs}, "rows": []}
    try:
        with ReplicaPair(prefix="portal-replica-bench-") as pair:
            report["ports"] = dict(pair.ports)
            print(f"primary on port {pair.ports['primary']}, streaming replica on {pair.ports['replica']} "
                  f"({pair.bindir})", flush=True)
            run(pair, args, binary, report)
    except Unavailable as reason:
        sys.exit(f"cannot run: {reason}")
    report["load_at_end"] = load()
    primary_row, replica_row = report["rows"]
    print(f"\nwrk command: {primary_row['portal'][0]['command']}")
    print(f"{'':8} {'portal p50':>11} {'lower bound':>12} {'ratio':>6}   load (1 min)")
    for row in report["rows"]:
        loads = [r["load"][0] for r in row["portal"]]
        print(f"{row['mode']:8} {row['portal_p50_ms']:>8} ms {row['lower_bound_p50_ms']:>9} ms "
              f"{row['ratio']:>6}   {min(loads)}–{max(loads)}")
    print(f"replica ÷ primary (page p50): {report['replica_over_primary_p50']}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "replica.json"
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
