"""Organisations (职能部门, utilities, 物业, 业委会...): their services, scope and admin.

Each scoped page is tried with an organisation seated inside the staff member's places and one
outside; each refused input leaves nothing written.
"""

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from grid import selectors, services, services_orgs
from grid.models import Jurisdiction, Organisation, Post, Role
from portal.errors import DomainError

from .factories import make_organisation, user_with_post

pytestmark = pytest.mark.django_db


def create(**overrides):
    values = {
        "name": "城北街道城管执法中队", "code": "CB-CG", "kind": "department", "function": "urban_mgmt",
        "phone": "0816-2220001", "acting_user": None,
    }
    values.update(overrides)
    return services_orgs.organisation_create(**values)


def test_create_with_jurisdiction(city):
    org = create(seat=city.street_a, areas=[city.community_a], buildings=[city.building_a])
    rows = {(j.area_id, j.building_id) for j in org.jurisdiction.all()}
    assert rows == {(city.community_a.pk, None), (None, city.building_a.pk)}


@pytest.mark.parametrize("overrides, code", [
    ({"name": "  "}, "no_name"),
    ({"phone": ""}, "no_phone"),
    ({"code": ""}, "no_code"),
    ({"kind": "utility", "function": "police"}, "bad_function"),
    ({"kind": "nonsense"}, "bad_kind"),
    ({"function": "nonsense"}, "bad_function"),
    ({"name": "长" * 101}, "too_long"),
])
def test_bad_input_is_refused_and_nothing_written(city, overrides, code):
    with pytest.raises(DomainError) as refused:
        create(seat=city.street_a, **overrides)
    assert refused.value.code == code
    assert not Organisation.objects.exists()


def test_seat_must_be_a_district_street_or_community(city):
    with pytest.raises(DomainError) as refused:
        create(seat=city.grid_a)
    assert refused.value.code == "bad_seat"


def test_street_staff_cannot_seat_or_cover_outside_their_street(city):
    staff = user_with_post(Role.STREET_STAFF, city.street_a)
    with pytest.raises(DomainError) as refused:
        create(seat=city.street_b, acting_user=staff)
    assert refused.value.code == "forbidden"
    with pytest.raises(DomainError):
        create(seat=city.street_a, areas=[city.community_b], acting_user=staff)
    assert not Organisation.objects.exists() and not Jurisdiction.objects.exists()


def test_only_a_district_organisation_covers_the_district(city):
    with pytest.raises(DomainError) as refused:
        create(seat=city.street_a, areas=[city.district])
    assert refused.value.code == "bad_jurisdiction"
    assert not Organisation.objects.exists()


def test_duplicate_code_refused(city):
    create(seat=city.street_a)
    with pytest.raises(DomainError) as refused:
        create(seat=city.street_a, name="另一个")
    assert refused.value.code == "duplicate"
    assert Organisation.objects.count() == 1


def test_database_refuses_a_function_that_does_not_fit_the_kind(city):
    org = create(seat=city.street_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.filter(pk=org.pk).update(kind="utility")


def test_update_replaces_jurisdiction(city):
    org = create(seat=city.street_a, areas=[city.community_a])
    services_orgs.organisation_update(organisation=org, areas=[], buildings=[city.building_a], acting_user=None,
                                      phone="0816-1")
    org.refresh_from_db()
    assert org.phone == "0816-1"
    assert [(j.area_id, j.building_id) for j in org.jurisdiction.all()] == [(None, city.building_a.pk)]


def test_staff_post_on_an_organisation_reaches_it_and_no_place(city):
    org = create(seat=city.street_a, areas=[city.community_a])
    worker = user_with_post(Role.ORG_STAFF, org)
    scope = selectors.scope_of(worker)
    assert scope.organisation_ids == {org.pk}
    assert not scope.spans and not scope.is_empty
    assert not selectors.areas_visible_to(worker).exists()
    assert not selectors.buildings_visible_to(worker).exists()
    assert list(selectors.organisations_visible_to(worker)) == [org]
    assert not selectors.organisations_visible_to(worker, managing=True).exists()
    assert not selectors.is_manager(worker)


def test_deactivated_organisation_reaches_nothing(city):
    org = create(seat=city.street_a)
    worker = user_with_post(Role.ORG_STAFF, org)
    services_orgs.organisation_set_active(organisation=org, active=False, acting_user=None)
    selectors.forget_scope(worker)
    assert selectors.scope_of(worker).organisation_ids == frozenset()
    with pytest.raises(DomainError) as refused:
        services.post_grant(user=user_with_post(Role.GRID_WORKER, city.grid_a), role=Role.ORG_STAFF, place=org)
    assert refused.value.code == "inactive"


def test_roles_and_places_must_match(city):
    org = create(seat=city.street_a)
    user = user_with_post(Role.GRID_WORKER, city.grid_a)
    with pytest.raises(DomainError) as refused:
        services.post_grant(user=user, role=Role.GRID_WORKER, place=org)
    assert refused.value.code == "bad_place"
    with pytest.raises(DomainError) as refused:
        services.post_grant(user=user, role=Role.ORG_STAFF, place=city.grid_a)
    assert refused.value.code == "bad_place"
    assert Post.objects.filter(user=user).count() == 1


def test_only_the_seats_managers_appoint_staff(city):
    org = create(seat=city.street_a)
    other_street = user_with_post(Role.STREET_STAFF, city.street_b)
    newcomer = user_with_post(Role.GRID_WORKER, city.grid_b)
    with pytest.raises(DomainError) as refused:
        services.post_grant(user=newcomer, role=Role.ORG_STAFF, place=org, acting_user=other_street)
    assert refused.value.code == "forbidden"
    own_street = user_with_post(Role.STREET_STAFF, city.street_a)
    services.post_grant(user=newcomer, role=Role.ORG_STAFF, place=org, acting_user=own_street)
    assert Post.objects.filter(user=newcomer, organisation=org).exists()


def test_organisations_covering_walks_up_the_tree_and_takes_buildings(city):
    police = create(seat=city.street_a, function="police", code="P1", areas=[city.street_a])
    property_co = create(seat=city.community_a, kind="property", function="property", code="W1",
                         buildings=[city.building_a])
    elsewhere = create(seat=city.street_b, code="X1", areas=[city.community_b])
    covering = set(selectors.organisations_covering(area=city.grid_a, building=city.building_a))
    assert covering == {police, property_co}
    assert set(selectors.organisations_covering(area=city.grid_a2)) == {police}
    assert elsewhere not in covering


# --- admin ------------------------------------------------------------------------------

def browser(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_admin_lists_and_opens_only_organisations_seated_in_ones_places(city):
    inside = make_organisation(seat=city.street_a, name="城北城管")
    outside = make_organisation(seat=city.street_b, name="城南城管")
    client = browser(user_with_post(Role.STREET_STAFF, city.street_a))
    listing = client.get(reverse("admin:grid_organisation_changelist"))
    assert listing.status_code == 200
    assert "城北城管" in listing.text and "城南城管" not in listing.text
    assert client.get(reverse("admin:grid_organisation_change", args=[inside.pk])).status_code == 200
    assert client.get(reverse("admin:grid_organisation_change", args=[outside.pk])).status_code == 404


def test_admin_add_with_bad_input_shows_the_refusal_and_writes_nothing(city):
    client = browser(user_with_post(Role.STREET_STAFF, city.street_a))
    response = client.post(reverse("admin:grid_organisation_add"), {
        "name": "城北供水", "code": "GS-1", "kind": "utility", "function": "police", "seat": city.street_a.pk,
        "phone": "0816-1", "areas": [city.community_a.pk],
        "post_set-TOTAL_FORMS": "0", "post_set-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200
    assert "cannot have the function" in response.text
    assert not Organisation.objects.exists()


def test_admin_add_refuses_a_place_outside_the_scope(city):
    client = browser(user_with_post(Role.STREET_STAFF, city.street_a))
    response = client.post(reverse("admin:grid_organisation_add"), {
        "name": "城北供水", "code": "GS-1", "kind": "utility", "function": "water", "seat": city.street_a.pk,
        "phone": "0816-1", "areas": [city.community_b.pk],
        "post_set-TOTAL_FORMS": "0", "post_set-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200
    assert not Organisation.objects.exists()


def test_admin_add_writes_through_the_service(city):
    client = browser(user_with_post(Role.STREET_STAFF, city.street_a))
    response = client.post(reverse("admin:grid_organisation_add"), {
        "name": "城北供水", "code": "GS-1", "kind": "utility", "function": "water", "seat": city.street_a.pk,
        "phone": "0816-1", "areas": [city.community_a.pk],
        "post_set-TOTAL_FORMS": "0", "post_set-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.text[:2000]
    org = Organisation.objects.get()
    assert [j.area_id for j in org.jurisdiction.all()] == [city.community_a.pk]
