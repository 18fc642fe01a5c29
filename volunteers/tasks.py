"""Thin Celery tasks for volunteers: sweeps over the database, safe to run twice."""

import logging

from celery import shared_task
from django.utils import timezone

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def escalate_unclaimed_orders():
    """Beat, every minute: residents' orders nobody claimed in time go to community staff."""
    from .services import escalate_unclaimed

    moved = escalate_unclaimed(now=timezone.now())
    if moved:
        log.info("escalated %d unclaimed order(s)", moved)
    return moved


@shared_task(ignore_result=True)
def verify_ledger():
    """Nightly: the books must sum to zero and every cached balance match its entries."""
    from .ledger import books_problems

    problems = books_problems()
    for problem in problems:
        log.error("points ledger: %s", problem)
    return len(problems)


@shared_task(ignore_result=True)
def award_case_points(*, case_id):
    """After a case closes: points to the volunteers who reported or verified it (idempotent)."""
    from .ledger import award_closed_case

    return len(award_closed_case(case_id=case_id, now=timezone.now()))


@shared_task(ignore_result=True)
def award_recent_closed_cases():
    """Beat, hourly: catch closes whose task was lost (broker down); each case is re-checked."""
    from .ledger import award_closed_case, closed_cases_to_award

    now = timezone.now()
    return sum(len(award_closed_case(case_id=pk, now=now)) for pk in closed_cases_to_award(now=now))


def case_closed(case_id):
    """Called by cases.services.case_close on commit. Never raises: the hourly sweep catches a lost message."""
    try:
        award_case_points.apply_async(kwargs={"case_id": case_id}, retry=False)
    except Exception as exc:  # noqa: BLE001 — kombu/redis/OS errors alike; the sweep keeps the work
        log.warning("could not enqueue points for case %s, the sweep will award them: %s", case_id, exc)
