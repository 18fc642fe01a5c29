"""cases/mediation.py and cases/mediation_files.py: the mediation file, its bad inputs
(nothing half-saved), the parties' personal data, numbering, and the JSON → rows migration."""

import importlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cases import mediation as m
from cases import services
from cases.mediation_files import mediation_attach_file
from cases.mediation_selectors import mediations_visible_to, sessions_on
from cases.models import (
    CaseEvent,
    Mediation,
    MediationFile,
    MediationNumberCounter,
    MediationOutcome,
    MediationParty,
    MediationPartyAccess,
    MediationSession,
    Status,
)
from portal.errors import DomainError
from portal.identity import blind_index

from .cases_factories import MONDAY, at, fresh_calendar, people, png  # noqa: F401
from .mediation_factories import APPLICANT_ID, RESPONDENT_ID, dispute, id_number, med, with_parties  # noqa: F401


def written():
    return (MediationParty.objects.count(), MediationSession.objects.count(), MediationFile.objects.count(),
            MediationPartyAccess.objects.count(), CaseEvent.objects.count(),
            list(Mediation.objects.values_list("outcome", "agreement_text", "referral", "serial")))


# --- opening and numbering -------------------------------------------------------------------

def test_files_are_numbered_by_each_committee_per_year(city, people, med):
    first = dispute(city, people)
    second = dispute(city, people)
    other = dispute(city, people, staff=people.community_b, building=city.building_b)
    next_year = dispute(city, people, now=at(2027, 1, 4))
    numbers = [Mediation.objects.get(pk=c.pk) for c in (first, second, other, next_year)]
    assert [(x.committee_id, x.year, x.serial) for x in numbers] == [
        (city.community_a.pk, 2026, 1), (city.community_a.pk, 2026, 2), (city.community_b.pk, 2026, 1),
        (city.community_a.pk, 2027, 1)]
    assert numbers[1].number == "（2026）幸福社区调字第002号"
    assert MediationNumberCounter.objects.get(committee=city.community_a, year=2026).last == 2


def test_opening_refuses_bad_input_and_writes_nothing(city, people, med):
    case = dispute(city, people, open_file=False)
    before = written()
    for kwargs, code in (
        ({"dispute_type": "gossip"}, "bad_type"),
        ({"dispute_type": "neighbour", "source": "court"}, "no_source_body"),
        ({"dispute_type": "neighbour", "room": med.room_b}, "bad_room"),
        ({"dispute_type": "neighbour", "source": "court", "source_body": "城关区人民法院",
          "reply_due_on": MONDAY.date() - timedelta(days=1)}, "bad_date"),
    ):
        with pytest.raises(DomainError) as refused:
            m.mediation_open(case=case, acting_user=people.community, now=MONDAY, **kwargs)
        assert refused.value.code == code
    assert written() == before
    assert not MediationNumberCounter.objects.exists()
    m.mediation_open(case=case, acting_user=people.community, dispute_type="neighbour", room=med.room,
                     source="court", source_body="城关区人民法院", source_ref="(2026)川0703民诉前调123号",
                     reply_due_on=MONDAY.date() + timedelta(days=30), now=MONDAY)
    with pytest.raises(DomainError) as refused:
        m.mediation_open(case=case, acting_user=people.community, dispute_type="family", now=MONDAY)
    assert refused.value.code == "already_open"


# --- parties: personal data like residents' ----------------------------------------------------

def test_party_id_and_phone_are_encrypted_indexed_and_masked(city, people, med):
    case = dispute(city, people)
    applicant, respondent = with_parties(case, people.community)
    applicant.refresh_from_db()
    assert applicant.id_masked == APPLICANT_ID[:6] + "********" + APPLICANT_ID[-4:]
    assert applicant.phone_masked == "139****2222" and respondent.phone_masked == "010-****5678"
    assert applicant.id_index == blind_index("id", APPLICANT_ID)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM cases_mediationparty WHERE id = %s", [applicant.pk])
        raw_id, raw_phone = cursor.fetchone()
    assert APPLICANT_ID not in raw_id and "13911112222" not in raw_phone
    assert applicant.id_number == APPLICANT_ID  # the field decrypts


@pytest.mark.parametrize("kwargs, code", [
    ({"id_number": "510703198001011230"}, "bad_id_number"),      # wrong check digit
    ({"id_number": "5107031980"}, "bad_id_number"),
    ({"phone": "12345"}, "bad_phone"),
    ({"name": "   "}, "bad_name"),
    ({"role": "witness"}, "bad_role"),
])
def test_a_bad_party_is_refused_and_nothing_is_written(city, people, med, kwargs, code):
    case = dispute(city, people)
    before = written()
    values = {"role": "applicant", "name": "王五", "id_number": "", "phone": "", **kwargs}
    with pytest.raises(DomainError) as refused:
        m.mediation_add_party(case=case, acting_user=people.community, now=MONDAY, **values)
    assert refused.value.code == code
    assert APPLICANT_ID not in str(refused.value)
    assert written() == before


def test_the_same_person_is_a_party_once(city, people, med):
    case = dispute(city, people)
    with_parties(case, people.community)
    with pytest.raises(DomainError) as refused:
        m.mediation_add_party(case=case, acting_user=people.community, role="third_party", name="王五",
                              id_number=APPLICANT_ID, now=MONDAY)
    assert refused.value.code == "duplicate_party"


def test_a_party_without_id_number_is_added_once_per_role(city, people, med):
    """王物业 typed twice with no ID number would print twice among the agreement's signatures."""
    case = dispute(city, people)
    m.mediation_add_party(case=case, acting_user=people.community, role="third_party", name="王物业", now=MONDAY)
    with pytest.raises(DomainError) as refused:
        m.mediation_add_party(case=case, acting_user=people.community, role="third_party", name=" 王物业 ", now=MONDAY)
    assert refused.value.code == "duplicate_party"
    # The same name in another role, or with an ID number that tells them apart, is someone to add.
    m.mediation_add_party(case=case, acting_user=people.community, role="respondent", name="王物业", now=MONDAY)
    m.mediation_add_party(case=case, acting_user=people.community, role="third_party", name="王物业",
                          id_number=RESPONDENT_ID, now=MONDAY)
    assert case.mediation.parties.filter(name="王物业").count() == 3


def test_reveal_is_for_mediators_and_staff_and_always_logged(city, people, med):
    case = dispute(city, people)
    m.mediation_add_mediator(case=case, mediator=med.mediator, acting_user=people.community, now=MONDAY)
    applicant, _ = with_parties(case, people.community)
    value = m.mediation_party_reveal(party=applicant, field="id_number", reason="制作调解协议书",
                                     acting_user=med.mediator, now=MONDAY)
    assert value == APPLICANT_ID
    log = MediationPartyAccess.objects.get()
    assert (log.actor, log.party, log.field, log.reason, log.community_id) == (
        med.mediator, applicant, "id_number", "制作调解协议书", city.community_a.pk)
    assert m.mediation_party_reveal(party=applicant, field="phone", reason="电话通知", acting_user=people.street,
                                    now=MONDAY) == "13911112222"
    for user in (people.worker, med.lawyer, people.community_b, med.mediator_b):
        with pytest.raises(DomainError) as refused:
            m.mediation_party_reveal(party=applicant, field="phone", reason="看看", acting_user=user, now=MONDAY)
        assert refused.value.code == "forbidden"
    with pytest.raises(DomainError) as refused:
        m.mediation_party_reveal(party=applicant, field="phone", reason=" ", acting_user=med.mediator, now=MONDAY)
    assert refused.value.code == "no_reason"
    assert MediationPartyAccess.objects.count() == 2


# --- mediators -------------------------------------------------------------------------------------

def test_mediators_come_from_the_place_and_see_only_their_files(city, people, med):
    case = dispute(city, people)
    other = dispute(city, people)
    assert not mediations_visible_to(med.mediator).exists()  # a mediator's post alone shows no file
    for outsider in (med.mediator_b, people.worker):
        with pytest.raises(DomainError) as refused:
            m.mediation_add_mediator(case=case, mediator=outsider, acting_user=people.community, now=MONDAY)
        assert refused.value.code == "bad_mediator"
    with pytest.raises(DomainError) as refused:
        m.mediation_add_mediator(case=case, mediator=med.lawyer, acting_user=med.mediator, now=MONDAY)
    assert refused.value.code == "forbidden"
    for mediator in (med.mediator, med.justice, med.lawyer):
        m.mediation_add_mediator(case=case, mediator=mediator, acting_user=people.community, now=MONDAY)
    assert set(mediations_visible_to(med.mediator).values_list("pk", flat=True)) == {case.pk}
    assert other.pk not in set(mediations_visible_to(med.justice).values_list("pk", flat=True))
    # Their post does not make them see the community's ordinary cases either.
    from cases.selectors import cases_visible_to

    from .cases_factories import resident_report

    ordinary = resident_report(city)
    assert not cases_visible_to(med.mediator).filter(pk=ordinary.pk).exists()
    assert cases_visible_to(people.worker).filter(pk=ordinary.pk).exists()


# --- sessions ---------------------------------------------------------------------------------------

def test_sessions_held_and_scheduled(city, people, med):
    case = dispute(city, people)
    before = written()
    with pytest.raises(DomainError) as refused:
        m.mediation_record_session(case=case, acting_user=people.community, held_at=MONDAY + timedelta(hours=2),
                                   notes="双方到场", now=MONDAY)
    assert refused.value.code == "future"
    with pytest.raises(DomainError) as refused:
        m.mediation_record_session(case=case, acting_user=people.community, held_at=MONDAY, notes="", now=MONDAY)
    assert refused.value.code == "blank"
    with pytest.raises(DomainError) as refused:
        m.mediation_record_session(case=case, acting_user=people.community, held_at=MONDAY, notes="x",
                                   room=med.room_b, now=MONDAY)
    assert refused.value.code == "bad_room"
    with pytest.raises(DomainError) as refused:  # only the file's outcome cancels a session
        m.mediation_record_session(case=case, acting_user=people.community, held_at=MONDAY, state="cancelled",
                                   now=MONDAY)
    assert refused.value.code == "bad_state"
    assert written() == before
    planned = m.mediation_record_session(case=case, acting_user=people.community, state="scheduled",
                                         held_at=MONDAY + timedelta(days=1), room=med.room, now=MONDAY)
    with pytest.raises(DomainError) as refused:
        m.mediation_session_held(session=planned, acting_user=people.community, notes="到场", now=MONDAY)
    assert refused.value.code == "future"
    later = MONDAY + timedelta(days=1, hours=2)
    held = m.mediation_session_held(session=planned, acting_user=people.community, notes="双方陈述",
                                    attendees="王五、赵六", now=later)
    assert (held.state, held.attendees) == ("held", "王五、赵六")


def test_a_session_scheduled_twice_at_one_moment_is_refused_and_the_database_agrees(city, people, med):
    case = dispute(city, people)
    at_two = MONDAY + timedelta(days=1, hours=2)
    first = m.mediation_record_session(case=case, acting_user=people.community, state="scheduled", held_at=at_two,
                                       room=med.room, now=MONDAY)
    before = written()
    with pytest.raises(DomainError) as refused:
        m.mediation_record_session(case=case, acting_user=people.community, state="scheduled", held_at=at_two,
                                   room=med.room, now=MONDAY)
    assert refused.value.code == "duplicate_session" and written() == before
    with pytest.raises(IntegrityError), transaction.atomic():
        MediationSession.objects.create(mediation=first.mediation, state="scheduled", held_at=at_two,
                                        recorded_by=people.community, recorded_at=MONDAY)
    # Another time is another session.
    m.mediation_record_session(case=case, acting_user=people.community, state="scheduled",
                               held_at=at_two + timedelta(hours=1), now=MONDAY)


def test_concluding_cancels_the_sessions_still_scheduled_and_the_day_list_drops_them(city, people, med):
    case = dispute(city, people)
    mediator = people.community
    at_four = timezone.localtime(MONDAY).replace(hour=16, minute=0)
    planned = m.mediation_record_session(case=case, acting_user=mediator, state="scheduled", held_at=at_four,
                                         now=MONDAY)
    held = m.mediation_record_session(case=case, acting_user=mediator, held_at=MONDAY - timedelta(hours=1),
                                      notes="双方陈述", now=MONDAY)
    assert planned in sessions_on(mediator, at_four.date())
    m.mediation_conclude(case=case, acting_user=mediator, outcome="withdrawn", note="申请人撤回", now=MONDAY)
    planned.refresh_from_db()
    held.refresh_from_db()
    assert (planned.state, held.state) == ("cancelled", "held")
    assert planned not in sessions_on(mediator, at_four.date())


# --- outcome ---------------------------------------------------------------------------------------

def test_an_agreement_needs_terms_consent_deadline_parties_and_a_session(city, people, med):
    case = dispute(city, people)
    good = {"outcome": "agreed", "agreement_text": "赵六于12月31日前修复管道并赔偿王五800元。",
            "consent_recorded": True, "performance_deadline": MONDAY.date() + timedelta(days=30)}
    before = written()
    with pytest.raises(DomainError) as refused:
        m.mediation_conclude(case=case, acting_user=people.community, now=MONDAY, **good)
    assert refused.value.code == "no_parties"
    with_parties(case, people.community)
    for change, code in (({"agreement_text": "  "}, "no_agreement"), ({"consent_recorded": False}, "no_consent"),
                         ({"performance_deadline": None}, "no_deadline"),
                         ({"performance_deadline": MONDAY.date() - timedelta(days=1)}, "bad_date"),
                         ({}, "no_session"), ({"outcome": "failed"}, "no_referral"),
                         ({"outcome": "pending"}, "bad_outcome")):
        before = written()
        with pytest.raises(DomainError) as refused:
            m.mediation_conclude(case=case, acting_user=people.community, now=MONDAY, **{**good, **change})
        assert refused.value.code == code, change
        assert written() == before
    m.mediation_record_session(case=case, acting_user=people.community, held_at=MONDAY, notes="达成一致", now=MONDAY)
    done = m.mediation_conclude(case=case, acting_user=people.community, now=MONDAY, **good)
    assert (done.outcome, done.consent_recorded, done.concluded_at) == ("agreed", True, MONDAY)
    with pytest.raises(DomainError) as refused:
        m.mediation_conclude(case=case, acting_user=people.community, outcome="withdrawn", now=MONDAY)
    assert refused.value.code == "concluded"
    # Then the case leaves through the ordinary workflow.
    case = services.case_resolve(case=case, acting_user=people.community, note="调解成功", now=MONDAY)
    assert case.status == Status.RESOLVED


def test_no_agreement_is_referred_and_the_case_can_be_resolved(city, people, med):
    case = dispute(city, people)
    done = m.mediation_conclude(case=case, acting_user=people.community, outcome="failed", referral="litigation",
                                note="被申请人拒绝赔偿", now=MONDAY)
    assert (done.outcome, done.referral, done.agreement_text) == (MediationOutcome.FAILED, "litigation", "")
    case = services.case_resolve(case=case, acting_user=people.community, note="引导诉讼", now=MONDAY)
    assert case.status == Status.RESOLVED


def test_a_file_must_be_open_before_its_outcome(city, people, med):
    case = dispute(city, people, open_file=False)
    with pytest.raises(DomainError) as refused:
        m.mediation_conclude(case=case, acting_user=people.community, outcome="withdrawn", now=MONDAY)
    assert refused.value.code == "not_open"


# --- files ------------------------------------------------------------------------------------------

def pdf(name="协议.pdf", size=None):
    body = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    if size:
        body += b"0" * (size - len(body))
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def test_files_accept_pdfs_and_photos_only_within_the_size(city, people, med, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.MEDIATION_FILE_MAX_BYTES = 2000
    case = dispute(city, people)
    before = written()
    for upload, kind, code in (
        (SimpleUploadedFile("x.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"), "evidence",
         "bad_file_type"),
        (pdf(size=3000), "evidence", "file_too_large"),
        (pdf(), "signed_agreement", "no_agreement"),
        (pdf(), "bogus", "bad_kind"),
    ):
        with pytest.raises(DomainError) as refused:
            mediation_attach_file(case=case, acting_user=people.community, upload=upload, kind=kind, now=MONDAY)
        assert refused.value.code == code
    assert written() == before
    assert not list(tmp_path.rglob("*.*"))
    stored = mediation_attach_file(case=case, acting_user=people.community, upload=pdf(), kind="evidence",
                                   description="漏水照片说明", now=MONDAY)
    photo = mediation_attach_file(case=case, acting_user=people.community, upload=png(), kind="signed_application",
                                  now=MONDAY)
    assert (stored.content_type, photo.content_type) == ("application/pdf", "image/png")
    assert stored.file.read().startswith(b"%PDF-")


# --- the migration of the JSON parties --------------------------------------------------------------

class _Rows:
    def __init__(self, rows):
        self.rows = rows

    def exclude(self, **kwargs):
        return self

    def select_related(self, *args):
        return self

    def iterator(self, chunk_size=None):
        return iter(self.rows)


class _FakeApps:
    def __init__(self, rows):
        self.rows = rows

    def get_model(self, app, name):
        if name == "Mediation":
            return type("M", (), {"objects": _Rows(self.rows)})
        return MediationParty


def test_the_json_parties_become_rows_with_their_phones_protected(city, people, med):
    step = importlib.import_module("cases.migrations.0013_mediation_parties_as_rows")
    case = dispute(city, people)
    legacy = type("L", (), {"pk": case.pk, "case": case, "parties_json": [
        {"name": "王五", "phone": "139 1111 2222"}, {"name": "赵六", "phone": "", "role": "respondent"},
        {"name": "钱七", "phone": "分机 8021", "role": "other"}, {"name": "  "}, "garbage"]})()
    step.forwards(_FakeApps([legacy]), None)
    rows = list(MediationParty.objects.filter(mediation_id=case.pk).order_by("id"))
    assert [(p.name, p.role, p.phone_masked) for p in rows] == [
        ("王五", "applicant", "139****2222"), ("赵六", "respondent", ""), ("钱七", "third_party", "*******")]
    assert rows[0].phone == "13911112222" and rows[2].phone == "分机 8021"
    assert rows[0].phone_index == blind_index("phone", "13911112222")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM cases_mediationparty WHERE id = %s", [rows[0].pk])
        assert "13911112222" not in cursor.fetchone()[0]


def test_reported_parties_a_valid_id_number_is_kept(city, people, med):
    case = dispute(city, people, parties=[{"name": "王五", "id_number": id_number("51070319800101123")}])
    assert case.mediation.parties.get().id_masked.startswith("510703")


# --- after the outcome: follow-up, judicial confirmation, reopening, the reply --------------------

def agreed(city, people, *, now=MONDAY, days_to_perform=14, **kwargs):
    case = dispute(city, people, now=now, **kwargs)
    with_parties(case, people.community, now=now)
    m.mediation_record_session(case=case, acting_user=people.community, held_at=now, notes="达成一致", now=now)
    m.mediation_conclude(case=case, acting_user=people.community, outcome="agreed", agreement_text="赔偿800元",
                         consent_recorded=True, performance_deadline=now.date() + timedelta(days=days_to_perform),
                         now=now)
    return case


def test_the_follow_up_is_not_due_before_the_agreement_is_to_be_performed(city, people, med, settings):
    settings.MEDIATION_FOLLOW_UP_WORKING_DAYS = 20  # 2026-12-21 for an agreement of Monday 2026-11-23
    case = agreed(city, people, days_to_perform=60)
    assert str(Mediation.objects.get(pk=case.pk).follow_up_due_on) == "2027-01-22"  # the day to perform it by


def test_the_follow_up_is_due_after_the_working_days_and_not_before_the_agreement(city, people, med, settings):
    from cases.mediation_followup import mediation_follow_up

    settings.MEDIATION_FOLLOW_UP_WORKING_DAYS = 20
    case = agreed(city, people)
    mediation = Mediation.objects.get(pk=case.pk)
    # 20 working days after Monday 2026-11-23 (no holidays in between): Monday 2026-12-21.
    assert str(mediation.follow_up_due_on) == "2026-12-21"
    before = written()
    for kwargs, code in (({"performance": "maybe", "note": "x"}, "bad_performance"),
                         ({"performance": "performed", "note": " "}, "blank"),
                         ({"performance": "performed", "note": "回访", "now": MONDAY - timedelta(days=1)},
                          "before_agreement"),
                         # Two weeks to perform it: until then "not performed" is not a finding yet.
                         ({"performance": "partly", "note": "只赔了一半", "now": MONDAY + timedelta(days=3)},
                          "before_deadline"),
                         ({"performance": "not_performed", "note": "未赔偿", "now": MONDAY + timedelta(days=13)},
                          "before_deadline")):
        with pytest.raises(DomainError) as refused:
            mediation_follow_up(case=case, acting_user=people.community, **{"now": MONDAY, **kwargs})
        assert refused.value.code == code
    assert written() == before
    done = mediation_follow_up(case=case, acting_user=people.community, performance="performed",
                               note="已修复并赔偿", now=MONDAY + timedelta(days=30))
    assert (done.performance, done.followed_up_at) == ("performed", MONDAY + timedelta(days=30))
    with pytest.raises(DomainError) as refused:
        mediation_follow_up(case=case, acting_user=people.community, performance="performed", note="again",
                            now=MONDAY + timedelta(days=31))
    assert refused.value.code == "followed_up"


def test_a_follow_up_needs_an_agreement(city, people, med):
    from cases.mediation_followup import mediation_follow_up

    case = dispute(city, people)
    with pytest.raises(DomainError) as refused:
        mediation_follow_up(case=case, acting_user=people.community, performance="performed", note="x", now=MONDAY)
    assert refused.value.code == "no_agreement"


def test_an_unperformed_agreement_goes_to_the_court_or_is_mediated_again(city, people, med):
    from cases.mediation_followup import mediation_follow_up, mediation_judicial_confirmation, mediation_reopen

    case = agreed(city, people)
    later = MONDAY + timedelta(days=30)
    with pytest.raises(DomainError) as refused:
        mediation_reopen(case=case, acting_user=people.community, reason="未履行", now=later)
    assert refused.value.code == "performed"
    mediation_follow_up(case=case, acting_user=people.community, performance="not_performed", note="未赔偿",
                        now=later)
    before = written()
    for kwargs, code in (({"court": "", "receipt": "R1", "applied_on": later.date()}, "blank"),
                         ({"court": "城关区人民法院", "receipt": "R1", "applied_on": None}, "no_date"),
                         ({"court": "城关区人民法院", "receipt": "R1", "applied_on": later.date() + timedelta(days=1)},
                          "bad_date")):
        with pytest.raises(DomainError) as refused:
            mediation_judicial_confirmation(case=case, acting_user=people.community, now=later, **kwargs)
        assert refused.value.code == code
    assert written() == before
    confirmed = mediation_judicial_confirmation(case=case, acting_user=people.community, court="城关区人民法院",
                                                receipt="(2026)川0703民特12号", applied_on=later.date(), now=later)
    assert confirmed.confirmation_receipt == "(2026)川0703民特12号"
    again = mediation_reopen(case=case, acting_user=people.community, reason="被申请人拒不履行，再次调解", now=later)
    assert (again.outcome, again.agreement_text, again.followed_up_at) == ("pending", "", None)
    assert CaseEvent.objects.filter(case=case, data__reopened="agreed").exists()


def test_the_reply_to_a_referring_court(city, people, med):
    from cases.mediation_followup import mediation_reply

    direct = dispute(city, people)
    m.mediation_conclude(case=direct, acting_user=people.community, outcome="withdrawn", now=MONDAY)
    with pytest.raises(DomainError) as refused:
        mediation_reply(case=direct, acting_user=people.community, text="x", now=MONDAY)
    assert refused.value.code == "not_referred"
    case = dispute(city, people, open_file=False)
    m.mediation_open(case=case, acting_user=people.community, dispute_type="neighbour", source="court",
                     source_body="城关区人民法院", source_ref="(2026)川0703民诉前调88号", now=MONDAY)
    with pytest.raises(DomainError) as refused:
        mediation_reply(case=case, acting_user=people.community, text="调解中", now=MONDAY)
    assert refused.value.code == "no_outcome"
    m.mediation_conclude(case=case, acting_user=people.community, outcome="failed", referral="litigation",
                         now=MONDAY)
    done = mediation_reply(case=case, acting_user=people.community, text="调解不成，已告知起诉。", now=MONDAY)
    assert done.replied_at == MONDAY
    with pytest.raises(DomainError) as refused:
        mediation_reply(case=case, acting_user=people.community, text="again", now=MONDAY)
    assert refused.value.code == "replied"


def test_the_migration_cancels_sessions_scheduled_on_concluded_files(city, people, med):
    from django.apps import apps

    step = importlib.import_module("cases.migrations.0028_mediation_session_cancelled")
    open_case, closed_case = dispute(city, people), dispute(city, people)
    stays = m.mediation_record_session(case=open_case, acting_user=people.community, state="scheduled",
                                       held_at=MONDAY + timedelta(days=1), now=MONDAY)
    m.mediation_conclude(case=closed_case, acting_user=people.community, outcome="withdrawn", now=MONDAY)
    # As a file concluded before this change left it: a session still scheduled.
    left = MediationSession.objects.create(mediation_id=closed_case.pk, state="scheduled", recorded_at=MONDAY,
                                           held_at=MONDAY + timedelta(days=2), recorded_by=people.community)
    step.cancel_what_will_not_be_held(apps, None)
    assert MediationSession.objects.get(pk=left.pk).state == "cancelled"
    assert MediationSession.objects.get(pk=stays.pk).state == "scheduled"
