"""Participation in the admin: read-only and scoped to managing posts, inside and outside."""

import pytest
from django.urls import reverse

from .participation_factories import cast, fresh_calendar  # noqa: F401
from .test_participation_views import records

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["proposal", "meeting", "track", "project"])
def test_the_changelist_shows_only_the_managed_subtree_and_nothing_is_editable(client, cast, model):
    inside, outside = records(cast, cast.city.grid_a), records(cast, cast.city.grid_b)
    cast.staff.is_staff = True
    cast.staff.save()
    client.force_login(cast.staff)
    listing = client.get(reverse(f"admin:participation_{model}_changelist"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert reverse(f"admin:participation_{model}_change", args=[inside[model].pk]) in page
    assert reverse(f"admin:participation_{model}_change", args=[outside[model].pk]) not in page
    outside_url = reverse(f"admin:participation_{model}_change", args=[outside[model].pk])
    assert client.get(outside_url).status_code == 404  # outside the subtree, as if it did not exist
    assert client.get(reverse(f"admin:participation_{model}_add")).status_code == 403
    before = type(inside[model]).objects.filter(pk=inside[model].pk).values().get()
    refused = client.post(reverse(f"admin:participation_{model}_change", args=[inside[model].pk]), {"title": "改"})
    assert refused.status_code == 403  # read-only: refused before the form is even looked at
    assert type(inside[model]).objects.filter(pk=inside[model].pk).values().get() == before


def test_a_grid_worker_has_no_admin_rows(client, cast):
    records(cast, cast.city.grid_a)
    cast.worker.is_staff = True
    cast.worker.save()
    client.force_login(cast.worker)
    response = client.get(reverse("admin:participation_proposal_changelist"))
    assert response.status_code == 403  # a grid worker manages nothing here
    assert "加装充电桩" not in response.content.decode()
