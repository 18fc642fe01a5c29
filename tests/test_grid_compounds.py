"""Compounds (小区/院落, issue #23): numbers unique within a compound, a compound in one community,
the grid merge that was refused while buildings hung only on grids, the data migration that reads
the compounds from the buildings' names, the seed, and the admin's scope."""

import io
from importlib import import_module

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse

from grid import services, services_compounds
from grid.models import AreaKind, Building, Compound, OrgKind
from grid.models import Role
from portal.errors import DomainError

from .factories import UserFactory, make_organisation, user_with_post

pytestmark = pytest.mark.django_db
migration = import_module("grid.migrations.0009_buildings_into_compounds")


def counts():
    return Compound.objects.count(), list(Building.objects.order_by("pk").values_list("pk", "grid_id", "compound_id",
                                                                                      "number"))


# --- the merge refused while buildings hung only on grids ------------------------------------

def test_two_grids_with_a_1号楼_merge_once_each_building_is_in_its_compound(city):
    services.building_add(grid=city.grid_a2, number="1号楼", address="幸福路8号")
    with pytest.raises(DomainError) as refused:
        services.area_merge(source=city.grid_a2, target=city.grid_a)
    assert refused.value.code == "clash"
    sunshine = services_compounds.compound_add(community=city.community_a, name="阳光名苑")
    garden = services_compounds.compound_add(community=city.community_a, name="锦绣花园")
    services_compounds.building_set_compound(building=city.building_a, compound=sunshine)
    services_compounds.building_set_compound(building=Building.objects.get(grid=city.grid_a2, number="1号楼"),
                                             compound=garden)
    services.area_merge(source=city.grid_a2, target=city.grid_a)
    merged = Building.objects.filter(grid=city.grid_a, number="1号楼").order_by("compound__name")
    assert [(b.compound.name, b.number) for b in merged] == [("锦绣花园", "1号楼"), ("阳光名苑", "1号楼")]


def test_the_demo_citys_grids_merge_with_their_numbers_kept():
    call_command("seed_city", scale="demo", seed=7, places_only=True, stdout=io.StringIO())
    assert not Building.objects.filter(compound__isnull=True).exists()
    # Two grids of one community that both have a "1号楼": refused before compounds, merged now.
    community = next(c for c in apps.get_model("grid", "Area").objects.filter(kind=AreaKind.COMMUNITY)
                     if c.get_children().count() >= 2)
    source, target = list(community.get_children().order_by("lft"))[:2]
    assert Building.objects.filter(grid=source, number="1号楼").exists()
    assert Building.objects.filter(grid=target, number="1号楼").exists()
    before = sorted(Building.objects.filter(grid__in=[source, target]).values_list("pk", "number", "compound_id"))
    services.area_merge(source=source, target=target)
    after = sorted(Building.objects.filter(grid=target).values_list("pk", "number", "compound_id"))
    assert after == before
    assert Building.objects.filter(grid=target, number="1号楼").count() >= 2


def test_the_seed_gives_compounds_with_and_without_property_management():
    call_command("seed_city", scale="demo", seed=3, places_only=True, stdout=io.StringIO())
    managed = Compound.objects.filter(has_property_management=True)
    assert managed.exists() and Compound.objects.filter(has_property_management=False).exists()
    assert all(c.property_company.kind == OrgKind.PROPERTY for c in managed.select_related("property_company"))
    # A compound's name is the one its buildings carry ("阳光名苑2号楼"), and unique in its community.
    for building in Building.objects.select_related("compound", "grid")[:50]:
        assert building.name == f"{building.compound.name}{building.number}"
        assert building.compound.community_id == building.grid.parent_id


# --- the data migration -----------------------------------------------------------------------

def test_the_migration_reads_compounds_from_names_and_renumbers_nothing(city):
    a1 = services.building_add(grid=city.grid_a, number="2号楼", name="阳光名苑2号楼", address="幸福路2号阳光名苑2号楼")
    a2 = services.building_add(grid=city.grid_a2, number="3号楼", name="阳光名苑3号楼")
    clash = services.building_add(grid=city.grid_a2, number="2号楼", name="阳光名苑2号楼")  # its number taken
    b1 = services.building_add(grid=city.grid_b, number="2号楼", name="阳光名苑2号楼")  # another community
    wuye = make_organisation(seat=city.community_a, kind="property", function="property", buildings=[a2])
    migration.forwards(apps, None)
    sunshine_a = Compound.objects.get(community=city.community_a, name="阳光名苑")
    assert set(sunshine_a.buildings.all()) == {a1, a2}
    assert sunshine_a.address == "幸福路2号阳光名苑"
    assert sunshine_a.has_property_management and sunshine_a.property_company == wuye
    assert Compound.objects.get(community=city.community_b, name="阳光名苑").buildings.get() == b1
    clash.refresh_from_db()
    assert clash.compound is None and clash.number == "2号楼"
    # Buildings whose names carry no compound stay outside; running it again changes nothing.
    assert Building.objects.get(pk=city.building_a.pk).compound is None
    before = counts()
    migration.forwards(apps, None)
    assert counts() == before


# --- refusals: nothing written -----------------------------------------------------------------

def test_a_number_that_collides_inside_its_compound_is_refused(city):
    compound = services_compounds.compound_add(community=city.community_a, name="阳光名苑")
    services.building_add(grid=city.grid_a, number="7号楼", compound=compound)
    before = counts()
    with pytest.raises(DomainError) as refused:
        services.building_add(grid=city.grid_a2, number="7号楼", compound=compound)
    assert refused.value.code == "clash"
    other = services.building_add(grid=city.grid_a2, number="7号楼")  # outside the compound: its grid decides
    before = counts()
    with pytest.raises(DomainError) as refused:
        services_compounds.building_set_compound(building=other, compound=compound)
    assert refused.value.code == "clash" and counts() == before
    # Renumbering inside the compound is checked against the compound, not the grid.
    services.building_add(grid=city.grid_a, number="9号楼", compound=compound)
    with pytest.raises(DomainError) as refused:
        services.building_update(building=Building.objects.get(compound=compound, number="9号楼"), number="7号楼")
    assert refused.value.code == "clash"
    services.building_update(building=Building.objects.get(compound=compound, number="9号楼"), number="1号楼")


def test_a_compound_never_spans_two_communities(city):
    compound = services_compounds.compound_add(community=city.community_a, name="阳光名苑")
    before = counts()
    with pytest.raises(DomainError) as refused:
        services_compounds.building_set_compound(building=city.building_b, compound=compound)
    assert refused.value.code == "compound_community" and counts() == before
    with pytest.raises(DomainError):
        services.building_add(grid=city.grid_b, number="3号楼", compound=compound)
    assert counts() == before
    services_compounds.building_set_compound(building=city.building_a, compound=compound)
    with pytest.raises(DomainError) as refused:
        services.building_move(building=city.building_a, grid=city.grid_b)
    assert refused.value.code == "compound_community"
    with pytest.raises(DomainError) as refused:
        services.area_move(area=city.grid_a, new_parent=city.community_b)
    assert refused.value.code == "compound_community"
    with pytest.raises(DomainError):
        services.area_merge(source=city.grid_a, target=city.grid_b)
    assert Building.objects.get(pk=city.building_a.pk).grid == city.grid_a
    services.building_move(building=city.building_a, grid=city.grid_a2)  # within the community: fine
    assert Building.objects.get(pk=city.building_a.pk).compound == compound


@pytest.mark.parametrize("fields, code", [
    ({"name": "  "}, "no_name"),
    ({"name": "名" * 101}, "name_too_long"),
    ({"name": "阳光名苑", "party_branch": "支" * 101}, "party_branch_too_long"),
    ({"name": "阳光名苑", "colour": "red"}, "bad_field"),
])
def test_bad_compounds_are_refused(city, fields, code):
    with pytest.raises(DomainError) as refused:
        services_compounds.compound_add(community=city.community_a, **fields)
    assert refused.value.code == code and not Compound.objects.exists()


def test_names_are_unique_in_a_community_and_the_bodies_must_be_the_right_kind(city):
    services_compounds.compound_add(community=city.community_a, name="阳光名苑")
    with pytest.raises(DomainError) as refused:
        services_compounds.compound_add(community=city.community_a, name="阳光名苑")
    assert refused.value.code == "clash"
    services_compounds.compound_add(community=city.community_b, name="阳光名苑")  # another community: fine
    police = make_organisation(seat=city.street_a, function="police", areas=[city.street_a])
    with pytest.raises(DomainError) as refused:
        services_compounds.compound_add(community=city.community_a, name="锦绣花园", property_company=police)
    assert refused.value.code == "bad_property_company"
    with pytest.raises(DomainError) as refused:
        services_compounds.compound_add(community=city.street_a, name="锦绣花园")
    assert refused.value.code == "bad_parent"
    assert Compound.objects.count() == 2
    wuye = make_organisation(seat=city.community_a, kind="property", function="property")
    managed = services_compounds.compound_add(community=city.community_a, name="锦绣花园", property_company=wuye)
    assert managed.has_property_management  # naming a 物业 means it is managed


def test_staff_outside_the_community_cannot_add_or_change_its_compounds(city):
    stranger = user_with_post(Role.COMMUNITY_STAFF, city.community_b)
    with pytest.raises(DomainError) as refused:
        services_compounds.compound_add(community=city.community_a, name="阳光名苑", acting_user=stranger)
    assert refused.value.code == "forbidden" and not Compound.objects.exists()
    compound = services_compounds.compound_add(community=city.community_a, name="阳光名苑")
    with pytest.raises(DomainError):
        services_compounds.compound_update(compound=compound, name="改名", acting_user=stranger)
    with pytest.raises(DomainError):
        services_compounds.building_set_compound(building=city.building_a, compound=compound, acting_user=stranger)
    assert Compound.objects.get().name == "阳光名苑" and Building.objects.get(pk=city.building_a.pk).compound is None


def test_a_community_merge_carries_its_compounds_and_refuses_two_of_one_name(city):
    mine = services_compounds.compound_add(community=city.community_a, name="阳光名苑")
    services_compounds.building_set_compound(building=city.building_a, compound=mine)
    services_compounds.compound_add(community=city.community_b, name="阳光名苑")
    before = counts()
    with pytest.raises(DomainError) as refused:
        services.area_merge(source=city.community_a, target=city.community_b)
    assert refused.value.code == "clash" and counts() == before


def test_a_community_merge_moves_compounds_with_their_grids(city):
    street_b_community = services.area_add(kind=AreaKind.COMMUNITY, name="新村社区", parent=city.street_a)
    mine = services_compounds.compound_add(community=city.community_a, name="阳光名苑")
    services_compounds.building_set_compound(building=city.building_a, compound=mine)
    services.area_merge(source=city.community_a, target=street_b_community)
    mine.refresh_from_db()
    assert mine.community == street_b_community
    assert Building.objects.get(pk=city.building_a.pk).grid.parent == street_b_community


# --- the admin ----------------------------------------------------------------------------------

def test_community_staff_see_and_change_only_their_compounds_in_the_admin(city, client):
    mine = services_compounds.compound_add(community=city.community_a, name="阳光名苑")
    theirs = services_compounds.compound_add(community=city.community_b, name="和平家园")
    client.force_login(user_with_post(Role.COMMUNITY_STAFF, city.community_a, is_staff=True))
    page = client.get(reverse("admin:grid_compound_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "阳光名苑" in text and "和平家园" not in text
    assert client.get(reverse("admin:grid_compound_change", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("admin:grid_compound_change", args=[mine.pk]), {
        "name": "阳光名苑", "address": "幸福路2号", "has_property_management": "", "property_company": "",
        "owners_committee": "", "party_branch": "阳光名苑党支部", "is_active": "on",
    })
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.party_branch == "阳光名苑党支部"
    # A bad name is shown beside the field and nothing is written.
    response = client.post(reverse("admin:grid_compound_add"), {
        "community": city.community_a.pk, "name": "阳光名苑", "address": "", "party_branch": "",
    })
    assert response.status_code == 200 and Compound.objects.count() == 2


def test_the_admin_puts_a_building_into_a_compound_and_refuses_another_communitys(city, client):
    mine = services_compounds.compound_add(community=city.community_a, name="阳光名苑")
    theirs = services_compounds.compound_add(community=city.community_b, name="和平家园")
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    url = reverse("admin:grid_building_change", args=[city.building_a.pk])
    form = {"compound": theirs.pk, "number": "1号楼", "name": "", "address": "幸福路1号", "latitude": "",
            "longitude": ""}
    response = client.post(url, form)
    assert response.status_code == 200 and Building.objects.get(pk=city.building_a.pk).compound is None
    response = client.post(url, {**form, "compound": mine.pk})
    assert response.status_code == 302 and Building.objects.get(pk=city.building_a.pk).compound == mine


# --- the residents' search finds a building by its compound --------------------------------------

def test_search_finds_a_building_by_compound_and_number(city):
    from grid.search import search_buildings

    compound = services_compounds.compound_add(community=city.community_a, name="阳光名苑")
    two = services.building_add(grid=city.grid_a2, number="2号楼", compound=compound)  # no name, no address
    services.building_add(grid=city.grid_a2, number="3号楼", compound=compound)
    services.building_add(grid=city.grid_a, number="2号楼")  # outside the compound
    assert [h.building for h in search_buildings("阳光名苑2号楼")] == [two]
    assert {h.building.number for h in search_buildings("阳光名苑")} == {"2号楼", "3号楼"}
    assert search_buildings("月亮湾2号楼") == []
