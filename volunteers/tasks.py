"""Thin Celery tasks for volunteers: sweeps over the database, safe to run twice."""

import logging

from django.utils import timezone

from portal.celery import shared_task

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
def close_household_points_year():
    """Beat, 1 January: archive last year's household cards and reset them (idempotent)."""
    from .household_points import household_years_close, year_of

    now = timezone.now()
    closed = household_years_close(year=year_of(now) - 1, now=now)
    if closed:
        log.info("closed %d household points card(s)", closed)
    return closed
