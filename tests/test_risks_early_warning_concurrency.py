"""The warning sweep run twice at the same moment (PostgreSQL, two connections): each evidence raises
one warning, and each warning is notified once."""

import datetime
import threading

import pytest
from django.db import connection

from cases.models import Delivery
from risks import early_warning
from risks.models import EarlyWarning, RiskType

from .cases_factories import resident_report
from .risks_factories import NOW, people, register

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_sweeps_at_once_raise_and_notify_each_warning_once(on_postgres, city, make_user):
    crew = people(city, make_user)
    for n in range(3):
        register(city, crew["worker"], kind=RiskType.EBIKE, title=f"电动车{n}")
        resident_report(city, now=NOW - datetime.timedelta(days=n))
    later = NOW + datetime.timedelta(days=16)  # the orange risks' reviews are past
    start, results, errors = threading.Barrier(2), [], []

    def run():
        try:
            start.wait(10)
            results.append(early_warning.warnings_sweep(now=later))
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    # 3 reviews overdue, 1 cluster of e-bike risks (16 days old, inside the 30-day window), 1 case repeat.
    assert EarlyWarning.objects.count() == 5
    assert EarlyWarning.objects.filter(notified_at__isnull=True).count() == 0
    assert sum(r["notified"] for r in results) == 5
    assert Delivery.objects.filter(case__isnull=True).count() == 5 * 2  # community and street staff, inbox
    assert early_warning.warnings_sweep(now=later) == {"flagged": 0, "raised": 0, "notified": 0}
