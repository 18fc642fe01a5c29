"""Residents' order pages (下单), no sign-in: place, track, confirm. Bad input gets a
clear error and saves nothing; replays place one order; the public pages show no
names or phones; submissions and code misses are rate-limited."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grid.models import Role
from volunteers import ledger, services
from volunteers.models import Order

from .factories import UserFactory, user_with_post

ORDER = reverse("volunteers:order_place")


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


def text_of(response):
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def token_of(response):
    return re.search(r'name="token" value="([0-9a-f]{32})"', response.content.decode()).group(1)


def order_data(city, client, url=ORDER, **overrides):
    data = {
        "kind": "errand", "street": city.street_a.pk, "community": city.community_a.pk, "grid": city.grid_a.pk,
        "building": city.building_a.pk, "address": "2单元501", "description": "帮我去社区医院取药",
        "reporter_name": "王阿姨", "reporter_phone": "13812345678", "token": token_of(client.get(url)),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_resident_places_an_order_and_follows_it(client, city):
    page = client.get(ORDER)
    assert page.status_code == 200 and "Ask a volunteer" in text_of(page)
    response = client.post(ORDER, order_data(city, client))
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("volunteers:order_track", args=[order.tracking_code])
    assert (order.kind, order.grid_id, order.building_id, order.community_id) == (
        "errand", city.grid_a.pk, city.building_a.pk, city.community_a.pk)
    assert order.contact_phone == "13812345678" and order.placed_by is None and order.status == "open"
    track = client.get(response["Location"])
    html = track.content.decode()
    assert track.status_code == 200 and order.tracking_code in html
    assert "Waiting for a volunteer" in text_of(track) and "帮我去社区医院取药" in html
    for secret in ("王阿姨", "13812345678", "2单元501"):
        assert secret not in html


def test_the_notice_board_link_fixes_the_building(client, city):
    url = reverse("volunteers:order_place_building", args=[city.building_b.pk])
    page = client.get(url)
    assert "和平第一网格" in text_of(page) and 'name="street"' not in page.content.decode()
    data = order_data(city, client, url=url, street=None, community=None, grid=None, building=None)
    assert client.post(url, data).status_code == 302
    assert Order.objects.get().building_id == city.building_b.pk
    assert client.get(reverse("volunteers:order_place_building", args=[99999])).status_code == 404


def test_a_double_submit_places_one_order(client, city):
    data = order_data(city, client)
    first = client.post(ORDER, data)
    second = client.post(ORDER, data)
    assert Order.objects.count() == 1
    assert first["Location"] == second["Location"]


@pytest.mark.parametrize("overrides, message", [
    ({"kind": "bonus"}, "Choose what you need."),
    ({"kind": None}, "Choose what you need."),
    ({"description": "   "}, "Say what you need done."),
    ({"description": "x" * 2001}, "at most 2000 characters"),
    ({"reporter_phone": "call me!"}, "characters a phone number does not have"),
    ({"reporter_phone": ""}, "Give a phone the volunteer can call."),
    ({"reporter_name": ""}, "Say whom the volunteer should ask for."),
    ({"grid": None, "building": None}, "Choose where the matter is"),
    ({"community": "999999999999999999999"}, "does not fit the choices above it"),
    ({"building": "abc"}, "does not fit the choices above it"),
    ({"token": "not-a-token"}, "out of date"),
])
def test_bad_input_is_refused_clearly_and_saves_nothing(client, city, overrides, message):
    response = client.post(ORDER, order_data(city, client, **overrides))
    assert response.status_code == 400
    assert message in text_of(response)
    assert Order.objects.count() == 0


def test_a_building_in_another_grid_is_refused(client, city):
    response = client.post(ORDER, order_data(city, client, building=city.building_b.pk))
    assert response.status_code == 400 and Order.objects.count() == 0


def test_orders_are_rate_limited_per_address(client, city, settings):
    settings.VOLUNTEER_ORDER_RATE = (2, 600)
    for _ in range(2):
        assert client.post(ORDER, order_data(city, client)).status_code == 302
    response = client.post(ORDER, order_data(city, client))
    assert response.status_code == 429 and "Too many orders" in text_of(response)
    assert Order.objects.count() == 2
    assert client.post(ORDER, order_data(city, client), REMOTE_ADDR="10.0.0.9").status_code == 302


def test_other_methods_are_refused(client, city):
    assert client.put(ORDER).status_code == 405
    order = services.order_place(kind="errand", description="取药", contact_name="王", contact_phone="138",
                                 building=city.building_a)
    assert client.get(reverse("volunteers:order_confirm", args=[order.tracking_code])).status_code == 405


def test_staff_placing_for_residents_are_recorded_and_not_throttled(client, city, settings):
    settings.VOLUNTEER_ORDER_RATE = (1, 600)
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    client.force_login(staff)
    for _ in range(3):
        assert client.post(ORDER, order_data(city, client)).status_code == 302
    assert set(Order.objects.values_list("placed_by", flat=True)) == {staff.pk}
    # A signed-in volunteer without a post is throttled like anyone.
    person = UserFactory()
    client.force_login(person)
    assert client.post(ORDER, order_data(city, client)).status_code == 302
    assert client.post(ORDER, order_data(city, client)).status_code == 429


def test_lookup_and_unknown_codes(client, city, settings):
    order = services.order_place(kind="opinion", description="楼道灯坏了的意见", contact_name="李",
                                 contact_phone="13900000000", building=city.building_a)
    typed = " ".join([order.tracking_code[:6].lower(), order.tracking_code[6:]])
    response = client.get(reverse("volunteers:order_track_lookup"), {"code": typed})
    assert response["Location"] == reverse("volunteers:order_track", args=[order.tracking_code])
    bad = client.get(reverse("volunteers:order_track_lookup"), {"code": "12"})
    assert bad.status_code == 400 and "12 letters and digits" in text_of(bad)
    settings.CASE_TRACK_MISS_RATE = (2, 600)
    for code in ("AAAAAAAAAAAA", "<script>"):
        missing = client.get(reverse("volunteers:order_track", args=[code]))
        assert missing.status_code == 404 and "We found no order with this code" in text_of(missing)
    assert client.get(reverse("volunteers:order_track", args=["BBBBBBBBBBBB"])).status_code == 429
    assert client.post(reverse("volunteers:order_confirm", args=["BBBBBBBBBBBB"])).status_code == 429


def test_the_resident_confirms_and_the_volunteer_is_paid_once(client, city):
    person = UserFactory()
    volunteer = services.volunteer_register(home=city.grid_a, user=person, acting_user=person, now=timezone.now())
    order = services.order_place(kind="errand", description="取药", contact_name="王", contact_phone="13800000001",
                                 building=city.building_a)
    track = reverse("volunteers:order_track", args=[order.tracking_code])
    confirm = reverse("volunteers:order_confirm", args=[order.tracking_code])
    # Not done yet: no button, and a forged POST is refused with a message.
    assert "Yes, it was done" not in text_of(client.get(track))
    early = client.post(confirm, follow=True)
    assert "not marked done yet" in text_of(early)
    services.order_claim(order=order, volunteer=volunteer, acting_user=person)
    services.order_done(order=order, acting_user=person)
    page = client.get(track)
    assert "Yes, it was done" in text_of(page) and person.username not in page.content.decode()
    assert volunteer.name not in page.content.decode()
    done = client.post(confirm, follow=True)
    assert "the service is confirmed" in text_of(done)
    client.post(confirm)  # a double click
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert ledger.balance_of(volunteer) == order.points
    assert ledger.books_problems() == []
