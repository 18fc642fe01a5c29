"""Scoping of volunteers' data: one row inside the user's subtree, one outside, and a volunteer's own."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from grid.models import Role
from volunteers import ledger, selectors, services
from volunteers.models import CatalogueItem

from .factories import UserFactory, user_with_post

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def two_communities(city):
    staff_a = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    staff_b = user_with_post(Role.COMMUNITY_STAFF, city.community_b)
    pa, pb = UserFactory(), UserFactory()
    va = services.volunteer_register(home=city.grid_a, user=pa, acting_user=pa, now=NOW)
    vb = services.volunteer_register(home=city.grid_b, user=pb, acting_user=pb, now=NOW)
    ledger.award_bonus(volunteer=va, points=10, reason="x", acting_user=staff_a, now=NOW)
    ledger.award_bonus(volunteer=vb, points=10, reason="x", acting_user=staff_b, now=NOW)
    oa = services.order_place(kind="errand", description="x", contact_name="王", contact_phone="13800000000",
                              building=city.building_a, now=NOW)
    ob = services.order_place(kind="errand", description="y", contact_name="李", contact_phone="13800000001",
                              building=city.building_b, now=NOW)
    return staff_a, staff_b, pa, pb, va, vb, oa, ob


@pytest.mark.parametrize("role,place", [
    (Role.COMMUNITY_STAFF, "community_a"), (Role.STREET_STAFF, "street_a"), (Role.GRID_WORKER, "grid_a"),
    (Role.DISTRICT_OFFICIAL, "district"),
])
def test_staff_see_their_subtree_only(two_communities, city, role, place):
    *_, va, vb, oa, ob = two_communities
    user = user_with_post(role, getattr(city, place))
    volunteers = set(selectors.volunteers_visible_to(user))
    orders = set(selectors.orders_visible_to(user))
    assert va in volunteers and oa in orders
    if role != Role.DISTRICT_OFFICIAL:  # district A holds both communities
        assert vb not in volunteers and ob not in orders
    accounts = selectors.accounts_visible_to(user)
    assert accounts.filter(volunteer=va).exists()


def test_chiefs_and_strangers_see_no_volunteers(two_communities, city):
    *_, va, vb, _oa, _ob = two_communities
    for user in (user_with_post(Role.BUILDING_CHIEF, city.building_a), UserFactory()):
        assert not selectors.volunteers_visible_to(user).exists()
        assert not selectors.accounts_visible_to(user).exists()


def test_a_volunteer_sees_their_own(two_communities):
    _sa, _sb, pa, _pb, va, vb, _oa, _ob = two_communities
    assert list(selectors.volunteers_visible_to(pa)) == [va]
    assert list(selectors.accounts_visible_to(pa).values_list("volunteer", flat=True)) == [va.pk]


def test_ranking_counts_earned_points_not_spending(two_communities, city):
    staff_a, _sb, pa, _pb, va, _vb, _oa, _ob = two_communities
    other = UserFactory()
    v2 = services.volunteer_register(home=city.grid_a, user=other, acting_user=other, now=NOW)
    ledger.award_bonus(volunteer=v2, points=25, reason="x", acting_user=staff_a, now=NOW)
    item = CatalogueItem.objects.create(community=city.community_a, name="理发", kind="service", price=20, stock=3)
    ledger.redeem(volunteer=v2, item=item, acting_user=other, now=NOW)
    wrong = ledger.award_bonus(volunteer=va, points=50, reason="x", acting_user=staff_a, now=NOW)
    ledger.reverse(txn=wrong, reason="mistake", acting_user=staff_a, now=NOW)
    rows = selectors.ranking(city.community_a, since=NOW - timedelta(days=1), until=NOW + timedelta(days=1))
    assert [(r["account__volunteer"], r["points"]) for r in rows] == [(v2.pk, 25), (va.pk, 10)]
    assert selectors.ranking(city.community_b, since=NOW - timedelta(days=1), until=NOW + timedelta(days=1))[0][
        "points"] == 10


def test_administrators_see_everything(two_communities):
    from grid.models import User

    *_, va, vb, oa, ob = two_communities
    admin = User.objects.create_superuser("root-vol", password="x")
    assert {va, vb} <= set(selectors.volunteers_visible_to(admin))
    assert {oa, ob} <= set(selectors.orders_visible_to(admin))
    assert selectors.accounts_visible_to(admin).filter(volunteer__in=[va, vb]).count() == 2
