"""The 403 page says why when the portal refused a page for the user's posts, and only then:
Django's own refusals carry developers' words, which stay off the page."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse

from grid.models import Role
from portal.error_pages import permission_denied
from portal.errors import PostRefused

pytestmark = pytest.mark.django_db


def test_a_post_refusal_says_why_and_django_refusals_do_not():
    request = RequestFactory().get("/anything/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    shown = permission_denied(request, PostRefused("三长不查阅居民信息。")).content.decode()
    assert "三长不查阅居民信息。" in shown
    hidden = permission_denied(request, PermissionDenied("csrf middleware internals")).content.decode()
    assert "csrf middleware internals" not in hidden


@pytest.mark.parametrize("role, place", [(Role.GRID_CHIEF, "grid_a"), (Role.BUILDING_CHIEF, "building_a")])
def test_a_chief_is_told_why_the_residents_pages_are_closed(city, make_user, role, place):
    chief = make_user(role, getattr(city, place))
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(chief)
    page = web.get(reverse("residents:list"))
    assert page.status_code == 403
    assert "records are for grid workers and staff" in page.content.decode()
