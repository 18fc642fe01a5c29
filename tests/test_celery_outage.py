"""Issue #25, end to end: residents report while the broker and the cache are stopped and
started again, and a REAL supervised worker registers every report once Redis is back.

The test starts a redis-server of its own on a free port (never the shared one), a Celery
worker with its beat under scripts/_bootstrap.sh `supervise` (what scripts/demo runs),
and posts the public report form through the test client, with the test process's cache
and broker on that Redis too. PostgreSQL only: the worker is another process and must
see the test's commits. bench/faults.py is the long version (HTTP, 60 s, figures).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from cases import notifications
from cases.models import Case, Intake
from portal import degraded

from .cases_factories import category
from .processes import wait_for_worker

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server (Debian's redis-server)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url():
    db = settings.DATABASES["default"]
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class OwnRedis:
    def __init__(self, folder):
        self.port, self.folder = free_port(), folder

    def start(self):
        subprocess.run(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--daemonize", "yes", "--dir", str(self.folder),
                        "--pidfile", str(self.folder / "redis.pid"), "--logfile", str(self.folder / "redis.log")],
                       check=True)
        for _ in range(100):
            answer = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout
            if answer.strip() == b"PONG":
                return
            time.sleep(0.1)
        pytest.fail("the test's redis-server did not start")

    def stop(self):
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def own_redis(tmp_path):
    redis = OwnRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def supervised_worker(on_postgres, own_redis, tmp_path):
    log = tmp_path / "celery.log"
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": own_redis.url,
           "CELERY_BROKER_URL": own_redis.url, "CELERY_TASK_ALWAYS_EAGER": "0",
           "PORTAL_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "portal.settings"}
    celery = Path(sys.executable).with_name("celery")
    command = [str(celery), "-A", "portal", "worker", "--beat", "--concurrency=2", "-l", "info",
               "-n", f"outage-{uuid.uuid4().hex[:8]}@%h", "--schedule", str(tmp_path / "beat-schedule")]
    script = 'source scripts/_bootstrap.sh; log=$1; shift; supervise "celery worker" "$log" "$@"'
    loop = subprocess.Popen(["bash", "-c", script, "supervise", str(log), *command], cwd=ROOT, env=env,
                            start_new_session=True, stderr=subprocess.DEVNULL)
    try:
        wait_for_worker(loop, log, what="the supervised worker")
        yield loop, log
    finally:
        loop.send_signal(signal.SIGTERM)
        try:
            loop.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(loop.pid, signal.SIGKILL)
            loop.wait(timeout=10)


@pytest.fixture
def app_on_own_redis(own_redis, settings):
    """This process's cache and Celery app on the test's Redis, publishing for real."""
    from portal.celery import app

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": own_redis.url,
                                   "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}

    def fresh_pools():
        app._pool = None
        app.amqp._producer_pool = None

    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=own_redis.url)
    fresh_pools()
    notifications.broker_back()
    degraded.reset()
    yield app
    app.conf.update(saved)
    fresh_pools()
    notifications.broker_back()
    degraded.reset()


def post_for(client, city, seconds, rate=3.0):
    """POST the public form `rate` times a second for `seconds`; the tracking codes acknowledged and the refusals."""
    codes, refused = [], []
    start = time.monotonic()
    for i in range(int(seconds * rate)):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        response = client.post(reverse("cases:report"), {
            "category": "E0101", "street": city.street_a.pk, "community": city.community_a.pk,
            "grid": city.grid_a.pk, "building": city.building_a.pk, "description": f"暴露垃圾 #{i}"})
        if response.status_code == 302:
            codes.append(response["Location"].rstrip("/").rsplit("/", 1)[-1])
        else:
            refused.append(response.status_code)
    return codes, refused


def test_reports_survive_a_redis_outage_and_the_worker_comes_back(supervised_worker, own_redis, app_on_own_redis):
    from .factories import build_city

    loop, log = supervised_worker
    city = build_city()
    category()
    client = Client(raise_request_exception=False)
    before, refused_before = post_for(client, city, 3)
    own_redis.stop()
    during, refused_during = post_for(client, city, 20)
    own_redis.start()
    back_at = time.monotonic()
    after, refused_after = post_for(client, city, 3)

    assert refused_before + refused_during + refused_after == []
    # Every report of the outage was kept: waiting as received (a worker may still have
    # registered the first one or two before it noticed the broker was gone).
    assert len(during) == 60
    waiting = Intake.objects.filter(tracking_code__in=during).count()
    assert waiting >= 50 and waiting + Case.objects.filter(tracking_code__in=during).count() == 60
    codes = before + during + after
    deadline = back_at + 60
    while Case.objects.filter(tracking_code__in=codes).count() < len(codes):
        assert time.monotonic() < deadline, (
            f"{Case.objects.filter(tracking_code__in=codes).count()} of {len(codes)} registered a minute after "
            f"Redis returned; the worker's log:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.5)
    assert not Intake.objects.filter(tracking_code__in=codes).exists()
    # The worker is alive: never died, or died (kombu's reconnect bug) and was started again.
    assert loop.poll() is None
    text = log.read_text(errors="replace")
    if "Unrecoverable error" in text:
        assert "supervisor: celery worker" in text and "exited with status" in text
    assert text.count(" ready.") >= 1
