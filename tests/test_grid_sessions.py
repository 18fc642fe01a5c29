"""Session lifetime by role (grid/sessions.py, issue #20 item 2): a sign-in unused past
its role's limit ends, the limit slides with use, and staff who can reveal personal data
get the short limits. The clock is frozen and moved by hand."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from grid import sessions
from grid.models import Role
from residents.models import AccessField
from residents.selectors import REVEAL_ROLES

from .factories import UserFactory, user_with_post

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
PASSWORD = "pw-Portal-2026"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def signed_in_client(user):
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, "the sign-in itself failed"
    return client


def is_signed_in(client):
    return "_auth_user_id" in client.session


def test_community_staff_are_signed_out_after_two_idle_hours(city, clock):
    user = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    client = signed_in_client(user)
    # The cookie and the stored session end with the limit (plus the write's resolution).
    assert 2 * 3600 <= client.session.get_expiry_age() <= 2 * 3600 + 2 * settings.SESSION_ACTIVITY_RESOLUTION

    clock.shift(datetime.timedelta(hours=1, minutes=59))
    assert client.get(reverse("home")).status_code == 200
    assert is_signed_in(client)

    # The use just now slid the limit: two idle hours from here, not from the sign-in.
    clock.shift(datetime.timedelta(hours=1, minutes=59))
    assert client.get(reverse("home")).status_code == 200

    clock.shift(datetime.timedelta(hours=2, minutes=1))
    with translation.override("zh-hans"):
        response = client.get(reverse("home") + "?tab=1")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert not is_signed_in(client)
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "为保护居民个人信息" in page.content.decode()


def test_the_admin_sends_an_expired_sign_in_to_its_own_login(city, clock):
    user = user_with_post(Role.COMMUNITY_STAFF, city.community_a, is_staff=True)
    client = signed_in_client(user)
    clock.shift(datetime.timedelta(hours=2, minutes=2))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert not is_signed_in(client)


@pytest.mark.parametrize("role, place, hours", [
    (Role.GRID_WORKER, "grid_a", 4),
    (Role.STREET_STAFF, "street_a", 4),
    (Role.DISTRICT_OFFICIAL, "district", 8),
])
def test_each_role_has_its_own_limit(city, clock, role, place, hours):
    user = user_with_post(role, getattr(city, place))
    client = signed_in_client(user)
    clock.shift(datetime.timedelta(hours=hours) - datetime.timedelta(minutes=2))
    client.get(reverse("home"))
    assert is_signed_in(client)
    clock.shift(datetime.timedelta(hours=hours, minutes=2))
    client.get(reverse("home"))
    assert not is_signed_in(client)


def test_roles_without_personal_data_keep_the_default_lifetime(city, clock):
    chief = user_with_post(Role.GRID_CHIEF, city.grid_a)
    client = signed_in_client(chief)
    assert client.session.get_expiry_age() >= settings.SESSION_COOKIE_AGE
    clock.shift(datetime.timedelta(days=3))
    client.get(reverse("home"))
    assert is_signed_in(client)


def test_several_posts_take_the_shortest_limit_and_superusers_are_short(city):
    user = user_with_post(Role.DISTRICT_OFFICIAL, city.other_district)
    from grid import services

    services.post_grant(user=user, role=Role.COMMUNITY_STAFF, place=city.community_a)
    assert sessions.idle_limit_for(user) == 120 * 60
    assert sessions.idle_limit_for(UserFactory(is_superuser=True, is_staff=True)) == 120 * 60
    assert sessions.idle_limit_for(UserFactory()) == settings.SESSION_COOKIE_AGE


def test_a_busy_page_does_not_write_the_session_on_every_request(city, clock):
    user = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    client = signed_in_client(user)
    seen = client.session[sessions.SEEN_KEY]
    clock.shift(datetime.timedelta(seconds=30))
    client.get(reverse("home"))
    assert client.session[sessions.SEEN_KEY] == seen  # within the resolution: no write
    clock.shift(datetime.timedelta(seconds=31))
    client.get(reverse("home"))
    assert client.session[sessions.SEEN_KEY] == seen + 61


def test_every_post_that_may_reveal_personal_data_has_a_short_limit():
    limits = settings.SESSION_IDLE_MINUTES_BY_ROLE
    for field in AccessField:
        for role in REVEAL_ROLES.get(field, ()):
            assert limits.get(role, 10**9) <= 240, (field, role)
