"""The dashboard's people-and-volunteers panel: residents by care tag, overdue care
visits, volunteer hours and points, for the place and period, never from outside."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from dashboards.figures import Period, Place
from dashboards.page import Dashboard
from grid.models import Role
from volunteers import ledger, services
from volunteers.models import CatalogueItem, ServiceRecord

from .cases_factories import at
from .factories import UserFactory, user_with_post
from .residents_factories import household_in, resident_in, tag

NOW = at(2026, 11, 24, 10)
NOVEMBER = Period("custom", NOW.date().replace(day=1), NOW.date().replace(day=30))


@pytest.fixture
def people_city(city):
    from residents.models import Tag

    first_tag = Tag.objects.order_by("code").first() or tag("party_member")
    inside = household_in(city.unit_a)
    resident_in(inside, "李四", tags=[first_tag], now=NOW - timedelta(days=400))
    outside_unit = city.unit_b  # district A, street B: inside the district, outside street A
    resident_in(household_in(outside_unit), "王五", tags=[first_tag], id_number=None, phone="13900139000",
                now=NOW - timedelta(days=400))
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    member = UserFactory()
    volunteer = services.volunteer_register(home=city.grid_a, user=member, acting_user=member, now=NOW)
    ledger.award_bonus(volunteer=volunteer, points=30, reason="社区好人", acting_user=staff, now=NOW)
    item = CatalogueItem.objects.create(community=city.community_a, name="理发", kind="service", price=20, stock=3)
    ledger.redeem(volunteer=volunteer, item=item, acting_user=member, now=NOW)
    activity = services.activity_add(area=city.community_a, title="巡逻", location="幸福路", capacity=5,
                                     starts_at=NOW - timedelta(hours=3), ends_at=NOW, acting_user=staff,
                                     now=NOW - timedelta(days=1))
    ServiceRecord.objects.create(volunteer=volunteer, activity=activity, started_at=NOW - timedelta(hours=3),
                                 ended_at=NOW, hours=Decimal("2.5"), content="巡逻", confirmed_by=staff,
                                 confirmed_at=NOW)
    return first_tag


def panel(user, area):
    board = Dashboard(user, Place.of(area), NOVEMBER, NOW)
    return {str(label): value for label, value in board.people().rows}


def test_panel_counts_the_place_and_period(city, people_city, make_user):
    district = panel(make_user(Role.DISTRICT_OFFICIAL, city.district), city.district)
    tagged = [v for k, v in district.items() if people_city.name in k]
    assert tagged == [2]
    street_a = panel(make_user(Role.STREET_STAFF, city.street_a), city.street_a)
    assert [v for k, v in street_a.items() if people_city.name in k] == [1]
    values = list(street_a.values())
    # overdue care visits, hours, points issued, points redeemed (the last four rows)
    assert values[-4:] == [1, "2.5", 30, 20]
    assert list(district.values())[-4] == 2
    street_b = panel(make_user(Role.STREET_STAFF, city.street_b), city.street_b)
    assert list(street_b.values())[-4:] == [1, "0.0", 0, 0]


def test_panel_page_is_scoped(city, people_city, make_user, client):
    client.force_login(make_user(Role.STREET_STAFF, city.street_b))
    url = reverse("cases:dashboard_place_people", args=[city.street_a.pk])
    assert client.get(url).status_code == 404
    response = client.get(reverse("cases:dashboard_place_people", args=[city.street_b.pk]), {"fragment": "1"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="table-people"' in body
    assert "李四" not in body and "王五" not in body  # counts only, never names
    full = client.get(reverse("cases:dashboard_place_people", args=[city.street_b.pk]))
    assert "<html" in full.content.decode()
