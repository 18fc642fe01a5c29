"""Notices after a mass escalation (issue #25 part 4): how long until every inbox has them.

    .venv/bin/python bench/notices_bench.py [--cases 20000]

On PostgreSQL (DATABASE_URL, default the bench database of bench/run.py, seeded city needed).
Inside one transaction that is rolled back at the end: insert --cases overdue open cases
spread over 2,000 grids (bench/cases_bench.py's rows, staff created where missing, half with
an e-mail address), then do what the beat and the worker do, in order, timed from the start:

1. the sweep (`escalate_overdue`): batches of 2,000, each writing its EscalationNotice;
2. the wording (`escalation_notices_expand`): one digest per recipient per batch;
3. the delivery (`deliver_pending`, as the beat calls it every minute) until no inbox row is
   pending; e-mail and chat go within their per-minute limits, so what is left of them is
   reported, not waited for.

Target: every inbox delivery sent within 120 s of the sweep's start. Beside it, the lower
bound: the same number of notification rows written with one INSERT … SELECT.
Writes bench/results/notices.json.
"""

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import cases_bench  # noqa: E402

TARGET_S = 120


class Rollback(Exception):
    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20_000)
    args = parser.parse_args()
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    cases_bench.setup_django(cases_bench.database_url())
    from django.conf import settings
    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    from cases import escalation, notifications
    from cases.models import Case, Delivery, DeliveryChannel, DeliveryStatus, Notification
    from grid import seeding

    now = timezone.now()
    rng = random.Random(11)
    result = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
              "database": settings.DATABASES["default"]["NAME"], "machine": cases_bench.machine()}
    try:
        with transaction.atomic():
            places, added = cases_bench._sweep_places(now)
            fields, rows = cases_bench._sweep_rows(args.cases, now, rng, places)
            seeding.write_rows(model=Case, fields=fields, rows=rows)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE cases_case")
            inbox_before = Notification.objects.count()
            started = time.perf_counter()
            moved = escalation.escalate_overdue(now=now)
            swept = time.perf_counter() - started
            connection.run_on_commit = []  # the enqueues; the steps below do what their tasks would
            worded = escalation.escalation_notices_expand(limit=10_000)
            wording_done = time.perf_counter() - started
            rounds = 0
            pending_inbox = Delivery.objects.filter(channel=DeliveryChannel.INBOX, status=DeliveryStatus.PENDING)
            while pending_inbox.exists() and time.perf_counter() - started < 10 * TARGET_S:
                notifications.deliver_pending(now=now)
                rounds += 1
            delivered = time.perf_counter() - started
            inbox_sent = Notification.objects.count() - inbox_before
            by_channel = {
                channel: dict(Delivery.objects.filter(channel=channel, created_at=now)
                              .values_list("status").annotate(n=Count("pk"))
                              .order_by())
                for channel in DeliveryChannel.values
            }
            # Lower bound: the same number of inbox rows in one statement.
            floor_started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO cases_notification (user_id, case_id, message, created_at) "
                    "SELECT user_id, NULL, message, created_at FROM cases_notification ORDER BY id DESC LIMIT %s",
                    [max(inbox_sent, 1)],
                )
            floor = time.perf_counter() - floor_started
            result.update({
                "cases": args.cases, "grids": len(places), "people_added": added, "moved": moved,
                "recipients_worded_for": worded, "sweep_s": round(swept, 2),
                "worded_at_s": round(wording_done, 2), "inbox_delivered_at_s": round(delivered, 2),
                "deliver_rounds": rounds, "inbox_messages": inbox_sent, "outbox_by_channel": by_channel,
                "inbox_floor_s": round(floor, 3), "target_s": TARGET_S, "met": delivered <= TARGET_S,
            })
            raise Rollback
    except Rollback:
        pass
    out = ROOT / "bench" / "results" / "notices.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"{result['moved']:,} escalated in {result['sweep_s']} s; worded by {result['worded_at_s']} s; "
          f"{result['inbox_messages']:,} inbox messages delivered by {result['inbox_delivered_at_s']} s "
          f"(target {TARGET_S} s: {'met' if result['met'] else 'MISSED'}); "
          f"floor for the inbox rows {result['inbox_floor_s']} s")
    print(f"outbox: {result['outbox_by_channel']}")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
