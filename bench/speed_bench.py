"""Issue #24 over HTTP: wrk against gunicorn, each page beside its raw-SQL floor, and the workers' memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
        .venv/bin/python bench/speed_bench.py [--runs 3] [--duration 10] [--only admin,board,dashboard]

Reads the city `bench/run.py` or `bench/dashboard_bench.py --cases-only` seeded (large: 2.1 M cases).

- gunicorn (2 sync workers, bench.settings_bench) serves the portal, the bare view and the replay view
  (bench/urls_bench.py) on one port; wrk (Debian's package, installed here when missing and run as
  root) measures each page and, in the same run, alternating with it, the replay of that page's own SQL
  statements (recorded once in-process, session and user look-ups left out): the lower bound.
- Pages: the admin case list `/admin/cases/case/` as community staff of the busiest community, the case
  board `/cases/` as the busiest district's official, and that district's dashboard (1 and 4 connections).
- Memory: the RSS of each gunicorn worker once it has served one bare request (the app is imported and
  django.setup() has run), and again after 500 requests mixing every page, the public report form, the
  home page and the bare view; beside it, the floor: a worker of a bare Django project on the same stack
  (bench/settings_floor.py: Django, psycopg, the Redis cache, cryptography; one view) after 500 requests.
  Both use the Redis cache, as production does (REDIS_URL, default db 15 of the local Redis). Beside
  each RSS, the worker's private memory (smaps_rollup: Private_Clean + Private_Dirty): RSS also counts
  the pages of shared libraries that every worker maps from one copy in memory (cryptography's Rust
  library alone is ~7 MB of it).

Writes bench/results/speed.json and prints a table with the load average beside each figure.
"""

import argparse
import json
import os
import pickle
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"
TARGETS_MS = {"admin": 100, "board": 30, "dashboard": 150}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="wrk runs per page and per lower bound, alternating")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--only", default="rss,admin,board,dashboard")
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn sync workers (2: the issue's runs; 4: what the Dockerfile starts)")
    return parser.parse_args()


def ensure_wrk():
    """wrk from Debian, as scripts/test installs chromium: only as root, only when missing."""
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if os.geteuid() != 0:
        sys.exit("wrk is missing: apt-get install -y wrk (as root)")
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk")


def load():
    return [round(x, 2) for x in os.getloadavg()]


def fixture():
    """Users for each page (created once) and their session cookies, committed for gunicorn to read."""
    from django.db import connection
    from django.test import Client

    from bench.dashboard_bench import _user
    from grid.models import Role

    with connection.cursor() as cursor:
        cursor.execute("SELECT district_id, count(*) FROM cases_case GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        district_id, district_cases = cursor.fetchone()
        cursor.execute("SELECT community_id, count(*) FROM cases_case WHERE district_id = %s "
                       "AND community_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 1", [district_id])
        community_id, community_cases = cursor.fetchone()
    users = {
        "community": _user("bench-speed-community", Role.COMMUNITY_STAFF, community_id),
        "district": _user("bench-speed-district", Role.DISTRICT_OFFICIAL, district_id),
    }
    # Managing posts open the admin (grid.services.post_grant sets is_staff; the bench adds posts directly).
    for user in users.values():
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
    sessions = {}
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        sessions[name] = (client, client.cookies["sessionid"].value)
    return {"district_id": district_id, "district_cases": district_cases, "community_id": community_id,
            "community_cases": community_cases, "sessions": sessions}


def pages(fix):
    d = fix["district_id"]
    return {
        "admin": ("community", "/admin/cases/case/"),
        "board": ("district", "/cases/"),
        "dashboard": ("district", f"/dashboard/{d}/"),
    }


def record(fix, replay_dir):
    """Each page once in-process (warm), then its statements recorded for the replay view."""
    from bench.dashboard_bench import record_queries

    for name, (who, url) in pages(fix).items():
        client = fix["sessions"][who][0]
        assert client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200, url
        statements = record_queries(lambda: client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans"))
        (replay_dir / f"{name}.pickle").write_bytes(pickle.dumps(statements))


def _workers_mb(master, file, fields):
    """Each gunicorn worker's sum of `fields` (kB lines) in /proc/<pid>/`file`, in MB."""
    sizes = []
    for pid in Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split():
        kb = sum(int(line.split()[1]) for line in Path(f"/proc/{pid}/{file}").read_text().splitlines()
                 if line.startswith(fields))
        sizes.append(round(kb / 1024, 1))
    return sizes


def worker_rss(master):
    return _workers_mb(master, "status", "VmRSS:")


def worker_private(master):
    """Each worker's private memory in MB: what it holds that no other process shares."""
    return _workers_mb(master, "smaps_rollup", ("Private_Clean:", "Private_Dirty:"))


def rss_floor(url):
    """The RSS of a worker of a bare Django project on the same stack (bench/settings_floor.py), after
    setup and after 500 requests of its one view: what any worker costs before the portal's own code."""
    from bench.cases_bench import free_port, start_gunicorn, stop_gunicorn

    port = free_port()
    proc = start_gunicorn(port, url, workers=2, settings="bench.settings_floor")
    try:
        for _ in range(4):
            get(port, "/bench/floor/")
        at_start = worker_rss(proc)
        statuses = {get(port, "/bench/floor/") for _ in range(500)}
        return {"after_setup_mb": at_start, "after_500_mb": worker_rss(proc),
                "after_500_private_mb": worker_private(proc), "statuses": sorted(statuses), "load": load()}
    finally:
        stop_gunicorn(proc)


def get(port, path, cookie=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Accept-Language": "zh-hans"})
    if cookie:
        request.add_header("Cookie", f"sessionid={cookie}")
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        return response.status


def wrk(binary, port, path, *, cookie, connections, duration, threads=1, timeout=None):
    command = [binary, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-H", "Accept-Language: zh-hans"]
    if timeout:  # wrk leaves requests slower than its 2 s default out of the latencies
        command[1:1] = [f"--timeout={timeout}s"]
    if cookie:
        command += ["-H", f"Cookie: sessionid={cookie}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    before = load()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {p: _ms(v) for p, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"Socket errors:.*timeout (\d+)", out)
    shown = " ".join(c if " " not in c else f"'{c}'" for c in command).replace(cookie or "\0", "<session>")
    return {"rps": rps, "p50_ms": latency.get("50"), "p90_ms": latency.get("90"), "p99_ms": latency.get("99"),
            "non_2xx": int(errors.group(1)) if errors else 0, "timeouts": int(timeouts.group(1)) if timeouts else 0,
            "load": before, "command": shown}


def _ms(text):
    value = float(re.match(r"[\d.]+", text).group(0))
    return round(value * {"us": 0.001, "ms": 1, "s": 1000}[re.search(r"[a-z]+$", text).group(0)], 2)


def measure_page(binary, port, name, cookie, *, connections, runs, duration):
    portal, floor = [], []
    for _ in range(runs):
        portal.append(wrk(binary, port, pages.cache[name], cookie=cookie, connections=connections,
                          duration=duration))
        floor.append(wrk(binary, port, f"/bench/replay/{name}/", cookie=None, connections=connections,
                         duration=duration))
    p50 = statistics.median(r["p50_ms"] for r in portal)
    f50 = statistics.median(r["p50_ms"] for r in floor)
    return {"page": name, "connections": connections, "portal": portal, "lower_bound": floor,
            "portal_p50_ms": p50, "lower_bound_p50_ms": f50, "ratio": round(p50 / f50, 2) if f50 else None,
            "target_ms": TARGETS_MS.get(name)}


def main():
    args = parse_args()
    from bench.cases_bench import free_port, start_gunicorn, stop_gunicorn
    from bench.run import DEFAULT_URL, ensure_database, setup_django

    only = set(args.only.split(","))
    binary = ensure_wrk()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    ensure_database(url)
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")  # the cache, as in production
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    setup_django(url)
    from django.db import connection

    fix = fixture()
    pages.cache = {name: path for name, (_who, path) in pages(fix).items()}
    replay_dir = Path(tempfile.mkdtemp(prefix="speed-replay-"))
    record(fix, replay_dir)
    connection.close()
    os.environ["BENCH_REPLAY_DIR"] = str(replay_dir)
    port = free_port()
    # Compiled as the production image compiles them (Dockerfile), so workers do not compile at start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "-x", r"(^|/)(tests|bench|\.venv)/", "."],
                   cwd=ROOT, check=True)
    proc = start_gunicorn(port, url, workers=args.workers)
    report = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "cases_in_district": fix["district_cases"], "cases_in_community": fix["community_cases"],
              "cpus": os.cpu_count(), "workers": args.workers, "rows": [], "rss": None}
    try:
        for _ in range(4):
            get(port, "/bench/bare/")
        if "rss" in only:
            at_start, load_start = worker_rss(proc), load()
            mix = [(path, fix["sessions"][who][1]) for who, path in pages(fix).values()]
            mix += [("/report/", None), ("/bench/bare/", None), ("/", fix["sessions"]["district"][1])]
            statuses = [get(port, *mix[i % len(mix)]) for i in range(500)]
            report["rss"] = {"after_setup_mb": at_start, "load_at_start": load_start,
                             "after_500_mixed_mb": worker_rss(proc),
                             "after_500_mixed_private_mb": worker_private(proc), "load_after": load(),
                             "statuses": sorted(set(statuses)), "mix": [m[0] for m in mix]}
            print(f"RSS per worker after django.setup(): {at_start} MB (load {load_start}); after 500 mixed "
                  f"requests: {report['rss']['after_500_mixed_mb']} MB, private "
                  f"{report['rss']['after_500_mixed_private_mb']} MB (load {load()})", flush=True)
            report["rss"]["floor"] = rss_floor(url)
            print(f"RSS floor (bench/settings_floor.py: Django, psycopg, Redis cache, cryptography; one view): "
                  f"{report['rss']['floor']['after_setup_mb']} MB after setup, "
                  f"{report['rss']['floor']['after_500_mb']} MB after 500 requests, private "
                  f"{report['rss']['floor']['after_500_private_mb']} MB", flush=True)
        for name, (who, _path) in pages(fix).items():
            if name not in only:
                continue
            cookie = fix["sessions"][who][1]
            for connections in ((1, 4) if name == "dashboard" else (1,)):
                row = measure_page(binary, port, name, cookie, connections=connections, runs=args.runs,
                                   duration=args.duration)
                report["rows"].append(row)
                loads = [r["load"][0] for r in row["portal"]]
                print(f"{name:10} c={connections}: portal p50 {row['portal_p50_ms']} ms "
                      f"(runs {[r['p50_ms'] for r in row['portal']]}, {[r['rps'] for r in row['portal']]} req/s), "
                      f"lower bound p50 {row['lower_bound_p50_ms']} ms "
                      f"(runs {[r['p50_ms'] for r in row['lower_bound']]}), ratio {row['ratio']}, "
                      f"target < {row['target_ms']} ms; load {min(loads)}–{max(loads)}", flush=True)
    finally:
        stop_gunicorn(proc)
        shutil.rmtree(replay_dir, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speed.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
