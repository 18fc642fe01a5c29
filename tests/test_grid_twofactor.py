"""Two-step sign-in (TOTP, django-otp; grid/twofactor.py, issue #20 item 2).

Enforced when OTP_REQUIRED is on (production's default) for superusers and the posts
that may reveal ID numbers, on every page and the admin; off in the demo, where
whoever enrolled on their own is still asked. Wrong and malformed codes are refused.
"""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from grid.models import Role
from residents.models import AccessField
from residents.selectors import REVEAL_ROLES

from .factories import UserFactory, user_with_post

ROOT = Path(__file__).resolve().parent.parent
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
PASSWORD = "pw-Portal-2026"
required = override_settings(OTP_REQUIRED=True)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff(city):
    return user_with_post(Role.COMMUNITY_STAFF, city.community_a, is_staff=True)


def sign_in(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert client.post(reverse("login"), {"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def code_for(device, *, shift=0):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + shift):06d}"


def enrol(client, user):
    client.get(reverse("twofactor_enrol"))
    device = TOTPDevice.objects.get(user=user)
    response = client.post(reverse("twofactor_enrol"), {"token": code_for(device), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    return device


def test_the_required_roles_are_those_that_may_reveal_id_numbers(settings):
    from cases.workflow import MEDIATOR_ROLES
    from grid.models import MANAGING_ROLES

    # Residents' ID numbers, and mediation parties' (their mediators and the managing staff over the place).
    revealing = set(REVEAL_ROLES[AccessField.ID_NUMBER]) | set(MANAGING_ROLES) | set(MEDIATOR_ROLES)
    assert set(settings.OTP_REQUIRED_ROLES) == revealing


def test_off_in_the_demo_nobody_is_asked(staff):
    client = sign_in(staff)
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 200


@required
def test_enforced_every_page_and_the_admin_send_to_enrolment_until_a_code_is_given(staff, clock):
    client = sign_in(staff)
    for url in (reverse("home"), reverse("admin:index"), reverse("admin:grid_area_changelist")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("twofactor_enrol") + "?next=")

    page = client.get(reverse("twofactor_enrol") + "?next=/admin/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body and "两步" in body and 'name="viewport"' in body
    device = TOTPDevice.objects.get(user=staff)
    assert not device.confirmed

    enrol(client, staff)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("home")).status_code == 200


@required
def test_wrong_and_malformed_codes_are_refused_and_nothing_is_confirmed(staff, clock):
    client = sign_in(staff)
    client.get(reverse("twofactor_enrol"))
    device = TOTPDevice.objects.get(user=staff)
    for bad in ("000000" if code_for(device) != "000000" else "111111", "abc", "", "1234567890123"):
        response = client.post(reverse("twofactor_enrol"), {"token": bad})
        assert response.status_code == 400
        assert 'class="field-error"' in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get(reverse("home")).status_code == 302


@required
def test_each_sign_in_asks_for_a_fresh_code_and_refuses_a_wrong_one(staff, clock):
    device = enrol(sign_in(staff), staff)
    clock.shift(datetime.timedelta(minutes=5))

    client = sign_in(staff)
    response = client.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("twofactor_verify") + "?next=")
    wrong = code_for(device, shift=5)
    response = client.post(reverse("twofactor_verify"), {"token": wrong, "next": "/admin/"})
    assert response.status_code == 400
    assert "验证码不正确" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302

    clock.shift(datetime.timedelta(seconds=30))  # django-otp makes the next try wait after a failure
    device.refresh_from_db()
    response = client.post(reverse("twofactor_verify"), {"token": code_for(device), "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200


@required
def test_a_code_cannot_be_used_twice(staff, clock):
    device = enrol(sign_in(staff), staff)
    used = code_for(device)
    client = sign_in(staff)
    assert client.post(reverse("twofactor_verify"), {"token": used}).status_code == 400


@required
def test_next_never_leaves_the_portal(staff, clock):
    client = sign_in(staff)
    client.get(reverse("twofactor_enrol"))
    device = TOTPDevice.objects.get(user=staff)
    response = client.post(reverse("twofactor_enrol"), {"token": code_for(device),
                                                        "next": "https://evil.example/steal"})
    assert response["Location"] == reverse("home")


@required
def test_roles_that_cannot_reveal_id_numbers_are_not_asked_but_superusers_are(city, clock):
    chief = user_with_post(Role.GRID_CHIEF, city.grid_a)
    assert sign_in(chief).get(reverse("home")).status_code == 200
    admin_user = UserFactory(is_superuser=True, is_staff=True)
    assert sign_in(admin_user).get(reverse("admin:index"))["Location"].startswith(reverse("twofactor_enrol"))


def test_in_the_demo_who_enrolled_on_their_own_is_asked(city, clock):
    worker = user_with_post(Role.GRID_WORKER, city.grid_a)
    client = sign_in(worker)
    assert client.get(reverse("home")).status_code == 200
    client.get(reverse("twofactor_enrol"))
    device = TOTPDevice.objects.get(user=worker)
    client.post(reverse("twofactor_enrol"), {"token": code_for(device)})
    clock.shift(datetime.timedelta(minutes=1))
    again = sign_in(worker)
    assert again.get(reverse("home"))["Location"].startswith(reverse("twofactor_verify"))


def test_the_pages_need_a_sign_in():
    for name in ("twofactor_enrol", "twofactor_verify"):
        assert Client().get(reverse(name))["Location"].startswith(reverse("login"))


@required
def test_only_administrators_see_the_devices_in_the_admin_and_nobody_adds_one(staff, clock):
    enrol(sign_in(staff), staff)
    client = sign_in(staff)
    device = TOTPDevice.objects.get(user=staff)
    client.post(reverse("twofactor_verify"), {"token": code_for(device, shift=1)})  # verified or not: no access
    changelist = reverse("admin:otp_totp_totpdevice_changelist")
    assert client.get(changelist).status_code in (302, 403)

    admin_user = UserFactory(is_superuser=True, is_staff=True)
    admin_client = Client()
    with override_settings(OTP_REQUIRED=False):
        admin_client.force_login(admin_user)
        assert admin_client.get(changelist).status_code == 200
        assert admin_client.get(reverse("admin:otp_totp_totpdevice_add")).status_code == 403
        assert admin_client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).status_code == 200


def test_production_requires_it_by_default_and_the_demo_does_not():
    def setting(**env):
        environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "PORTAL_ENV")}
        environ.update(env)
        result = subprocess.run([sys.executable, "-c", "import portal.settings as s; print(s.OTP_REQUIRED)"],
                                cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    strong = {"PORTAL_ENV": "production", "DJANGO_SECRET_KEY": "k" * 8 + "-production-secret-0123456789-abcdef",
              "FIELD_ENCRYPTION_SALTS": "Zq3vN8pX2rT6yW1mK9bH4cJ7dF5gL0sA-e_u",
              "RESIDENT_INDEX_KEY": "p0O9i8U7y6T5r4E3w2Q1-aSdFgHjKlZxCvBnM_"}
    assert setting(**strong) == "True"
    assert setting() == "False"
    assert setting(PORTAL_REQUIRE_OTP="1") == "True"
