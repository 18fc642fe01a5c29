"""grid/tree_moves.py: the one-statement move within a tree gives exactly what django-mptt's
move plus the code rewrite gave (the nested-set fields of every row, parents, codes), and
touches only the rows between the old and the new position (issue #24)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from grid import services
from grid.integrity import tree_problems
from grid.models import Area, AreaKind
from grid.tree_moves import can_move_in_place, move_last_child


def build_district():
    """A district of 4 streets × 3 communities × 2 grids, through the services."""
    district = services.area_add(kind=AreaKind.DISTRICT, name="移动区", code="330199")
    streets = []
    for s in range(4):
        street = services.area_add(kind=AreaKind.STREET, name=f"移动{s}街道", parent=district)
        streets.append(street)
        for c in range(3):
            community = services.area_add(kind=AreaKind.COMMUNITY, name=f"移动{s}-{c}社区", parent=street)
            for g in range(2):
                services.area_add(kind=AreaKind.GRID, name=f"移动{s}-{c}-{g}网格", parent=community)
    return district, streets


def snapshot(tree_id):
    return {row["id"]: row for row in Area.objects.filter(tree_id=tree_id).values(
        "id", "lft", "rght", "level", "parent_id", "code", "tree_id")}


def mptt_move(area, new_parent, new_code):
    """What area_move did before: django-mptt's move, then the codes of the subtree."""
    area = Area.objects.get(pk=area.pk)
    area.move_to(Area.objects.get(pk=new_parent.pk), "last-child")
    services._rewrite_codes(Area.objects.get(pk=area.pk), new_code)


def one_statement_move(area, new_parent, new_code):
    move_last_child(Area.objects.get(pk=area.pk), Area.objects.get(pk=new_parent.pk), new_code=new_code)


def result_of(move, area, new_parent, new_code, tree_id):
    with transaction.atomic():
        move(area, new_parent, new_code)
        after = snapshot(tree_id)
        problems = tree_problems([tree_id])
        transaction.set_rollback(True)
    return after, problems


@pytest.mark.parametrize(("source", "target"), [
    (0, 3),  # first street's community to the last street: moving right, across the tree
    (1, 2),  # to the next street
    (3, 0),  # moving left, across the tree
    (2, 1),  # to the street before
])
def test_the_move_matches_django_mptt_row_for_row(db, source, target):
    district, streets = build_district()
    community = Area.objects.filter(parent=streets[source]).order_by("lft")[1]  # a middle child: rows on both sides
    new_parent = Area.objects.get(pk=streets[target].pk)
    new_code = new_parent.code + "099"
    expected, expected_problems = result_of(mptt_move, community, new_parent, new_code, district.tree_id)
    got, problems = result_of(one_statement_move, community, new_parent, new_code, district.tree_id)
    assert expected_problems == [] and problems == []
    assert got == expected
    moved = got[community.pk]
    assert moved["parent_id"] == new_parent.pk and moved["code"] == new_code
    # The grids under it carry the new prefix.
    children = [row for row in got.values() if row["parent_id"] == community.pk]
    assert len(children) == 2 and all(row["code"].startswith(new_code) for row in children)


def test_only_the_rows_between_the_two_positions_are_written(db):
    district, streets = build_district()
    community = Area.objects.filter(parent=streets[1]).order_by("lft").last()
    new_parent = Area.objects.get(pk=streets[2].pk)
    before = snapshot(district.tree_id)
    community = Area.objects.get(pk=community.pk)
    with CaptureQueriesContext(connection) as queries:
        written = move_last_child(community, new_parent, new_code=new_parent.code + "099")
    assert len(queries) == 1
    after = snapshot(district.tree_id)
    changed = {pk for pk in before if before[pk] != after[pk]}
    # The community and its 2 grids move; street 1 ends earlier; street 2's first community
    # subtrees (3 × 3 rows) and street 2 itself shift: nothing before street 1's end or after
    # street 2's end is written.
    assert written == 3 + 1 + 9 + 1
    assert changed == {community.pk, *Area.objects.filter(parent=community).values_list("pk", flat=True),
                       streets[1].pk, streets[2].pk,
                       *Area.objects.filter(parent=streets[2]).exclude(pk=community.pk).values_list("pk", flat=True),
                       *Area.objects.filter(parent__parent=streets[2]).exclude(parent=community)
                       .values_list("pk", flat=True)}
    assert district.pk not in changed and streets[0].pk not in changed and streets[3].pk not in changed
    assert tree_problems([district.tree_id]) == []


def test_moves_that_change_depth_or_tree_are_refused(db):
    district, streets = build_district()
    other = services.area_add(kind=AreaKind.DISTRICT, name="别的区", code="330198")
    other_street = services.area_add(kind=AreaKind.STREET, name="别的街道", parent=other)
    community = Area.objects.get(pk=Area.objects.filter(parent=streets[0]).first().pk)
    assert not can_move_in_place(community, other_street)  # another tree
    assert not can_move_in_place(community, Area.objects.get(pk=district.pk))  # a level up
    with pytest.raises(ValueError):
        move_last_child(community, other_street, new_code=other_street.code + "001")
    assert snapshot(district.tree_id)[community.pk]["parent_id"] == streets[0].pk


def test_area_move_across_districts_still_goes_through_django_mptt(db):
    district, streets = build_district()
    other = services.area_add(kind=AreaKind.DISTRICT, name="别的区", code="330198")
    other_street = services.area_add(kind=AreaKind.STREET, name="别的街道", parent=other)
    community = Area.objects.filter(parent=streets[0]).first()
    moved = services.area_move(area=community, new_parent=other_street)
    assert moved.tree_id == other.tree_id and moved.parent_id == other_street.pk
    assert moved.code.startswith(other_street.code)
    assert tree_problems() == []
