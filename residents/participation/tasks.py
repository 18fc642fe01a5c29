"""Thin Celery tasks: reload, call one service. Safe to run twice."""

import logging

from django.utils import timezone

from portal.celery import shared_task

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def escalate_overdue():
    """Beat, every five minutes: overdue 四议两公开 steps and objections escalate (idempotent)."""
    from .services import escalate_overdue as sweep

    moved = sweep(now=timezone.now())
    if moved:
        log.info("escalated %d overdue participation step(s)", moved)
    return moved
