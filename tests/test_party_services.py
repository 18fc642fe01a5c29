"""Party building's writes (issue #23 part 2): memberships, 双报到, small wishes, service hours, 包片.

Every refusal is checked to have written nothing.
"""

from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from cases import oversight
from cases.models import Delivery, DeliveryChannel, Status
from grid.models import Liaison, LiaisonLevel, Role
from grid.services_liaisons import liaison_assign, liaison_end
from portal.errors import DomainError
from residents.party import selectors, services
from residents.party.models import (
    EmployerUnit,
    MemberRole,
    Membership,
    OrgKind,
    PartyOrg,
    ReportIn,
    ReportStatus,
    Service,
    ServicePost,
    Wish,
    WishStatus,
)
from volunteers import ledger
from volunteers.models import ServiceRecord, Volunteer

from .cases_factories import MONDAY, people, to_status  # noqa: F401
from .factories import UserFactory, user_with_post
from .party_factories import NOW, party, posted_wish  # noqa: F401

pytestmark = pytest.mark.clock("2026-11-24T10:00:00+08:00")


@contextmanager
def refused(code):
    """A DomainError with `code` (the messages are Chinese: the product's language)."""
    with pytest.raises(DomainError) as caught:
        yield caught
    assert caught.value.code == code, (caught.value.code, str(caught.value))


def committee(city, party):
    return services.org_add(kind=OrgKind.COMMITTEE, name="幸福社区党委", place=city.community_a,
                            acting_user=party.staff, now=NOW)


# --- organisations and memberships --------------------------------------------------------------

def test_organisations_sit_on_their_places(city, party):
    org = committee(city, party)
    assert (org.district_id, org.street_id, org.community_id, org.grid_id) == (
        city.district.pk, city.street_a.pk, city.community_a.pk, None)
    group = services.org_add(kind=OrgKind.BUILDING_GROUP, name="1号楼党小组", building=city.building_a,
                             acting_user=party.staff, now=NOW)
    assert group.grid_id == city.grid_a.pk and group.building_id == city.building_a.pk
    with refused("duplicate"):
        committee(city, party)
    with refused("bad_place"):
        services.org_add(kind=OrgKind.GRID_BRANCH, name="错的", place=city.community_a, acting_user=party.staff,
                         now=NOW)
    with refused("forbidden"):
        services.org_add(kind=OrgKind.COMMITTEE, name="和平社区党委", place=city.community_b,
                         acting_user=party.staff, now=NOW)
    assert PartyOrg.objects.count() == 2


def test_membership_of_a_resident_in_scope_and_one_secretary(city, party):
    org = committee(city, party)
    secretary = services.membership_add(org=org, resident=party.resident, role=MemberRole.SECRETARY,
                                        acting_user=party.staff, now=NOW)
    assert secretary.name == "王秀兰" and secretary.community_id == city.community_a.pk
    with refused("secretary"):
        services.membership_add(org=org, user=party.member, role=MemberRole.SECRETARY, acting_user=party.staff,
                                now=NOW)
    with refused("duplicate"):
        services.membership_add(org=org, resident=party.resident, acting_user=party.staff, now=NOW)
    assert Membership.objects.count() == 1


def test_membership_outside_the_staff_members_places_is_refused(city, party):
    org = committee(city, party)
    # A resident of community B, by the staff of community A: refused, nothing written.
    with refused("forbidden"):
        services.membership_add(org=org, resident=party.resident_b, acting_user=party.staff, now=NOW)
    # Community B's staff on community A's committee: the organisation is outside their places.
    with refused("forbidden"):
        services.membership_add(org=org, user=party.member, acting_user=party.staff_b, now=NOW)
    # A building chief holds a post there but no residents' records.
    with refused("forbidden"):
        services.membership_add(org=org, resident=party.resident, acting_user=party.chief, now=NOW)
    assert not Membership.objects.exists()


def test_memberships_are_read_like_residents_records(city, party):
    org = committee(city, party)
    services.membership_add(org=org, resident=party.resident, acting_user=party.staff, now=NOW)
    assert selectors.memberships_visible_to(party.staff).count() == 1
    assert selectors.memberships_visible_to(party.street).count() == 1
    assert selectors.memberships_visible_to(party.staff_b).count() == 0
    assert selectors.memberships_visible_to(party.chief).count() == 0
    assert selectors.masked("王秀兰") == "王**"


# --- 双报到 -------------------------------------------------------------------------------------

def test_report_in_waits_for_the_community_and_is_one_per_person(city, party):
    user = UserFactory(username="newcomer", full_name="陈党员")
    report = services.report_in(community=city.community_a, employer_name="市教育局",
                                posts=[ServicePost.BUILDING_HELPER], user=user, acting_user=user, now=NOW)
    assert report.status == ReportStatus.PENDING and report.employer is None
    assert report.community_id == city.community_a.pk and report.street_id == city.street_a.pk
    with refused("duplicate"):
        services.report_in(community=city.community_b, employer_name="市教育局", posts=["wish"], user=user,
                           acting_user=user, now=NOW)
    with refused("forbidden"):
        services.report_confirm(report=report, acting_user=party.staff_b, now=NOW)
    assert ReportIn.objects.get(pk=report.pk).status == ReportStatus.PENDING
    report = services.report_confirm(report=report, acting_user=party.staff, now=NOW)
    assert report.status == ReportStatus.CONFIRMED and report.confirmed_by == party.staff
    with refused("state"):
        services.report_confirm(report=report, acting_user=party.staff, now=NOW)


def test_report_in_bad_input_writes_nothing(city, party):
    user = UserFactory(username="careless")
    before = ReportIn.objects.count()
    with refused("no_post"):
        services.report_in(community=city.community_a, employer_name="某单位", posts=[], user=user,
                           acting_user=user, now=NOW)
    with refused("blank"):
        services.report_in(community=city.community_a, employer_name="  ", posts=["wish"], user=user,
                           acting_user=user, now=NOW)
    with refused("no_community"):
        services.report_in(community=city.grid_a, employer_name="某单位", posts=["wish"], user=user,
                           acting_user=user, now=NOW)
    with refused("forbidden"):
        services.report_in(community=city.community_a, employer_name="某单位", posts=["wish"], user=user,
                           acting_user=party.member, now=NOW)
    assert ReportIn.objects.count() == before


def test_employer_units_register_with_their_street_and_are_matched(city, party):
    unit = services.employer_register(street=city.street_a, name="市教育局", acting_user=party.street, now=NOW)
    assert unit.street_id == city.street_a.pk
    with refused("duplicate"):
        services.employer_register(street=city.street_a, name="市教育局", acting_user=party.street, now=NOW)
    with refused("forbidden"):
        services.employer_register(street=city.street_b, name="市卫健委", acting_user=party.street, now=NOW)
    assert EmployerUnit.objects.count() == 1
    user = UserFactory(username="teacher")
    report = services.report_in(community=city.community_a, employer_name="市教育局", posts=["volunteer"],
                                user=user, acting_user=user, now=NOW)
    assert report.employer == unit


# --- 微心愿 -------------------------------------------------------------------------------------

def test_a_wish_from_post_to_confirmation_credits_the_volunteers_hours(city, party):
    wish = posted_wish(party)
    assert list(selectors.open_wishes_for(party.report)) == [wish]
    wish = services.wish_adopt(wish=wish, acting_user=party.member, now=NOW)
    assert wish.status == WishStatus.ADOPTED and wish.adopter == party.report
    assert list(selectors.open_wishes_for(party.report)) == []
    wish = services.wish_fulfil(wish=wish, note="已送到王奶奶家", acting_user=party.member,
                                now=NOW + timedelta(days=1))
    assert wish.status == WishStatus.FULFILLED
    wish = services.wish_confirm(wish=wish, hours="1.5", acting_user=party.staff, now=NOW + timedelta(days=2))
    assert wish.status == WishStatus.CONFIRMED
    service = Service.objects.get(wish=wish)
    assert service.hours == Decimal("1.50") and service.post == ServicePost.WISH
    # The hook: the member is now a volunteer of community A with the hours on record and 15 points
    # (1.5 h × 10 points an hour, volunteers.ledger.hours_points).
    volunteer = Volunteer.objects.get(user=party.member)
    assert volunteer.community_id == city.community_a.pk
    record = ServiceRecord.objects.get(source_key=f"party-service:{service.pk}")
    assert record.volunteer == volunteer and record.hours == Decimal("1.50")
    assert ledger.balance_of(volunteer) == 15


def test_adopting_twice_is_refused(city, party):
    wish = posted_wish(party)
    services.wish_adopt(wish=wish, acting_user=party.member, now=NOW)
    with refused("state"):
        services.wish_adopt(wish=wish, acting_user=party.member2, now=NOW)
    assert Wish.objects.get(pk=wish.pk).adopter == party.report


def test_only_a_member_of_the_community_with_the_wish_post_adopts(city, party):
    wish = posted_wish(party)
    outsider = UserFactory(username="member_b")
    from .party_factories import report_confirmed
    report_confirmed(outsider, city.community_b, party.staff_b)
    with refused("forbidden"):
        services.wish_adopt(wish=wish, acting_user=outsider, now=NOW)
    helper = UserFactory(username="helper_a")
    report_confirmed(helper, city.community_a, party.staff, posts=(ServicePost.BUILDING_HELPER,))
    with refused("no_post"):
        services.wish_adopt(wish=wish, acting_user=helper, now=NOW)
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.POSTED


def test_one_adopter_per_wish_is_held_by_the_database(city, party):
    wish = posted_wish(party)
    with pytest.raises(IntegrityError), transaction.atomic():
        Wish.objects.filter(pk=wish.pk).update(status=WishStatus.ADOPTED)  # adopted without an adopter


def test_a_withdrawn_wish_keeps_who_withdrew_it_and_when(city, party):
    wish = posted_wish(party)
    with refused("forbidden"):
        services.wish_withdraw(wish=wish, acting_user=party.staff_b, now=NOW)
    wish.refresh_from_db()
    assert (wish.status, wish.withdrawn_by, wish.withdrawn_at) == (WishStatus.POSTED, None, None)
    later = NOW + timedelta(hours=3)
    wish = services.wish_withdraw(wish=wish, acting_user=party.staff, now=later)
    assert (wish.status, wish.withdrawn_by, wish.withdrawn_at) == (WishStatus.WITHDRAWN, party.staff, later)
    with refused("state"):
        services.wish_withdraw(wish=wish, acting_user=party.staff, now=later + timedelta(hours=1))
    assert Wish.objects.get(pk=wish.pk).withdrawn_at == later


def test_a_withdrawal_is_recorded_only_on_a_withdrawn_wish_held_by_the_database(city, party):
    wish = posted_wish(party)
    with pytest.raises(IntegrityError), transaction.atomic():
        Wish.objects.filter(pk=wish.pk).update(withdrawn_at=NOW, withdrawn_by=party.staff)  # still open
    with pytest.raises(IntegrityError), transaction.atomic():
        Wish.objects.filter(pk=wish.pk).update(status=WishStatus.WITHDRAWN, withdrawn_by=party.staff)  # no date


def test_an_ended_report_in_keeps_who_ended_it(city, party):
    with refused("forbidden"):
        services.report_end(report=party.report, acting_user=party.staff_b, now=NOW)
    assert ReportIn.objects.get(pk=party.report.pk).ended_by is None
    ended = services.report_end(report=party.report, acting_user=party.member, now=NOW)  # the member themself
    assert (ended.status, ended.ended_by, ended.ended_at) == (ReportStatus.ENDED, party.member, NOW)
    by_staff = services.report_end(report=party.report2, acting_user=party.staff, now=NOW)
    assert by_staff.ended_by == party.staff
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportIn.objects.filter(pk=party.report2.pk).update(status=ReportStatus.CONFIRMED)  # ended_by on a live one


def test_ending_a_report_in_puts_its_unfulfilled_wishes_back_for_others(city, party):
    held = services.wish_adopt(wish=posted_wish(party), acting_user=party.member, now=NOW)
    done = services.wish_post(resident=party.resident, title="一把轮椅", category="elderly", budget_cap=300,
                              acting_user=party.staff, now=NOW)
    done = services.wish_adopt(wish=done, acting_user=party.member, now=NOW)
    done = services.wish_fulfil(wish=done, note="已送到", acting_user=party.member, now=NOW)
    services.report_end(report=party.report, acting_user=party.member, now=NOW)
    held.refresh_from_db()
    assert (held.status, held.adopter, held.adopted_at) == (WishStatus.POSTED, None, None)
    assert Wish.objects.get(pk=done.pk).status == WishStatus.FULFILLED  # staff still confirm it
    # Another member of the community adopts it now.
    held = services.wish_adopt(wish=held, acting_user=party.member2, now=NOW)
    assert held.adopter == party.report2


def test_fulfil_by_a_non_adopter_is_refused(city, party):
    wish = services.wish_adopt(wish=posted_wish(party), acting_user=party.member, now=NOW)
    with refused("forbidden"):
        services.wish_fulfil(wish=wish, note="我也送了", acting_user=party.member2, now=NOW)
    with refused("blank"):
        services.wish_fulfil(wish=wish, note=" ", acting_user=party.member, now=NOW)
    wish.refresh_from_db()
    assert wish.status == WishStatus.ADOPTED and wish.fulfil_note == ""


def test_confirm_outside_scope_is_refused_and_nothing_written(city, party):
    wish = services.wish_adopt(wish=posted_wish(party), acting_user=party.member, now=NOW)
    wish = services.wish_fulfil(wish=wish, note="已送达", acting_user=party.member, now=NOW)
    with refused("forbidden"):
        services.wish_confirm(wish=wish, hours=2, acting_user=party.staff_b, now=NOW)
    with refused("bad_hours"):
        services.wish_confirm(wish=wish, hours=30, acting_user=party.staff, now=NOW)
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.FULFILLED
    assert not Service.objects.exists() and not ServiceRecord.objects.exists()


def test_wish_posting_bad_input(city, party):
    with refused("forbidden"):
        services.wish_post(resident=party.resident_b, title="轮椅", category="elderly", budget_cap=100,
                           acting_user=party.staff, now=NOW)
    with refused("bad_budget"):
        services.wish_post(resident=party.resident, title="电视机", category="daily", budget_cap=3000,
                           acting_user=party.staff, now=NOW)
    with refused("bad_budget"):
        services.wish_post(resident=party.resident, title="电视机", category="daily", budget_cap="很多",
                           acting_user=party.staff, now=NOW)
    with refused("bad_category"):
        services.wish_post(resident=party.resident, title="电视机", category="tv", budget_cap=100,
                           acting_user=party.staff, now=NOW)
    assert not Wish.objects.exists()


def test_service_on_a_post_goes_to_the_volunteers_once(city, party):
    service = services.service_confirm(report=party.report, post=ServicePost.VOLUNTEER, content="清理楼道",
                                       started_at=NOW - timedelta(hours=3), hours=2, acting_user=party.staff,
                                       now=NOW)
    record = ServiceRecord.objects.get(source_key=f"party-service:{service.pk}")
    assert record.hours == Decimal("2.00") and record.started_at == NOW - timedelta(hours=3)
    assert ledger.balance_of(record.volunteer) == 20
    with refused("bad_post"):
        services.service_confirm(report=party.report, post=ServicePost.BUILDING_HELPER, content="帮楼栋长",
                                 started_at=NOW - timedelta(hours=8), hours=1, acting_user=party.staff, now=NOW)
    with refused("forbidden"):
        services.service_confirm(report=party.report, post=ServicePost.VOLUNTEER, content="清理楼道",
                                 started_at=NOW - timedelta(hours=8), hours=1, acting_user=party.staff_b, now=NOW)
    # Overlapping hours are refused by the volunteers' rule, and the party's row goes with them.
    with refused("overlap"):
        services.service_confirm(report=party.report, post=ServicePost.VOLUNTEER, content="又清理楼道",
                                 started_at=NOW - timedelta(hours=2), hours=1, acting_user=party.staff, now=NOW)
    assert Service.objects.count() == 1 and ServiceRecord.objects.count() == 1


# --- figures ------------------------------------------------------------------------------------

def test_figures_by_community_hand_computed(city, party):
    # Community A: 2 confirmed members (fixture) + 1 pending (not counted); 3 wishes: one confirmed
    # with 2 h, one adopted, one open; a 1.5 h volunteer service. Community B: 1 member, nothing else.
    pending = UserFactory(username="pending")
    services.report_in(community=city.community_a, employer_name="某局", posts=["wish"], user=pending,
                       acting_user=pending, now=NOW)
    done = services.wish_adopt(wish=posted_wish(party, title="书包"), acting_user=party.member, now=NOW)
    done = services.wish_fulfil(wish=done, note="已送", acting_user=party.member, now=NOW)
    services.wish_confirm(wish=done, hours=2, acting_user=party.staff, now=NOW)
    services.wish_adopt(wish=posted_wish(party, title="台灯"), acting_user=party.member2, now=NOW)
    posted_wish(party, title="棉被")
    services.service_confirm(report=party.report, post=ServicePost.VOLUNTEER, content="清扫",
                             started_at=NOW - timedelta(hours=6), hours="1.5", acting_user=party.staff, now=NOW)
    from .party_factories import report_confirmed
    report_confirmed(UserFactory(username="member_b1"), city.community_b, party.staff_b)

    rows = {row["community"]: row for row in selectors.figures_by_community(party.street)}
    assert set(rows) == {"幸福社区"}  # street A's staff reach community A only
    a = rows["幸福社区"]
    assert (a["members"], a["adopted"], a["fulfilled"], a["hours"]) == (2, 2, 1, Decimal("3.50"))
    district = user_with_post(Role.DISTRICT_OFFICIAL, city.district, username="party_district")
    rows = {row["community"]: row for row in selectors.figures_by_community(district)}
    assert (rows["和平社区"]["members"], rows["和平社区"]["adopted"], rows["和平社区"]["hours"]) == (1, 0, Decimal("0.00"))


# --- 包片 officials ----------------------------------------------------------------------------

def test_liaisons_hear_of_supervised_matters_in_their_area(city, people):
    leader = UserFactory(username="leader_street_a", email="")
    far = UserFactory(username="leader_street_b", email="")
    liaison_assign(user=leader, level=LiaisonLevel.DISTRICT, area=city.street_a, acting_user=people.district,
                   now=MONDAY)
    liaison_assign(user=far, level=LiaisonLevel.DISTRICT, area=city.street_b, acting_user=people.district,
                   now=MONDAY)
    case = to_status(city, people, Status.DISPATCHED)  # a case of grid A, under street A
    oversight.case_supervise(case=case, acting_user=people.district, now=MONDAY)
    told = Delivery.objects.filter(case=case, channel=DeliveryChannel.INBOX, user__in=[leader, far])
    assert list(told.values_list("user__username", flat=True)) == ["leader_street_a"]


def test_liaison_rules(city, people):
    leader = UserFactory(username="leader")
    with refused("bad_place"):
        liaison_assign(user=leader, level=LiaisonLevel.STREET, area=city.street_a, acting_user=people.district,
                       now=MONDAY)
    with refused("forbidden"):
        liaison_assign(user=leader, level=LiaisonLevel.STREET, area=city.community_b, acting_user=people.street,
                       now=MONDAY)
    liaison = liaison_assign(user=leader, level=LiaisonLevel.STREET, area=city.community_a,
                             acting_user=people.street, now=MONDAY)
    with refused("duplicate"):
        liaison_assign(user=leader, level=LiaisonLevel.STREET, area=city.community_a, acting_user=people.street,
                       now=MONDAY)
    liaison_end(liaison=liaison, acting_user=people.street, now=MONDAY)
    assert Liaison.objects.get().ended_at == MONDAY
