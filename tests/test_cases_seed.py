"""cases/seed.py and cases/seed_mediation.py at demo scale: the mediation files the demo city holds."""

import random
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from cases import seed as cases_seed
from cases.mediation_selectors import mediations_visible_to, rooms_for
from cases.models import (
    Case,
    CaseEvent,
    Mediation,
    MediationNumberCounter,
    MediationParty,
    MediationSession,
    SessionState,
)
from grid.management.commands import seed_city
from grid.models import User
from portal.identity import blind_index


@pytest.fixture
def demo(db, monkeypatch):
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ("cases",))
    out = StringIO()
    call_command("seed_city", scale="demo", seed=3, stdout=out)
    return out.getvalue()


# The demo city is seeded around the real clock, so its states must hold at any moment: CI once
# seeded it at 08:40 on a Tuesday and found no open file in mediation.
@pytest.mark.parametrize("moment", [
    pytest.param(moment, marks=pytest.mark.clock(moment), id=moment[:16]) for moment in (
        "2026-12-08T08:40:00+08:00",  # that Tuesday morning
        "2026-12-06T23:30:00+08:00",  # a Sunday night
        "2026-10-01T12:00:00+08:00",  # the National Day holiday
    )])
def test_the_demo_city_holds_mediation_files_in_every_state(moment, demo):
    assert timezone.localtime().isoformat().startswith(moment[:13])
    # Nothing seeded has happened after now: no step of a case, no session held, no case closed.
    seeded_at = timezone.now()
    assert not CaseEvent.objects.filter(at__gt=seeded_at).exists()
    assert not Case.objects.filter(closed_at__gt=seeded_at).exists()
    assert not Case.objects.filter(accepted_at__gt=seeded_at).exists()
    assert not MediationSession.objects.filter(state=SessionState.HELD, held_at__gt=seeded_at).exists()
    assert not MediationSession.objects.filter(state=SessionState.SCHEDULED, held_at__lte=seeded_at).exists()
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
    # Their community has a mediation room to choose when scheduling.
    assert rooms_for(mediations_visible_to(mediator).first().case).exists()
    # Live numbering continues after the seeded files.
    for counter in MediationNumberCounter.objects.all():
        assert counter.last == files.filter(committee_id=counter.committee_id, year=counter.year).count()


def _stored():
    """The seeded cases, their timelines, files, parties (decrypted) and sessions, without serial ids."""
    return {
        "cases": list(Case.objects.order_by("id").values_list(
            "id", "number", "status", "grid_id", "category_id", "assignee_id", "created_at", "reporter_name_masked")),
        "events": list(CaseEvent.objects.order_by("case_id", "at", "action").values_list(
            "case_id", "action", "at", "from_status", "to_status")),
        "files": list(Mediation.objects.order_by("case_id").values_list(
            "case_id", "outcome", "committee_id", "year", "serial", "opened_at", "concluded_at")),
        "parties": sorted((p.mediation_id, p.role, p.name, p.id_number, p.id_index, p.id_masked, p.phone,
                           p.phone_index, p.phone_masked, p.added_at) for p in MediationParty.objects.all()),
        "sessions": sorted(MediationSession.objects.values_list(
            "mediation_id", "state", "held_at", "notes", "recorded_by_id")),
        "mediators": sorted(Mediation.mediators.through.objects.values_list("mediation_id", "user_id")),
        "opened": sorted(_opened(), key=str),
    }


def _opened():
    """The parties' ID numbers and phones as the table holds them, opened with the fields' keys: a value
    stored in the clear raises InvalidToken (the fields themselves would read it back unchanged)."""
    fields = [MediationParty._meta.get_field(name) for name in ("id_number", "phone")]
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM cases_mediationparty")
        rows = cursor.fetchall()
    return [tuple(f.f.decrypt(v.encode()).decode() if v else None for f, v in zip(fields, row)) for row in rows]


def test_worker_processes_store_what_the_in_process_path_stores(db, on_postgres, monkeypatch):
    """The city-scale path (chunks planned in forked workers, parties encrypted there, COPY text) on the demo city."""
    monkeypatch.setattr(seed_city, "SEEDER_APPS", ())
    call_command("seed_city", scale="demo", seed=3, stdout=StringIO())
    now = timezone.now()
    monkeypatch.setattr(cases_seed, "POOL_THRESHOLD", 0)
    monkeypatch.setattr(cases_seed, "CHUNK", 40)  # several chunks, so the workers take turns

    def seed(workers):
        out = StringIO()
        with transaction.atomic():
            cases_seed.seed(scale=seed_city.seeding.SCALES["demo"], rng=random.Random("3:cases"), stdout=out,
                            now=now, workers=workers)
            stored = _stored()
            transaction.set_rollback(True)
        return stored, out.getvalue()

    pooled, log = seed(2)
    assert "2 planning processes" in log
    assert len(pooled["cases"]) > 200 and pooled["parties"] and pooled["sessions"] and pooled["mediators"]
    # Encrypted by the worker as the field encrypts (the field would read a number in the clear back
    # unchanged): each stored value is a token the field's key opens, and the index matches the number.
    assert all(p[3] is None or blind_index("id", p[3]) == p[4] for p in pooled["parties"])
    assert any(p[6] for p in pooled["parties"]) and any(p[3] for p in pooled["parties"])
    assert sorted(((p[3], p[6]) for p in pooled["parties"]), key=str) == pooled["opened"]
    in_process, log = seed(1)
    assert "planned in-process" in log
    for table in pooled:
        assert in_process[table] == pooled[table], table
