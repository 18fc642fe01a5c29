"""Notifications: an outbox written with the transition, delivered by Celery after commit.

`notify()` adds Delivery rows in the caller's transaction and asks, on
commit, for one `deliver_notifications` task for them. Enqueueing never raises
into the request: when the broker is down the rows stay pending and the beat
sweep (`deliver_pending_notifications`) sends them later. Delivery leases a row
with a conditional UPDATE, so the per-row task and the sweep never send one
row twice at the same time; a failure backs off exponentially and gives up
after MAX_ATTEMPTS.

Senders share one interface: `send(delivery)` raises on failure.
"""

import json
import logging
import time
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from portal import degraded
from portal.celery import send_by_name

from .models import Delivery, DeliveryChannel, DeliveryStatus, Notification

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
# Above this many rows, one run of the outbox sweep instead of a task naming them all.
ENQUEUE_EACH_UP_TO = 20


class SendError(Exception):
    pass


class InboxSender:
    channel = DeliveryChannel.INBOX

    def send(self, delivery):
        Notification.objects.create(
            user_id=delivery.user_id, case_id=delivery.case_id, message=delivery.body,
            created_at=delivery.created_at,
        )

    def send_many(self, deliveries):
        """All of them in one INSERT (the caller marks them sent in the same transaction)."""
        Notification.objects.bulk_create(
            [Notification(user_id=d.user_id, case_id=d.case_id, message=d.body, created_at=d.created_at)
             for d in deliveries],
            batch_size=2000,
        )


class EmailSender:
    channel = DeliveryChannel.EMAIL

    def send(self, delivery):
        send_mail(delivery.subject, delivery.body, settings.NOTIFY_EMAIL_FROM, [delivery.address],
                  fail_silently=False)


class ChatWebhookSender:
    """A chat-group robot (企业微信/钉钉 style): POST {"msgtype": "text", "text": {"content": …}}."""

    channel = DeliveryChannel.CHAT
    timeout = 5

    def send(self, delivery):
        url = delivery.address or settings.NOTIFY_CHAT_WEBHOOK_URL
        if not url:
            raise SendError("no chat webhook URL configured")
        payload = json.dumps({"msgtype": "text", "text": {"content": f"{delivery.subject}\n{delivery.body}"}},
                             ensure_ascii=False).encode()
        request = urllib.request.Request(url, data=payload, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (URL from settings)
            body = response.read(65536)
        try:
            answer = json.loads(body or b"{}")
        except ValueError:
            answer = {}
        # Both robots answer 200 with {"errcode": 0, ...}; anything else is a failure.
        if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
            raise SendError(f"chat robot refused: {answer.get('errmsg', answer)}")


SENDERS = {s.channel: s for s in (InboxSender(), EmailSender(), ChatWebhookSender())}


def sender_for(channel):
    return SENDERS[channel]


# --- writing the outbox ------------------------------------------------------------------

def notify(*, users=(), case=None, subject, body, now, chat=False):
    """Queue a message to `users` (inbox, and email where they have one) and maybe the chat group.

    Call inside the transition's transaction; returns the Delivery rows.
    """
    return save(build(users=users, case=case, subject=subject, body=body, now=now, chat=chat))


def build(*, users=(), case=None, subject, body, now, chat=False):
    """Unsaved Delivery rows for one message (see `save`)."""
    rows = []
    seen = set()
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(Delivery(channel=DeliveryChannel.INBOX, user=user, case=case, subject=subject, body=body,
                             next_attempt_at=now, created_at=now))
        if user.email:
            rows.append(Delivery(channel=DeliveryChannel.EMAIL, user=user, address=user.email, case=case,
                                 subject=subject, body=body, next_attempt_at=now, created_at=now))
    if chat and settings.NOTIFY_CHAT_WEBHOOK_URL:
        rows.append(Delivery(channel=DeliveryChannel.CHAT, address="", case=case, subject=subject, body=body,
                             next_attempt_at=now, created_at=now))
    return rows


def save(rows):
    """Write outbox rows in the current transaction and enqueue them once it commits."""
    if not rows:
        return []
    created = Delivery.objects.bulk_create(rows, batch_size=1000)
    ids = [d.pk for d in created if d.pk is not None]
    if ids:  # backends without RETURNING leave them to the sweep
        transaction.on_commit(lambda: enqueue(ids))
    return created


# Outbox rows as plain tuples, for writers of thousands of messages at once (the
# escalation sweep): no model instance per row.
DELIVERY_FIELDS = ("channel", "user_id", "address", "case_id", "subject", "body", "status", "attempts",
                   "next_attempt_at", "last_error", "created_at")


def build_rows(*, recipients=(), case_id=None, subject, body, now, chat=False):
    """`build` as tuples in DELIVERY_FIELDS order (see `save_rows`).

    `recipients` are (user_id, email) pairs of active users, each once.
    """
    pending = DeliveryStatus.PENDING
    rows = []
    for user_id, email in recipients:
        rows.append((DeliveryChannel.INBOX, user_id, "", case_id, subject, body, pending, 0, now, "", now))
        if email:
            rows.append((DeliveryChannel.EMAIL, user_id, email, case_id, subject, body, pending, 0, now, "", now))
    if chat and settings.NOTIFY_CHAT_WEBHOOK_URL:
        rows.append((DeliveryChannel.CHAT, None, "", case_id, subject, body, pending, 0, now, "", now))
    return rows


def save_rows(rows):
    """Write many outbox rows (`build_rows` tuples) in the current transaction; enqueue on commit.

    Few rows go through `save` (one task each). Many are written in one COPY on
    PostgreSQL and, once the transaction commits, one `deliver_pending_notifications`
    task sends them: what `enqueue` does for more than ENQUEUE_EACH_UP_TO ids anyway.
    Returns how many rows were written.
    """
    if len(rows) <= ENQUEUE_EACH_UP_TO:
        return len(save([Delivery(**dict(zip(DELIVERY_FIELDS, row))) for row in rows]))
    from grid.seeding import write_rows

    written = write_rows(model=Delivery, fields=DELIVERY_FIELDS, rows=rows)
    transaction.on_commit(lambda: enqueue_pending(written))
    return written


# After a failed enqueue, requests stop trying for a while: each attempt at a dead
# broker costs the request most of a second, and the sweep sends the rows anyway.
BROKER_PAUSE_SECONDS = 30
_broker = {"down_until": 0.0}


def broker_back():
    """Forget an earlier enqueue failure (tests; an operator after fixing Redis)."""
    _broker["down_until"] = 0.0


def enqueue(ids):
    """Ask Celery to deliver these rows. Never raises: pending rows wait for the sweep."""
    if len(ids) > ENQUEUE_EACH_UP_TO:
        enqueue_pending(len(ids))
        return
    # One message for the transaction's rows: each publish is a round trip to the broker.
    # Tasks are sent by name: cases.tasks imports this module.
    try_enqueue(lambda: send_by_name("cases.tasks.deliver_notifications", kwargs={"delivery_ids": list(ids)},
                                     retry=False), len(ids))


def enqueue_pending(count):
    """Ask Celery for one run of the outbox sweep (for `count` new rows). Never raises."""
    try_enqueue(lambda: send_by_name("cases.tasks.deliver_pending_notifications", retry=False), count)


def try_enqueue(send, count, what="notification(s)"):
    """Run `send` (one publish) unless the broker failed moments ago. Never raises: the
    database keeps the work and a beat sweep picks it up."""
    if time.monotonic() < _broker["down_until"]:
        # Once a minute, not once a request: at 3 reports a second this line buried the log.
        degraded.warn_throttled(f"broker-down:{what}", "broker marked down; %d %s left for the sweep", count, what,
                                level=logging.INFO, logger=log)
        return
    try:
        send()
    except Exception as exc:  # noqa: BLE001 — kombu/redis/OS errors alike; the outbox keeps the work
        _broker["down_until"] = time.monotonic() + BROKER_PAUSE_SECONDS
        log.warning("could not enqueue %d %s, the sweep will see to them: %s", count, what, exc)


# --- delivering ----------------------------------------------------------------------------

def _backoff(attempts):
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 120))


def deliver(*, delivery_id, now=None):
    """Send one pending row if it is due and not leased. Returns its status afterwards, or None."""
    now = now or timezone.now()
    leased = (
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .update(leased_until=now + LEASE, attempts=F("attempts") + 1)
    )
    if not leased:
        return None
    delivery = Delivery.objects.get(pk=delivery_id)
    sender = sender_for(delivery.channel)
    try:
        with transaction.atomic():
            sender.send(delivery)
            # The inbox row and "sent" commit together, so an inbox message is never doubled.
            Delivery.objects.filter(pk=delivery_id).update(
                status=DeliveryStatus.SENT, sent_at=now, leased_until=None, last_error=""
            )
        return DeliveryStatus.SENT
    except Exception as exc:  # noqa: BLE001 — any sender failure is recorded and retried
        gave_up = delivery.attempts >= MAX_ATTEMPTS
        Delivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
            next_attempt_at=now + _backoff(delivery.attempts),
            leased_until=None,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        log.warning("notification %s via %s failed (attempt %d): %s", delivery_id, delivery.channel,
                    delivery.attempts, exc)
        return DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING


def _due(now):
    return (Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now)))


def deliver_batch(*, channel, now=None, limit=2000):
    """Send up to `limit` due rows of `channel` at once, if its sender can (`send_many`).

    Rows are claimed with SKIP LOCKED, sent and marked sent in one transaction, so two
    workers never send a row twice and a failure leaves them all pending. A sender without
    `send_many`, or a batch that fails, goes row by row (each failure recorded on its row).
    Returns how many were sent.
    """
    now = now or timezone.now()
    sender = sender_for(channel)
    if hasattr(sender, "send_many"):
        try:
            with transaction.atomic():
                claim = _due(now).filter(channel=channel).order_by("next_attempt_at", "pk")
                if connection.features.has_select_for_update_skip_locked:
                    claim = claim.select_for_update(skip_locked=True)
                rows = list(claim[:limit])
                if not rows:
                    return 0
                sender.send_many(rows)
                Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(
                    status=DeliveryStatus.SENT, sent_at=now, leased_until=None, last_error="",
                    attempts=F("attempts") + 1,
                )
            return len(rows)
        except Exception as exc:  # noqa: BLE001 — fall back to one by one, where failures are recorded
            log.warning("batch delivery via %s failed, sending one by one: %s", channel, exc)
    ids = list(_due(now).filter(channel=channel).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    return sum(1 for pk in ids if deliver(delivery_id=pk, now=now) == DeliveryStatus.SENT)


def sent_in_the_last_minute(channel, now):
    return Delivery.objects.filter(channel=channel, status=DeliveryStatus.SENT,
                                   sent_at__gt=now - timedelta(minutes=1)).count()


def per_minute_limits():
    """Providers' sending rules: a chat robot takes about 20 messages a minute; mail servers cap
    senders too. None = no limit (the in-app inbox)."""
    return {
        DeliveryChannel.INBOX: None,
        DeliveryChannel.EMAIL: settings.NOTIFY_EMAIL_PER_MINUTE,
        DeliveryChannel.CHAT: settings.NOTIFY_CHAT_PER_MINUTE,
    }


def deliver_pending(*, now=None, limit=500, seconds=45):
    """Send due pending rows (the beat sweep, every minute). Returns how many were sent.

    The inbox goes in batches until none is left (one INSERT per batch: the thousands of
    messages after a mass escalation reach their inboxes within seconds); e-mail and chat go
    row by row, at most `limit` each and within their providers' per-minute limits. The run
    stops taking new work after `seconds`, well inside the beat interval.
    """
    now = now or timezone.now()
    stop_at = time.monotonic() + seconds
    sent = 0
    for channel, per_minute in per_minute_limits().items():
        room = limit if per_minute is None else min(limit, per_minute - sent_in_the_last_minute(channel, now))
        while room > 0 and time.monotonic() < stop_at:
            if per_minute is None:
                done = deliver_batch(channel=channel, now=now, limit=2000)
                sent += done
                if not done:
                    break
                continue
            ids = list(_due(now).filter(channel=channel).order_by("next_attempt_at", "pk")
                       .values_list("pk", flat=True)[:room])
            for pk in ids:
                if time.monotonic() >= stop_at:
                    break
                if deliver(delivery_id=pk, now=now) == DeliveryStatus.SENT:
                    sent += 1
            break
    return sent
