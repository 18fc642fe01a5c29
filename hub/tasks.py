"""Thin Celery tasks of the hub: points for closed cases (hub/points.py). Safe to run twice."""

import logging

from django.utils import timezone

from portal.celery import shared_task

from . import points

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def award_case_points(*, case_id):
    """After a case closes: points to the volunteers who reported or verified it (idempotent)."""
    return len(points.award_closed_case(case_id=case_id, now=timezone.now()))


@shared_task(ignore_result=True)
def award_recent_closed_cases():
    """Beat, hourly: catch closes whose task was lost (broker down); each case is re-checked."""
    now = timezone.now()
    return sum(len(points.award_closed_case(case_id=pk, now=now)) for pk in points.closed_cases_to_award(now=now))


def case_closed(case_id):
    """On the commit of a close (cases.signals.case_closed, connected in hub/wiring.py).
    Never raises: the hourly sweep catches a lost message."""
    try:
        award_case_points.apply_async(kwargs={"case_id": case_id}, retry=False)
    except Exception as exc:  # noqa: BLE001 — kombu/redis/OS errors alike; the sweep keeps the work
        log.warning("could not enqueue points for case %s, the sweep will award them: %s", case_id, exc)
