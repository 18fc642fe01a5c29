"""Activities (sign-up, waiting list, attendance, confirmed hours) and residents' orders."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from grid.models import Role
from portal.errors import DomainError
from volunteers import ledger, services
from volunteers.models import LedgerTransaction, Order, ServiceRecord, Signup

from .factories import UserFactory, user_with_post

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 28, 9, 0, tzinfo=TZ)  # a Saturday morning


@pytest.fixture
def club(city):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    people = [UserFactory() for _ in range(3)]
    volunteers = [services.volunteer_register(home=city.grid_a, user=u, acting_user=u, now=START - timedelta(days=9))
                  for u in people]
    activity = services.activity_add(
        area=city.community_a, title="清理楼道", location="幸福路1号", starts_at=START,
        ends_at=START + timedelta(hours=3), capacity=2, points_per_hour=10, acting_user=staff,
        now=START - timedelta(days=7),
    )
    return staff, people, volunteers, activity


def test_register_twice_is_refused(club, city):
    _staff, (p1, *_), _vols, _activity = club
    with pytest.raises(DomainError):
        services.volunteer_register(home=city.grid_a, user=p1, acting_user=p1)


def test_register_someone_else_needs_a_manager(city):
    someone, stranger = UserFactory(), UserFactory()
    with pytest.raises(DomainError):
        services.volunteer_register(home=city.grid_a, user=someone, acting_user=stranger)


@pytest.mark.parametrize("bad", [
    {"ends_at": START},  # ends when it starts
    {"ends_at": START + timedelta(hours=30)},
    {"capacity": 0},
    {"capacity": 1.5},
    {"points_per_hour": -1},
    {"title": "  "},
])
def test_activity_bad_input(club, city, bad):
    staff, *_ = club
    fields = dict(area=city.community_a, title="x", location="y", starts_at=START, ends_at=START + timedelta(hours=1),
                  capacity=3, acting_user=staff)
    with pytest.raises(DomainError):
        services.activity_add(**{**fields, **bad})


def test_signup_fills_then_waits_then_moves_up(club):
    _staff, people, (v1, v2, v3), activity = club
    before = START - timedelta(days=1)
    s1 = services.signup(activity=activity, volunteer=v1, acting_user=people[0], now=before)
    s2 = services.signup(activity=activity, volunteer=v2, acting_user=people[1], now=before)
    s3 = services.signup(activity=activity, volunteer=v3, acting_user=people[2], now=before)
    assert [s.status for s in (s1, s2, s3)] == ["confirmed", "confirmed", "waiting"]
    assert services.signup(activity=activity, volunteer=v1, acting_user=people[0], now=before).pk == s1.pk  # twice
    services.withdraw(signup_obj=s1, acting_user=people[0], now=before)
    s3.refresh_from_db()
    assert s3.status == "confirmed"
    assert Signup.objects.filter(activity=activity, status="confirmed").count() == 2


def test_signing_up_someone_else_is_refused(club):
    _staff, people, (v1, _v2, _v3), activity = club
    with pytest.raises(DomainError):
        services.signup(activity=activity, volunteer=v1, acting_user=people[1], now=START - timedelta(days=1))


def test_hours_are_confirmed_by_the_organiser_and_earn_points(club):
    staff, people, (v1, *_), activity = club
    entry = services.signup(activity=activity, volunteer=v1, acting_user=people[0], now=START - timedelta(days=1))
    with pytest.raises(DomainError):  # before the activity
        services.check_in(signup_obj=entry, at=START - timedelta(hours=2), acting_user=staff,
                          now=START - timedelta(hours=2))
    with pytest.raises(DomainError):  # the volunteer cannot certify their own hours
        services.check_in(signup_obj=entry, at=START, acting_user=people[0], now=START)
    services.check_in(signup_obj=entry, at=START - timedelta(minutes=10), acting_user=staff, now=START)
    services.check_out(signup_obj=entry, at=START + timedelta(hours=2, minutes=30), acting_user=staff,
                       now=START + timedelta(hours=4))
    record = services.confirm_hours(signup_obj=entry, acting_user=staff, now=START + timedelta(hours=4))
    assert record.hours == Decimal("2.50")  # clipped to the activity's start
    assert ledger.balance_of(v1) == 25
    again = services.confirm_hours(signup_obj=entry, acting_user=staff, now=START + timedelta(hours=5))
    assert again.pk == record.pk and ledger.balance_of(v1) == 25
    services.record_void(record=record, reason="记错了人", acting_user=staff, now=START + timedelta(hours=6))
    assert ledger.balance_of(v1) == 0
    assert ServiceRecord.objects.get(pk=record.pk).void_reason == "记错了人"
    assert ledger.books_problems() == []


def test_overlapping_check_ins_are_refused(club, city):
    staff, people, (v1, *_), activity = club
    other = services.activity_add(area=city.community_a, title="巡逻", location="z", starts_at=START,
                                  ends_at=START + timedelta(hours=2), capacity=5, acting_user=staff,
                                  now=START - timedelta(days=7))
    a = services.signup(activity=activity, volunteer=v1, acting_user=people[0], now=START - timedelta(days=1))
    b = services.signup(activity=other, volunteer=v1, acting_user=people[0], now=START - timedelta(days=1))
    services.check_in(signup_obj=a, at=START, acting_user=staff, now=START)
    with pytest.raises(DomainError):
        services.check_in(signup_obj=b, at=START + timedelta(minutes=5), acting_user=staff,
                          now=START + timedelta(minutes=5))


def test_check_out_before_check_in_is_refused(club):
    staff, people, (v1, *_), activity = club
    entry = services.signup(activity=activity, volunteer=v1, acting_user=people[0], now=START - timedelta(days=1))
    with pytest.raises(DomainError):
        services.check_out(signup_obj=entry, at=START, acting_user=staff, now=START)
    services.check_in(signup_obj=entry, at=START + timedelta(hours=1), acting_user=staff,
                      now=START + timedelta(hours=1))
    with pytest.raises(DomainError):
        services.check_out(signup_obj=entry, at=START + timedelta(minutes=30), acting_user=staff,
                           now=START + timedelta(hours=1))


def test_order_flow_awards_points_once(club, city):
    staff, people, (v1, v2, _v3), _activity = club
    placed = START - timedelta(days=3)
    order = services.order_place(kind="errand", description="帮忙取药", contact_name="王奶奶",
                                 contact_phone="13800000000", building=city.building_a, now=placed)
    assert order.grid_id == city.grid_a.pk and order.status == "open"
    services.order_claim(order=order, volunteer=v1, acting_user=people[0], now=placed)
    assert services.order_claim(order=order, volunteer=v1, acting_user=people[0], now=placed).claimed_by == v1
    with pytest.raises(DomainError):
        services.order_claim(order=order, volunteer=v2, acting_user=people[1], now=placed)
    with pytest.raises(DomainError):  # not done yet
        services.order_confirm(order=order, tracking_code=order.tracking_code, now=placed)
    services.order_done(order=order, acting_user=people[0], now=placed)
    with pytest.raises(DomainError):  # a wrong code is not the resident
        services.order_confirm(order=order, tracking_code="WRONG", now=placed)
    services.order_confirm(order=order, tracking_code=order.tracking_code, now=placed)
    services.order_confirm(order=order, tracking_code=order.tracking_code, now=placed)  # replay
    assert ledger.balance_of(v1) == order.points
    assert LedgerTransaction.objects.filter(kind="order", order=order).count() == 1


def test_unclaimed_orders_escalate_once(club, city):
    placed = START - timedelta(days=3)
    order = services.order_place(kind="opinion", description="反映噪音", contact_name="李", contact_phone="13800000001",
                                 place=city.community_a, now=placed)
    assert services.escalate_unclaimed(now=placed + timedelta(minutes=5)) == 0
    assert services.escalate_unclaimed(now=placed + timedelta(days=3)) == 1
    assert services.escalate_unclaimed(now=placed + timedelta(days=3)) == 0
    assert Order.objects.get(pk=order.pk).status == "escalated"


@pytest.mark.parametrize("bad", [{"kind": "nope"}, {"contact_phone": "call me"}, {"description": ""},
                                 {"building": None, "place": None}])
def test_order_bad_input(city, bad):
    fields = dict(kind="errand", description="x", contact_name="王", contact_phone="13800000000",
                  building=city.building_a)
    with pytest.raises(DomainError):
        services.order_place(**{**fields, **bad})
    assert not Order.objects.exists()


def test_escalation_task_is_thin_and_idempotent(city):
    from django.utils import timezone

    from volunteers.tasks import escalate_unclaimed_orders

    placed = timezone.now() - timedelta(days=10)
    services.order_place(kind="errand", description="x", contact_name="王", contact_phone="13800000000",
                         place=city.community_a, now=placed)
    assert escalate_unclaimed_orders() == 1
    assert escalate_unclaimed_orders() == 0
