"""cases/open311/admin.py: staff issue keys (shown once) and revoke them, scoped by the tree."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from cases.open311.models import ApiClient, hash_key
from cases.open311.selectors import client_by_key
from grid.models import Role

from .cases_factories import MONDAY
from .factories import user_with_post
from .open311_factories import issue

# Keys are issued at MONDAY and revoked or used at now: the clock stands just after.
pytestmark = pytest.mark.clock(MONDAY + timedelta(hours=1))


def url(view, *args):
    return reverse(f"admin:open311_apiclient_{view}", args=args)


def browser(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def street_staff(city):
    return user_with_post(Role.STREET_STAFF, city.street_a)


def test_issuing_shows_the_key_once_and_keeps_a_hash(city, street_staff):
    web = browser(street_staff)
    response = web.post(url("add"), {"name": "12345 热线", "contact": "ops@example.org", "area": city.street_a.pk,
                                     "rate_limit": "120"})
    assert response.status_code == 200, response.content[:2000]
    assert "no-store" in response["Cache-Control"]
    key = response.context["key"]
    assert key.encode() in response.content and "only this once" in response.content.decode()
    client = ApiClient.objects.get()
    assert client.key_hash == hash_key(key) and client.created_by == street_staff and client.rate_limit == 120
    assert client_by_key(key) == client
    # The change page never shows it again.
    page = web.get(url("change", client.pk))
    assert page.status_code == 200 and key.encode() not in page.content


def test_cannot_issue_for_a_place_outside_the_subtree(city, street_staff):
    response = browser(street_staff).post(url("add"), {"name": "城南", "area": city.street_b.pk, "rate_limit": "60"})
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not ApiClient.objects.exists()


def test_bad_input_is_refused_on_the_form(city, street_staff):
    response = browser(street_staff).post(url("add"), {"name": "x", "area": city.street_a.pk, "rate_limit": "0"})
    assert response.status_code == 200 and "rate_limit" in response.context["adminform"].form.errors
    assert not ApiClient.objects.exists()


def test_list_and_pages_are_scoped(city, street_staff):
    inside, _ = issue(city.grid_a, name="inside")
    outside, _ = issue(city.street_b, name="outside")
    web = browser(street_staff)
    listing = web.get(url("changelist"))
    assert listing.status_code == 200
    names = [c.name for c in listing.context["cl"].result_list]
    assert names == ["inside"]
    assert web.get(url("change", inside.pk)).status_code == 200
    assert web.get(url("change", outside.pk)).status_code == 404


def test_revoke_action(city, street_staff):
    client, key = issue(city.grid_a, name="app")
    outside, outside_key = issue(city.street_b, name="other")
    web = browser(street_staff)
    response = web.post(url("changelist"), {"action": "revoke", "_selected_action": [client.pk, outside.pk]},
                        follow=True)
    assert response.status_code == 200 and "1 key revoked" in response.content.decode()
    assert client_by_key(key) is None
    assert client_by_key(outside_key) == outside  # not selectable from here


def test_grid_workers_have_no_admin(city):
    worker = user_with_post(Role.GRID_WORKER, city.grid_a)
    response = browser(worker).get(url("changelist"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_attributes_are_reference_data_for_district_officials(city):
    from cases.open311.models import ServiceAttribute

    from .cases_factories import category

    official = user_with_post(Role.DISTRICT_OFFICIAL, city.district)
    web = browser(official)
    add = reverse("admin:open311_serviceattribute_add")
    base = {"category": category("E0101").pk, "code": "smell", "description": "有异味吗？", "order": "1"}
    refused = web.post(add, {**base, "datatype": "singlevaluelist", "values": "[]"})
    assert refused.status_code == 200 and "values" in refused.context["adminform"].form.errors
    done = web.post(add, {**base, "datatype": "singlevaluelist",
                          "values": '[{"key": "yes", "name": "有"}, {"key": "no", "name": "无"}]'})
    assert done.status_code == 302 and ServiceAttribute.objects.get().code == "smell"
    street = browser(user_with_post(Role.STREET_STAFF, city.street_a))
    assert street.get(add).status_code == 403
