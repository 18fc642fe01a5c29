"""Benchmark one refresh of the command screen (指挥大屏, issue 18) over HTTP: wrk against gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_screen .venv/bin/python bench/screen_bench.py \
        [--seconds 15] [--workers 2]

Needs a seeded city with cases and built rollups (bench/dashboard_bench.py seeds one:
`--scale medium --cases-only`); this script only reads it, plus two users and their
sessions, which it creates (committed: gunicorn's processes must see them) and deletes.

What is measured, each with `wrk -t1 -c1` (one connection: the latency of one
refresh, not a throughput under load) for `--seconds`, against gunicorn
(`--workers` sync workers, bench.settings_bench), after a warm-up:

- the district's screen JSON as its district official (what the page fetches every 30 s),
- the same with `?shapes=1` (the page's first load carries the grid outlines),
- the whole city's screen JSON as an administrator;

and beside each, its raw-SQL floor: the endpoint's own SQL statements, recorded
in-process while it answers (minus the session and user look-ups), replayed by
a bare view on the same gunicorn (`bench/replay/<name>/`, bench/urls_bench.py)
and measured by the same wrk in the same run. The ratio is what Django, the
ORM, the scope checks and the JSON add on top of the queries.

Writes bench/results/screen-<scale>.json and prints a table. Targets (issue 18):
district < 150 ms and within 3× the floor; city < 400 ms.
"""

import argparse
import json
import os
import pickle
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {"district": 150, "district_shapes": None, "city": 400}
FLOOR_RATIO = 3


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15, help="wrk duration per row")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    return parser.parse_args()


def _wrk(url, seconds, cookie=None):
    """Median and 90th-percentile latency (ms) and requests/s of `url`, one connection."""
    command = ["wrk", "-t1", "-c1", f"-d{seconds}s", "--latency", "-H", "Accept-Language: zh-CN"]
    if cookie:
        command += ["-H", f"Cookie: sessionid={cookie}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        sys.exit(f"wrk saw errors for {url}:\n{out}")

    def ms(label):
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {"p50_ms": ms("50"), "p90_ms": ms("90"),
            "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}


def main():
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    from bench.cases_bench import free_port, start_gunicorn, stop_gunicorn
    from bench.dashboard_bench import fixture, record_queries
    from bench.run import DEFAULT_URL, setup_django

    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    setup_django(url)
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from cases.models import Case
    from grid.models import Area, AreaKind

    fx = fixture()
    district, district_cases, official = fx["district"]
    _city, _n, admin = fx["city"]
    scale = "large" if Area.objects.filter(kind=AreaKind.GRID).count() > 5_000 else "medium"
    endpoints = {
        "district": (official, reverse("cases:command_screen_place_data", args=[district.pk]), ""),
        "district_shapes": (official, reverse("cases:command_screen_place_data", args=[district.pk]), "?shapes=1"),
        "city": (admin, reverse("cases:command_screen_data"), ""),
    }
    replay_dir = Path(tempfile.mkdtemp(prefix="screen-bench-"))
    cookies, counts = {}, {}
    for name, (user, path, query) in endpoints.items():
        client = Client()
        client.force_login(user)
        cookies[name] = client.cookies["sessionid"].value

        def get(client=client, target=path + query):
            response = client.get(target)
            assert response.status_code == 200, (target, response.status_code)

        get()
        statements = record_queries(get)
        counts[name] = len(statements)
        (replay_dir / f"{name}.pickle").write_bytes(pickle.dumps(statements))

    port = free_port()
    os.environ["BENCH_REPLAY_DIR"] = str(replay_dir)
    proc = start_gunicorn(port, url, args.workers)
    rows = []
    try:
        base = f"http://127.0.0.1:{port}"
        for name, (_user, path, query) in endpoints.items():
            _wrk(base + path + query, 2, cookies[name])  # warm-up: both workers, connections, caches
            _wrk(f"{base}/bench/replay/{name}/", 2)
            portal = _wrk(base + path + query, args.seconds, cookies[name])
            floor = _wrk(f"{base}/bench/replay/{name}/", args.seconds)
            ratio = portal["p50_ms"] / floor["p50_ms"] if floor["p50_ms"] else None
            target = TARGETS[name]
            rows.append({
                "operation": f"screen JSON, {name}{' (first load, with outlines)' if query else ''}",
                "key": f"screen_{name}", "portal_ms": portal["p50_ms"], "lower_bound_ms": floor["p50_ms"],
                "ratio": ratio, "target_ms": target,
                "met": None if target is None else portal["p50_ms"] < target and (
                    name == "city" or ratio <= FLOOR_RATIO),
                "portal_p90_ms": portal["p90_ms"], "lower_bound_p90_ms": floor["p90_ms"],
                "portal_requests_per_s": portal["requests_per_s"], "note": f"{counts[name]} queries",
            })
    finally:
        stop_gunicorn(proc)
        shutil.rmtree(replay_dir, ignore_errors=True)
        from django.contrib.sessions.models import Session

        Session.objects.filter(session_key__in=list(cookies.values())).delete()

    report = {
        "scale": scale, "cases": Case.objects.count(), "district": district.name, "district_cases": district_cases,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.cursor().connection.info.parameter_status("server_version"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()]},
        "tool": f"wrk -t1 -c1 -d{args.seconds}s against gunicorn ({args.workers} sync workers); median latency",
        "operations": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
    }
    print(f"{'operation':55} {'portal':>9} {'floor':>9} {'ratio':>6} {'target':>7} met")
    for r in report["operations"]:
        print(f"{r['operation']:55} {r['portal_ms']:8.1f}ms {r['lower_bound_ms']:8.1f}ms {r['ratio']:6.2f} "
              f"{r['target_ms'] or '':>7} {r['met']}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"screen-{scale}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
