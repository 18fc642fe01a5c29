"""How a mediation case ends: a performed agreement closes the resolved case at its follow-up
(follow_up_close); a failed dispute referred on records the receiving body's receipt. Each
refusal writes nothing; the file page's receipt form answers 400 on bad input and 404 outside."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from cases import mediation as m
from cases import services
from cases.mediation_followup import mediation_close_at_follow_up, mediation_follow_up, mediation_referral_receipt
from cases.models import CaseEvent, Mediation, Status
from portal.errors import DomainError

from .cases_factories import MONDAY, people  # noqa: F401
from .mediation_factories import dispute, med, with_parties  # noqa: F401

pytestmark = pytest.mark.django_db
LATER = MONDAY + timedelta(days=30)


def agreed(city, people, med, *, resolve=True):
    case = dispute(city, people)
    with_parties(case, people.community)
    m.mediation_add_mediator(case=case, mediator=med.mediator, acting_user=people.community, now=MONDAY)
    m.mediation_record_session(case=case, acting_user=med.mediator, held_at=MONDAY, notes="达成一致", now=MONDAY)
    m.mediation_conclude(case=case, acting_user=med.mediator, outcome="agreed", agreement_text="赔偿800元",
                         consent_recorded=True, performance_deadline=MONDAY.date() + timedelta(days=14), now=MONDAY)
    if resolve:
        case = services.case_resolve(case=case, acting_user=people.community, note="调解成功", now=MONDAY)
    return case


def failed(city, people):
    case = dispute(city, people)
    m.mediation_conclude(case=case, acting_user=people.community, outcome="failed", referral="litigation",
                         note="被申请人拒绝赔偿", now=MONDAY)
    return case


def test_the_mediators_follow_up_of_a_performed_agreement_closes_the_resolved_case(city, people, med,
                                                                                   django_capture_on_commit_callbacks):
    case = agreed(city, people, med)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        mediation_follow_up(case=case, acting_user=med.mediator, performance="performed", note="已修复并赔偿",
                            now=LATER)
    case.refresh_from_db()
    assert (case.status, case.closed_at) == (Status.CLOSED, LATER)
    assert case.handling_minutes is not None
    # The mediator recorded the follow-up; the portal closed the case on it.
    assert CaseEvent.objects.filter(case=case, action="mediation", actor=med.mediator,
                                    data__follow_up="performed").exists()
    close = CaseEvent.objects.get(case=case, action="close")
    assert (close.actor, close.from_status, close.to_status, close.is_public) == (None, "resolved", "closed", True)
    assert close.data == {"follow_up": "performed"}
    assert len(callbacks) == 1  # case_closed, as after any close


@pytest.mark.parametrize("performance", ["partly", "not_performed"])
def test_an_unperformed_agreement_leaves_the_case_open(city, people, med, performance):
    case = agreed(city, people, med)
    mediation_follow_up(case=case, acting_user=med.mediator, performance=performance, note="未履行", now=LATER)
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and not CaseEvent.objects.filter(case=case, action="close").exists()


def test_a_follow_up_before_the_case_is_resolved_records_only(city, people, med):
    case = agreed(city, people, med, resolve=False)
    mediation_follow_up(case=case, acting_user=med.mediator, performance="performed", note="已履行", now=LATER)
    case.refresh_from_db()
    assert case.status == Status.HANDLING
    # Resolved afterwards, it is closed by the close at follow-up, not verified again.
    case = services.case_resolve(case=case, acting_user=people.community, note="调解成功", now=LATER)
    mediation_close_at_follow_up(case=case, now=LATER)
    case.refresh_from_db()
    assert case.status == Status.CLOSED


def test_the_close_at_follow_up_needs_a_performed_follow_up_by_someone_on_the_file(city, people, med):
    case = agreed(city, people, med)
    events = CaseEvent.objects.count()
    with pytest.raises(DomainError) as refused:
        mediation_close_at_follow_up(case=case, now=LATER)
    assert refused.value.code == "not_performed"
    # A mediator of another community's files is nobody on this case: no follow-up, no close.
    with pytest.raises(DomainError) as refused:
        mediation_follow_up(case=case, acting_user=med.mediator_b, performance="performed", note="已履行", now=LATER)
    assert refused.value.code == "forbidden"
    assert CaseEvent.objects.count() == events
    case.refresh_from_db()
    assert case.status == Status.RESOLVED


def test_a_failed_disputes_referral_records_the_receiving_bodys_receipt(city, people, med):
    case = failed(city, people)
    good = {"body": "城关区人民法院", "receipt": "（2026）川0703民初1234号", "received_on": LATER.date(),
            "answer": "已立案受理"}
    events = CaseEvent.objects.count()
    for change, code in (({"body": " "}, "blank"), ({"receipt": ""}, "blank"), ({"received_on": None}, "no_date"),
                         ({"received_on": LATER.date() + timedelta(days=1)}, "bad_date"),
                         ({"received_on": MONDAY.date() - timedelta(days=1)}, "bad_date")):
        with pytest.raises(DomainError) as refused:
            mediation_referral_receipt(case=case, acting_user=people.community, now=LATER, **{**good, **change})
        assert refused.value.code == code, change
    assert CaseEvent.objects.count() == events
    assert Mediation.objects.get(pk=case.pk).referral_receipt == ""
    done = mediation_referral_receipt(case=case, acting_user=people.community, now=LATER, **good)
    assert (done.referral_body, done.referral_receipt, done.referral_received_on, done.referral_answer) == (
        "城关区人民法院", "（2026）川0703民初1234号", LATER.date(), "已立案受理")
    with pytest.raises(DomainError) as refused:
        mediation_referral_receipt(case=case, acting_user=people.community, now=LATER, **good)
    assert refused.value.code == "already_recorded"


def test_only_a_referred_failure_has_a_receipt(city, people, med):
    case = agreed(city, people, med, resolve=False)
    with pytest.raises(DomainError) as refused:
        mediation_referral_receipt(case=case, acting_user=people.community, body="城关区人民法院", receipt="R1",
                                   received_on=MONDAY.date(), now=MONDAY)
    assert refused.value.code == "not_referred"
    assert Mediation.objects.get(pk=case.pk).referral_receipt == ""


def test_the_receipt_form_answers_400_on_bad_input_and_404_outside(city, people, med, make_user):
    from grid.models import Role

    case = failed(city, people)
    url = reverse("cases:mediation_act", args=[case.pk, "referral_receipt"])
    web = Client()
    web.force_login(people.community)
    page = web.get(reverse("cases:mediation", args=[case.pk]))
    assert url in page.content.decode()
    bad = web.post(url, {"referral_receipt-body": "城关区人民法院", "referral_receipt-receipt": "R1",
                         "referral_receipt-received_on": "2020-01-01"})
    assert bad.status_code == 400
    assert Mediation.objects.get(pk=case.pk).referral_receipt == ""
    outsider = make_user(Role.COMMUNITY_STAFF, city.community_b)
    other = Client()
    other.force_login(outsider)
    assert other.post(url, {"referral_receipt-body": "城关区人民法院", "referral_receipt-receipt": "R1",
                            "referral_receipt-received_on": MONDAY.date().isoformat()}).status_code == 404
    assert Mediation.objects.get(pk=case.pk).referral_receipt == ""
