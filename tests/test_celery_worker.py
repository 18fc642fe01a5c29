"""A REAL Celery worker against the real Redis and PostgreSQL (not eager mode).

CI sets REDIS_URL (redis://127.0.0.1:6379/15) and DATABASE_URL; the worker is a
subprocess pointed at the test database, consuming a queue of its own so other
test runs on the same Redis never take its tasks.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.utils import timezone

from cases import services_report
from cases.models import Case, Channel, Delivery, DeliveryStatus, Notification, Status
from grid.models import AreaKind, Role

from .cases_factories import category, fresh_calendar  # noqa: F401
from .processes import wait_for_worker

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set REDIS_URL (CI uses redis://127.0.0.1:6379/15)"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def database_url():
    db = settings.DATABASES["default"]
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    # During the tests NAME is the test database (test_<name>), which the worker must use.
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def worker(on_postgres, tmp_path):
    """Start `celery worker` on a private queue; yield the queue name; stop it by its pid."""
    queue = f"cases-test-{uuid.uuid4().hex[:10]}"
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PORTAL_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    celery = Path(sys.executable).with_name("celery")
    command = [str(celery), "-A", "portal", "worker", "-Q", queue, "--pool=solo", "--concurrency=1",
               "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_worker(process, log, what="the Celery worker")
        yield queue, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def real_broker():
    """Send tasks to Redis for real (the unit tests run them eagerly in-process)."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = previous


def wait_for(predicate, log, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"the worker did not do it in {seconds} s; its log:\n{log.read_text(errors='replace')[-3000:]}")


def overdue_case(make_user):
    from .factories import build_city

    city = build_city()
    worker_user = make_user(Role.GRID_WORKER, city.grid_a)
    make_user(Role.COMMUNITY_STAFF, city.community_a, email="community@example.org")
    long_ago = timezone.now() - timedelta(days=30)
    return services_report.case_report(category=category(), channel=Channel.PATROL, building=city.building_a,
                                       description="暴露垃圾", acting_user=worker_user, now=long_ago)


def test_worker_runs_the_escalation_sweep_once(worker, real_broker, make_user):
    from cases.tasks import escalate_overdue

    queue, log = worker
    case = overdue_case(make_user)
    escalate_overdue.apply_async(queue=queue)
    wait_for(lambda: Case.objects.get(pk=case.pk).responsible_level == AreaKind.COMMUNITY, log)
    # Delivered twice (a redelivery after a lost ack): the second run finds nothing to do.
    escalate_overdue.apply_async(queue=queue)
    escalate_overdue.apply_async(queue=queue)
    wait_for(lambda: log.read_text(errors="replace").count("succeeded") >= 3, log)
    case.refresh_from_db()
    assert (case.status, case.escalation_count) == (Status.DISPATCHED, 1)
    assert case.events.filter(action="escalate").count() == 1


def test_worker_delivers_notifications(worker, real_broker, make_user):
    from cases.tasks import deliver_notifications, deliver_pending_notifications

    queue, log = worker
    case = overdue_case(make_user)
    rows = list(Delivery.objects.filter(case=case, status=DeliveryStatus.PENDING))
    assert rows, "the dispatch queued a notification for the grid worker"
    first, *rest = rows
    # What a commit enqueues: one message naming the rows it wrote.
    deliver_notifications.apply_async(kwargs={"delivery_ids": [first.pk]}, queue=queue)
    wait_for(lambda: Delivery.objects.get(pk=first.pk).status == DeliveryStatus.SENT, log)
    assert Notification.objects.filter(user=first.user, case=case).count() == (
        1 if first.channel == "inbox" else 0)
    deliver_pending_notifications.apply_async(queue=queue)
    wait_for(lambda: not Delivery.objects.filter(case=case, status=DeliveryStatus.PENDING).exists(), log)


def test_worker_registers_received_reports(worker, real_broker):
    """A resident's report waits as received; the message a commit sends (a second later,
    as `_kick` asks) makes the worker register it, with the resident's tracking code."""
    from unittest import mock

    from cases import services_intake
    from cases.models import Intake
    from cases.tasks import register_intake

    from .factories import build_city

    queue, log = worker
    city = build_city()
    with mock.patch.object(services_intake, "_kick"):  # it would publish to the default queue
        received = services_intake.intake_receive(category=category(), description="暴露垃圾", channel=Channel.WEB,
                                                  building=city.building_a)
    register_intake.apply_async(countdown=services_intake.INTAKE_KICK_SECONDS, queue=queue)
    wait_for(lambda: Case.objects.filter(tracking_code=received.tracking_code).exists(), log)
    assert not Intake.objects.exists()
    assert Case.objects.get(tracking_code=received.tracking_code).status == Status.REPORTED
