"""cases/admin_mediation.py: mediation files read in the admin inside the staff's places only,
parties masked; mediation rooms added through the service, on communities or streets they manage."""

import pytest
from django.test import Client
from django.urls import reverse

from cases.models import MediationRoom

from .cases_factories import MONDAY, fresh_calendar, people  # noqa: F401
from .mediation_factories import APPLICANT_ID, dispute, med, with_parties  # noqa: F401

pytestmark = pytest.mark.clock(MONDAY)


def url(model, view, *args):
    return reverse(f"admin:cases_{model}_{view}", args=args)


def browser(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def pair(city, people, med):
    inside = dispute(city, people)
    with_parties(inside, people.community)
    outside = dispute(city, people, staff=people.community_b, building=city.building_b)
    return inside, outside


def test_files_inside_only_and_parties_masked(people, med, pair):
    inside, outside = pair
    client = browser(people.community)
    page = client.get(url("mediation", "changelist"))
    assert page.status_code == 200
    assert "（2026）幸福社区调字第001号" in page.text and "和平社区" not in page.text
    change = client.get(url("mediation", "change", inside.pk))
    assert change.status_code == 200
    assert APPLICANT_ID[:6] + "********" in change.text and APPLICANT_ID not in change.text
    assert "13911112222" not in change.text
    assert reverse("cases:mediation", args=[inside.pk]) in change.text
    assert client.get(url("mediation", "change", outside.pk)).status_code == 404
    # A mediator's post is not an admin's.
    assert browser(med.mediator).get(url("mediation", "changelist")).status_code in (302, 403)


def test_rooms_on_a_managed_community_or_street(city, people, med):
    client = browser(people.community)
    before = MediationRoom.objects.count()
    response = client.post(url("mediationroom", "add"), {"area": city.grid_a.pk, "name": "网格调解点",
                                                          "is_active": "on"})
    assert response.status_code == 200 and "community or a street" in response.text
    response = client.post(url("mediationroom", "add"), {"area": city.community_b.pk, "name": "别人的",
                                                          "is_active": "on"})
    assert response.status_code == 200  # not a choice for this user
    response = client.post(url("mediationroom", "add"), {"area": city.community_a.pk, "name": " ",
                                                          "is_active": "on"})
    assert response.status_code == 200
    assert MediationRoom.objects.count() == before
    response = client.post(url("mediationroom", "add"), {"area": city.community_a.pk, "name": "第二调解室",
                                                          "address": "幸福路2号", "is_active": "on"})
    assert response.status_code == 302
    assert MediationRoom.objects.filter(area=city.community_a, name="第二调解室").exists()
    assert client.get(url("mediationroom", "change", med.room_b.pk)).status_code == 404


def test_referring_bodies_on_keys_of_managed_places(city, people):
    from cases.models import MediationReferrer

    from .open311_factories import issue

    inside_key, _raw = issue(city.street_a, name="城关区人民法院")
    outside_key, _raw = issue(city.street_b, name="城南派出所")
    outside = MediationReferrer.objects.create(client=outside_key, source="police", body="城南派出所")
    client = browser(people.street)
    # A key of another street is no choice; "direct" is no referring channel; nothing written.
    for data in ({"client": outside_key.pk, "source": "court", "body": "城关区人民法院"},
                 {"client": inside_key.pk, "source": "direct", "body": "城关区人民法院"},
                 {"client": inside_key.pk, "source": "court", "body": " "}):
        refused = client.post(url("mediationreferrer", "add"), data)
        assert refused.status_code == 200 and "errornote" in refused.text, data
    assert MediationReferrer.objects.count() == 1
    added = client.post(url("mediationreferrer", "add"),
                        {"client": inside_key.pk, "source": "court", "body": "城关区人民法院"})
    assert added.status_code == 302
    assert MediationReferrer.objects.get(client=inside_key).body == "城关区人民法院"
    page = client.get(url("mediationreferrer", "changelist"))
    assert "城关区人民法院" in page.text and "城南派出所" not in page.text
    assert client.get(url("mediationreferrer", "change", outside.pk)).status_code == 404
