"""Every page declares the portal's icon: the admin, the command screen and the 500 page had none,
so each browser asked for /favicon.ico, a 404 in every staffer's log."""

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.test import Client, RequestFactory
from django.urls import reverse

from grid.models import Role
from portal.error_pages import server_error

pytestmark = pytest.mark.django_db


def declares_icon(html):
    return f'rel="icon" href="{staticfiles_storage.url("icons/favicon.ico")}"' in html


def test_the_admin_and_the_public_pages_declare_the_icon(city, make_user):
    staff = Client()
    staff.force_login(make_user(Role.COMMUNITY_STAFF, city.community_a))
    assert declares_icon(staff.get(reverse("admin:index")).content.decode())
    assert declares_icon(Client().get(reverse("admin:login")).content.decode())
    assert declares_icon(Client().get("/report/").content.decode())
    official = Client()
    official.force_login(make_user(Role.DISTRICT_OFFICIAL, city.district))
    screen = official.get(reverse("cases:command_screen_place", args=[city.district.pk]))
    assert screen.status_code == 200 and declares_icon(screen.content.decode())


def test_the_500_page_declares_the_icon():
    response = server_error(RequestFactory().get("/anything/"))
    assert response.status_code == 500 and declares_icon(response.content.decode())
