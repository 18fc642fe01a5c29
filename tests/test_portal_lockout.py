"""Sign-in lockout (django-axes, issue #20): five wrong passwords lock the account and
the address for 15 minutes on every sign-in form, the admin's included; the lockout
page is Chinese; administrators unlock in the admin."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from grid.models import Role

from .factories import UserFactory, user_with_post

PASSWORD = "pw-Portal-2026"  # the factories' password
FORMS = {"portal": "login", "admin": "admin:login"}


@pytest.fixture(autouse=True)
def chinese():
    translation.activate("zh-hans")
    yield
    translation.deactivate()


@pytest.fixture
def staff(city):
    user = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def sign_in(client, form, username, password):
    return client.post(reverse(FORMS[form]), {"username": username, "password": password})


def signed_in(client):
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("form", list(FORMS))
def test_five_wrong_passwords_lock_the_account_until_the_cool_off(staff, form):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = Client(REMOTE_ADDR="10.0.0.1")
        for _ in range(5):
            assert sign_in(client, form, staff.username, "wrong").status_code in (200, 429)
        locked = sign_in(client, form, staff.username, PASSWORD)
        assert locked.status_code == 429 and not signed_in(client)
        text = locked.content.decode()
        assert "登录失败次数过多" in text and "15 分钟" in text

        # By account: another address does not help…
        elsewhere = Client(REMOTE_ADDR="10.0.0.2")
        assert sign_in(elsewhere, form, staff.username, PASSWORD).status_code == 429
        assert not signed_in(elsewhere)
    # …until the cool-off has passed.
    with time_machine.travel(start + datetime.timedelta(minutes=15, seconds=1), tick=False):
        client = Client(REMOTE_ADDR="10.0.0.1")
        assert sign_in(client, form, staff.username, PASSWORD).status_code == 302
        assert signed_in(client)


def test_the_address_is_locked_for_every_account(city, staff):
    other = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    client = Client(REMOTE_ADDR="10.0.0.9")
    for n in range(5):
        sign_in(client, "portal", f"nobody-{n}", "wrong")
    assert sign_in(client, "portal", other.username, PASSWORD).status_code == 429
    assert not signed_in(client)


def test_a_success_resets_the_count(staff):
    client = Client(REMOTE_ADDR="10.0.0.3")
    for _ in range(4):
        sign_in(client, "portal", staff.username, "wrong")
    assert sign_in(client, "portal", staff.username, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        sign_in(client, "portal", staff.username, "wrong")
    assert sign_in(client, "portal", staff.username, PASSWORD).status_code == 302


def test_an_administrator_unlocks_in_the_admin(staff):
    from axes.models import AccessAttempt

    client = Client(REMOTE_ADDR="10.0.0.4")
    for _ in range(5):
        sign_in(client, "portal", staff.username, "wrong")
    assert AccessAttempt.objects.filter(username=staff.username).exists()  # counted in the database
    admin = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)
    attempts = browser.get(reverse("admin:axes_accessattempt_changelist"))
    assert attempts.status_code == 200 and staff.username in attempts.content.decode()
    attempt = AccessAttempt.objects.get(username=staff.username)
    browser.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert not AccessAttempt.objects.exists()
    assert sign_in(client, "portal", staff.username, PASSWORD).status_code == 302
