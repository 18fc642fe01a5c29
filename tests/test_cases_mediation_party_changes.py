"""A party typed wrong is corrected (更正), a party added by mistake is removed, both before the
outcome: the service's rules (nothing written on a refusal, the personal values never in the
timeline, the removed party's ID number and phone erased) and the page's forms inside and outside
the user's reach."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from cases import mediation as m
from cases.models import CaseEvent, MediationParty, MediationPartyAccess
from portal.errors import DomainError
from portal.identity import blind_index

from .cases_factories import MONDAY, fresh_calendar, people, png  # noqa: F401
from .mediation_factories import APPLICANT_ID, RESPONDENT_ID, dispute, id_number, med, with_parties  # noqa: F401

NOW = MONDAY + timedelta(hours=2)
pytestmark = pytest.mark.clock(NOW)
OTHER_ID = id_number("51070319900202789")


def state():
    """Everything a refused change must leave as it was."""
    return (list(MediationParty.objects.order_by("pk").values_list(
        "name", "role", "address", "id_index", "id_masked", "phone_index", "phone_masked", "removed_at",
        "removal_reason")), CaseEvent.objects.count())


@pytest.fixture
def file_with_parties(city, people, med):
    case = dispute(city, people)
    applicant, respondent = with_parties(case, people.community)
    return case, applicant, respondent


def correct(party, user, **changes):
    values = {"name": party.name, "role": party.role, "address": party.address, "reason": "登记时录错", **changes}
    return m.mediation_correct_party(party=party, acting_user=user, now=NOW, **values)


# --- the service -------------------------------------------------------------------------------

def test_a_correction_changes_what_was_typed_and_keeps_what_was_left_blank(people, file_with_parties):
    case, applicant, _ = file_with_parties
    corrected = correct(applicant, people.community, name="王 伍", address="幸福路1号1单元302")
    assert (corrected.name, corrected.address) == ("王 伍", "幸福路1号1单元302")
    # Blank ID number and phone: the stored ones stay, still decrypting.
    party = MediationParty.objects.get(pk=applicant.pk)
    assert party.id_number == APPLICANT_ID and party.phone == "13911112222"
    event = CaseEvent.objects.filter(case=case).latest("pk")
    assert event.data["party_corrected"] == applicant.pk
    assert event.data["fields"] == ["name", "address"] and event.data["reason"] == "登记时录错"


def test_a_new_id_number_is_encrypted_indexed_and_masked_and_not_in_the_timeline(people, file_with_parties):
    case, applicant, _ = file_with_parties
    correct(applicant, people.community, id_number=OTHER_ID, phone="13800001111")
    party = MediationParty.objects.get(pk=applicant.pk)
    assert party.id_number == OTHER_ID and party.id_index == blind_index("id", OTHER_ID)
    assert party.id_masked == OTHER_ID[:6] + "********" + OTHER_ID[-4:] and party.phone_masked == "138****1111"
    event = CaseEvent.objects.filter(case=case).latest("pk")
    assert event.data["fields"] == ["id_number", "phone"]
    assert OTHER_ID not in str(event.data) and "13800001111" not in str(event.data)


@pytest.mark.parametrize("changes, code", [
    ({"id_number": "510703198001011230"}, "bad_id_number"),   # wrong check digit
    ({"phone": "12345"}, "bad_phone"),
    ({"name": "  "}, "bad_name"),
    ({"role": "witness"}, "bad_role"),
    ({"reason": " "}, "no_reason"),
    ({"id_number": RESPONDENT_ID}, "duplicate_party"),        # the other party's number
    ({}, "unchanged"),
    ({"phone": "13800001111", "clear_phone": True}, "typed_and_cleared"),
])
def test_a_bad_correction_is_refused_and_writes_nothing(people, file_with_parties, changes, code):
    _, applicant, _ = file_with_parties
    before = state()
    with pytest.raises(DomainError) as refused:
        correct(applicant, people.community, **changes)
    assert refused.value.code == code
    assert RESPONDENT_ID not in str(refused.value)
    assert state() == before


def test_a_recorded_phone_can_be_removed(people, file_with_parties):
    case, _, respondent = file_with_parties
    correct(respondent, people.community, clear_phone=True)
    party = MediationParty.objects.get(pk=respondent.pk)
    assert (party.phone, party.phone_index, party.phone_masked) == (None, None, "")
    assert party.id_number == RESPONDENT_ID
    assert CaseEvent.objects.filter(case=case).latest("pk").data["fields"] == ["phone"]
    with pytest.raises(DomainError) as refused:  # nothing left to remove
        correct(respondent, people.community, clear_phone=True)
    assert refused.value.code == "unchanged"


def test_a_party_without_id_number_is_corrected_without_meeting_itself(people, file_with_parties):
    """The duplicate check compares with the other parties: 王物业 keeps its name and role."""
    case, _, _ = file_with_parties
    firm = m.mediation_add_party(case=case, acting_user=people.community, role="third_party", name="王物业",
                                 now=NOW)
    corrected = correct(firm, people.community, address="幸福路1号物业办公室")
    assert corrected.address == "幸福路1号物业办公室"
    # Renamed onto another ID-less party of the same role: refused, as adding it would be.
    other = m.mediation_add_party(case=case, acting_user=people.community, role="third_party", name="李物业",
                                  now=NOW)
    with pytest.raises(DomainError) as refused:
        correct(other, people.community, name="王物业")
    assert refused.value.code == "duplicate_party"


def test_retyping_the_same_id_number_is_no_change(people, file_with_parties):
    _, applicant, _ = file_with_parties
    with pytest.raises(DomainError) as refused:
        correct(applicant, people.community, id_number=APPLICANT_ID)
    assert refused.value.code == "unchanged"


def test_who_may_not_work_on_the_file_may_not_change_its_parties(people, med, file_with_parties):
    _, applicant, _ = file_with_parties
    before = state()
    for user in (people.community_b, med.mediator_b, people.worker):
        with pytest.raises(DomainError) as refused:
            correct(applicant, user, name="张三")
        assert refused.value.code == "forbidden", user
        with pytest.raises(DomainError) as refused:
            m.mediation_remove_party(party=applicant, acting_user=user, reason="加错了", now=NOW)
        assert refused.value.code == "forbidden", user
    assert state() == before


def test_removal_erases_the_numbers_keeps_the_name_and_lets_the_person_be_added_again(people, file_with_parties):
    case, applicant, _ = file_with_parties
    m.mediation_party_reveal(party=applicant, field="phone", reason="电话通知调解", acting_user=people.community,
                             now=NOW)
    m.mediation_remove_party(party=applicant, acting_user=people.community, reason="加到了错误的卷宗", now=NOW)
    party = MediationParty.objects.get(pk=applicant.pk)
    assert (party.name, party.removal_reason, party.removed_by) == ("王五", "加到了错误的卷宗", people.community)
    assert party.removed_at == NOW
    assert (party.id_number, party.id_index, party.id_masked) == (None, None, "")
    assert (party.phone, party.phone_index, party.phone_masked) == (None, None, "")
    # The access log still says who saw the number, and of whom.
    assert MediationPartyAccess.objects.get().party_id == party.pk
    event = CaseEvent.objects.filter(case=case).latest("pk")
    assert event.data == {"party_removed": party.pk, "role": "applicant", "reason": "加到了错误的卷宗"}
    # Removed: no more changes, and the same person can be added again (the unique index is free).
    with pytest.raises(DomainError) as refused:
        m.mediation_remove_party(party=party, acting_user=people.community, reason="再删", now=NOW)
    assert refused.value.code == "removed"
    again = m.mediation_add_party(case=case, acting_user=people.community, role="applicant", name="王五",
                                  id_number=APPLICANT_ID, now=NOW)
    assert again.pk != party.pk


def test_a_removal_needs_a_reason(people, file_with_parties):
    _, applicant, _ = file_with_parties
    before = state()
    with pytest.raises(DomainError) as refused:
        m.mediation_remove_party(party=applicant, acting_user=people.community, reason="", now=NOW)
    assert refused.value.code == "no_reason"
    assert state() == before


def test_an_agreement_needs_parties_that_were_not_removed(people, file_with_parties):
    case, _, respondent = file_with_parties
    m.mediation_remove_party(party=respondent, acting_user=people.community, reason="不是本纠纷当事人", now=NOW)
    m.mediation_record_session(case=case, acting_user=people.community, held_at=NOW - timedelta(hours=1),
                               notes="双方到场", now=NOW)
    with pytest.raises(DomainError) as refused:
        m.mediation_conclude(case=case, acting_user=people.community, outcome="agreed", agreement_text="赔偿800元",
                             consent_recorded=True, performance_deadline=NOW.date() + timedelta(days=10), now=NOW)
    assert refused.value.code == "no_parties"


def test_after_the_outcome_the_parties_stay_as_agreed(people, file_with_parties):
    case, applicant, _ = file_with_parties
    m.mediation_conclude(case=case, acting_user=people.community, outcome="withdrawn", now=NOW)
    before = state()
    with pytest.raises(DomainError) as refused:
        correct(applicant, people.community, name="张三")
    assert refused.value.code == "concluded"
    with pytest.raises(DomainError) as refused:
        m.mediation_remove_party(party=applicant, acting_user=people.community, reason="加错了", now=NOW)
    assert refused.value.code == "concluded"
    assert state() == before


def test_the_database_refuses_a_removal_without_reason_or_with_numbers_kept(file_with_parties, people):
    _, applicant, _ = file_with_parties
    with pytest.raises(IntegrityError), transaction.atomic():
        MediationParty.objects.filter(pk=applicant.pk).update(removed_at=NOW, removed_by=people.community,
                                                              removal_reason="加错了")  # ID number kept
    with pytest.raises(IntegrityError), transaction.atomic():
        MediationParty.objects.filter(pk=applicant.pk).update(
            removed_at=NOW, removed_by=people.community, removal_reason="", id_number=None, id_index=None,
            id_masked="", phone=None, phone_index=None, phone_masked="")


# --- the page ------------------------------------------------------------------------------------

@pytest.fixture
def login():
    def as_user(user):
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(user)
        return client

    return as_user


def change_url(case, party, name):
    return reverse("cases:mediation_party_change", args=[case.pk, party.pk, name])


def test_the_page_corrects_and_removes_a_party(login, people, file_with_parties):
    case, applicant, respondent = file_with_parties
    client = login(people.community)
    page = client.get(reverse("cases:mediation", args=[case.pk])).content.decode()
    assert change_url(case, applicant, "correct") in page and change_url(case, respondent, "remove") in page
    response = client.post(change_url(case, applicant, "correct"), {
        f"p{applicant.pk}-correct-role": "applicant", f"p{applicant.pk}-correct-name": "王伍",
        f"p{applicant.pk}-correct-reason": "姓名录错"})
    assert response.status_code == 302 and response["Location"].endswith("#parties")
    assert MediationParty.objects.get(pk=applicant.pk).name == "王伍"
    response = client.post(change_url(case, respondent, "remove"), {f"p{respondent.pk}-remove-reason": "非当事人"})
    assert response.status_code == 302
    page = client.get(reverse("cases:mediation", args=[case.pk])).content.decode()
    assert "1 party removed as added by mistake" in page and "非当事人" in page
    # The removed party has no forms of its own, and prints on no document.
    assert change_url(case, respondent, "correct") not in page
    assert client.post(change_url(case, respondent, "correct"), {}).status_code == 404
    printed = client.get(reverse("cases:mediation_print", args=[case.pk, "application"])).content.decode()
    assert "王伍" in printed and "赵六" not in printed
    # Nor on the agreement, once one is reached with a new respondent.
    m.mediation_add_party(case=case, acting_user=people.community, role="respondent", name="孙八", now=NOW)
    m.mediation_record_session(case=case, acting_user=people.community, held_at=NOW - timedelta(hours=1),
                               notes="双方到场", now=NOW)
    m.mediation_conclude(case=case, acting_user=people.community, outcome="agreed", agreement_text="赔偿800元",
                         consent_recorded=True, performance_deadline=NOW.date() + timedelta(days=10), now=NOW)
    printed = client.get(reverse("cases:mediation_print", args=[case.pk, "agreement"])).content.decode()
    assert "孙八" in printed and "赵六" not in printed


def test_the_page_removes_a_recorded_phone_and_offers_it_only_where_one_is(login, city, people, file_with_parties):
    case, applicant, _ = file_with_parties
    firm = m.mediation_add_party(case=case, acting_user=people.community, role="third_party", name="王物业",
                                 now=NOW)
    page = login(people.community).get(reverse("cases:mediation", args=[case.pk])).content.decode()
    assert f'name="p{applicant.pk}-correct-clear_phone"' in page
    assert f'name="p{firm.pk}-correct-clear_phone"' not in page  # nothing recorded, nothing to remove
    response = login(people.community).post(change_url(case, applicant, "correct"), {
        f"p{applicant.pk}-correct-role": "applicant", f"p{applicant.pk}-correct-name": "王五",
        f"p{applicant.pk}-correct-address": applicant.address,
        f"p{applicant.pk}-correct-clear_phone": "on", f"p{applicant.pk}-correct-reason": "号码已停用"})
    assert response.status_code == 302
    party = MediationParty.objects.get(pk=applicant.pk)
    assert (party.phone, party.phone_masked) == (None, "") and party.id_number == APPLICANT_ID


def test_a_change_refused_after_the_outcome_says_why(login, people, file_with_parties):
    """The outcome recorded in another tab: the party's forms are gone, so the refusal is a message."""
    case, applicant, _ = file_with_parties
    m.mediation_conclude(case=case, acting_user=people.community, outcome="withdrawn", now=NOW)
    response = login(people.community).post(change_url(case, applicant, "remove"),
                                            {f"p{applicant.pk}-remove-reason": "加错了"})
    assert response.status_code == 400
    assert "This mediation is already concluded." in response.content.decode()


def test_a_refused_correction_comes_back_filled_with_the_reason(login, people, file_with_parties):
    case, applicant, _ = file_with_parties
    before = state()
    response = login(people.community).post(change_url(case, applicant, "correct"), {
        f"p{applicant.pk}-correct-role": "applicant", f"p{applicant.pk}-correct-name": "王伍",
        f"p{applicant.pk}-correct-id_number": "510703198001011230",
        f"p{applicant.pk}-correct-reason": "身份证号录错"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "身份证号录错" in body and "510703198001011230" in body  # what was typed, back in the form
    assert state() == before
    response = login(people.community).post(change_url(case, applicant, "remove"), {})
    assert response.status_code == 400 and state() == before


def test_outside_the_users_reach_the_forms_are_404_and_write_nothing(login, city, people, med, file_with_parties):
    case, applicant, _ = file_with_parties
    outside = dispute(city, people, staff=people.community_b, building=city.building_b)
    stranger = m.mediation_add_party(case=outside, acting_user=people.community_b, role="applicant", name="孙八",
                                     now=NOW)
    before = state()
    data = {f"p{applicant.pk}-remove-reason": "加错了"}
    for user in (people.community_b, med.mediator_b, people.worker, people.other_district):
        assert login(user).post(change_url(case, applicant, "remove"), data).status_code == 404, user
    # A party of another file is not reached through this one.
    assert login(people.community).post(change_url(case, stranger, "remove"),
                                        {f"p{stranger.pk}-remove-reason": "加错了"}).status_code == 404
    assert login(people.community).post(change_url(case, applicant, "rename"), data).status_code == 404
    assert state() == before


def test_a_get_of_a_change_goes_back_to_the_file(login, people, file_with_parties):
    case, applicant, _ = file_with_parties
    response = login(people.community).get(change_url(case, applicant, "remove"))
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:mediation", args=[case.pk]) + "#parties"
