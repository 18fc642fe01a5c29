"""Thin Celery tasks: take ids, reload, call one service. Safe to run twice.

Tasks import the services they call; the services enqueue tasks by name
(portal.celery.send_by_name), so the imports run one way.
"""

import logging

from django.utils import timezone

from portal.celery import shared_task

from . import escalation, notifications, services_intake, whistles

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def escalate_overdue():
    """Beat, every minute: escalate whatever is past due (idempotent, concurrent-safe)."""
    now = timezone.now()
    moved = escalation.escalate_overdue(now=now)
    if moved:
        log.info("escalated %d overdue case(s)", moved)
    # Big matters are supervised (督办) by the street instead of climbing the tree.
    supervised = escalation.supervise_overdue_org_matters(now=now)
    if supervised:
        log.info("supervised %d overdue big matter(s)", supervised)
    return moved


@shared_task(ignore_result=True)
def register_intake():
    """On a report's commit (at most once a second) and by beat: register received reports as cases."""
    registered = services_intake.intake_register_pending()
    if registered:
        log.info("registered %d received report(s)", registered)
    return registered


@shared_task(ignore_result=True)
def deliver_notification(*, delivery_id):
    """Send one outbox row. Failures are recorded on the row and retried by the sweep.

    Commits now enqueue `deliver_notifications` (one message for all their rows);
    this stays for messages already queued and for sending one row by hand.
    """
    return notifications.deliver(delivery_id=delivery_id, now=timezone.now())


@shared_task(ignore_result=True)
def deliver_notifications(*, delivery_ids):
    """Send the outbox rows one transaction wrote (one message per commit, not one per row)."""
    now = timezone.now()
    return [notifications.deliver(delivery_id=pk, now=now) for pk in delivery_ids]


@shared_task(ignore_result=True)
def expand_escalation_notices():
    """On the commit of each sweep batch: word its escalations as outbox rows (idempotent)."""
    return escalation.escalation_notices_expand()


@shared_task(ignore_result=True)
def deliver_pending_notifications():
    """Beat, every minute: word escalations left unworded and send outbox rows still pending
    (the broker was down, a sender failed...)."""
    escalation.escalation_notices_expand()
    return notifications.deliver_pending(now=timezone.now())


@shared_task(ignore_result=True)
def mark_no_shows():
    """Beat, every minute: summoned organisations past their report-in deadline become no-shows
    (吹哨报到; idempotent, each row by a conditional UPDATE)."""
    marked = whistles.summonses_mark_no_shows(now=timezone.now())
    if marked:
        log.info("marked %d summons(es) as no-shows", marked)
    return marked
