"""Thin Celery tasks for the risk register: sweeps over the database, safe to run twice or at once."""

import logging

from django.utils import timezone

from portal.celery import shared_task

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def flag_overdue_reviews():
    """Beat, hourly: open risks past their review date are marked overdue (once each)."""
    from .services import risks_flag_overdue

    flagged = risks_flag_overdue(now=timezone.now())
    if flagged:
        log.info("flagged %d risk review(s) overdue", flagged)
    return flagged


@shared_task(ignore_result=True)
def sweep_warnings():
    """Beat, hourly: the early-warning rules over the whole city (risks/early_warning.py). Idempotent."""
    from .early_warning import warnings_sweep

    result = warnings_sweep(now=timezone.now())
    if result["raised"] or result["notified"]:
        log.info("early warnings: %(raised)d raised, %(notified)d notified, %(flagged)d reviews flagged", result)
    return result
