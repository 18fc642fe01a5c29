"""Factories and a small city built through the real services."""

from dataclasses import dataclass

import factory

from grid import services
from grid.models import Area, AreaKind, Building, Unit, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    password = factory.PostGenerationMethodCall("set_password", "pw-Portal-2026")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def user_with_post(role, place, **user_fields):
    user = UserFactory(**user_fields)
    services.post_grant(user=user, role=role, place=place)
    user.refresh_from_db()
    return user


@dataclass
class City:
    """Two districts; district A has two streets, each with a community and grids.

    Every scoping test takes one object inside a user's subtree and one outside.
    """

    district: Area
    other_district: Area
    street_a: Area
    street_b: Area
    community_a: Area
    community_b: Area
    grid_a: Area
    grid_a2: Area
    grid_b: Area
    building_a: Building
    building_a2: Building
    building_b: Building
    unit_a: Unit
    unit_b: Unit

    def refresh(self):
        for name, value in vars(self).items():
            value.refresh_from_db()
        return self


def build_city():
    add = services.area_add
    district = add(kind=AreaKind.DISTRICT, name="城关区", code="510703")
    other = add(kind=AreaKind.DISTRICT, name="涪城区", code="510704")
    street_a = add(kind=AreaKind.STREET, name="城北街道", parent=district)
    street_b = add(kind=AreaKind.STREET, name="城南街道", parent=district)
    community_a = add(kind=AreaKind.COMMUNITY, name="幸福社区", parent=street_a)
    community_b = add(kind=AreaKind.COMMUNITY, name="和平社区", parent=street_b)
    grid_a = add(kind=AreaKind.GRID, name="幸福第一网格", parent=community_a)
    grid_a2 = add(kind=AreaKind.GRID, name="幸福第二网格", parent=community_a)
    grid_b = add(kind=AreaKind.GRID, name="和平第一网格", parent=community_b)
    building_a = services.building_add(grid=grid_a, number="1号楼", address="幸福路1号")
    building_a2 = services.building_add(grid=grid_a2, number="5号楼", address="幸福路5号")
    building_b = services.building_add(grid=grid_b, number="9号楼", address="和平路9号")
    unit_a = services.unit_add(building=building_a, number="1单元")
    unit_b = services.unit_add(building=building_b, number="1单元")
    return City(district, other, street_a, street_b, community_a, community_b, grid_a, grid_a2, grid_b,
                building_a, building_a2, building_b, unit_a, unit_b).refresh()


def make_organisation(*, seat, function="urban_mgmt", kind="department", name=None, areas=(), buildings=(),
                      code=None):
    """An organisation seated at `seat`, created through the service (as an administrator would)."""
    from grid import services_orgs

    make_organisation.counter = getattr(make_organisation, "counter", 0) + 1
    n = make_organisation.counter
    return services_orgs.organisation_create(
        name=name or f"测试单位{n}", code=code or f"ORG{n:05d}", kind=kind, function=function, seat=seat,
        phone=f"0816-{n:07d}", areas=areas, buildings=buildings, acting_user=None,
    )
