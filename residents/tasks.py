"""Thin Celery tasks for residents: take ids, claim, call one function. Safe to run twice."""

import logging

from django.utils import timezone

from portal.celery import shared_task

from . import importing

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def import_residents(*, job_id):
    """Run a queued resident import (enqueued on commit by residents.importing.import_confirm).

    The job is claimed with a conditional UPDATE (queued → running): a job
    already running, done or failed is left alone, so a redelivered or
    duplicated message imports nothing twice.
    """
    if not importing.import_claim(job_id=job_id):
        log.info("import %s: not queued any more, nothing to do", job_id)
        return None
    job = importing.import_run(job_id=job_id, now=timezone.now())
    log.info("import %s: %s (%d created, %d updated, %d unchanged)", job_id, job.status, job.created_count,
             job.updated_count, job.unchanged_count)
    return job.status
