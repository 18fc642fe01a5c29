"""cases/seed.py and cases/seed_mediation.py at demo scale: the mediation files the demo city holds."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from cases.mediation_selectors import mediations_visible_to
from cases.models import Mediation, MediationNumberCounter, MediationParty, MediationSession, SessionState
from grid.management.commands import seed_city
from grid.models import User


@pytest.fixture
def demo(db, monkeypatch):
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ("cases",))
    out = StringIO()
    call_command("seed_city", scale="demo", seed=3, stdout=out)
    return out.getvalue()


def test_the_demo_city_holds_mediation_files_in_every_state(demo):
    files = Mediation.objects.all()
    outcomes = Counter(files.values_list("outcome", flat=True))
    assert set(outcomes) == {"pending", "agreed", "partial", "failed", "withdrawn"}, outcomes
    assert files.filter(opened_at__isnull=True).exists() and files.filter(opened_at__isnull=False,
                                                                          outcome="pending").exists()
    numbered = list(files.filter(serial__isnull=False).values_list("committee_id", "year", "serial"))
    assert numbered and len(set(numbered)) == len(numbered)
    assert not files.filter(outcome="failed", referral="").exists()
    assert not files.filter(outcome__in=["agreed", "partial"], performance_deadline__isnull=True).exists()
    parties = MediationParty.objects.exclude(phone_masked="")
    assert parties.exists() and all("****" in p for p in parties.values_list("phone_masked", flat=True))
    assert MediationSession.objects.filter(state=SessionState.HELD).exists()
    assert MediationSession.objects.filter(state=SessionState.SCHEDULED).exists()
    assert files.filter(performance="performed").exists() and files.filter(confirmation_applied_on__isnull=False).exists()
    assert files.filter(follow_up_due_on__isnull=False, followed_up_at__isnull=True).exists()
    assert not files.filter(replied_at__isnull=False, source="direct").exists()
    # Failed and referred on: to the court with its receipt recorded.
    received = files.filter(outcome="failed", referral="litigation", referral_received_on__isnull=False)
    assert received.exists() and not received.filter(referral_receipt="").exists()
    assert not files.exclude(outcome="failed").exclude(referral_receipt="").exists()
    for source in ("direct", "court", "police", "petition"):
        assert files.filter(source=source).exists(), source
    mediator = User.objects.get(username="mediator")
    assert mediations_visible_to(mediator).exists()
    # Live numbering continues after the seeded files.
    for counter in MediationNumberCounter.objects.all():
        assert counter.last == files.filter(committee_id=counter.committee_id, year=counter.year).count()
