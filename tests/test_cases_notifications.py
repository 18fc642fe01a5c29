"""The outbox: senders that fail, a broker that is down, retries with backoff, no doubles."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.utils import translation

from cases import notifications, oversight, services
from cases.models import Delivery, DeliveryChannel, DeliveryStatus, Notification, Status

from .cases_factories import MONDAY, fresh_calendar, people, resident_report, to_status  # noqa: F401

# Rows are dated MONDAY and the on-commit deliveries ask for now: the clock stands there too.
pytestmark = pytest.mark.clock(MONDAY + timedelta(minutes=5))


class Boom:
    channel = DeliveryChannel.INBOX

    def send(self, delivery):
        raise ConnectionError("inbox database is on fire")


def test_a_failing_sender_does_not_block_the_transition(city, people, monkeypatch,
                                                        django_capture_on_commit_callbacks):
    monkeypatch.setitem(notifications.SENDERS, DeliveryChannel.INBOX, Boom())
    case = to_status(city, people, Status.REPORTED)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_register(case=case, acting_user=people.community, now=MONDAY)
    assert case.status == Status.DISPATCHED
    row = Delivery.objects.get(case=case, user=case.assignee, channel=DeliveryChannel.INBOX)
    assert row.status == DeliveryStatus.PENDING
    assert row.attempts == 1 and "on fire" in row.last_error
    assert row.next_attempt_at > row.created_at
    assert not Notification.objects.filter(user=case.assignee).exists()


def test_pending_rows_are_sent_by_the_sweep_after_backoff(city, people, monkeypatch):
    case = to_status(city, people, Status.REPORTED)
    monkeypatch.setitem(notifications.SENDERS, DeliveryChannel.INBOX, Boom())
    row = Delivery.objects.filter(case=case, channel=DeliveryChannel.INBOX).first()
    assert notifications.deliver(delivery_id=row.pk, now=MONDAY) == DeliveryStatus.PENDING
    # Not due yet: nothing happens.
    assert notifications.deliver(delivery_id=row.pk, now=MONDAY + timedelta(seconds=30)) is None
    monkeypatch.setitem(notifications.SENDERS, DeliveryChannel.INBOX, notifications.InboxSender())
    assert notifications.deliver_pending(now=MONDAY + timedelta(minutes=2)) == 2  # this row and the e-mail
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.attempts == 2
    assert Notification.objects.filter(user=row.user, case=case).count() == 1
    # Sending again changes nothing: the row is sent.
    assert notifications.deliver(delivery_id=row.pk, now=MONDAY + timedelta(minutes=3)) is None
    assert Notification.objects.filter(user=row.user, case=case).count() == 1


def test_gives_up_after_max_attempts(city, people, monkeypatch):
    case = to_status(city, people, Status.REPORTED)
    monkeypatch.setitem(notifications.SENDERS, DeliveryChannel.INBOX, Boom())
    row = Delivery.objects.filter(case=case, channel=DeliveryChannel.INBOX).first()
    when = MONDAY
    for _ in range(notifications.MAX_ATTEMPTS):
        notifications.deliver(delivery_id=row.pk, now=when)
        when += timedelta(days=1)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and row.attempts == notifications.MAX_ATTEMPTS


def test_a_leased_row_is_not_sent_twice(city, people):
    case = to_status(city, people, Status.REPORTED)
    row = Delivery.objects.filter(case=case, channel=DeliveryChannel.INBOX).first()
    Delivery.objects.filter(pk=row.pk).update(leased_until=MONDAY + timedelta(minutes=5))
    assert notifications.deliver(delivery_id=row.pk, now=MONDAY) is None
    assert notifications.deliver(delivery_id=row.pk, now=MONDAY + timedelta(minutes=6)) == DeliveryStatus.SENT


def test_email_goes_to_users_with_an_address(city, people, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # In the portal's default language (an earlier test's English request may have left English active).
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        case = resident_report(city)
    # people.community has an email address; the report asks them to register it.
    assert [m.to for m in mail.outbox] == [["c@example.org"]]
    assert mail.outbox[0].subject == f"有新上报待登记立案：{case.number}"


def test_one_message_per_commit_names_every_row_it_wrote(city, people, monkeypatch,
                                                        django_capture_on_commit_callbacks):
    from cases import tasks

    sent = []
    monkeypatch.setattr(tasks.deliver_notifications, "apply_async",
                        lambda *args, **kwargs: sent.append(sorted(kwargs["kwargs"]["delivery_ids"])))
    with django_capture_on_commit_callbacks(execute=True):
        case = resident_report(city)
    rows = sorted(Delivery.objects.filter(case=case).values_list("pk", flat=True))
    assert sorted(Delivery.objects.filter(case=case).values_list("user", "channel")) == [
        (people.community.pk, DeliveryChannel.EMAIL), (people.community.pk, DeliveryChannel.INBOX)]
    assert sent == [rows]
    # The worker's task sends them all.
    monkeypatch.undo()
    assert tasks.deliver_notifications.delay(delivery_ids=rows).get() == [DeliveryStatus.SENT] * len(rows)


def test_many_rows_are_written_at_once_and_left_to_one_sweep_task(city, people, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    from django.db import transaction

    from cases import tasks

    sweeps = []
    monkeypatch.setattr(tasks.deliver_pending_notifications, "apply_async",
                        lambda *args, **kwargs: sweeps.append(kwargs))
    case = resident_report(city)
    many = notifications.ENQUEUE_EACH_UP_TO + 5
    recipients = [(people.community.pk, "c@example.org")] * many
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        written = notifications.save_rows(notifications.build_rows(
            recipients=recipients, case_id=case.pk, subject="s", body="b", now=MONDAY))
    assert written == 2 * many
    assert Delivery.objects.filter(case=case, subject="s", status=DeliveryStatus.PENDING).count() == 2 * many
    assert len(sweeps) == 1


def test_broker_down_leaves_rows_pending_for_the_sweep(city, people, monkeypatch,
                                                      django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    from cases import tasks

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.deliver_notifications, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        case = resident_report(city)
    rows = Delivery.objects.filter(case=case)
    assert rows.exists() and all(r.status == DeliveryStatus.PENDING and r.attempts == 0 for r in rows)
    # The broker is back: the beat sweep delivers them.
    monkeypatch.undo()
    assert tasks.deliver_pending_notifications.delay().get() == rows.count()


class RobotHandler(BaseHTTPRequestHandler):
    received = []
    answer = {"errcode": 0, "errmsg": "ok"}

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.headers["Content-Type"], json.loads(body)))
        data = json.dumps(type(self).answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def robot():
    RobotHandler.received = []
    RobotHandler.answer = {"errcode": 0, "errmsg": "ok"}
    server = HTTPServer(("127.0.0.1", 0), RobotHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/cgi-bin/webhook/send?key=test", RobotHandler
    server.shutdown()


def test_chat_robot_gets_escalations_as_json(city, people, settings, robot):
    url, handler = robot
    settings.NOTIFY_CHAT_WEBHOOK_URL = url
    case = to_status(city, people, Status.DISPATCHED)
    services.case_escalate(case=case, acting_user=people.community, reason="超出社区能力", now=MONDAY)
    chat = Delivery.objects.get(case=case, channel=DeliveryChannel.CHAT)
    assert notifications.deliver(delivery_id=chat.pk, now=MONDAY) == DeliveryStatus.SENT
    content_type, payload = handler.received[0]
    assert content_type.startswith("application/json")
    assert payload["msgtype"] == "text" and case.number in payload["text"]["content"]


def test_chat_robot_refusal_is_a_failure(city, people, settings, robot):
    url, handler = robot
    handler.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    settings.NOTIFY_CHAT_WEBHOOK_URL = url
    case = to_status(city, people, Status.DISPATCHED)
    oversight.case_supervise(case=case, acting_user=people.district, now=MONDAY)
    chat = Delivery.objects.get(case=case, channel=DeliveryChannel.CHAT)
    assert notifications.deliver(delivery_id=chat.pk, now=MONDAY) == DeliveryStatus.PENDING
    chat.refresh_from_db()
    assert "invalid webhook url" in chat.last_error


def test_no_chat_rows_without_a_webhook(city, people, settings):
    settings.NOTIFY_CHAT_WEBHOOK_URL = ""
    case = to_status(city, people, Status.DISPATCHED)
    oversight.case_supervise(case=case, acting_user=people.district, now=MONDAY)
    assert not Delivery.objects.filter(channel=DeliveryChannel.CHAT).exists()


def test_after_a_failed_enqueue_requests_stop_waiting_for_the_broker(city, people, monkeypatch,
                                                                    django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    from cases import tasks

    calls = []

    def down(*args, **kwargs):
        calls.append(kwargs)
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.deliver_notifications, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        resident_report(city)
    with django_capture_on_commit_callbacks(execute=True):
        second = resident_report(city)
    assert len(calls) == 1  # the second report did not try the dead broker again
    assert Delivery.objects.filter(case=second, status=DeliveryStatus.PENDING).exists()
    notifications.broker_back()
    with django_capture_on_commit_callbacks(execute=True):
        resident_report(city)
    assert len(calls) == 2


# --- after a mass escalation: the inbox in batches, chat and e-mail within providers' limits (#25) ---

def _pending_rows(people, case, *, channel, n):
    rows = [Delivery(channel=channel, user=people.community, address="c@example.org" if channel != "inbox" else "",
                     case=case, subject=f"s{i}", body=f"b{i}", next_attempt_at=MONDAY, created_at=MONDAY)
            for i in range(n)]
    return Delivery.objects.bulk_create(rows)


def test_inbox_rows_go_in_one_insert_per_batch(city, people, django_assert_max_num_queries):
    case = resident_report(city)
    Delivery.objects.all().delete()
    _pending_rows(people, case, channel=DeliveryChannel.INBOX, n=300)
    before = Notification.objects.count()
    # Claim, insert, mark sent (plus the savepoint): a handful of statements for 300 messages.
    with django_assert_max_num_queries(8):
        assert notifications.deliver_batch(channel=DeliveryChannel.INBOX, now=MONDAY, limit=2000) == 300
    assert Notification.objects.count() == before + 300
    assert not Delivery.objects.filter(status=DeliveryStatus.PENDING).exists()
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    # Nothing left: a second run sends nothing and doubles nothing.
    assert notifications.deliver_batch(channel=DeliveryChannel.INBOX, now=MONDAY) == 0
    assert Notification.objects.count() == before + 300


def test_a_failing_batch_falls_back_to_one_by_one_and_records_each_failure(city, people, monkeypatch):
    case = resident_report(city)
    Delivery.objects.all().delete()
    _pending_rows(people, case, channel=DeliveryChannel.INBOX, n=3)

    class HalfBroken(notifications.InboxSender):
        def send_many(self, deliveries):
            raise ConnectionError("bulk insert refused")

        def send(self, delivery):
            if delivery.subject == "s1":
                raise ConnectionError("this one is broken")
            super().send(delivery)

    monkeypatch.setitem(notifications.SENDERS, DeliveryChannel.INBOX, HalfBroken())
    assert notifications.deliver_batch(channel=DeliveryChannel.INBOX, now=MONDAY) == 2
    broken = Delivery.objects.get(subject="s1")
    assert broken.status == DeliveryStatus.PENDING and "this one is broken" in broken.last_error
    assert Notification.objects.filter(message__in=["b0", "b2"]).count() == 2


def test_the_sweep_keeps_the_chat_robot_within_its_limit_per_minute(city, people, settings, monkeypatch):
    settings.NOTIFY_CHAT_PER_MINUTE = 3
    case = resident_report(city)
    Delivery.objects.all().delete()
    _pending_rows(people, case, channel=DeliveryChannel.CHAT, n=5)
    sent = []

    class Robot:
        channel = DeliveryChannel.CHAT

        def send(self, delivery):
            sent.append(delivery.subject)

    monkeypatch.setitem(notifications.SENDERS, DeliveryChannel.CHAT, Robot())
    assert notifications.deliver_pending(now=MONDAY) == 3
    # Within the same minute the robot takes nothing more...
    assert notifications.deliver_pending(now=MONDAY + timedelta(seconds=30)) == 0
    # ...and a minute later the rest.
    assert notifications.deliver_pending(now=MONDAY + timedelta(seconds=61)) == 2
    assert sorted(sent) == ["s0", "s1", "s2", "s3", "s4"]


def test_the_sweep_drains_a_large_inbox_backlog_in_one_run(city, people):
    case = resident_report(city)
    Delivery.objects.all().delete()
    _pending_rows(people, case, channel=DeliveryChannel.INBOX, n=4500)
    # More than the per-row limit of 500: the inbox goes in batches of 2,000 until none is left.
    assert notifications.deliver_pending(now=MONDAY) == 4500
    assert not Delivery.objects.filter(status=DeliveryStatus.PENDING).exists()
