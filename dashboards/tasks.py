"""Thin Celery tasks of the dashboards: keep the rollups current. Safe to run twice."""

from django.utils import timezone

from portal.celery import shared_task

from . import rollups


@shared_task(ignore_result=True)
def refresh_rollups():
    """Beat, every minute: fold new timeline events into the dashboard rollups (idempotent)."""
    return rollups.rollups_refresh(now=timezone.now())


@shared_task(ignore_result=True)
def rebuild_rollups():
    """Beat, nightly: recompute every rollup (catches cases moved with their places)."""
    return rollups.rollups_rebuild(now=timezone.now())
