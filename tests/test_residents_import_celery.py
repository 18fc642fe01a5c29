"""A large resident import through a REAL Celery worker against Redis and PostgreSQL.

Like tests/test_celery_worker.py: the worker is a subprocess on a private queue,
pointed at the test database and at this run's media directory (it reads the
uploaded file from there). Skipped with the reason printed without REDIS_URL.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from residents import importing
from residents.models import AccessLog, ImportJob, Resident, ResidentEvent

from .residents_factories import builtin_tags, valid_id_number, worker_of
from .test_celery_worker import REDIS_URL, real_broker, wait_for, worker  # noqa: F401

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set REDIS_URL (CI uses redis://127.0.0.1:6379/15)"),
    pytest.mark.django_db(transaction=True),  # builtin_tags() restores what it needs after a flush
]


@pytest.fixture
def shared_media(settings, tmp_path, monkeypatch):
    """The worker must find the upload where this process stored it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setenv("DJANGO_MEDIA_ROOT", str(settings.MEDIA_ROOT))


@pytest.fixture
def routed(worker, real_broker):
    """Send import_residents (enqueued on commit by import_confirm) to the private queue."""
    queue, log = worker
    previous = real_broker.conf.task_routes
    real_broker.conf.task_routes = {"residents.tasks.import_residents": {"queue": queue}}
    # Celery builds its router once (a cached property) from the routes it saw
    # first; after any earlier task in this process the new route would be ignored.
    real_broker.amqp.__dict__.pop("router", None)
    real_broker.amqp._rtable = None
    yield queue, log
    real_broker.conf.task_routes = previous
    real_broker.amqp.__dict__.pop("router", None)
    real_broker.amqp._rtable = None


@pytest.fixture
def spreadsheet():
    from .factories import build_city

    city = build_city()
    builtin_tags()  # every tenth row names one; an earlier transactional test may have flushed them
    rows = ["网格编码,楼栋,单元,户号,姓名,身份证号,联系电话,标签"]
    for i in range(60):
        rows.append(f"{city.grid_a.code},1号楼,1单元,{100 + i // 3},居民{i},{valid_id_number(serial=i)},"
                    f"139{i:08d},{'独居老人' if i % 10 == 0 else ''}")
    return city, ("\r\n".join(rows) + "\r\n").encode("gbk")


def test_a_large_import_runs_on_the_worker_once(shared_media, settings, routed, spreadsheet):
    from residents.tasks import import_residents

    queue, log = routed
    settings.RESIDENT_IMPORT_INLINE_ROWS = 10
    city, data = spreadsheet
    user = worker_of(city.grid_a)
    job = importing.import_preview(upload=SimpleUploadedFile("big.csv", data), acting_user=user, now=timezone.now())
    assert (job.total_rows, job.valid_rows, job.created_count) == (60, 60, 60)
    job = importing.import_confirm(job=job, mode=ImportJob.Mode.ALL_OR_NOTHING, acting_user=user,
                                   now=timezone.now())
    assert job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING, ImportJob.Status.DONE)
    wait_for(lambda: ImportJob.objects.get(pk=job.pk).status in ("done", "failed"), log, seconds=60)
    job.refresh_from_db()
    assert job.status == "done", job.message
    assert (job.created_count, job.processed_rows, job.progress_percent) == (60, 60, 100)
    assert Resident.objects.filter(grid=city.grid_a).count() == 60
    assert Resident.objects.filter(visit_due_on__isnull=False).count() == 6
    events = ResidentEvent.objects.count()
    assert AccessLog.objects.filter(action="import").count() == 1

    # Redelivered: the job is claimed already, nothing runs twice.
    import_residents.apply_async(kwargs={"job_id": job.pk}, queue=queue)
    wait_for(lambda: "not queued any more" in log.read_text(errors="replace"), log)
    assert ResidentEvent.objects.count() == events

    # The same file again, through the worker: nothing changes.
    again = importing.import_preview(upload=SimpleUploadedFile("big.csv", data), acting_user=user,
                                     now=timezone.now())
    assert again.unchanged_count == 60
    importing.import_confirm(job=again, mode=ImportJob.Mode.VALID_ROWS, acting_user=user, now=timezone.now())
    wait_for(lambda: ImportJob.objects.get(pk=again.pk).status in ("done", "failed"), log, seconds=60)
    again.refresh_from_db()
    assert (again.status, again.created_count, again.updated_count, again.unchanged_count) == ("done", 0, 0, 60)
    assert ResidentEvent.objects.count() == events
