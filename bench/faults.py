"""Fault run (issue #25): residents keep reporting while the broker goes away and comes back.

    .venv/bin/python bench/faults.py                       # Redis stopped 30 s under 3 reports/s
    .venv/bin/python bench/faults.py --down 60 --rate 3    # the issue's minute
    .venv/bin/python bench/faults.py --mode freeze         # Redis frozen (SIGSTOP): connections hang
    .venv/bin/python bench/faults.py --broker rabbitmq     # RabbitMQ as broker, stopped the same way

Everything runs on this machine, on private ports, and is stopped at the end:
a redis-server of its own (port --redis-port, no persistence, as a restart
after a crash finds it), gunicorn serving the portal (bench.settings_faults:
the rate limits on, in Redis), one Celery worker and one beat, each started
under the demo's supervisor (`supervise` in scripts/_bootstrap.sh), which
restarts an exited process and logs it. With --broker rabbitmq a RabbitMQ
node of its own (rabbitmq-server from Debian, port --amqp-port) is the broker
and Redis only the cache.

A client posts the public report form over HTTP at --rate a second (one
connection each, as phones do), and asks for an unknown tracking code every
tenth tick. After --before seconds the broker is stopped (`--mode stop`:
shutdown, connections refused; `--mode freeze`: SIGSTOP, connections hang) for
--down seconds and started again; posting goes on --after seconds more. Then
the run waits up to --settle seconds for every acknowledged report to become a
case, and counts:

- sent, acknowledged (302 to the received page), refused (anything else);
- lost: acknowledged but neither a case nor a waiting report at the end;
- the seconds from the broker's return until the first report and until the
  last one was registered as a case;
- worker and beat restarts by the supervisor, and the worker's log lines
  about the outage (connection errors, restored messages, a CRITICAL exit).

It exits non-zero when a report was refused or lost, or one was still waiting
at the end. Results go to bench/results/faults-<broker>-<mode>.json.
Database: DATABASE_URL if set, else postgres://postgres@127.0.0.1:5432/portal_h3_faults
(created and migrated if missing; a few demo places are seeded if it has none).
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_h3_faults"
UNKNOWN_CODE = "ABCDEFGHJKMNP"
CELERY_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}): (\w+)/")
SUPERVISOR_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}) supervisor: .* exited with status (\d+)")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--broker", choices=("redis", "rabbitmq"), default="redis")
    parser.add_argument("--mode", choices=("stop", "freeze"), default="stop")
    parser.add_argument("--rate", type=float, default=3.0, help="reports a second")
    parser.add_argument("--before", type=float, default=15.0, help="seconds of posting before the outage")
    parser.add_argument("--down", type=float, default=30.0, help="seconds the broker is away")
    parser.add_argument("--after", type=float, default=15.0, help="seconds of posting after it returns")
    parser.add_argument("--settle", type=float, default=120.0,
                        help="seconds to wait, after the posting, for every report to be registered")
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--amqp-port", type=int, default=5693)
    parser.add_argument("--web-port", type=int, default=8391)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes (prefork)")
    args = parser.parse_args()
    if not (0 < args.rate <= 50 and 0 <= args.before <= 600 and 1 <= args.down <= 600 and 0 <= args.after <= 600
            and 10 <= args.settle <= 1800):
        parser.error("--rate 0–50, --before/--after 0–600, --down 1–600, --settle 10–1800")
    return args


def log(message):
    print(f"{datetime.now():%H:%M:%S} {message}", flush=True)


# --- services of the run's own -------------------------------------------------------------

class Redis:
    def __init__(self, port, folder):
        self.port, self.folder = port, folder
        self.pid = None

    def start(self):
        subprocess.run(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--daemonize", "yes", "--dir", str(self.folder),
                        "--pidfile", str(self.folder / "redis.pid"), "--logfile", str(self.folder / "redis.log")],
                       check=True)
        for _ in range(100):
            answer = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout
            if answer.strip() == b"PONG":
                self.pid = int((self.folder / "redis.pid").read_text())
                return
            time.sleep(0.1)
        raise SystemExit(f"redis-server did not answer on port {self.port}")

    def stop(self):
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True)
        for _ in range(100):
            if not _alive(self.pid):
                return
            time.sleep(0.1)

    def freeze(self):
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self):
        os.kill(self.pid, signal.SIGCONT)

    def close(self):
        if self.pid and _alive(self.pid):
            try:
                os.kill(self.pid, signal.SIGCONT)
            except ProcessLookupError:
                return
            self.stop()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


class RabbitMQ:
    """A RabbitMQ node of the run's own (its own name, ports, data and no plugins).

    Debian's rabbitmq-server runs the node as the rabbitmq user, so its folder is theirs.
    """

    def __init__(self, port, folder):
        self.port = port
        self.folder = folder / "rabbitmq"
        self.folder.mkdir()
        self.node = f"faults{port}@localhost"
        (self.folder / "enabled_plugins").write_text("[].\n")
        # Only on loopback, on our port only.
        (self.folder / "rabbitmq.conf").write_text(f"listeners.tcp.default = 127.0.0.1:{port}\n")
        folder.chmod(0o755)
        subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", str(self.folder)], check=True)
        self.env = dict(os.environ, RABBITMQ_NODENAME=self.node, RABBITMQ_NODE_PORT=str(port),
                        RABBITMQ_NODE_IP_ADDRESS="127.0.0.1", RABBITMQ_DIST_PORT=str(port + 20000),
                        RABBITMQ_MNESIA_BASE=str(self.folder / "mnesia"), RABBITMQ_LOG_BASE=str(self.folder / "log"),
                        RABBITMQ_ENABLED_PLUGINS_FILE=str(self.folder / "enabled_plugins"),
                        RABBITMQ_CONFIG_FILE=str(self.folder / "rabbitmq"))
        self.pid = None

    def _ctl(self, *words, timeout=60):
        return subprocess.run(["rabbitmqctl", "-n", self.node, *words], env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def start(self):
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env, check=True, capture_output=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            status = self._ctl("status")
            if status.returncode == 0 and (found := re.search(r"OS PID: (\d+)", status.stdout)):
                self.pid = int(found.group(1))
                return
            time.sleep(1)
        raise SystemExit(f"rabbitmq-server did not start; see {self.folder / 'log'}")

    def stop(self):
        self._ctl("shutdown", timeout=120)

    def freeze(self):
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self):
        os.kill(self.pid, signal.SIGCONT)

    def close(self):
        if self.pid and _alive(self.pid):
            self.thaw()
            self.stop()

    @property
    def url(self):
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def supervised(name, log_path, command, env):
    """`supervise` from scripts/_bootstrap.sh (what scripts/demo runs the worker under)."""
    script = 'source scripts/_bootstrap.sh; name=$1; logfile=$2; shift 2; supervise "$name" "$logfile" "$@"'
    return subprocess.Popen(["bash", "-c", script, "supervise", name, str(log_path), *command], cwd=ROOT, env=env,
                            start_new_session=True, stderr=subprocess.DEVNULL)


def stop_group(proc, timeout=30):
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- the database --------------------------------------------------------------------------

def prepare_database(url):
    import psycopg

    name = urllib.parse.urlsplit(url).path.lstrip("/")
    if "faults" not in name:
        raise SystemExit("DATABASE_URL must name a database whose name contains 'faults' (it is written to).")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    from grid.models import Building

    call_command("migrate", verbosity=0)
    if not Building.objects.exists():
        log("seeding the demo places (seed_city --scale demo --places-only)")
        call_command("seed_city", scale="demo", places_only=True, stdout=open(os.devnull, "w"))


def report_places(n=20):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT b.id, g.id, c.id, s.id FROM grid_building b
            JOIN grid_area g ON g.id = b.grid_id AND g.is_active
            JOIN grid_area c ON c.id = g.parent_id AND c.kind = 'community'
            JOIN grid_area s ON s.id = c.parent_id AND s.kind = 'street'
            ORDER BY b.id LIMIT %s""", [n])
        return cursor.fetchall()


# --- the client ------------------------------------------------------------------------------

def request(port, method, path, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheader("Location") or "", response.getheader("Set-Cookie") or "", \
            response.read()
    finally:
        conn.close()


def csrf_pair(port):
    status, _location, cookie, html = request(port, "GET", "/report/")
    if status != 200:
        raise SystemExit(f"GET /report/ answered {status}")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1).decode()
    return re.search(r"csrftoken=([^;]+)", cookie).group(1), token


class Client:
    def __init__(self, port, places, marker):
        self.port, self.places, self.marker = port, places, marker
        self.cookie, self.token = csrf_pair(port)
        self.results = []  # (sent at, kind, status, tracking code, seconds)
        self.lock = threading.Lock()

    def post_report(self, i):
        building, grid, community, street = self.places[i % len(self.places)]
        body = urllib.parse.urlencode({
            "csrfmiddlewaretoken": self.token, "category": "E0101", "street": street, "community": community,
            "grid": grid, "building": building, "description": f"{self.marker} 路边有一堆暴露垃圾 #{i}",
        })
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={self.cookie}",
                   "Referer": f"http://127.0.0.1:{self.port}/report/", "Accept-Language": "zh-CN"}
        self._timed("report", lambda: request(self.port, "POST", "/report/", body, headers))

    def track_unknown(self):
        self._timed("track-miss", lambda: request(self.port, "GET", f"/track/{UNKNOWN_CODE}/"))

    def _timed(self, kind, call):
        sent = time.time()
        try:
            status, location, _cookie, _body = call()
        except OSError as exc:
            status, location = f"error: {type(exc).__name__}", ""
        match = re.search(r"/report/done/([^/]+)/", location)
        with self.lock:
            self.results.append((sent, kind, status, match.group(1) if match else "", time.time() - sent))

    def run(self, rate, seconds, pool):
        start = time.monotonic()
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(self.post_report, i)
            if i % 10 == 5:
                pool.submit(self.track_unknown)


def seconds_summary(values):
    ordered = sorted(values)
    if not ordered:
        return {}

    def at(p):
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 3)

    return {"p50": at(50), "p95": at(95), "max": round(ordered[-1], 3), "over_1s": sum(v > 1 for v in ordered)}


# --- the logs ----------------------------------------------------------------------------------

def stamped_lines(path, since, patterns):
    """Lines of a Celery log at or after `since` (epoch) matching any of `patterns`, as (epoch, line)."""
    found = []
    if not path.exists():
        return found
    for line in path.read_text(errors="replace").splitlines():
        if match := SUPERVISOR_LINE.match(line):
            at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S %z").timestamp()
        elif match := CELERY_STAMP.match(line):  # the worker's local time, as this process's (TIME_ZONE)
            at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").timestamp()
        else:
            continue
        if at + 1 >= since and any(p in line for p in patterns):
            found.append((at, line[:300]))
    return found


def restarts(path):
    return [line for line in path.read_text(errors="replace").splitlines() if SUPERVISOR_LINE.match(line)] \
        if path.exists() else []


# --- the run -------------------------------------------------------------------------------------

def main():
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    folder = Path(tempfile.mkdtemp(prefix="portal-faults-"))
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    redis = Redis(args.redis_port, folder)
    broker = RabbitMQ(args.amqp_port, folder) if args.broker == "rabbitmq" else redis
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis.url, CELERY_BROKER_URL=broker.url,
               DJANGO_SETTINGS_MODULE="bench.settings_faults", FAULTS_QUEUE=queue, PORTAL_VAR_DIR=str(folder / "var"),
               DATABASE_CONN_MAX_AGE="60", PYTHONPATH=str(ROOT), CELERY_TASK_ALWAYS_EAGER="0")
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE",
                                           "FAULTS_QUEUE", "PORTAL_VAR_DIR")})
    sys.path.insert(0, str(ROOT))
    bin_dir = Path(sys.executable).parent
    worker_log, beat_log, web_log = folder / "worker.log", folder / "beat.log", folder / "web.log"
    started = []
    try:
        log(f"database {url}; scratch folder {folder}; queue {queue}")
        prepare_database(url)
        places = report_places()
        redis.start()
        started.append(redis)
        log(f"redis-server of the run on port {args.redis_port} (pid {redis.pid})")
        if broker is not redis:
            log(f"starting a RabbitMQ node of the run on port {args.amqp_port}")
            broker.start()
            log(f"RabbitMQ node {broker.node} up (pid {broker.pid})")
            started.append(broker)
        worker = supervised("celery worker", worker_log, [
            str(bin_dir / "celery"), "-A", "portal", "worker", "--loglevel=INFO", f"--concurrency={args.concurrency}",
            "-n", f"{queue}@%h"], env)
        beat = supervised("celery beat", beat_log, [
            str(bin_dir / "celery"), "-A", "portal", "beat", "--loglevel=INFO", "--schedule",
            str(folder / "celerybeat-schedule")], env)
        web = subprocess.Popen([str(bin_dir / "gunicorn"), "portal.wsgi:application", "--workers",
                                str(args.web_workers), "--bind", f"127.0.0.1:{args.web_port}", "--timeout", "60"],
                               cwd=ROOT, env=env, start_new_session=True, stdout=open(web_log, "ab"),
                               stderr=subprocess.STDOUT)
        started += [worker, beat, web]
        deadline = time.monotonic() + 90
        while b" ready." not in (worker_log.read_bytes() if worker_log.exists() else b""):
            if time.monotonic() > deadline:
                raise SystemExit(f"the worker did not start; see {worker_log}")
            time.sleep(0.3)
        client = None
        while client is None:
            try:
                client = Client(args.web_port, places, queue)
            except (OSError, SystemExit):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        log(f"worker, beat and gunicorn up; posting {args.rate:g} reports/s")
        total = args.before + args.down + args.after
        pool = ThreadPoolExecutor(max_workers=32)
        poster = threading.Thread(target=client.run, args=(args.rate, total, pool))
        t0 = time.time()
        poster.start()
        time.sleep(args.before)
        outage_at = time.time()
        (broker.stop if args.mode == "stop" else broker.freeze)()
        log(f"broker {'stopped' if args.mode == 'stop' else 'frozen'} ({args.broker}) for {args.down:g} s")
        time.sleep(max(0.0, outage_at + args.down - time.time()))
        if args.mode == "stop":
            broker.start()
            log(f"broker started again (pid {broker.pid})")
        else:
            broker.thaw()
        back_at = time.time()
        log(f"broker back after {back_at - outage_at:.1f} s; posting goes on {args.after:g} s")
        poster.join()
        pool.shutdown(wait=True)
        posted_until = time.time()
        log("posting done; waiting for every acknowledged report to become a case")

        from cases.models import Case, Intake

        codes = {code for _sent, kind, status, code, _s in client.results if kind == "report" and status == 302}
        outage_codes = {code for sent, kind, status, code, _s in client.results
                        if kind == "report" and status == 302 and outage_at <= sent < back_at}
        first_after, all_at = None, None
        settle_until = time.time() + args.settle
        while time.time() < settle_until:
            registered = set(Case.objects.filter(tracking_code__in=codes).values_list("tracking_code", flat=True))
            if first_after is None and registered & outage_codes:
                first_after = time.time()
            if len(registered) == len(codes):
                all_at = time.time()
                break
            time.sleep(0.5)
        # The compose health check's command, against the worker as it is now.
        ping = subprocess.run([str(bin_dir / "celery"), "-A", "portal", "inspect", "ping", "-d",
                               f"{queue}@{socket.gethostname()}", "--timeout", "10"],
                              cwd=ROOT, env=env, capture_output=True, text=True)
        registered = set(Case.objects.filter(tracking_code__in=codes).values_list("tracking_code", flat=True))
        waiting = set(Intake.objects.filter(tracking_code__in=codes).values_list("tracking_code", flat=True))
        failed = Intake.objects.filter(tracking_code__in=codes, failed_at__isnull=False).count()
        reports = [r for r in client.results if r[1] == "report"]
        misses = [r for r in client.results if r[1] == "track-miss"]
        during = [r for r in reports if outage_at <= r[0] < back_at]
        statuses = {}
        for _sent, kind, status, _code, _s in client.results:
            statuses.setdefault(kind, {}).setdefault(str(status), 0)
            statuses[kind][str(status)] += 1
        outage_lines = stamped_lines(worker_log, outage_at, (
            "Cannot connect", "Connection to broker lost", "consumer: Connection", "Restoring", "CRITICAL",
            "Unrecoverable", "Connected to", "supervisor:", "registered", "Error", "error"))
        result = {
            "broker": args.broker, "mode": args.mode, "rate_per_s": args.rate, "down_s": round(back_at - outage_at, 1),
            "posting_s": round(posted_until - t0, 1),
            "reports_sent": len(reports), "reports_acknowledged": len(codes),
            "reports_refused": len(reports) - len(codes),
            "reports_sent_during_outage": len(during),
            "reports_acknowledged_during_outage": len(outage_codes),
            "reports_registered": len(registered), "reports_waiting": len(waiting - registered),
            "reports_failed_registration": failed,
            "reports_lost": len(codes - registered - waiting),
            "tracking_misses": len(misses), "statuses": statuses,
            "slowest_report_s": round(max((r[4] for r in reports), default=0), 2),
            "slowest_report_during_outage_s": round(max((r[4] for r in during), default=0), 2),
            "report_seconds_during_outage": seconds_summary([r[4] for r in during]),
            "report_seconds_outside_outage": seconds_summary([r[4] for r in reports if r not in during]),
            "first_outage_report_registered_after_return_s": round(first_after - back_at, 1) if first_after else None,
            "all_registered_after_return_s": round(all_at - back_at, 1) if all_at else None,
            "worker_restarts": restarts(worker_log), "beat_restarts": restarts(beat_log),
            "worker_alive_at_end": worker.poll() is None,
            "worker_answers_inspect_ping": ping.returncode == 0 and "pong" in ping.stdout,
            "worker_log_during_outage": [line for _at, line in outage_lines][:60],
            "web_5xx_log": [line for line in web_log.read_text(errors="replace").splitlines()
                            if "Internal Server Error" in line][:20],
            "logs": str(folder),
        }
        name = f"faults-{args.broker}-{args.mode}.json"
        (ROOT / "bench" / "results" / name).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        for key in ("reports_sent", "reports_acknowledged", "reports_refused", "reports_sent_during_outage",
                    "reports_lost", "reports_waiting", "first_outage_report_registered_after_return_s",
                    "all_registered_after_return_s", "slowest_report_during_outage_s", "worker_alive_at_end",
                    "worker_answers_inspect_ping"):
            log(f"{key:48} {result[key]}")
        log(f"worker restarts: {len(result['worker_restarts'])}; beat restarts: {len(result['beat_restarts'])}")
        for line in result["worker_restarts"] + result["beat_restarts"]:
            log(f"  {line}")
        log(f"statuses: {statuses}")
        log(f"report seconds during the outage: {result['report_seconds_during_outage']}; "
            f"outside it: {result['report_seconds_outside_outage']}")
        log(f"results: bench/results/{name}; logs kept in {folder}")
        ok = (result["reports_refused"] == 0 and result["reports_lost"] == 0 and result["reports_waiting"] == 0
              and all(s == {"404": len(misses)} for s in [statuses.get("track-miss", {"404": 0})]))
        return 0 if ok else 1
    finally:
        for thing in reversed(started):
            try:
                stop_group(thing) if isinstance(thing, subprocess.Popen) else thing.close()
            except Exception as exc:  # noqa: BLE001 — stop everything else all the same
                log(f"could not stop {thing}: {exc}")
        shutil.rmtree(folder / "var", ignore_errors=True)
        shutil.rmtree(folder / "rabbitmq" / "mnesia", ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
