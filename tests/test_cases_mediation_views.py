"""The mediation file's pages: each page and each form inside and outside the user's
reach (404), bad input (400, nothing written), the parties' masked data and the
logged reveal, the printed documents and the evidence files."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cases import mediation as m
from cases.models import (
    CaseEvent,
    Mediation,
    MediationFile,
    MediationParty,
    MediationPartyAccess,
    MediationSession,
    Status,
)

from .cases_factories import MONDAY, fresh_calendar, people, png  # noqa: F401
from .mediation_factories import APPLICANT_ID, RESPONDENT_ID, dispute, med, with_parties  # noqa: F401

NOW = MONDAY + timedelta(hours=2)
pytestmark = pytest.mark.clock(NOW)


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def written():
    return (MediationParty.objects.count(), MediationSession.objects.count(), MediationFile.objects.count(),
            MediationPartyAccess.objects.count(), CaseEvent.objects.count(),
            list(Mediation.objects.order_by("pk").values_list("outcome", "serial", "agreement_text")))


@pytest.fixture
def files(city, people, med):
    """One file in community A with a named mediator and two parties; one in community B."""
    inside = dispute(city, people)
    m.mediation_add_mediator(case=inside, mediator=med.mediator, acting_user=people.community, now=MONDAY)
    with_parties(inside, people.community)
    outside = dispute(city, people, staff=people.community_b, building=city.building_b)
    return inside, outside


def url(name, case, *args):
    return reverse(f"cases:{name}", args=[case.pk, *args])


# --- scoping -------------------------------------------------------------------------------------

def test_the_file_page_inside_and_outside(login, people, med, files):
    inside, outside = files
    for user in (people.community, med.mediator, people.street, people.district):
        response = login(user).get(url("mediation", inside))
        assert response.status_code == 200, user
        assert response["Cache-Control"] == "private, no-store"
        body = response.content.decode()
        assert "王五" in body and APPLICANT_ID[:6] + "********" + APPLICANT_ID[-4:] in body
        assert APPLICANT_ID not in body and "13911112222" not in body and RESPONDENT_ID not in body
    for user in (people.community_b, med.mediator_b, med.lawyer, med.justice, people.worker, people.building_chief,
                 people.other_district):
        assert login(user).get(url("mediation", inside)).status_code == 404, user
    assert login(people.community).get(url("mediation", outside)).status_code == 404
    assert login(people.community_b).get(url("mediation", outside)).status_code == 200


def test_an_ordinary_case_has_no_mediation_file(login, city, people):
    from .cases_factories import resident_report

    case = resident_report(city)
    assert login(people.community).get(url("mediation", case)).status_code == 404


def test_the_case_page_links_to_the_file(login, people, files):
    inside, _ = files
    body = login(people.community).get(url("detail", inside)).content.decode()
    assert url("mediation", inside) in body


def test_the_list_shows_my_files_only(login, people, med, files, django_assert_max_num_queries):
    inside, outside = files
    client = login(med.mediator)
    with django_assert_max_num_queries(14):  # +1: the navigation's badges (queue and unread notices, one statement)
        body = client.get(reverse("cases:mediation_files")).content.decode()
    assert inside.number in body and outside.number not in body
    body = login(people.community_b).get(reverse("cases:mediation_files") + "?source=bogus&outcome=x").content.decode()
    assert outside.number in body and inside.number not in body
    body = login(people.worker).get(reverse("cases:mediation_files")).content.decode()
    assert inside.number not in body


def test_the_list_query_count_does_not_grow_with_files(login, city, people, django_assert_max_num_queries):
    for _ in range(6):
        dispute(city, people)
    client = login(people.community)
    with django_assert_max_num_queries(14):  # +1: the navigation's badges (queue and unread notices, one statement)
        response = client.get(reverse("cases:mediation_files"))
    assert response.status_code == 200


# --- every form: outside 404, bad input 400 with nothing written, good input 302 ---------------------

FORMS = {
    "party": ({"party-role": "applicant", "party-name": "钱七", "party-id_number": "510703198001011230"},
              {"party-role": "third_party", "party-name": "钱七", "party-phone": "13700001111"}),
    "session": ({"session-state": "held", "session-held_at": "2026-11-30T09:00", "session-notes": "到场"},
                {"session-state": "held", "session-held_at": "2026-11-23T10:00", "session-notes": "双方到场陈述",
                 "session-attendees": "王五、赵六"}),
    "outcome": ({"outcome-outcome": "agreed", "outcome-agreement_text": "赔偿800元",
                 "outcome-performance_deadline": "2026-12-31", "outcome-final": "on"},
                {"outcome-outcome": "failed", "outcome-referral": "arbitration", "outcome-note": "不同意",
                 "outcome-final": "on"}),
    "mediator": ({"mediator-mediator": "999999"}, None),
    "file": ({"file-kind": "evidence", "file-file": SimpleUploadedFile("a.exe", b"MZ\x90\x00")}, None),
}


@pytest.mark.parametrize("name", list(FORMS))
def test_each_form_refuses_outsiders_and_bad_input(login, people, med, files, name):
    inside, _ = files
    bad, good = FORMS[name]
    before = written()
    response = login(people.community_b).post(url("mediation_act", inside, name), bad)
    assert response.status_code == 404
    response = login(med.mediator_b).post(url("mediation_act", inside, name), good or bad)
    assert response.status_code == 404
    assert written() == before
    response = login(people.community).post(url("mediation_act", inside, name), bad)
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode() or "form-errors" in response.content.decode()
    assert written() == before
    if good:
        response = login(med.mediator).post(url("mediation_act", inside, name), good)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert written() != before


def test_the_outcome_is_recorded_only_once_confirmed(login, people, med, files):
    """The outcome makes the parties, sessions and terms final: a mis-click is one box away from it."""
    inside, _ = files
    before = written()
    data = {"outcome-outcome": "withdrawn", "outcome-note": "申请人撤回"}
    response = login(people.community).post(url("mediation_act", inside, "outcome"), data)
    assert response.status_code == 400
    assert "Tick the box to confirm the outcome." in response.content.decode()
    assert written() == before
    response = login(people.community).post(url("mediation_act", inside, "outcome"), {**data, "outcome-final": "on"})
    assert response.status_code == 302
    assert Mediation.objects.get(pk=inside.pk).outcome == "withdrawn"


def test_an_agreement_missing_its_parts_names_every_one_at_once(login, people, med, files):
    inside, _ = files
    before = written()
    response = login(people.community).post(url("mediation_act", inside, "outcome"),
                                            {"outcome-outcome": "agreed", "outcome-final": "on"})
    content = response.content.decode()
    assert response.status_code == 400 and written() == before
    for message in ("Write the agreed terms.", "Give the date by which the agreement is to be performed.",
                    "Record that the parties consent to the agreement."):
        assert message in content, message
    # The parts an agreement needs are not marked optional; each says when it is needed.
    form = response.context["forms"]["outcome"]
    assert not any(form.fields[name].optional_hint for name in ("agreement_text", "performance_deadline"))
    response = login(people.community).post(url("mediation_act", inside, "outcome"),
                                            {"outcome-outcome": "failed", "outcome-final": "on"})
    assert response.status_code == 400 and "Say where the dispute is referred" in response.content.decode()
    assert written() == before


def test_accepting_a_file_from_the_page(login, city, people, med):
    case = dispute(city, people, open_file=False)
    client = login(people.community)
    before = written()
    response = client.post(url("mediation_act", case, "open"), {"open-dispute_type": "nope", "open-source": "court"})
    assert response.status_code == 400 and written() == before
    response = client.post(url("mediation_act", case, "open"), {"open-dispute_type": "neighbour",
                                                                "open-source": "police"})
    assert response.status_code == 400 and "Name the court" in response.content.decode()
    assert written() == before
    response = client.post(url("mediation_act", case, "open"), {
        "open-dispute_type": "neighbour", "open-source": "police", "open-source_body": "城北派出所",
        "open-source_ref": "JQ-2026-77", "open-room": str(med.room.pk), "open-claims": "赔偿"})
    assert response.status_code == 302
    opened = Mediation.objects.get(pk=case.pk)
    assert (opened.serial, opened.source, opened.room) == (1, "police", med.room)
    response = client.post(url("mediation_act", case, "open"), {"open-dispute_type": "neighbour",
                                                                "open-source": "direct"})
    assert response.status_code == 400  # the form is no longer offered; the service refuses


def test_naming_a_mediator_from_the_page(login, people, med, files):
    inside, _ = files
    response = login(people.community).post(url("mediation_act", inside, "mediator"),
                                            {"mediator-mediator": str(med.lawyer.pk)})
    assert response.status_code == 302
    assert med.lawyer in Mediation.objects.get(pk=inside.pk).mediators.all()
    # A mediator may not name others (only dispatching staff may).
    response = login(med.mediator).post(url("mediation_act", inside, "mediator"),
                                        {"mediator-mediator": str(med.justice.pk)})
    assert response.status_code == 400
    assert med.justice not in Mediation.objects.get(pk=inside.pk).mediators.all()


def test_a_scheduled_session_is_recorded_as_held(login, people, med, files):
    inside, _ = files
    session = m.mediation_record_session(case=inside, acting_user=people.community, state="scheduled",
                                         held_at=MONDAY + timedelta(hours=1), now=MONDAY)
    client = login(med.mediator)
    held_url = reverse("cases:mediation_session_held", args=[inside.pk, session.pk])
    assert client.post(held_url, {f"held-{session.pk}-notes": ""}).status_code == 400
    assert login(people.community_b).post(held_url, {f"held-{session.pk}-notes": "x"}).status_code == 404
    response = login(med.mediator).post(held_url, {f"held-{session.pk}-notes": "双方到场"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.state == "held"
    body = login(med.mediator).get(reverse("cases:mediation_files")).content.decode()
    assert "Today" in body and inside.number in body


# --- reveal --------------------------------------------------------------------------------------

def test_reveal_shows_once_and_logs(login, people, med, files):
    inside, _ = files
    party = MediationParty.objects.get(mediation_id=inside.pk, name="王五")
    reveal = reverse("cases:mediation_party_reveal", args=[inside.pk, party.pk])
    prefix = f"p{party.pk}-id_number"
    client = login(med.mediator)
    response = client.post(reveal, {f"{prefix}-field": "id_number", f"{prefix}-reason": ""})
    assert response.status_code == 400 and APPLICANT_ID not in response.content.decode()
    assert not MediationPartyAccess.objects.exists()
    response = client.post(reveal, {f"{prefix}-field": "id_number", f"{prefix}-reason": "制作调解协议书"})
    assert response.status_code == 200 and APPLICANT_ID in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    assert MediationPartyAccess.objects.get().actor == med.mediator
    # The page does not keep it; the staff over the place read who saw it and why.
    assert APPLICANT_ID not in client.get(url("mediation", inside)).content.decode()
    assert "制作调解协议书" not in client.get(url("mediation", inside)).content.decode()  # a mediator: no log
    staff_page = login(people.community).get(url("mediation", inside)).content.decode()
    assert "制作调解协议书" in staff_page and APPLICANT_ID not in staff_page
    # Outsiders: 404, and nothing logged.
    for user in (people.community_b, med.mediator_b, people.worker):
        response = login(user).post(reveal, {f"{prefix}-field": "id_number", f"{prefix}-reason": "看看"})
        assert response.status_code == 404
    assert MediationPartyAccess.objects.count() == 1


def test_a_revealed_phone_is_a_call_link_and_an_id_number_is_not(login, people, med, files):
    inside, _ = files
    party = MediationParty.objects.get(mediation_id=inside.pk, name="王五")
    reveal = reverse("cases:mediation_party_reveal", args=[inside.pk, party.pk])
    client = login(med.mediator)
    prefix = f"p{party.pk}-phone"
    body = client.post(reveal, {f"{prefix}-field": "phone", f"{prefix}-reason": "电话通知调解时间"}).content.decode()
    assert 'href="tel:13911112222"' in body
    prefix = f"p{party.pk}-id_number"
    body = client.post(reveal, {f"{prefix}-field": "id_number", f"{prefix}-reason": "制作调解协议书"}).content.decode()
    assert APPLICANT_ID in body and f"tel:{APPLICANT_ID}" not in body


def test_a_party_of_another_file_is_not_revealed_through_this_one(login, city, people, med, files):
    inside, _ = files
    second = dispute(city, people)
    stranger = m.mediation_add_party(case=second, acting_user=people.community, role="applicant", name="孙八",
                                     phone="13600001111", now=MONDAY)
    prefix = f"p{stranger.pk}-phone"
    response = login(med.mediator).post(reverse("cases:mediation_party_reveal", args=[inside.pk, stranger.pk]),
                                        {f"{prefix}-field": "phone", f"{prefix}-reason": "通知"})
    assert response.status_code == 404
    assert not MediationPartyAccess.objects.exists()


# --- documents and files --------------------------------------------------------------------------

def test_print_documents(login, people, med, files):
    inside, outside = files
    client = login(med.mediator)
    application = client.get(url("mediation_print", inside, "application"))
    assert application.status_code == 200
    body = application.content.decode()
    assert "（2026）幸福社区调字第001号" in body and "mediation_print.css" in body
    assert APPLICANT_ID not in body and "王五" in body
    assert client.get(url("mediation_print", inside, "agreement")).status_code == 404  # no agreement yet
    assert client.get(url("mediation_print", inside, "nonsense")).status_code == 404
    assert login(people.community_b).get(url("mediation_print", inside, "application")).status_code == 404
    m.mediation_record_session(case=inside, acting_user=people.community, held_at=MONDAY, notes="达成一致",
                               room=med.room, now=MONDAY)
    m.mediation_conclude(case=inside, acting_user=people.community, outcome="agreed",
                         agreement_text="赵六于2026年12月31日前修复管道并赔偿王五800元。", consent_recorded=True,
                         performance_deadline=MONDAY.date() + timedelta(days=30), now=MONDAY)
    body = login(med.mediator).get(url("mediation_print", inside, "agreement")).content.decode()
    assert "赔偿王五800元" in body and "2026-12-23" in body and "李调解" in body
    assert RESPONDENT_ID not in body


def test_a_document_is_printed_with_full_id_numbers_once_each_logged(login, people, med, files, admin_user):
    """A court confirming an agreement needs the parties identified: who may reveal prints the numbers
    in full for a stated reason, one access-log line a party; the page opened again is masked."""
    inside, outside = files
    client = login(med.mediator)
    page = client.get(url("mediation_print", inside, "application")).content.decode()
    assert 'name="print-reason"' in page and APPLICANT_ID not in page
    before = written()
    refused = client.post(url("mediation_print", inside, "application"), {"print-reason": " "})
    assert refused.status_code == 400 and APPLICANT_ID not in refused.content.decode()
    assert written() == before
    printed = client.post(url("mediation_print", inside, "application"), {"print-reason": "协议书签字，申请司法确认"})
    assert printed.status_code == 200 and printed["Cache-Control"] == "private, no-store"
    body = printed.content.decode()
    assert APPLICANT_ID in body and RESPONDENT_ID in body and "13911112222" not in body
    log = MediationPartyAccess.objects.filter(actor=med.mediator)
    assert sorted(log.values_list("field", "reason")) == [("id_number", "协议书签字，申请司法确认")] * 2
    assert APPLICANT_ID not in client.get(url("mediation_print", inside, "application")).content.decode()
    # A superuser reads every file but is not special for the parties' numbers: no form, and a POST is
    # refused (403); outside the file, 404. Neither writes anything.
    before = written()
    official = login(admin_user)
    assert 'name="print-reason"' not in official.get(url("mediation_print", inside, "application")).content.decode()
    refused = official.post(url("mediation_print", inside, "application"), {"print-reason": "查看"})
    assert refused.status_code == 403 and APPLICANT_ID not in refused.content.decode()
    assert login(people.community_b).post(url("mediation_print", inside, "application"),
                                          {"print-reason": "查看"}).status_code == 404
    assert written() == before


def test_files_are_served_only_inside(login, people, med, files):
    inside, _ = files
    client = login(med.mediator)
    response = client.post(url("mediation_act", inside, "file"),
                           {"file-kind": "evidence", "file-file": png("漏水.png"), "file-description": "漏水处"})
    assert response.status_code == 302
    stored = MediationFile.objects.get()
    download = client.get(url("mediation_file", inside, stored.pk))
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert login(people.community_b).get(url("mediation_file", inside, stored.pk)).status_code == 404
    assert login(people.community).get(url("mediation_file", inside, stored.pk + 1)).status_code == 404


def test_resolving_the_case_after_the_outcome(login, people, med, files):
    inside, _ = files
    m.mediation_conclude(case=inside, acting_user=people.community, outcome="withdrawn", note="申请人撤回",
                         now=MONDAY)
    response = login(people.community).post(url("act", inside, "resolve"), {"resolve-note": "申请人撤回申请"})
    assert response.status_code == 302
    inside.refresh_from_db()
    assert inside.status == Status.RESOLVED


def test_the_follow_up_and_reply_forms(login, people, med, files):
    inside, _ = files
    m.mediation_record_session(case=inside, acting_user=people.community, held_at=MONDAY, notes="达成一致", now=MONDAY)
    m.mediation_conclude(case=inside, acting_user=people.community, outcome="agreed", agreement_text="赔偿",
                         consent_recorded=True, performance_deadline=MONDAY.date(), now=MONDAY)
    client = login(med.mediator)
    page = client.get(url("mediation", inside)).content.decode()
    assert url("mediation_act", inside, "follow_up") in page
    assert url("mediation_act", inside, "reply") not in page  # not a referral
    before = written()
    outsider = login(people.community_b).post(url("mediation_act", inside, "follow_up"),
                                              {"follow_up-performance": "performed", "follow_up-note": "x"})
    assert outsider.status_code == 404
    response = login(med.mediator).post(url("mediation_act", inside, "follow_up"),
                                        {"follow_up-performance": "perhaps", "follow_up-note": ""})
    assert response.status_code == 400 and written() == before
    response = login(med.mediator).post(url("mediation_act", inside, "follow_up"),
                                        {"follow_up-performance": "not_performed", "follow_up-note": "未赔偿"})
    assert response.status_code == 302
    page = login(med.mediator).get(url("mediation", inside)).content.decode()
    assert url("mediation_act", inside, "confirmation") in page and url("mediation_act", inside, "reopen") in page
    response = login(med.mediator).post(url("mediation_act", inside, "confirmation"),
                                        {"confirmation-court": "法院", "confirmation-receipt": "",
                                         "confirmation-applied_on": "2026-11-23"})
    assert response.status_code == 400
    assert Mediation.objects.get(pk=inside.pk).confirmation_applied_on is None
    response = login(med.mediator).post(url("mediation_act", inside, "reply"), {"reply-text": "答复"})
    assert response.status_code == 400  # not a referral: the service refuses, nothing written
    assert Mediation.objects.get(pk=inside.pk).replied_at is None


@pytest.mark.parametrize("name", ["open", "party", "mediator", "session", "outcome", "file", "follow_up",
                                  "confirmation", "reopen", "reply", "bogus"])
def test_every_act_is_404_outside_and_writes_nothing(login, people, med, files, name):
    inside, outside = files
    before = written()
    for user, case in ((people.community_b, inside), (med.mediator_b, inside), (people.worker, inside),
                       (people.community, outside)):
        response = login(user).post(url("mediation_act", case, name), {f"{name}-note": "x"})
        assert response.status_code == 404, (user, name)
    assert login(people.community).get(url("mediation_act", inside, name)).status_code in (404, 405)
    assert written() == before


def test_mediating_again_needs_a_reason(login, people, med, files):
    from cases.mediation_followup import mediation_follow_up

    inside, _ = files
    m.mediation_record_session(case=inside, acting_user=people.community, held_at=MONDAY, notes="达成一致", now=MONDAY)
    m.mediation_conclude(case=inside, acting_user=people.community, outcome="agreed", agreement_text="赔偿",
                         consent_recorded=True, performance_deadline=MONDAY.date(), now=MONDAY)
    mediation_follow_up(case=inside, acting_user=people.community, performance="not_performed", note="未赔偿",
                        now=NOW)
    before = written()
    response = login(med.mediator).post(url("mediation_act", inside, "reopen"), {"reopen-reason": "  "})
    assert response.status_code == 400 and written() == before
    response = login(med.mediator).post(url("mediation_act", inside, "reopen"), {"reopen-reason": "拒不履行"})
    assert response.status_code == 302
    assert Mediation.objects.get(pk=inside.pk).outcome == "pending"


def test_a_mediators_queue_says_what_waits_on_the_mediation_list(login, people, med, files):
    """A mediator's queue of cases is empty; their work is the mediation list, which the queue points to."""
    inside, outside = files
    m.mediation_record_session(case=inside, acting_user=people.community, state="scheduled",
                               held_at=NOW + timedelta(hours=5), now=MONDAY)
    m.mediation_add_mediator(case=outside, mediator=med.mediator_b, acting_user=people.community_b, now=MONDAY)
    m.mediation_record_session(case=outside, acting_user=people.community_b, state="scheduled",
                               held_at=NOW + timedelta(hours=4), now=MONDAY)  # not theirs
    page = login(med.mediator).get(reverse("cases:queue"))
    card = re.search(r'<p class="card mediation-waiting">(.*?)</p>', page.content.decode(), re.S)
    assert page.status_code == 200 and card, "the mediator's queue points to the mediation list"
    assert page.context["mediation_work"] == {"sessions": 1, "follow_ups": 0, "replies": 0}
    assert reverse("cases:mediation_files") in card.group(1)
    # The phone's tab bar has the mediation tab.
    tabbar = page.content.decode().split('class="tab-bar"')[1].split("</nav>")[0]
    assert reverse("cases:mediation_files") in tabbar
    # A grid worker's queue has neither.
    page = login(people.worker).get(reverse("cases:queue"))
    assert page.context["mediation_work"] is None and "mediation-waiting" not in page.content.decode()


def test_the_session_form_offers_held_or_scheduled_and_asks_for_notes_of_a_held_one(login, people, med, files):
    inside, _ = files
    client = login(med.mediator)
    page = client.get(url("mediation", inside))
    form = page.context["forms"]["session"]
    assert [v for v, _ in form.fields["state"].choices] == ["scheduled", "held"]  # never "cancelled" by hand
    assert form.fields["notes"].optional_hint is False
    before = written()
    response = client.post(url("mediation_act", inside, "session"), {
        "session-state": "held", "session-held_at": "2026-11-23T09:30", "session-notes": ""})
    assert response.status_code == 400 and written() == before
    assert "Required for a session held." in str(response.context["forms"]["session"].errors["notes"])
    response = client.post(url("mediation_act", inside, "session"), {
        "session-state": "cancelled", "session-held_at": "2026-11-23T09:30", "session-notes": "x"})
    assert response.status_code == 400 and written() == before
