"""The organisation track (issue #16 items 2, 3, 6): routing rules, 准入, registration with a class,
dispatch to organisations, sign-in / reply / return, the street's ruling, referral, supervision."""

import logging
from datetime import timedelta

import pytest

from cases import escalation, routing_orgs, services, services_orgs, workflow
from cases.models import (
    Case,
    CaseEvent,
    GridExclusion,
    OrgAssignment,
    OrgLimit,
    ReferralTarget,
    RoutingRule,
    Status,
    Triage,
)
from cases.selectors import cases_visible_to, org_queue_for
from grid import services_orgs as grid_orgs
from grid.models import AreaKind, OrgFunction
from portal.errors import DomainError
from portal.workcalendar.calendar import add_working_time

from .cases_factories import MONDAY, category, fresh_calendar, people, png, resident_report  # noqa: F401
from .orgs_factories import big_matter, orgs, urban_rule  # noqa: F401

pytestmark = pytest.mark.django_db
A = CaseEvent.Action


def dispatched(city, orgs, people, *, co=(), now=MONDAY):
    case = big_matter(city, orgs, people, now=now)
    return services_orgs.case_org_dispatch(case=case, acting_user=people.street, lead=orgs.chengguan,
                                           co_handlers=co, now=now)


# --- routing rules and the proposal ---------------------------------------------------------------

def test_a_public_category_without_a_rule_stays_in_the_residential_tree(city, people, orgs):
    case = resident_report(city, code="E0201")
    assert routing_orgs.propose(case).to_command_centre is False
    case = services.case_register(case=case, acting_user=people.community, now=MONDAY)
    assert case.triage_class == Triage.SMALL and case.responsible_level == AreaKind.GRID


def test_the_most_local_organisation_of_the_function_is_proposed(city, people, orgs):
    urban_rule(city, orgs)
    proposal = routing_orgs.propose(resident_report(city, code="E0201"))
    assert proposal.to_command_centre and proposal.organisation == orgs.chengguan  # not the district bureau


def test_street_beats_district_and_subcategory_beats_category(city, people, orgs):
    routing_orgs.routing_rule_save(district=city.district, category=category("E02"), function=OrgFunction.HOUSING)
    urban_rule(city, orgs)  # E0201 in the district
    routing_orgs.routing_rule_save(district=city.district, street=city.street_a, category=category("E02"),
                                   organisation=orgs.police)
    case = resident_report(city, code="E0201")
    assert routing_orgs.propose(case).organisation == orgs.police  # the street's rule, though on the parent
    assert [r.street_id for r in routing_orgs.rules_for(case)] == [city.street_a.pk, None, None]


def test_a_rule_naming_an_inactive_organisation_is_refused_and_nothing_is_written(city, orgs):
    with pytest.raises(DomainError) as refused:
        routing_orgs.routing_rule_save(district=city.district, category=category("E0201"), organisation=orgs.closed)
    assert refused.value.code == "inactive_organisation" and orgs.closed.name in str(refused.value)
    assert not RoutingRule.objects.exists()


@pytest.mark.parametrize("kwargs, code", [
    ({"function": OrgFunction.POLICE, "organisation": "police"}, "bad_target"),
    ({}, "bad_target"),
    ({"organisation": "far", "street": "street_b_of_other"}, "bad_street"),
])
def test_bad_rules_are_refused(city, orgs, kwargs, code):
    kwargs = dict(kwargs)
    if "organisation" in kwargs:
        kwargs["organisation"] = getattr(orgs, kwargs["organisation"])
    if kwargs.get("street") == "street_b_of_other":
        kwargs["street"] = city.other_district
    with pytest.raises(DomainError) as refused:
        routing_orgs.routing_rule_save(district=city.district, category=category("E0201"), **kwargs)
    assert refused.value.code == code
    assert not RoutingRule.objects.exists()


def test_a_rule_whose_organisation_went_inactive_is_skipped_and_logged(city, people, orgs, caplog):
    urban_rule(city, orgs)  # district: function
    routing_orgs.routing_rule_save(district=city.district, street=city.street_a, category=category("E0201"),
                                   organisation=orgs.police)
    grid_orgs.organisation_set_active(organisation=orgs.police, active=False, acting_user=None)
    with caplog.at_level(logging.WARNING, logger="cases.routing_orgs"):
        proposal = routing_orgs.propose(resident_report(city, code="E0201"))
    assert proposal.organisation == orgs.chengguan
    assert "inactive organisation" in caplog.text


# --- 准入 --------------------------------------------------------------------------------------------

def test_a_category_on_the_grid_exclusion_list_never_goes_to_a_grid_worker(city, people, orgs):
    routing_orgs.grid_exclusion_add(district=city.district, category=category("E02"), reason="执法事项")
    case = services.case_register(case=resident_report(city, code="E0201"), acting_user=people.community,
                                  now=MONDAY)
    assert case.responsible_level == AreaKind.COMMUNITY and case.assignee_id is None
    assert GridExclusion.objects.count() == 1
    other = services.case_register(case=resident_report(city, code="E0101"), acting_user=people.community,
                                   now=MONDAY)
    assert other.responsible_level == AreaKind.GRID and other.assignee == people.worker


# --- registration with a class --------------------------------------------------------------------

def test_a_big_matter_waits_at_the_street_command_centre(city, people, orgs):
    case = big_matter(city, orgs, people)
    assert (case.status, case.triage_class, case.responsible_level, case.assignee_id) == (
        Status.REGISTERED, Triage.PUBLIC, AreaKind.STREET, None)
    register = case.events.get(action=A.REGISTER)
    assert register.data["organisation"] == orgs.chengguan.pk and register.data["rule"]


def test_changing_the_proposed_class_needs_a_reason_and_is_logged(city, people, orgs):
    case = resident_report(city, code="E0101")
    with pytest.raises(DomainError):
        services.case_register(case=case, acting_user=people.community, triage="public", now=MONDAY)
    case.refresh_from_db()
    assert case.status == Status.REPORTED and not case.events.filter(action=A.RECLASSIFY).exists()
    case = services.case_register(case=case, acting_user=people.community, triage="public",
                                  reason="涉及多部门", now=MONDAY)
    event = case.events.get(action=A.RECLASSIFY)
    assert event.note == "涉及多部门" and event.data == {"from": "small", "to": "public"}
    assert case.triage_class == Triage.PUBLIC


def test_registering_a_private_matter_is_refused_refer_it(city, people, orgs):
    case = resident_report(city, code="E0502")
    with pytest.raises(DomainError) as refused:
        services.case_register(case=case, acting_user=people.community, triage="private", now=MONDAY)
    assert refused.value.code == "refer_instead"


# --- referral (私事) --------------------------------------------------------------------------------

def test_referral_to_the_compounds_property_company_closes_as_referred(city, people, orgs):
    case = resident_report(city, code="E0502")  # 家庭纠纷: private by default
    case = services_orgs.case_refer(case=case, acting_user=people.community, referred_to=ReferralTarget.PROPERTY,
                                    told="请联系物业客服", now=MONDAY)
    assert (case.status, case.referred_to, case.triage_class) == (Status.REFERRED, "property", Triage.PRIVATE)
    event = case.events.get(action="refer")
    assert event.is_public and event.note == "请联系物业客服" and event.data["organisation_name"] == orgs.property.name


@pytest.mark.parametrize("kwargs, code", [
    ({"referred_to": "property", "told": "x", "building": "a2"}, "no_property"),
    ({"referred_to": "parties", "told": ""}, "required"),
    ({"referred_to": "nowhere", "told": "x"}, "bad_referral"),
    ({"referred_to": "parties", "told": "x", "code": "E0101"}, "required"),  # a class change needs a reason
])
def test_bad_referrals_are_refused_and_nothing_is_written(city, people, orgs, kwargs, code):
    building = city.building_a2 if kwargs.pop("building", None) else None
    case = resident_report(city, code=kwargs.pop("code", "E0502"), building=building)
    with pytest.raises(DomainError) as refused:
        services_orgs.case_refer(case=case, acting_user=people.community, now=MONDAY, **kwargs)
    assert refused.value.code == code or code == "required"
    case.refresh_from_db()
    assert case.status == Status.REPORTED and case.events.count() == 1


# --- the command centre ---------------------------------------------------------------------------

def test_dispatch_to_a_lead_and_co_handlers_with_the_organisations_own_limit(city, people, orgs):
    OrgLimit.objects.create(organisation=orgs.chengguan, category=category("E02"), sign_in_limit=2,
                            sign_in_limit_unit="working_hours", handle_limit=5, handle_limit_unit="working_days")
    case = dispatched(city, orgs, people, co=[orgs.police])
    assert case.status == Status.DISPATCHED and case.organisation == orgs.chengguan
    lead = case.org_assignment
    assert lead.role == "lead" and lead.assigned_by == people.street
    assert list(lead.co_handlers.values_list("organisation_id", flat=True)) == [orgs.police.pk]
    assert case.due_at == lead.sign_in_due_at == add_working_time(MONDAY, 2, "working_hours")
    signed = services_orgs.case_org_sign_in(case=case, acting_user=orgs.cg_staff, now=MONDAY)
    assert signed.handle_due_at == add_working_time(MONDAY, 5, "working_days")
    assert signed.assignee == orgs.cg_staff and signed.status == Status.HANDLING


def test_an_organisation_matter_is_judged_by_its_first_sign_in_and_handling_limits(city, people, orgs):
    # Without these lines the judged deadline stayed at the registration's dispatch limit, and
    # the dashboards counted nearly every organisation matter late (found by the figures' bench).
    from cases.models_history import CaseDeadline

    OrgLimit.objects.create(organisation=orgs.chengguan, category=category("E02"), sign_in_limit=2,
                            sign_in_limit_unit="working_hours", handle_limit=5, handle_limit_unit="working_days")
    case = dispatched(city, orgs, people)
    case.refresh_from_db()
    sign_in_due = add_working_time(MONDAY, 2, "working_hours")
    assert (case.deadline_stage, case.deadline_at) == ("accept", sign_in_due)
    signed = services_orgs.case_org_sign_in(case=case, acting_user=orgs.cg_staff, now=MONDAY)
    signed.refresh_from_db()
    handle_due = add_working_time(MONDAY, 5, "working_days")
    assert (signed.deadline_stage, signed.deadline_at) == ("handle", handle_due)
    stages = list(CaseDeadline.objects.filter(case=case, kind="first").order_by("at", "pk").values_list(
        "stage", "due_at"))
    assert stages[-2:] == [("accept", sign_in_due), ("handle", handle_due)]


@pytest.mark.parametrize("lead, who, code", [
    ("far", "street", "not_covering"),
    ("closed", "street", "inactive_organisation"),
    ("chengguan", "community", "forbidden"),  # not the command centre
    ("chengguan", "worker", "forbidden"),
])
def test_bad_dispatches_are_refused_and_nothing_is_written(city, people, orgs, lead, who, code):
    case = big_matter(city, orgs, people)
    with pytest.raises(DomainError) as refused:
        services_orgs.case_org_dispatch(case=case, acting_user=getattr(people, who), lead=getattr(orgs, lead),
                                        now=MONDAY)
    assert refused.value.code == code
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and case.organisation_id is None
    assert not OrgAssignment.objects.exists()


def test_sending_again_reassigns_and_clears_the_handler(city, people, orgs):
    case = dispatched(city, orgs, people)
    case = services_orgs.case_org_sign_in(case=case, acting_user=orgs.cg_staff, now=MONDAY)
    case = services_orgs.case_org_dispatch(case=case, acting_user=people.street, lead=orgs.police,
                                           reason="属治安问题", now=MONDAY + timedelta(hours=1))
    assert (case.status, case.organisation, case.assignee_id, case.accepted_at) == (
        Status.DISPATCHED, orgs.police, None, None)
    assert OrgAssignment.objects.filter(case=case).count() == 2  # history kept
    assert case in cases_visible_to(orgs.cg_staff)  # formerly sent: still in their history
    assert case not in org_queue_for(orgs.cg_staff)


# --- the organisation ----------------------------------------------------------------------------

def test_the_whole_loop_reply_with_a_photo_then_the_grid_verifies_and_the_street_closes(city, people, orgs):
    case = dispatched(city, orgs, people)
    case = services_orgs.case_org_sign_in(case=case, acting_user=orgs.cg_staff, now=MONDAY)
    case = services_orgs.case_org_reply(case=case, acting_user=orgs.cg_staff2, note="已拆除", photos=[png()],
                                        now=MONDAY + timedelta(hours=2))
    assert case.status == Status.RESOLVED and case.photos.filter(stage="resolve").count() == 1
    assert "verify" in workflow.allowed(case, people.worker)
    case = services.case_verify(case=case, acting_user=people.worker, passed=True, now=MONDAY + timedelta(hours=3))
    case = services.case_close(case=case, acting_user=people.street, now=MONDAY + timedelta(hours=3))
    assert case.status == Status.CLOSED


@pytest.mark.parametrize("who", ["police_staff", "far_staff"])
def test_an_account_not_on_the_organisation_cannot_sign_in_reply_or_return(city, people, orgs, who):
    case = dispatched(city, orgs, people)
    user = getattr(orgs, who)
    for call in (lambda: services_orgs.case_org_sign_in(case=case, acting_user=user, now=MONDAY),
                 lambda: services_orgs.case_org_reply(case=case, acting_user=user, note="x", photos=[png()],
                                                      now=MONDAY),
                 lambda: services_orgs.case_org_return(case=case, acting_user=user, reason="x", now=MONDAY)):
        with pytest.raises(DomainError) as refused:
            call()
        assert refused.value.code == "forbidden" and orgs.chengguan.name in str(refused.value)
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.events.count() == 3


def test_a_reply_needs_a_photo(city, people, orgs):
    case = services_orgs.case_org_sign_in(case=dispatched(city, orgs, people), acting_user=orgs.cg_staff,
                                          now=MONDAY)
    with pytest.raises(DomainError) as refused:
        services_orgs.case_org_reply(case=case, acting_user=orgs.cg_staff, note="已处理", now=MONDAY)
    assert refused.value.code == "no_photo"
    assert Case.objects.get(pk=case.pk).status == Status.HANDLING


def test_a_return_needs_a_reason(city, people, orgs):
    case = dispatched(city, orgs, people)
    with pytest.raises(DomainError):
        services_orgs.case_org_return(case=case, acting_user=orgs.cg_staff, reason="  ", now=MONDAY)
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.returned_at is None


def test_a_return_goes_to_the_street_whose_ruling_is_binding(city, people, orgs):
    case = dispatched(city, orgs, people)
    case = services_orgs.case_org_return(case=case, acting_user=orgs.cg_staff, reason="不属于我单位职责",
                                         now=MONDAY)
    assert (case.status, case.organisation_id, case.returned_at) == (Status.REGISTERED, None, MONDAY)
    assert case.events.get(action=A.ORG_RETURN).data["organisation_name"] == orgs.chengguan.name
    # The street rules; a plain dispatch is refused meanwhile, and so is a ruling without a reason.
    with pytest.raises(DomainError):
        services_orgs.case_org_dispatch(case=case, acting_user=people.street, lead=orgs.police, now=MONDAY)
    with pytest.raises(DomainError):
        services_orgs.case_org_rule(case=case, acting_user=people.street, lead=orgs.police, reason="", now=MONDAY)
    with pytest.raises(DomainError):  # the organisation never picks the next one
        services_orgs.case_org_rule(case=case, acting_user=orgs.cg_staff, lead=orgs.police, reason="x", now=MONDAY)
    case = services_orgs.case_org_rule(case=case, acting_user=people.street, lead=orgs.police,
                                       reason="经研判属派出所职责", now=MONDAY)
    assert case.status == Status.DISPATCHED and case.organisation == orgs.police and case.returned_at is None
    assert case.org_assignment.kind == "ruling"
    with pytest.raises(DomainError) as refused:
        services_orgs.case_org_return(case=case, acting_user=orgs.police_staff, reason="也不是我们", now=MONDAY)
    assert refused.value.code == "refused"


def test_assignments_are_append_only(city, people, orgs):
    from django.db import DatabaseError, transaction

    row = dispatched(city, orgs, people).org_assignment
    with pytest.raises(DatabaseError), transaction.atomic():
        OrgAssignment.objects.filter(pk=row.pk).update(reason="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        OrgAssignment.objects.filter(pk=row.pk).delete()


# --- the workflow table ------------------------------------------------------------------------------

def test_the_table_gives_the_organisation_its_moves_and_nobody_the_residential_ones(city, people, orgs):
    case = dispatched(city, orgs, people)
    assert set(workflow.allowed(case, orgs.cg_staff)) == {"org_sign_in", "org_return", "note"}
    assert workflow.allowed(case, orgs.police_staff) == []
    for user in (people.worker, people.street, people.community):
        assert not {"accept", "resolve", "return", "escalate", "redispatch"} & set(workflow.allowed(case, user))
    assert "org_dispatch" in workflow.allowed(case, people.street)
    assert "org_dispatch" not in workflow.allowed(case, people.community)
    signed = services_orgs.case_org_sign_in(case=case, acting_user=orgs.cg_staff, now=MONDAY)
    assert set(workflow.allowed(signed, orgs.cg_staff2)) == {"org_reply", "org_return", "note"}


def test_every_new_transition_is_in_the_one_table():
    names = {t.name for t in workflow.TABLE}
    assert {"reclassify", "refer", "org_dispatch", "org_rule", "org_sign_in", "org_reply", "org_return"} <= names
    assert workflow.TRANSITIONS["org_return"].target_from(Status.HANDLING) == Status.REGISTERED
    assert workflow.TRANSITIONS["refer"].target == Status.REFERRED


# --- supervision, not escalation ----------------------------------------------------------------------

def test_overdue_organisation_matters_are_supervised_once_and_never_escalated(city, people, orgs):
    case = dispatched(city, orgs, people)
    late = case.due_at + timedelta(minutes=1)
    assert escalation.escalate_overdue(now=late) == 0
    assert escalation.supervise_overdue_org_matters(now=late) == 1
    assert escalation.supervise_overdue_org_matters(now=late + timedelta(minutes=5)) == 0  # idempotent
    case.refresh_from_db()
    assert (case.responsible_level, case.escalation_count, case.organisation) == (
        AreaKind.STREET, 0, orgs.chengguan)
    assert case.org_supervised_due == case.due_at
    assert case.events.filter(action=A.ORG_SUPERVISE).count() == 1
    # Signed in late: a new deadline, missed again, is supervised again.
    case = services_orgs.case_org_sign_in(case=case, acting_user=orgs.cg_staff, now=late)
    assert escalation.supervise_overdue_org_matters(now=case.due_at + timedelta(minutes=1)) == 1


def test_a_residential_case_still_escalates(city, people, orgs):
    case = services.case_register(case=resident_report(city), acting_user=people.community, now=MONDAY)
    assert escalation.escalate_overdue(now=case.due_at + timedelta(minutes=1)) == 1
    assert escalation.supervise_overdue_org_matters(now=case.due_at + timedelta(minutes=1)) == 0


# --- scoping ----------------------------------------------------------------------------------------

def test_organisation_staff_see_exactly_the_matters_sent_to_their_organisation(city, people, orgs):
    sent = dispatched(city, orgs, people)
    waiting = big_matter(city, orgs, people)  # same street, not sent
    residential = services.case_register(case=resident_report(city), acting_user=people.community, now=MONDAY)
    assert set(cases_visible_to(orgs.cg_staff)) == {sent}
    assert set(cases_visible_to(orgs.police_staff)) == set()
    assert set(cases_visible_to(orgs.far_staff)) == set()
    assert {sent, waiting, residential} <= set(cases_visible_to(people.street))
    # Co-handlers see it too.
    co = dispatched(city, orgs, people, co=[orgs.police])
    assert set(cases_visible_to(orgs.police_staff)) == {co}
    assert list(org_queue_for(orgs.police_staff)) == []  # lead's queue only


def test_rework_after_a_failed_verification_runs_on_the_organisations_own_limit(city, people, orgs):
    OrgLimit.objects.create(organisation=orgs.chengguan, category=category("E0201"), sign_in_limit=1,
                            sign_in_limit_unit="working_hours", handle_limit=7, handle_limit_unit="working_days")
    case = services_orgs.case_org_sign_in(case=dispatched(city, orgs, people), acting_user=orgs.cg_staff,
                                          now=MONDAY)
    case = services_orgs.case_org_reply(case=case, acting_user=orgs.cg_staff, note="已处理", photos=[png()],
                                        now=MONDAY)
    later = MONDAY + timedelta(hours=1)
    case = services.case_verify(case=case, acting_user=people.worker, passed=False, note="未拆除干净", now=later)
    assert case.status == Status.HANDLING and case.organisation == orgs.chengguan
    assert case.due_at == add_working_time(later, 7, "working_days")
    assert "org_reply" in workflow.allowed(case, orgs.cg_staff)
