"""cases/seed.py writes what the services would (issue #18): the judged deadline and the handling time
on every case, a CaseRating for every rating (residents', hotline and Open311 reports only) and the
first deadlines of the hotline's work orders (their 响应率 reads them)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q

from cases.models import RATABLE_CHANNELS, Case, CaseDeadline, CaseRating, Channel, Status
from grid.management.commands import seed_city


@pytest.fixture
def seeded(db, monkeypatch):
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ("cases",))
    call_command("seed_city", scale="demo", seed=7, stdout=StringIO())
    return Case.objects.all()


def test_seeded_cases_carry_their_history(seeded):
    assert seeded.count() == 400
    rated = seeded.filter(rating_count__gt=0)
    assert rated.exists() and not rated.exclude(channel__in=RATABLE_CHANNELS).exists()
    assert CaseRating.objects.count() == rated.count()
    assert not rated.exclude(ratings__rating=F("rating")).exists()  # the case's rating is its one rating
    assert not seeded.filter(status=Status.CLOSED, handling_minutes__isnull=True).exists()
    assert not seeded.filter(registered_at__isnull=False, deadline_at__isnull=True).exclude(
        status__in=[Status.DUPLICATE]).exists()
    hotline = seeded.filter(channel=Channel.HOTLINE, accepted_at__isnull=False)
    assert hotline.exists()
    firsts = hotline.annotate(n=Count("deadlines", filter=Q(deadlines__kind="first")))
    assert set(firsts.values_list("n", flat=True)) == {3}
    for case in hotline.filter(deadline_stage="handle")[:20]:
        handle = CaseDeadline.objects.get(case=case, stage="handle", kind="first")
        assert handle.due_at == case.deadline_at == case.handle_due_at
