"""A volunteer's phone pages: only their own points, sign-ups, orders and redemptions;
buttons through the services; double-clicked and bad redeem forms leave the books sound."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grid.models import Role
from volunteers import ledger, services
from volunteers.models import CatalogueItem, Order, Redemption, Signup

from .factories import UserFactory, user_with_post


def browser(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def follow_messages(response):
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


@pytest.fixture
def club(city):
    now = timezone.now()
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    staff_b = user_with_post(Role.COMMUNITY_STAFF, city.community_b)
    pa, pa2, pb = UserFactory(), UserFactory(), UserFactory()
    va = services.volunteer_register(home=city.grid_a, user=pa, acting_user=pa, now=now)
    va2 = services.volunteer_register(home=city.grid_a, user=pa2, acting_user=pa2, now=now)
    vb = services.volunteer_register(home=city.grid_b, user=pb, acting_user=pb, now=now)
    ledger.award_bonus(volunteer=va, points=100, reason="社区好人甲", acting_user=staff, now=now)
    ledger.award_bonus(volunteer=vb, points=70, reason="和平好人乙", acting_user=staff_b, now=now)
    activity_a = services.activity_add(area=city.community_a, title="清理楼道", location="幸福路1号",
                                       starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=2),
                                       capacity=1, acting_user=staff, now=now)
    activity_b = services.activity_add(area=city.community_b, title="和平巡逻", location="和平路9号",
                                       starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=2),
                                       capacity=5, acting_user=staff_b, now=now)
    order_a = services.order_place(kind="errand", description="买药送上楼", contact_name="王阿姨",
                                   contact_phone="13812345678", building=city.building_a, now=now)
    order_b = services.order_place(kind="errand", description="和平代办", contact_name="李大爷",
                                   contact_phone="13887654321", building=city.building_b, now=now)
    item_a = CatalogueItem.objects.create(community=city.community_a, name="理发券", kind="service", price=30,
                                          stock=5)
    item_b = CatalogueItem.objects.create(community=city.community_b, name="和平大米", kind="prize", price=10,
                                          stock=5)
    return {"staff": staff, "pa": pa, "pa2": pa2, "pb": pb, "va": va, "va2": va2, "vb": vb,
            "activity_a": activity_a, "activity_b": activity_b, "order_a": order_a, "order_b": order_b,
            "item_a": item_a, "item_b": item_b}


def test_pages_need_a_sign_in(client):
    for name in ("me", "activities", "catalogue"):
        response = client.get(reverse(f"volunteers:{name}"))
        assert response.status_code == 302 and "login" in response["Location"]


def test_someone_who_is_not_a_volunteer_is_told_how_to_register(city):
    page = browser(UserFactory()).get(reverse("volunteers:me"))
    assert page.status_code == 200
    assert "not registered as a volunteer" in page.text
    assert "community" in page.text


def test_me_shows_my_own_points_and_open_orders_only(club, django_assert_max_num_queries):
    client = browser(club["pa"])
    with django_assert_max_num_queries(25):
        page = client.get(reverse("volunteers:me"))
    assert page.status_code == 200
    assert "社区好人甲" in page.text and "和平好人乙" not in page.text
    assert ">100<" in page.text
    assert "买药送上楼" in page.text and "和平代办" not in page.text
    # An open order's phone is masked until claimed.
    assert "13812345678" not in page.text and "13887654321" not in page.text


def test_me_query_count_does_not_grow_with_rows(club, city, django_assert_max_num_queries):
    va, pa, staff = club["va"], club["pa"], club["staff"]
    now = timezone.now()
    for i in range(8):
        ledger.award_bonus(volunteer=va, points=1, reason=f"bonus {i}", acting_user=staff, now=now)
        services.order_place(kind="errand", description=f"order {i}", contact_name="王", contact_phone="13800000000",
                             building=city.building_a, now=now)
        CatalogueItem.objects.create(community=city.community_a, name=f"item {i}", kind="prize", price=1, stock=3)
    client = browser(pa)
    with django_assert_max_num_queries(25):
        assert client.get(reverse("volunteers:me")).status_code == 200
    with django_assert_max_num_queries(15):
        assert client.get(reverse("volunteers:catalogue")).status_code == 200
    with django_assert_max_num_queries(15):
        assert client.get(reverse("volunteers:activities")).status_code == 200


def test_activities_lists_my_community_only_and_signs_up(club):
    client = browser(club["pa"])
    page = client.get(reverse("volunteers:activities"))
    assert "清理楼道" in page.text and "和平巡逻" not in page.text
    response = client.post(reverse("volunteers:signup", args=[club["activity_a"].pk]), follow=True)
    assert "signed up" in follow_messages(response)
    assert Signup.objects.get(volunteer=club["va"], activity=club["activity_a"]).status == "confirmed"
    # Another community's activity answers 404.
    assert client.post(reverse("volunteers:signup", args=[club["activity_b"].pk])).status_code == 404
    assert not Signup.objects.filter(activity=club["activity_b"]).exists()


def test_full_activity_puts_the_second_on_the_waiting_list(club):
    browser(club["pa"]).post(reverse("volunteers:signup", args=[club["activity_a"].pk]))
    response = browser(club["pa2"]).post(reverse("volunteers:signup", args=[club["activity_a"].pk]), follow=True)
    assert "waiting list" in follow_messages(response)


def test_withdraw_only_my_own_signup(club):
    now = timezone.now()
    mine = services.signup(activity=club["activity_a"], volunteer=club["va"], acting_user=club["pa"], now=now)
    theirs = services.signup(activity=club["activity_b"], volunteer=club["vb"], acting_user=club["pb"], now=now)
    client = browser(club["pa"])
    page = client.get(reverse("volunteers:me"))
    assert "清理楼道" in page.text
    assert client.post(reverse("volunteers:withdraw", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "confirmed"
    assert client.post(reverse("volunteers:withdraw", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    assert mine.status == "withdrawn"


def test_get_on_a_button_is_refused(club):
    client = browser(club["pa"])
    assert client.get(reverse("volunteers:claim", args=[club["order_a"].pk])).status_code == 405


def test_claim_then_done_and_the_second_claimer_gets_a_message(club):
    order = club["order_a"]
    first, second = browser(club["pa"]), browser(club["pa2"])
    response = first.post(reverse("volunteers:claim", args=[order.pk]), follow=True)
    assert "You claimed order" in follow_messages(response)
    # Claimed: the one who claimed it may reveal the resident's phone (logged, issue #20 item 5), nobody else.
    assert "13812345678" not in response.text and "138****5678" in response.text
    assert reverse("volunteers:order_contact", args=[order.pk]) in response.text
    response = second.post(reverse("volunteers:claim", args=[order.pk]), follow=True)
    assert response.status_code == 200
    assert follow_messages(response) == "This order is no longer open to you."
    order.refresh_from_db()
    assert order.claimed_by == club["va"] and order.status == "claimed"
    assert "13812345678" not in second.get(reverse("volunteers:me")).text
    # Only the claimer may mark it done: others get 404.
    assert second.post(reverse("volunteers:done", args=[order.pk])).status_code == 404
    response = first.post(reverse("volunteers:done", args=[order.pk]), follow=True)
    assert "marked done" in follow_messages(response)
    order.refresh_from_db()
    assert order.status == "done"


def test_orders_of_another_community_are_404(club):
    client = browser(club["pa"])
    assert client.post(reverse("volunteers:claim", args=[club["order_b"].pk])).status_code == 404
    assert client.post(reverse("volunteers:claim", args=[999_999])).status_code == 404
    assert Order.objects.get(pk=club["order_b"].pk).status == "open"


def test_catalogue_lists_my_community_only(club):
    page = browser(club["pa"]).get(reverse("volunteers:catalogue"))
    assert "理发券" in page.text and "和平大米" not in page.text
    assert browser(club["pa"]).post(reverse("volunteers:redeem", args=[club["item_b"].pk]),
                                    {f"i{club['item_b'].pk}-quantity": "1",
                                     f"i{club['item_b'].pk}-token": "a" * 32}).status_code == 404
    assert not Redemption.objects.exists()


def _token(page, item):
    found = re.search(rf'name="i{item.pk}-token" value="([0-9a-f]{{32}})"', page.text)
    assert found, "the redeem form carries a one-time token"
    return found.group(1)


def test_double_submitted_redeem_books_once(club):
    client, item = browser(club["pa"]), club["item_a"]
    token = _token(client.get(reverse("volunteers:catalogue")), item)
    data = {f"i{item.pk}-quantity": "2", f"i{item.pk}-token": token}
    first = client.post(reverse("volunteers:redeem", args=[item.pk]), data, follow=True)
    assert "Redeemed" in follow_messages(first)
    client.post(reverse("volunteers:redeem", args=[item.pk]), data)
    assert Redemption.objects.count() == 1
    assert ledger.balance_of(club["va"]) == 40
    item.refresh_from_db()
    assert item.stock == 3
    assert ledger.books_problems() == []
    # A fresh page gives a fresh token, and a second redemption books.
    token2 = _token(client.get(reverse("volunteers:catalogue")), item)
    assert token2 != token
    client.post(reverse("volunteers:redeem", args=[item.pk]), {f"i{item.pk}-quantity": "1",
                                                              f"i{item.pk}-token": token2})
    assert Redemption.objects.count() == 2 and ledger.balance_of(club["va"]) == 10


@pytest.mark.parametrize("quantity,expected", [
    ("0", "at least one"), ("-1", "at least one"), ("abc", "whole number"), ("", "how many"),
    ("1.5", "whole number"), ("4", "Not enough points"),
])
def test_bad_redeem_input_is_a_message_and_the_books_stay_sound(club, quantity, expected):
    client, item = browser(club["pa"]), club["item_a"]
    token = _token(client.get(reverse("volunteers:catalogue")), item)
    response = client.post(reverse("volunteers:redeem", args=[item.pk]),
                           {f"i{item.pk}-quantity": quantity, f"i{item.pk}-token": token}, follow=True)
    assert response.status_code == 200
    assert expected.lower() in follow_messages(response).lower()
    assert not Redemption.objects.exists()
    assert ledger.balance_of(club["va"]) == 100
    item.refresh_from_db()
    assert item.stock == 5
    assert ledger.books_problems() == []


def test_redeem_with_a_forged_token_is_refused(club):
    client, item = browser(club["pa"]), club["item_a"]
    response = client.post(reverse("volunteers:redeem", args=[item.pk]),
                           {f"i{item.pk}-quantity": "1", f"i{item.pk}-token": "../../x"}, follow=True)
    assert "out of date" in follow_messages(response)
    assert not Redemption.objects.exists()


def test_my_redemptions_show_on_my_page_only(club):
    now = timezone.now()
    ledger.redeem(volunteer=club["vb"], item=club["item_b"], acting_user=club["pb"], now=now)
    ledger.redeem(volunteer=club["va"], item=club["item_a"], acting_user=club["pa"], now=now)
    page = browser(club["pa"]).get(reverse("volunteers:me"))
    assert "理发券" in page.text and "和平大米" not in page.text


def test_nav_link_shows_for_volunteers_only(club):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = club["pa"]
    request.resolver_match = None
    assert "我的志愿服务" in render_to_string("volunteers/_nav.html", {"user": club["pa"], "request": request})
    stranger = UserFactory()
    request.user = stranger
    assert "我的志愿服务" not in render_to_string("volunteers/_nav.html", {"user": stranger, "request": request})
