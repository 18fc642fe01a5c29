"""Party rows whose place is another row's follow it when buildings move to another grid
(grid/services.py `_move_buildings`, `PlacePath.path_follows`): a building party group's
members follow their organisation, a small wish its resident's home. Before, they kept the old
grid: the old grid's workers still found a party member's record (sensitive, PIPL art. 28) and
the new grid's did not."""

from grid import services as grid_services
from grid.models import Role
from residents.party import services
from residents.party.models import Membership, OrgKind, Wish
from residents.party.selectors import memberships_visible_to, wishes_visible_to

from .factories import user_with_post
from .party_factories import NOW, posted_wish, party  # noqa: F401 — the fixture


def path(row):
    row.refresh_from_db()
    return row.district_id, row.street_id, row.community_id, row.grid_id


def test_a_building_group_s_members_and_a_resident_s_wish_follow_the_building(city, party):  # noqa: F811
    group = services.org_add(kind=OrgKind.BUILDING_GROUP, name="1号楼党小组", building=city.building_a,
                             acting_user=party.staff, now=NOW)
    member = services.membership_add(org=group, resident=party.resident, acting_user=party.staff, now=NOW)
    wish = posted_wish(party)
    committee = services.org_add(kind=OrgKind.COMMITTEE, name="幸福社区党委", place=city.community_a,
                                 acting_user=party.staff, now=NOW)
    staying = services.membership_add(org=committee, user=party.member2, acting_user=party.staff, now=NOW)
    old_worker = user_with_post(Role.GRID_WORKER, city.grid_a, username="party_old_grid")
    new_worker = user_with_post(Role.GRID_WORKER, city.grid_b, username="party_new_grid")
    assert path(member) == path(wish) == (city.district.pk, city.street_a.pk, city.community_a.pk, city.grid_a.pk)

    grid_services.building_move(building=city.building_a, grid=city.grid_b, now=NOW)

    there = (city.district.pk, city.street_b.pk, city.community_b.pk, city.grid_b.pk)
    assert path(group) == path(member) == path(wish) == there
    assert path(staying)[2:] == (city.community_a.pk, None)  # the community's committee stays where it is
    assert not memberships_visible_to(old_worker).filter(pk=member.pk).exists()
    assert memberships_visible_to(new_worker).filter(pk=member.pk).exists()
    assert not wishes_visible_to(old_worker).filter(pk=wish.pk).exists()
    assert wishes_visible_to(new_worker).filter(pk=wish.pk).exists()
    assert Membership.objects.filter(grid=city.grid_a).count() == 0 and Wish.objects.filter(grid=city.grid_a).count() == 0
