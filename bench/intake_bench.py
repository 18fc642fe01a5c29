"""Issue #24's intake row over HTTP with wrk: public report POSTs ÷ a bare view, same server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
        .venv/bin/python bench/intake_bench.py [--runs 3] [--duration 10] [--connections 4,8] [--workers 2]

gunicorn (`--workers` sync workers, bench.settings_bench: the report's rate limit off) serves the
portal. wrk (Debian's package, installed when missing and run as root) drives, alternating, in
the same run:

- the public report form's POST `/report/`, each request a valid report (CSRF cookie and token
  as a browser has them from the form, a category, a building of the city and its place chain, a
  description numbered per request): a Lua script (written next to the results) builds the bodies
  and counts every answer that is not the 302 to the tracking page;
- the bare view `/bench/bare/` (`bench/urls_bench.py`: the whole middleware stack and a response),
  the ceiling for any page of this server.

The ratio is report requests/s ÷ bare requests/s; target ≥ 0.25. The bench's Python client
(bench/cases_bench.py --only intake) caps the bare view far below what wrk reaches, which made
the ratio look better than it is (issue #24). Received reports are then deleted and the Celery
messages they enqueued (CELERY_BROKER_URL, default Redis db 14) purged: nothing is registered.

Writes bench/results/intake.json and prints one line per connection count.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results"
TARGET = 0.25

LUA = """-- bench/intake_bench.py: one valid public report per request, numbered per thread.
local prefixes = {%(prefixes)s}
local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "csrftoken=%(cookie)s",
                 ["Referer"] = "http://127.0.0.1:%(port)s/report/", ["Accept-Language"] = "zh-CN"}
local threads = {}
function setup(thread)
  thread:set("tag", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  n = 0
  not_302 = 0
end
function request()
  n = n + 1
  local body = prefixes[(n %% #prefixes) + 1] .. tag .. "-" .. n
  return wrk.format("POST", "/report/", headers, body)
end
function response(status, headers, body)
  if status ~= 302 then
    not_302 = not_302 + 1
  end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_302")
  end
  io.write("NOT_302 " .. bad .. "\\n")
end
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="wrk runs of each side per connection count")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", default="4,8")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    try:
        args.connections = [int(c) for c in args.connections.split(",")]
    except ValueError:
        parser.error("--connections is a comma-separated list of numbers")
    if not all(1 <= c <= 256 for c in args.connections) or not 1 <= args.runs <= 20 \
            or not 1 <= args.duration <= 120 or not 1 <= args.workers <= 16:
        parser.error("connections 1–256, runs 1–20, duration 1–120 s, workers 1–16")
    return args


def lua_script(port, cookie, token, buildings):
    """The Lua file wrk runs: form bodies per building, the description's number appended per request."""
    from bench.cases_bench import MARK

    prefixes = []
    for building, grid, community, street in buildings:
        fields = urllib.parse.urlencode({
            "csrfmiddlewaretoken": token, "category": "E0101", "street": street, "community": community,
            "grid": grid, "building": building,
        })
        description = urllib.parse.quote(f"{MARK} 路边有一堆暴露垃圾 wrk ")
        prefixes.append(f'"{fields}&description={description}"')
    return LUA % {"prefixes": ", ".join(prefixes), "cookie": cookie, "port": port}


def run_wrk(binary, port, path, *, connections, duration, script=None):
    from bench.speed_bench import load

    command = [binary, "-t2" if connections > 1 else "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    command.append(f"http://127.0.0.1:{port}{path}")
    before = load()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    not_302 = re.search(r"NOT_302 (\d+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "p50": p50.group(1) if p50 else None,
            "non_2xx_3xx": int(errors.group(1)) if errors else 0,
            "not_302": int(not_302.group(1)) if not_302 else None,
            "load": before, "command": " ".join(command)}


def main():
    args = parse_args()
    from bench.cases_bench import (DEFAULT_BROKER, csrf_pair, delete_bench_intake, free_port, purge_broker,
                                   sample_buildings, start_gunicorn, stop_gunicorn)
    from bench.run import DEFAULT_URL, ensure_database
    from bench.speed_bench import ensure_wrk

    binary = ensure_wrk()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    ensure_database(url)
    os.environ.setdefault("CELERY_BROKER_URL", DEFAULT_BROKER)
    from bench.cases_bench import setup_django

    setup_django(url)
    from django.db import connection

    from cases.models import Intake

    buildings = sample_buildings(200)
    if not buildings:
        sys.exit("no buildings under communities: is the city seeded?")
    connection.close()
    port = free_port()
    proc = start_gunicorn(port, url, args.workers)
    script = Path(tempfile.mkdtemp(prefix="intake-wrk-")) / "report.lua"
    report = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "workers": args.workers,
              "cpus": os.cpu_count(), "rows": [], "target": TARGET}
    try:
        cookie, token = csrf_pair(port)
        script.write_text(lua_script(port, cookie, token, buildings), encoding="utf-8")
        # Warm both sides (templates, connections), and check one report lands.
        run_wrk(binary, port, "/bench/bare/", connections=2, duration=2)
        warm = run_wrk(binary, port, "/report/", connections=2, duration=2, script=script)
        if warm["not_302"] or not warm["requests"]:
            sys.exit(f"the reports were not accepted: {warm}")
        for connections in args.connections:
            bare, posts = [], []
            for _ in range(args.runs):
                bare.append(run_wrk(binary, port, "/bench/bare/", connections=connections, duration=args.duration))
                posts.append(run_wrk(binary, port, "/report/", connections=connections, duration=args.duration,
                                     script=script))
            ratios = [p["rps"] / b["rps"] for p, b in zip(posts, bare)]
            row = {"connections": connections, "bare": bare, "report": posts,
                   "bare_rps": statistics.median(b["rps"] for b in bare),
                   "report_rps": statistics.median(p["rps"] for p in posts),
                   "ratios": [round(r, 3) for r in ratios], "ratio": round(statistics.median(ratios), 3),
                   "not_302": sum(p["not_302"] or 0 for p in posts)}
            report["rows"].append(row)
            loads = [r["load"][0] for r in bare + posts]
            print(f"report POST ÷ bare view, {args.workers} workers, {connections} connections: "
                  f"{row['report_rps']:.0f} ÷ {row['bare_rps']:.0f} req/s = ratio {row['ratio']} "
                  f"(runs {row['ratios']}), answers other than 302: {row['not_302']}; target ≥ {TARGET}: "
                  f"{'met' if row['ratio'] >= TARGET else 'MISSED'}; load {min(loads)}–{max(loads)}", flush=True)
        from django.db import connection as db

        db.connect()
        report["received"] = Intake.objects.filter(description__startswith="[bench]").count()
        report["sent"] = warm["requests"] + sum(p["requests"] for r in report["rows"] for p in r["report"])
        print(f"received reports kept: {report['received']:,} of {report['sent']:,} POSTs wrk counted "
              "(wrk stops mid-request at the end of a run)", flush=True)
    finally:
        stop_gunicorn(proc)
        report["deleted"] = delete_bench_intake()
        report["broker"] = purge_broker()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "intake.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"cleaned up: {report['deleted']:,} received reports; broker {report['broker']}; "
          "wrote bench/results/intake.json", flush=True)


if __name__ == "__main__":
    main()
