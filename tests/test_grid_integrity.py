"""grid/integrity.py and `manage.py verify_tree`: a sound tree passes, and trees
corrupted behind the services' back (raw UPDATEs) are reported, naming the node.

Also: the parts of the tree's shape the database itself refuses to store.
"""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.db.models import F

from grid import integrity, services
from grid.integrity import tree_problems
from grid.models import Area, AreaKind, Post, Role

from .factories import UserFactory


def label(area):
    area = Area.objects.get(pk=area.pk)
    return f"tree {area.tree_id} node {area.pk} ({area.code})"


def set_fields(area, **fields):
    """Write straight to the row, as a bug or a hand-edited database would."""
    assert Area.objects.filter(pk=area.pk).update(**fields) == 1


# --- sound trees ---------------------------------------------------------------------

def test_the_demo_city_has_no_problems(city, django_assert_num_queries):
    with django_assert_num_queries(1):  # the nightly check reads each tree once
        assert tree_problems() == []


def test_an_empty_database_has_no_problems(db):
    assert tree_problems() == []


def test_a_city_built_and_rebuilt_through_the_services_has_no_problems(city):
    for i in range(3):
        street = services.area_add(kind=AreaKind.STREET, name=f"新{i}街道", parent=city.other_district)
        for j in range(3):
            community = services.area_add(kind=AreaKind.COMMUNITY, name=f"新{i}-{j}社区", parent=street)
            services.area_add(kind=AreaKind.GRID, name=f"新{i}-{j}网格", parent=community)
    services.area_move(area=city.street_a, new_parent=city.other_district)
    services.area_merge(source=city.community_b, target=Area.objects.get(name="新0-0社区"))
    assert tree_problems() == []
    # The district, 3 new streets of 7 places, 城北街道's 4, and the merged community's grid.
    assert Area.objects.filter(tree_id=city.other_district.tree_id).count() == 1 + 3 * 7 + 4 + 1
    assert Area.objects.get(pk=city.community_b.pk).tree_id == city.district.tree_id


# --- corruption ----------------------------------------------------------------------
# The demo city's first tree, as (lft, rght):
#   城关区 (1,16) · 城北街道 (2,9) · 幸福社区 (3,8) · 幸福第一网格 (4,5) · 幸福第二网格 (6,7)
#                 城南街道 (10,15) · 和平社区 (11,14) · 和平第一网格 (12,13)

def test_the_demo_tree_has_the_layout_the_corruptions_assume(city):
    layout = {a.name: (a.lft, a.rght) for a in Area.objects.filter(tree_id=city.district.tree_id)}
    assert layout == {
        "城关区": (1, 16), "城北街道": (2, 9), "幸福社区": (3, 8), "幸福第一网格": (4, 5),
        "幸福第二网格": (6, 7), "城南街道": (10, 15), "和平社区": (11, 14), "和平第一网格": (12, 13),
    }


def test_a_node_nested_in_its_sibling_is_reported(city):
    # Every count still adds up; only the nesting contradicts parent_id.
    set_fields(city.grid_a, rght=7)
    set_fields(city.grid_a2, lft=5, rght=6)
    assert tree_problems() == [
        f"{label(city.grid_a2)}: bounds place it under node {city.grid_a.pk}, but its parent is {city.community_a.pk}"
    ]
    # What the corruption would do to scoping: the sibling's subtree swallows it.
    assert list(Area.objects.get(pk=city.grid_a.pk).get_descendants()) == [Area.objects.get(pk=city.grid_a2.pk)]


def test_overlapping_bounds_are_reported(city):
    set_fields(city.grid_a, rght=6)
    set_fields(city.grid_a2, lft=5, rght=7)
    problems = tree_problems()
    assert f"{label(city.grid_a2)}: bounds overlap node {city.grid_a.pk} without nesting in it" in problems
    assert f"{label(city.grid_a)}: bounds span 1 for 1 descendants" in problems


def test_a_stretched_node_is_reported(city):
    set_fields(city.grid_a, rght=50)
    problems = tree_problems()
    tree = city.district.tree_id
    assert f"tree {tree}: lft/rght values are not exactly 1..16" in problems
    assert f"{label(city.grid_a)}: not inside its parent's bounds" in problems
    assert f"{label(city.grid_a)}: bounds span 45 for 4 descendants" in problems


def test_a_gap_in_the_numbering_is_reported(city):
    set_fields(city.district, rght=17)
    problems = tree_problems()
    assert f"tree {city.district.tree_id}: lft/rght values are not exactly 1..16" in problems
    assert f"{label(city.district)}: bounds span 15 for 7 descendants" in problems


def test_a_code_that_does_not_extend_its_parents_is_reported(city):
    set_fields(city.grid_b, code="510703001001009")
    assert tree_problems() == [f"{label(city.grid_b)}: code does not extend parent code 510703002001"]


def problems_with_code(area, code):
    """The checker's verdict on the tree with `area` given `code`.

    The database refuses such a code (area_code_ascii_digits), so the row is
    changed in memory: the checker stays a backstop for a database restored
    without the constraint.
    """
    area = Area.objects.get(pk=area.pk)
    rows = list(Area.objects.filter(tree_id=area.tree_id).order_by("lft")
                .values("id", "tree_id", "lft", "rght", "level", "parent_id", "kind", "code"))
    for row in rows:
        if row["id"] == area.pk:
            row["code"] = code
    return integrity._tree_problems(area.tree_id, rows)


def test_a_code_with_a_letter_is_reported(city):
    code = "51070300100100a"
    tree = city.district.tree_id
    expected = f"tree {tree} node {city.grid_a.pk} ({code}): code is not all digits"
    assert problems_with_code(city.grid_a, code) == [expected]


def test_a_code_with_full_width_digits_is_reported(city):
    code = "510703001001００１"
    tree = city.district.tree_id
    expected = f"tree {tree} node {city.grid_a.pk} ({code}): code is not all digits"
    assert problems_with_code(city.grid_a, code) == [expected]


def test_a_parent_in_another_tree_is_reported(city):
    far_street = services.area_add(kind=AreaKind.STREET, name="远方街道", parent=city.other_district)
    far_community = services.area_add(kind=AreaKind.COMMUNITY, name="远方社区", parent=far_street)
    set_fields(city.grid_b, parent=far_community)
    problems = tree_problems()
    assert f"{label(city.grid_b)}: parent {far_community.pk} is in another tree" in problems
    assert tree_problems([far_community.tree_id]) == []


def test_two_roots_in_one_tree_are_reported(city):
    set_fields(city.other_district, tree_id=city.district.tree_id)
    problems = tree_problems()
    assert f"tree {city.district.tree_id}: 2 roots" in problems
    assert f"tree {city.district.tree_id}: lft/rght values are not exactly 1..18" in problems


def test_a_skipped_level_is_reported(city):
    # A grid rewritten as a community (kind, level and code agree, so the database
    # accepts it) still hangs under a community.
    set_fields(city.grid_a, kind=AreaKind.COMMUNITY, level=2, code="510703001009")
    problems = tree_problems()
    assert f"{label(city.grid_a)}: level 2 under parent level 2" in problems


def test_a_problem_in_one_tree_does_not_hide_another(city):
    set_fields(city.grid_b, code="510703001001009")
    set_fields(city.other_district, rght=3)
    problems = tree_problems()
    assert f"{label(city.grid_b)}: code does not extend parent code 510703002001" in problems
    assert f"tree {city.other_district.tree_id}: lft/rght values are not exactly 1..2" in problems


def test_problems_can_be_limited_to_some_trees(city):
    set_fields(city.grid_a, rght=50)
    assert tree_problems([city.other_district.tree_id]) == []
    assert tree_problems([city.district.tree_id]) == tree_problems() != []


# --- verify_tree -----------------------------------------------------------------------

def run_verify(*args):
    out, err = StringIO(), StringIO()
    call_command("verify_tree", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_verify_tree_passes_a_sound_city(city):
    out, err = run_verify()
    assert out.strip() == "All place trees are sound."
    assert err == ""


def test_verify_tree_reports_every_problem_and_fails(city):
    set_fields(city.grid_a, rght=7)
    set_fields(city.grid_a2, lft=5, rght=6)
    set_fields(city.grid_b, code="510703001001009")
    err = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("verify_tree", stdout=StringIO(), stderr=err)
    assert str(info.value) == "2 problem(s) found in the place trees."
    assert sorted(err.getvalue().splitlines()) == sorted([
        f"{label(city.grid_a2)}: bounds place it under node {city.grid_a.pk}, but its parent is {city.community_a.pk}",
        f"{label(city.grid_b)}: code does not extend parent code 510703002001",
    ])


def test_verify_tree_can_check_one_tree(city):
    set_fields(city.grid_b, code="510703001001009")
    out, err = run_verify("--tree", str(city.other_district.tree_id))
    assert out.strip() == "All place trees are sound."
    with pytest.raises(CommandError):
        run_verify("--tree", str(city.other_district.tree_id), "--tree", str(city.district.tree_id))


# --- what the database itself refuses -----------------------------------------------------

def refused_by_database(write):
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


@pytest.mark.parametrize(
    "node, fields",
    [
        ("grid_a", lambda c: {"level": 2}),  # a grid one level too high
        ("grid_a", lambda c: {"kind": AreaKind.COMMUNITY}),  # a community at grid depth
        ("community_a", lambda c: {"kind": AreaKind.GRID}),
        ("street_a", lambda c: {"level": 0, "parent": None}),  # a street as a root
        ("street_a", lambda c: {"parent": None}),
        ("district", lambda c: {"parent": c.other_district}),  # a district with a parent
        ("district", lambda c: {"kind": AreaKind.STREET}),
        ("grid_a", lambda c: {"parent": c.street_a, "level": 2}),  # a grid under a street
        ("grid_a", lambda c: {"code": "51070300100101"}),  # 14 digits for a grid
        ("district", lambda c: {"code": "5107031"}),
        ("grid_a", lambda c: {"lft": F("rght")}),
        ("grid_a", lambda c: {"merged_into": c.grid_a2}),  # merged but still active
        # Codes are ASCII digits (area_code_ascii_digits), whatever the length rule lets through.
        ("grid_a", lambda c: {"code": "51070300100100a"}),
        ("grid_a", lambda c: {"code": "510703001001００１"}),  # full-width, as an input method types them
        ("street_a", lambda c: {"code": "510703٠٠١"}),  # Arabic-Indic digits: str.isdigit() says yes
        ("district", lambda c: {"code": "51070x"}),
        ("district", lambda c: {"code": "-51070"}),
        ("grid_a", lambda c: {"code": "51070300100100 "}),
        # Python's $ (behind SQLite's REGEXP) matches before a final newline; the rule must not.
        ("grid_a", lambda c: {"code": "51070300100100\n"}),
    ],
)
def test_the_database_refuses_a_misshapen_node(city, node, fields):
    refused_by_database(lambda: Area.objects.filter(pk=getattr(city, node).pk).update(**fields(city)))
    assert tree_problems() == []


def test_the_database_refuses_a_code_with_anything_but_ascii_digits(city):
    # One raw UPDATE, as a bug or a hand edit would write it; the code keeps its
    # length, so only the digits rule stands in the way.
    with pytest.raises(IntegrityError), transaction.atomic():
        Area.objects.filter(pk=city.grid_a.pk).update(code="51070300100100a")
    assert Area.objects.get(pk=city.grid_a.pk).code == "510703001001001"
    with pytest.raises(IntegrityError), transaction.atomic():
        Area.objects.create(name="坏码区", kind=AreaKind.DISTRICT, code="５１０７９９")
    assert not Area.objects.filter(name="坏码区").exists()
    assert tree_problems() == []


def test_the_code_rule_is_checked_in_python_too(city):
    # Model.validate_constraints evaluates the same regex (REGEXP on SQLite, ~ on PostgreSQL).
    from django.core.exceptions import ValidationError

    area = Area.objects.get(pk=city.grid_a.pk)
    area.validate_constraints()
    area.code = "51070300100100a"
    with pytest.raises(ValidationError):
        area.validate_constraints()


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": AreaKind.GRID, "code": "510799001001001"},  # a grid with no parent
        {"kind": AreaKind.STREET, "code": "510799001"},
        {"kind": AreaKind.DISTRICT, "code": "5107990"},
    ],
)
def test_the_database_refuses_creating_a_root_of_the_wrong_kind(db, fields):
    refused_by_database(lambda: Area.objects.create(name="野节点", **fields))
    assert not Area.objects.exists()


def test_the_database_refuses_a_child_of_the_wrong_kind(city):
    # Through the ORM, bypassing the services: a grid directly under a street.
    refused_by_database(lambda: Area.objects.create(name="错层", kind=AreaKind.GRID, code="510703001009",
                                                    parent=city.street_a))
    refused_by_database(lambda: Area.objects.create(name="错层", kind=AreaKind.GRID, code="510703001009009",
                                                    parent=city.street_a))
    assert tree_problems() == []


def test_the_database_accepts_a_well_formed_node(city):
    # The same kind of write with the right shape goes through: the refusals above are the rule.
    area = Area.objects.create(name="合规", kind=AreaKind.GRID, code="510703001001009", parent=city.community_a)
    assert (area.level, area.parent_id) == (3, city.community_a.pk)
    assert tree_problems() == []


@pytest.mark.parametrize(
    "fields",
    [
        {"role": Role.GRID_WORKER, "building": "building_a"},  # area role on a building
        {"role": Role.BUILDING_CHIEF, "area": "grid_a"},
        {"role": Role.UNIT_CHIEF, "building": "building_a"},
        {"role": Role.GRID_WORKER, "area": "grid_a", "unit": "unit_a"},  # two places
        {"role": Role.GRID_WORKER},  # no place
    ],
)
def test_the_database_refuses_a_post_on_the_wrong_kind_of_place(city, fields):
    fields = {k: getattr(city, v) if k != "role" else v for k, v in fields.items()}
    user = UserFactory()
    refused_by_database(lambda: Post.objects.create(user=user, started_at=city.grid_a.created_at, **fields))
    assert not Post.objects.exists()


def test_the_database_refuses_a_post_ending_before_it_started(city):
    post = services.post_grant(user=UserFactory(), role=Role.GRID_WORKER, place=city.grid_a)
    refused_by_database(lambda: Post.objects.filter(pk=post.pk).update(ended_at=post.started_at - timedelta(seconds=1)))
    assert Post.objects.get(pk=post.pk).ended_at is None
