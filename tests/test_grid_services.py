"""grid/services.py: every structural write, its history row, and its refusals.

Each write is followed by a check of every tree (assert_trees_sound); each
refusal checks the English message, the error code, and that no row of the
hierarchy changed.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from grid import selectors, services
from grid.integrity import tree_problems
from grid.models import Area, AreaEvent, AreaKind, Building, Post, Role, Unit, User
from portal.errors import DomainError

from .cases_factories import fresh_calendar, resident_report  # noqa: F401 (fresh_calendar: autouse)
from .factories import UserFactory

HIRED = datetime(2026, 1, 5, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
LATER = NOW + timedelta(days=3)

GRID, COMMUNITY, STREET, DISTRICT = AreaKind.GRID, AreaKind.COMMUNITY, AreaKind.STREET, AreaKind.DISTRICT
PATH_COLUMNS = ("pk", "district_id", "street_id", "community_id", "grid_id")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


SERVICES = ("area_add", "area_rename", "area_move", "area_merge", "grid_split", "area_delete", "building_add",
            "building_update", "building_delete", "building_move", "unit_add", "unit_update", "unit_delete",
            "post_grant", "post_end", "user_invite")


@pytest.fixture(autouse=True)
def trees_checked_after_every_service(monkeypatch):
    """Every service call in this module (the city fixture's and the nested ones
    inside merge and split included) is followed by a full check of every tree."""
    calls = []

    def checked(name, original):
        def call(*args, **kwargs):
            result = original(*args, **kwargs)
            problems = tree_problems()
            assert problems == [], f"after {name}: {problems}"
            calls.append(name)
            return result
        return call

    for name in SERVICES:
        monkeypatch.setattr(services, name, checked(name, getattr(services, name)))
    return calls


def test_the_tree_check_wraps_nested_service_calls(city, trees_checked_after_every_service):
    calls = trees_checked_after_every_service
    del calls[:]
    services.area_merge(source=city.community_b, target=city.community_a, now=NOW)
    assert calls == ["area_move", "area_merge"]


def snapshot():
    """Every row the hierarchy services may write, in a comparable form."""
    return {
        "areas": list(Area.objects.order_by("pk").values()),
        "buildings": list(Building.objects.order_by("pk").values()),
        "units": list(Unit.objects.order_by("pk").values()),
        "posts": list(Post.objects.order_by("pk").values()),
        "events": list(AreaEvent.objects.order_by("pk").values()),
        "staff": list(User.objects.order_by("pk").values_list("pk", "is_staff")),
        "users": list(User.objects.order_by("pk").values()),
        "paths": {
            model._meta.label: list(model.objects.order_by("pk").values(*PATH_COLUMNS))
            for model in services.placepath_models()
        },
    }


@pytest.fixture
def refused(assert_trees_sound):
    """Call a service that must refuse: check code, English message, and that nothing changed."""

    def check(service, *, error, message, **kwargs):
        before = snapshot()
        with pytest.raises(DomainError) as info:
            service(**kwargs)
        assert info.value.code == error
        assert str(info.value) == message
        assert snapshot() == before
        assert_trees_sound()
        return info.value

    return check


@pytest.fixture
def hire(db):
    """A new user holding one post since HIRED (time is passed in, never read from the clock)."""

    def hire(role, place, **user_fields):
        user = UserFactory(**user_fields)
        services.post_grant(user=user, role=role, place=place, now=HIRED)
        return user

    return hire


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def codes_under(area):
    area = fresh(area)
    return dict(area.get_descendants(include_self=True).values_list("name", "code"))


def events(action, **filters):
    return list(AreaEvent.objects.filter(action=action, **filters).order_by("pk"))


# --- area_add ----------------------------------------------------------------------

def test_the_demo_city_is_sound_and_coded_from_its_parents(city, assert_trees_sound):
    assert_trees_sound()
    assert city.district.code == "510703"
    assert city.street_a.code == "510703001"
    assert city.street_b.code == "510703002"
    assert city.community_a.code == "510703001001"
    assert city.grid_a.code == "510703001001001"
    assert city.grid_a2.code == "510703001001002"
    assert city.grid_b.code == "510703002001001"
    assert city.district.tree_id != city.other_district.tree_id


def test_area_add_takes_the_next_free_suffix_and_logs_it(city, hire, assert_trees_sound):
    staff = hire(Role.COMMUNITY_STAFF, city.community_a)
    grid = services.area_add(kind=GRID, name=" 幸福第三网格 ", parent=city.community_a, acting_user=staff, now=NOW)
    assert_trees_sound()
    grid = fresh(grid)
    assert grid.code == "510703001001003"
    assert grid.name == "幸福第三网格"
    assert grid.parent_id == city.community_a.pk
    assert grid.level == 3 and grid.tree_id == city.district.tree_id
    (event,) = events(AreaEvent.Action.ADD, area=grid)
    assert event.actor == staff
    assert event.at == NOW
    assert event.details == {"name": "幸福第三网格", "code": grid.code, "parent_id": city.community_a.pk}


def test_area_add_with_an_explicit_suffix_then_continues_after_it(city, assert_trees_sound):
    explicit = services.area_add(kind=GRID, name="五十号网格", parent=city.community_a, code="050", now=NOW)
    assert_trees_sound()
    assert explicit.code == "510703001001050"
    following = services.area_add(kind=GRID, name="下一个网格", parent=city.community_a, now=NOW)
    assert_trees_sound()
    assert following.code == "510703001001051"


def test_area_add_a_district_starts_a_new_tree(city, assert_trees_sound):
    district = services.area_add(kind=DISTRICT, name="游仙区", code="510705", now=NOW)
    assert_trees_sound()
    district = fresh(district)
    assert district.parent_id is None and district.level == 0
    assert (district.lft, district.rght) == (1, 2)
    assert district.tree_id not in {city.district.tree_id, city.other_district.tree_id}
    street = services.area_add(kind=STREET, name="春天街道", parent=district, now=NOW)
    assert_trees_sound()
    assert street.code == "510705001"
    assert fresh(street).tree_id == district.tree_id


def test_area_add_under_a_stale_parent_instance_still_lands_inside_it(city, assert_trees_sound):
    stale = city.community_a  # its rght is about to be outdated by the first add
    first = services.area_add(kind=GRID, name="甲", parent=stale, now=NOW)
    second = services.area_add(kind=GRID, name="乙", parent=stale, now=NOW)
    assert_trees_sound()
    assert {first.code[-3:], second.code[-3:]} == {"003", "004"}
    assert set(fresh(city.community_a).get_children().values_list("pk", flat=True)) >= {first.pk, second.pk}


def test_area_add_suffixes_of_merged_places_stay_taken(city, assert_trees_sound):
    services.area_merge(source=city.grid_a2, target=city.grid_a, now=NOW)
    grid = services.area_add(kind=GRID, name="新网格", parent=city.community_a, now=NOW)
    assert_trees_sound()
    assert grid.code == "510703001001003"  # not 002: the merged grid keeps its code as history


def test_area_add_a_superuser_may_add_a_district(city, assert_trees_sound):
    admin = UserFactory(is_superuser=True, is_staff=True)
    district = services.area_add(kind=DISTRICT, name="安州区", code="510724", acting_user=admin, now=NOW)
    assert_trees_sound()
    assert events(AreaEvent.Action.ADD, area=district)[0].actor == admin


@pytest.mark.parametrize(
    "kind, parent, message",
    [
        (GRID, "street_a", "A Grid must sit under a Community."),
        (GRID, "district", "A Grid must sit under a Community."),
        (STREET, "community_a", "A Street must sit under a District."),
        (COMMUNITY, "grid_a", "A Community must sit under a Street."),
        (COMMUNITY, None, "A Community must sit under a Street."),
        (DISTRICT, "district", "A district is the top of its tree and has no parent."),
    ],
)
def test_area_add_refuses_a_wrong_parent_kind(city, refused, kind, parent, message):
    parent = getattr(city, parent) if parent else None
    refused(services.area_add, error="bad_parent", message=message,
            kind=kind, name="错位", parent=parent, now=NOW)


@pytest.mark.parametrize(
    "kind, parent, code, full",
    [
        (GRID, "community_a", "00a", "51070300100100a"),
        (GRID, "community_a", "01", "51070300100101"),
        (GRID, "community_a", "0001", "5107030010010001"),
        (GRID, "community_a", "-01", "510703001001-01"),
        (GRID, "community_a", " 01", "510703001001 01"),
        # Full-width digits, as a Chinese input method types them, are not a code.
        (GRID, "community_a", "００９", "510703001001００９"),
        (STREET, "district", "٠٠٣", "510703٠٠٣"),
        (DISTRICT, None, "51070", "51070"),
        (DISTRICT, None, "5107031", "5107031"),
        (DISTRICT, None, "51070x", "51070x"),
        (DISTRICT, None, None, ""),
    ],
)
def test_area_add_refuses_a_malformed_code(city, refused, kind, parent, code, full):
    n = {GRID: 15, STREET: 9, DISTRICT: 6}[kind]
    label = {GRID: "Grid", STREET: "Street", DISTRICT: "District"}[kind]
    refused(services.area_add, error="bad_code",
            message=f"A {label} code has {n} digits; “{full}” does not fit.",
            kind=kind, name="坏编码", parent=getattr(city, parent) if parent else None, code=code, now=NOW)


@pytest.mark.parametrize(
    "kind, parent, code, full",
    [
        (GRID, "community_a", "001", "510703001001001"),
        (STREET, "district", "002", "510703002"),
        (DISTRICT, None, "510704", "510704"),
    ],
)
def test_area_add_refuses_a_clashing_code(city, refused, kind, parent, code, full):
    refused(services.area_add, error="code_clash", message=f"The code {full} is already in use.",
            kind=kind, name="撞码", parent=getattr(city, parent) if parent else None, code=code, now=NOW)


def test_area_add_refuses_when_the_parent_has_no_codes_left(city, refused, assert_trees_sound):
    services.area_add(kind=GRID, name="最后", parent=city.community_a, code="999", now=NOW)
    assert_trees_sound()
    refused(services.area_add, error=None, message="“幸福社区” has no free codes left.",
            kind=GRID, name="溢出", parent=city.community_a, now=NOW)


@pytest.mark.parametrize("name", ["", "   ", None])
def test_area_add_refuses_a_place_without_a_name(city, refused, name):
    refused(services.area_add, error="no_name", message="A place needs a name.",
            kind=GRID, name=name, parent=city.community_a, now=NOW)


def test_area_add_refuses_an_overlong_name(city, refused):
    refused(services.area_add, error="too_long", message="A name has at most 100 characters.",
            kind=GRID, name="长" * 101, parent=city.community_a, now=NOW)


def test_area_add_refuses_an_unknown_kind(city, refused):
    refused(services.area_add, error="bad_kind", message="Unknown kind of place: village.",
            kind="village", name="某村", parent=city.community_a, now=NOW)


def test_area_add_refuses_a_parent_that_was_merged_away(city, refused, assert_trees_sound):
    services.area_merge(source=city.community_b, target=city.community_a, now=NOW)
    assert_trees_sound()
    refused(services.area_add, error=None, message="“和平社区” was merged away; choose another parent.",
            kind=GRID, name="迟到", parent=fresh(city.community_b), now=NOW)


def test_area_add_only_an_administrator_adds_a_district(city, hire, refused):
    official = hire(Role.DISTRICT_OFFICIAL, city.district)
    refused(services.area_add, error="forbidden", message="Only an administrator may add a district.",
            kind=DISTRICT, name="越权区", code="510799", acting_user=official, now=NOW)


@pytest.mark.parametrize(
    "role, post_on, parent",
    [
        (Role.COMMUNITY_STAFF, "community_b", "community_a"),  # another community
        (Role.STREET_STAFF, "street_b", "community_a"),  # another street
        (Role.COMMUNITY_STAFF, "community_a", "street_a"),  # above the post
        (Role.GRID_WORKER, "grid_a", "community_a"),  # not a managing role
        (Role.GRID_CHIEF, "grid_a", "community_a"),
    ],
)
def test_area_add_refuses_a_user_outside_their_managing_scope(city, hire, refused, role, post_on, parent):
    user = hire(role, getattr(city, post_on))
    parent = getattr(city, parent)
    kind = parent.child_kind
    refused(services.area_add, error="forbidden", message=f"You do not manage “{parent.name}”.",
            kind=kind, name="越权", parent=parent, acting_user=user, now=NOW)


def test_area_add_refuses_a_building_chief_and_a_user_without_posts(city, hire, refused):
    chief = hire(Role.BUILDING_CHIEF, city.building_a)
    nobody = UserFactory()
    for user in (chief, nobody):
        refused(services.area_add, error="forbidden", message="You do not manage “幸福社区”.",
                kind=GRID, name="越权", parent=city.community_a, acting_user=user, now=NOW)


def test_scope_checks_read_the_acting_users_posts_where_they_are_now(city, hire, assert_trees_sound):
    # A request reads the user's scope once (nested-set bounds included); a tree
    # write after that must not leave a service checking against old bounds.
    staff = hire(Role.COMMUNITY_STAFF, city.community_a)
    selectors.scope_of(staff)  # cached, as early in a request
    services.area_move(area=city.street_a, new_parent=city.other_district, now=NOW)  # another tree now
    grid = services.area_add(kind=GRID, name="新网格", parent=city.community_a, acting_user=staff, now=NOW)
    assert_trees_sound()
    assert fresh(grid).parent_id == city.community_a.pk


def test_scope_checks_do_not_grant_what_old_bounds_would(city, hire, refused, assert_trees_sound):
    staff_b = hire(Role.COMMUNITY_STAFF, city.community_b)
    old_span = selectors.scope_of(staff_b).spans[0]  # 和平社区 at (11, 14) in the first tree
    services.area_move(area=city.street_b, new_parent=city.other_district, now=NOW)
    street = services.area_add(kind=STREET, name="城东街道", parent=city.district, now=NOW)
    community = services.area_add(kind=COMMUNITY, name="城东社区", parent=street, now=NOW)
    assert_trees_sound()
    assert old_span.contains(fresh(community))  # what the cached bounds would wrongly say
    refused(services.area_add, error="forbidden", message="You do not manage “城东社区”.",
            kind=GRID, name="越权", parent=community, acting_user=staff_b, now=NOW)


# --- area_rename -------------------------------------------------------------------

def test_area_rename_changes_only_the_name_and_logs_the_old_one(city, hire, assert_trees_sound):
    staff = hire(Role.COMMUNITY_STAFF, city.community_a)
    before = fresh(city.grid_a)
    renamed = services.area_rename(area=city.grid_a, name=" 幸福一格 ", acting_user=staff, now=NOW)
    assert_trees_sound()
    after = fresh(city.grid_a)
    assert renamed.name == after.name == "幸福一格"
    tree_fields = ("code", "lft", "rght", "parent_id")
    assert [getattr(after, f) for f in tree_fields] == [getattr(before, f) for f in tree_fields]
    (event,) = events(AreaEvent.Action.RENAME)
    assert event.area_id == city.grid_a.pk and event.actor == staff and event.at == NOW
    assert event.details == {"old_name": "幸福第一网格", "name": "幸福一格", "code": before.code}


def test_area_rename_to_the_same_name_writes_nothing(city, assert_trees_sound):
    before = snapshot()
    services.area_rename(area=city.grid_a, name="幸福第一网格", now=NOW)
    assert_trees_sound()
    assert snapshot() == before


def test_area_rename_refusals(city, hire, refused):
    refused(services.area_rename, error="no_name", message="A place needs a name.", area=city.grid_a, name=" ")
    refused(services.area_rename, error="too_long", message="A name has at most 100 characters.",
            area=city.grid_a, name="名" * 101)
    outsider = hire(Role.COMMUNITY_STAFF, city.community_b)
    refused(services.area_rename, error="forbidden", message="You do not manage “幸福第一网格”.",
            area=city.grid_a, name="改名", acting_user=outsider)
    worker = hire(Role.GRID_WORKER, city.grid_a)
    refused(services.area_rename, error="forbidden", message="You do not manage “幸福第一网格”.",
            area=city.grid_a, name="改名", acting_user=worker)


# --- area_move ---------------------------------------------------------------------

def test_area_move_a_community_to_another_street_rewrites_the_subtree_codes(city, hire, assert_trees_sound):
    official = hire(Role.DISTRICT_OFFICIAL, city.district)
    moved = services.area_move(area=city.community_a, new_parent=city.street_b, acting_user=official, now=NOW)
    assert_trees_sound()
    assert moved.parent_id == city.street_b.pk
    # Suffix 001 is taken under street B by 和平社区, so the community gets the next one.
    assert codes_under(city.community_a) == {
        "幸福社区": "510703002002",
        "幸福第一网格": "510703002002001",
        "幸福第二网格": "510703002002002",
    }
    assert fresh(city.street_a).get_children().count() == 0
    assert set(fresh(city.street_b).get_children().values_list("pk", flat=True)) == {
        city.community_b.pk, city.community_a.pk,
    }
    # Buildings hang on the grid rows, so they came along untouched.
    assert fresh(city.building_a).grid_id == city.grid_a.pk
    assert fresh(city.building_a).grid.get_ancestors().filter(pk=city.street_b.pk).exists()
    (event,) = events(AreaEvent.Action.MOVE)
    assert event.area_id == city.community_a.pk and event.actor == official and event.at == NOW
    assert event.details == {
        "name": "幸福社区", "old_code": "510703001001", "code": "510703002002",
        "old_parent_id": city.street_a.pk, "parent_id": city.street_b.pk,
    }


def test_area_move_keeps_the_suffix_when_it_is_free(city, assert_trees_sound):
    services.area_move(area=city.grid_a2, new_parent=city.community_b, now=NOW)
    assert_trees_sound()
    assert fresh(city.grid_a2).code == "510703002001002"
    assert fresh(city.grid_a2).parent_id == city.community_b.pk


def test_area_move_a_grid_whose_suffix_is_taken(city, assert_trees_sound):
    services.area_move(area=city.grid_a, new_parent=city.community_b, now=NOW)
    assert_trees_sound()
    assert fresh(city.grid_a).code == "510703002001002"
    assert fresh(city.grid_b).code == "510703002001001"
    # The freed code is not reused by accident: the remaining grid keeps its own.
    assert fresh(city.grid_a2).code == "510703001001002"


def test_area_move_a_street_to_another_district_changes_its_tree(city, assert_trees_sound):
    services.area_move(area=city.street_a, new_parent=city.other_district, now=NOW)
    assert_trees_sound()
    other_tree = fresh(city.other_district).tree_id
    assert codes_under(city.street_a) == {
        "城北街道": "510704001",
        "幸福社区": "510704001001",
        "幸福第一网格": "510704001001001",
        "幸福第二网格": "510704001001002",
    }
    moved = fresh(city.street_a).get_descendants(include_self=True)
    assert set(moved.values_list("tree_id", flat=True)) == {other_tree}
    assert set(fresh(city.district).get_descendants().values_list("pk", flat=True)) == {
        city.street_b.pk, city.community_b.pk, city.grid_b.pk,
    }


def test_area_move_a_community_across_districts(city, assert_trees_sound):
    far_street = services.area_add(kind=STREET, name="远方街道", parent=city.other_district, now=NOW)
    services.area_add(kind=COMMUNITY, name="远方社区", parent=far_street, now=NOW)
    services.area_move(area=city.community_b, new_parent=far_street, now=NOW)
    assert_trees_sound()
    assert codes_under(city.community_b) == {"和平社区": "510704001002", "和平第一网格": "510704001002001"}
    assert fresh(city.grid_b).tree_id == fresh(city.other_district).tree_id
    assert fresh(city.building_b).grid_id == city.grid_b.pk


def test_area_move_there_and_back_keeps_the_subtree_consistent(city, assert_trees_sound):
    services.area_move(area=city.community_a, new_parent=city.street_b, now=NOW)
    assert_trees_sound()
    services.area_move(area=city.community_a, new_parent=city.street_a, now=NOW)
    assert_trees_sound()
    # Back under its old street it keeps the suffix it had (002 is free there).
    assert codes_under(city.community_a) == {
        "幸福社区": "510703001002",
        "幸福第一网格": "510703001002001",
        "幸福第二网格": "510703001002002",
    }
    assert len(events(AreaEvent.Action.MOVE)) == 2


def test_area_move_under_the_current_parent_changes_nothing(city, assert_trees_sound):
    before = snapshot()
    result = services.area_move(area=city.grid_a, new_parent=city.community_a, now=NOW)
    assert_trees_sound()
    assert result.pk == city.grid_a.pk
    assert snapshot() == before


@pytest.mark.parametrize(
    "area, new_parent, message",
    [
        ("street_a", "community_a", "A Street must sit under a District."),  # its own descendant
        ("community_a", "grid_a", "A Community must sit under a Street."),  # its own descendant
        ("community_a", "community_a", "A Community must sit under a Street."),  # itself
        ("grid_a", "grid_a", "A Grid must sit under a Community."),  # itself
        ("grid_a", "street_b", "A Grid must sit under a Community."),
        ("community_a", "district", "A Community must sit under a Street."),
        ("street_a", None, "A Street must sit under a District."),
    ],
)
def test_area_move_refuses_a_wrong_parent_including_itself_and_its_descendants(
    city, refused, area, new_parent, message
):
    refused(services.area_move, error="bad_parent", message=message,
            area=getattr(city, area), new_parent=getattr(city, new_parent) if new_parent else None, now=NOW)


def test_area_move_refuses_moving_a_district(city, refused):
    refused(services.area_move, error="bad_parent", message="A district cannot be moved.",
            area=city.district, new_parent=city.other_district, now=NOW)


def test_area_move_refuses_a_parent_merged_away(city, refused, assert_trees_sound):
    services.area_merge(source=city.community_b, target=city.community_a, now=NOW)
    assert_trees_sound()
    refused(services.area_move, error=None, message="“和平社区” was merged away; choose another parent.",
            area=city.grid_a2, new_parent=fresh(city.community_b), now=NOW)


@pytest.mark.parametrize(
    "role, post_on, area, new_parent, forbidden_on",
    [
        # May manage the grid, but not the community it would go to.
        (Role.COMMUNITY_STAFF, "community_a", "grid_a", "community_b", "和平社区"),
        # May manage the destination, but not the grid's current community.
        (Role.COMMUNITY_STAFF, "community_b", "grid_a", "community_b", "幸福社区"),
        (Role.STREET_STAFF, "street_a", "community_a", "street_b", "城南街道"),
        (Role.GRID_WORKER, "grid_a", "grid_a", "community_b", "幸福社区"),
        (Role.GRID_CHIEF, "grid_a", "grid_a", "community_b", "幸福社区"),
    ],
)
def test_area_move_refuses_a_user_outside_their_managing_scope(
    city, hire, refused, role, post_on, area, new_parent, forbidden_on
):
    user = hire(role, getattr(city, post_on))
    refused(services.area_move, error="forbidden", message=f"You do not manage “{forbidden_on}”.",
            area=getattr(city, area), new_parent=getattr(city, new_parent), acting_user=user, now=NOW)


def test_area_move_within_a_street_staff_members_own_street(city, hire, assert_trees_sound):
    staff = hire(Role.STREET_STAFF, city.street_a)
    community = services.area_add(kind=COMMUNITY, name="安康社区", parent=city.street_a, acting_user=staff, now=NOW)
    services.area_move(area=city.grid_a2, new_parent=community, acting_user=staff, now=NOW)
    assert_trees_sound()
    assert fresh(city.grid_a2).code == "510703001002002"


# --- stored paths (PlacePath) -------------------------------------------------------

def test_path_values_name_every_level_above_and_nothing_below(city):
    ids = {"district_id": city.district.pk, "street_id": city.street_a.pk,
           "community_id": city.community_a.pk, "grid_id": city.grid_a.pk}
    assert services.path_values(city.grid_a) == ids
    assert services.path_values(city.community_a) == {**ids, "grid_id": None}
    assert services.path_values(city.district) == {
        "district_id": city.district.pk, "street_id": None, "community_id": None, "grid_id": None,
    }


def test_path_values_read_the_tree_not_the_stale_instance(city, assert_trees_sound):
    stale = city.grid_a
    services.area_move(area=city.community_a, new_parent=city.street_b, now=NOW)
    assert_trees_sound()
    assert services.path_values(stale)["street_id"] == city.street_b.pk


def test_target_path_at_keeps_the_levels_down_to_the_merged_kind(city):
    path = services.path_values(city.grid_a)
    assert services.target_path_at(path, COMMUNITY) == {
        "district_id": city.district.pk, "street_id": city.street_a.pk, "community_id": city.community_a.pk,
    }
    assert services.target_path_at(path, GRID) == path


def test_repathing_without_placepath_models_writes_nothing(city, monkeypatch):
    # Cases and residents will store paths; with no such model there is nothing to rewrite.
    monkeypatch.setattr(services, "placepath_models", lambda: [])
    with CaptureQueriesContext(connection) as queries:
        services._repath_under(city.community_a)
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]


# Cases store their path (district, street, community, grid); restructuring carries them.

def stored_path(case):
    return type(case).objects.filter(pk=case.pk).values(*PATH_COLUMNS[1:]).get()


def path_of(grid):
    return services.path_values(grid)


def test_placepath_models_are_the_concrete_ones():
    from cases.models import Case

    assert Case in services.placepath_models()
    assert all(not m._meta.abstract for m in services.placepath_models())


def test_a_moved_community_carries_its_cases(city, assert_trees_sound):
    case = resident_report(city, building=city.building_a)
    other = resident_report(city, building=city.building_b)
    services.area_move(area=city.community_a, new_parent=city.street_b, now=NOW)
    assert_trees_sound()
    assert stored_path(case) == path_of(city.grid_a)
    assert stored_path(case)["street_id"] == city.street_b.pk
    assert stored_path(other) == path_of(city.grid_b)


def test_a_street_moved_to_another_district_carries_its_cases(city, assert_trees_sound):
    case = resident_report(city, building=city.building_a2)
    services.area_move(area=city.street_a, new_parent=city.other_district, now=NOW)
    assert_trees_sound()
    assert stored_path(case) == {"district_id": city.other_district.pk, "street_id": city.street_a.pk,
                                 "community_id": city.community_a.pk, "grid_id": city.grid_a2.pk}


def test_a_merged_community_hands_its_cases_to_the_target(city, assert_trees_sound):
    case = resident_report(city, building=city.building_b)
    services.area_merge(source=city.community_b, target=city.community_a, now=NOW)
    assert_trees_sound()
    assert stored_path(case) == {"district_id": city.district.pk, "street_id": city.street_a.pk,
                                 "community_id": city.community_a.pk, "grid_id": city.grid_b.pk}


def test_a_merged_grid_hands_its_cases_to_the_target(city, assert_trees_sound):
    case = resident_report(city, building=city.building_a2)
    services.area_merge(source=city.grid_a2, target=city.grid_a, now=NOW)
    assert_trees_sound()
    assert stored_path(case) == path_of(city.grid_a)


def test_a_split_grid_sends_the_cases_of_the_moved_buildings_along(city, assert_trees_sound):
    extra = services.building_add(grid=city.grid_a, number="2号楼")
    moving = resident_report(city, building=extra)
    staying = resident_report(city, building=city.building_a)
    new_grid = services.grid_split(grid=city.grid_a, name="拆分网格", buildings=[extra], now=NOW)
    assert_trees_sound()
    assert stored_path(moving) == path_of(new_grid)
    assert stored_path(staying) == path_of(city.grid_a)


def test_area_delete_refuses_a_place_with_cases(city, refused, assert_trees_sound):
    grid = services.area_add(kind=GRID, name="有案网格", parent=city.community_a, now=NOW)
    building = services.building_add(grid=grid, number="8号楼")
    resident_report(city, building=building)
    refused(services.area_delete, error="attached",
            message="“有案网格” still has buildings 1、cases 1 attached; move or remove them first.",
            area=grid, now=NOW)


def test_building_delete_refuses_a_building_with_cases(city, refused):
    building = services.building_add(grid=city.grid_a, number="8号楼")
    resident_report(city, building=building)
    refused(services.building_delete, error=None, message="Building 8号楼 still has records attached.",
            building=building)


# --- area_merge --------------------------------------------------------------------

def test_area_merge_two_communities_carries_grids_buildings_posts_and_history(city, hire, assert_trees_sound):
    official = hire(Role.DISTRICT_OFFICIAL, city.district)
    staff_b = hire(Role.COMMUNITY_STAFF, city.community_b)
    both = hire(Role.COMMUNITY_STAFF, city.community_a)
    services.post_grant(user=both, role=Role.COMMUNITY_STAFF, place=city.community_b, now=NOW)
    worker_b = hire(Role.GRID_WORKER, city.grid_b)

    target = services.area_merge(source=city.community_b, target=city.community_a, acting_user=official, now=LATER)
    assert_trees_sound()

    source = fresh(city.community_b)
    assert target.pk == city.community_a.pk
    assert (source.is_active, source.merged_into_id) == (False, city.community_a.pk)
    assert source.get_children().count() == 0
    assert fresh(city.grid_b).parent_id == city.community_a.pk
    assert fresh(city.grid_b).code == "510703001001003"
    assert fresh(city.building_b).grid_id == city.grid_b.pk  # the building follows its grid
    # The post on the source ends; an equal one starts on the target, once per person.
    old = Post.objects.get(user=staff_b, area=city.community_b)
    assert old.ended_at == LATER
    new = Post.objects.get(user=staff_b, area=city.community_a)
    assert (new.role, new.started_at, new.ended_at) == (Role.COMMUNITY_STAFF, LATER, None)
    assert Post.objects.filter(user=both, area=city.community_a, ended_at__isnull=True).count() == 1
    assert Post.objects.get(user=both, area=city.community_b).ended_at == LATER
    # Posts below the merged place are untouched: they moved with their grid.
    assert Post.objects.get(user=worker_b).area_id == city.grid_b.pk
    assert Post.objects.get(user=worker_b).ended_at is None
    # History: the merge on the source, the move of each child.
    (merge,) = events(AreaEvent.Action.MERGE)
    assert merge.area_id == source.pk and merge.actor == official and merge.at == LATER
    assert merge.details == {
        "name": "和平社区", "code": "510703002001", "into_id": city.community_a.pk, "into_name": "幸福社区",
        "moved_children": [city.grid_b.pk], "moved_buildings": [],
    }
    (move,) = events(AreaEvent.Action.MOVE)
    assert move.area_id == city.grid_b.pk and move.details["old_code"] == "510703002001001"
    # The merged place keeps its code: nothing new may take it.
    again = services.area_add(kind=COMMUNITY, name="新社区", parent=city.street_b, now=LATER)
    assert again.code == "510703002002"
    assert_trees_sound()


def test_area_merge_returns_the_target_with_current_tree_fields(city, assert_trees_sound):
    target = services.area_merge(source=city.community_b, target=city.community_a, now=NOW)
    assert_trees_sound()
    current = fresh(city.community_a)
    assert (target.tree_id, target.lft, target.rght) == (current.tree_id, current.lft, current.rght)
    assert set(target.get_descendants().values_list("pk", flat=True)) == {
        city.grid_a.pk, city.grid_a2.pk, city.grid_b.pk,
    }


def test_area_merge_two_grids_moves_the_buildings_and_regrants_posts(city, hire, assert_trees_sound):
    worker = hire(Role.GRID_WORKER, city.grid_a2)
    chief = hire(Role.GRID_CHIEF, city.grid_a2)
    services.area_merge(source=city.grid_a2, target=city.grid_a, now=NOW)
    assert_trees_sound()
    assert fresh(city.building_a2).grid_id == city.grid_a.pk
    assert set(Building.objects.filter(grid=city.grid_a).values_list("number", flat=True)) == {"1号楼", "5号楼"}
    for user, role in ((worker, Role.GRID_WORKER), (chief, Role.GRID_CHIEF)):
        assert Post.objects.get(user=user, area=city.grid_a2).ended_at == NOW
        assert Post.objects.get(user=user, area=city.grid_a, ended_at__isnull=True).role == role
    assert events(AreaEvent.Action.MERGE)[0].details["moved_buildings"] == [city.building_a2.pk]
    assert (fresh(city.grid_a2).is_active, fresh(city.grid_a2).merged_into_id) == (False, city.grid_a.pk)


def test_area_merge_ends_a_post_granted_after_its_now_when_it_started(city, hire, assert_trees_sound):
    # A merge recorded with a `now` before a post on the source began (entered
    # late, or clocks apart) ends that post when it started, never before.
    worker = UserFactory()
    services.post_grant(user=worker, role=Role.GRID_WORKER, place=city.grid_a2, now=LATER)
    services.area_merge(source=city.grid_a2, target=city.grid_a, now=NOW)
    assert_trees_sound()
    old = Post.objects.get(user=worker, area=city.grid_a2)
    assert (old.started_at, old.ended_at) == (LATER, LATER)
    new = Post.objects.get(user=worker, area=city.grid_a)
    assert (new.started_at, new.ended_at) == (NOW, None)


def test_area_merge_two_streets_moves_whole_communities(city, assert_trees_sound):
    services.area_merge(source=city.street_b, target=city.street_a, now=NOW)
    assert_trees_sound()
    assert codes_under(city.street_a) == {
        "城北街道": "510703001",
        "幸福社区": "510703001001",
        "幸福第一网格": "510703001001001",
        "幸福第二网格": "510703001001002",
        "和平社区": "510703001002",
        "和平第一网格": "510703001002001",
    }
    assert fresh(city.street_b).merged_into_id == city.street_a.pk


def test_area_merge_grids_of_different_districts(city, assert_trees_sound):
    street = services.area_add(kind=STREET, name="远方街道", parent=city.other_district, now=NOW)
    community = services.area_add(kind=COMMUNITY, name="远方社区", parent=street, now=NOW)
    far_grid = services.area_add(kind=GRID, name="远方网格", parent=community, now=NOW)
    services.area_merge(source=city.grid_b, target=far_grid, now=NOW)
    assert_trees_sound()
    assert fresh(city.building_b).grid_id == far_grid.pk
    assert fresh(city.grid_b).tree_id == city.district.tree_id  # the husk stays where it was


def test_area_merge_refusals_by_kind(city, refused):
    refused(services.area_merge, error="same", message="A place cannot be merged into itself.",
            source=city.community_a, target=city.community_a, now=NOW)
    kinds = "Only two streets, two communities or two grids can be merged."
    refused(services.area_merge, error="bad_kind", message=kinds, source=city.grid_a, target=city.community_a, now=NOW)
    refused(services.area_merge, error="bad_kind", message=kinds, source=city.street_a, target=city.district, now=NOW)
    refused(services.area_merge, error="bad_kind", message=kinds,
            source=city.other_district, target=city.district, now=NOW)


def test_area_merge_refuses_places_already_merged(city, refused, assert_trees_sound):
    services.area_merge(source=city.grid_a2, target=city.grid_a, now=NOW)
    assert_trees_sound()
    refused(services.area_merge, error="merged", message="That place was already merged.",
            source=city.grid_a2, target=city.grid_b, now=NOW)
    refused(services.area_merge, error="merged", message="That place was already merged.",
            source=city.grid_b, target=city.grid_a2, now=NOW)


def test_area_merge_refuses_grids_with_the_same_building_number(city, refused, assert_trees_sound):
    services.building_add(grid=city.grid_a2, number="1号楼")
    assert_trees_sound()
    refused(services.area_merge, error="clash",
            message="Both grids have buildings numbered 1号楼; renumber them before merging.",
            source=city.grid_a2, target=city.grid_a, now=NOW)


@pytest.mark.parametrize(
    "role, post_on, source, target, forbidden_on",
    [
        # The source's community may be managed, but the merge is decided above it.
        (Role.COMMUNITY_STAFF, "community_b", "community_b", "community_a", "城南街道"),
        (Role.COMMUNITY_STAFF, "community_a", "grid_a2", "grid_b", "和平第一网格"),
        (Role.STREET_STAFF, "street_a", "street_a", "street_b", "城关区"),
        (Role.GRID_WORKER, "grid_a2", "grid_a2", "grid_a", "幸福社区"),
    ],
)
def test_area_merge_refuses_a_user_outside_their_managing_scope(
    city, hire, refused, role, post_on, source, target, forbidden_on
):
    user = hire(role, getattr(city, post_on))
    refused(services.area_merge, error="forbidden", message=f"You do not manage “{forbidden_on}”.",
            source=getattr(city, source), target=getattr(city, target), acting_user=user, now=NOW)


# --- grid_split --------------------------------------------------------------------

def test_grid_split_moves_the_chosen_buildings_to_a_new_sibling_grid(city, hire, assert_trees_sound):
    staff = hire(Role.COMMUNITY_STAFF, city.community_a)
    extra = services.building_add(grid=city.grid_a, number="2号楼", acting_user=staff)
    assert_trees_sound()
    new_grid = services.grid_split(grid=city.grid_a, name=" 幸福第三网格", buildings=[extra],
                                   acting_user=staff, now=NOW)
    assert_trees_sound()
    new_grid = fresh(new_grid)
    assert (new_grid.kind, new_grid.parent_id, new_grid.code) == (GRID, city.community_a.pk, "510703001001003")
    assert new_grid.name == "幸福第三网格"
    assert list(Building.objects.filter(grid=new_grid).values_list("pk", flat=True)) == [extra.pk]
    assert list(Building.objects.filter(grid=city.grid_a).values_list("pk", flat=True)) == [city.building_a.pk]
    (split,) = events(AreaEvent.Action.SPLIT)
    assert split.area_id == city.grid_a.pk and split.actor == staff and split.at == NOW
    assert split.details == {"name": "幸福第一网格", "code": "510703001001001",
                             "new_grid_id": new_grid.pk, "buildings": [extra.pk]}
    assert events(AreaEvent.Action.ADD, area=new_grid)[0].actor == staff


def test_grid_split_accepts_building_ids(city, assert_trees_sound):
    extra = services.building_add(grid=city.grid_a, number="2号楼")
    new_grid = services.grid_split(grid=city.grid_a, name="拆分网格", buildings=[str(extra.pk)], now=NOW)
    assert_trees_sound()
    assert fresh(extra).grid_id == new_grid.pk


def test_grid_split_refusals(city, hire, refused):
    extra = services.building_add(grid=city.grid_a, number="2号楼")
    refused(services.grid_split, error="bad_kind", message="Only a grid can be split.",
            grid=city.community_a, name="x", buildings=[extra], now=NOW)
    refused(services.grid_split, error="no_buildings", message="Choose the buildings that go to the new grid.",
            grid=city.grid_a, name="x", buildings=[], now=NOW)
    refused(services.grid_split, error="foreign_buildings",
            message="Some of the chosen buildings are not in this grid.",
            grid=city.grid_a, name="x", buildings=[extra, city.building_b], now=NOW)
    refused(services.grid_split, error="foreign_buildings",
            message="Some of the chosen buildings are not in this grid.",
            grid=city.grid_a, name="x", buildings=[extra.pk + 10_000], now=NOW)
    refused(services.grid_split, error="all_buildings", message="Leave at least one building in the old grid.",
            grid=city.grid_a, name="x", buildings=[extra, city.building_a], now=NOW)
    refused(services.grid_split, error="no_name", message="A place needs a name.",
            grid=city.grid_a, name=" ", buildings=[extra], now=NOW)
    outsider = hire(Role.COMMUNITY_STAFF, city.community_b)
    refused(services.grid_split, error="forbidden", message="You do not manage “幸福社区”.",
            grid=city.grid_a, name="x", buildings=[extra], acting_user=outsider, now=NOW)
    worker = hire(Role.GRID_WORKER, city.grid_a)
    refused(services.grid_split, error="forbidden", message="You do not manage “幸福社区”.",
            grid=city.grid_a, name="x", buildings=[extra], acting_user=worker, now=NOW)


# --- area_delete -------------------------------------------------------------------

def test_area_delete_an_empty_place_logs_what_it_was(city, hire, assert_trees_sound):
    staff = hire(Role.COMMUNITY_STAFF, city.community_a)
    empty = services.area_add(kind=GRID, name="空网格", parent=city.community_a, acting_user=staff, now=NOW)
    services.area_delete(area=empty, acting_user=staff, now=LATER)
    assert_trees_sound()
    assert not Area.objects.filter(pk=empty.pk).exists()
    (deleted,) = events(AreaEvent.Action.DELETE)
    assert deleted.area_id is None and deleted.actor == staff and deleted.at == LATER
    assert deleted.details == {"name": "空网格", "code": "510703001001003", "kind": "grid",
                               "parent_id": city.community_a.pk}
    # The add event survives, detached from the row.
    assert AreaEvent.objects.get(action=AreaEvent.Action.ADD, details__code="510703001001003").area_id is None


def test_area_delete_an_empty_district(city, assert_trees_sound):
    services.area_delete(area=city.other_district, now=NOW)
    assert_trees_sound()
    assert list(Area.objects.filter(level=0).values_list("code", flat=True)) == ["510703"]


def test_area_delete_refuses_a_place_with_children(city, refused):
    refused(services.area_delete, error="attached",
            message="“幸福社区” still has places under it 2 attached; move or remove them first.",
            area=city.community_a, now=NOW)


def test_area_delete_refuses_a_grid_with_buildings(city, refused):
    refused(services.area_delete, error="attached",
            message="“幸福第一网格” still has buildings 1 attached; move or remove them first.",
            area=city.grid_a, now=NOW)


def test_area_delete_refuses_a_place_with_posts_current_or_past(city, hire, refused, assert_trees_sound):
    empty = services.area_add(kind=GRID, name="空网格", parent=city.community_a, now=NOW)
    worker = hire(Role.GRID_WORKER, empty)
    message = "“空网格” still has posts 1 attached; move or remove them first."
    refused(services.area_delete, error="attached", message=message, area=empty, now=NOW)
    services.post_end(post=Post.objects.get(user=worker), now=LATER)
    assert_trees_sound()
    # An ended post is history of who answered for the place; it still holds it.
    refused(services.area_delete, error="attached", message=message, area=empty, now=LATER)


def test_area_delete_names_everything_attached(city, hire, refused):
    hire(Role.GRID_CHIEF, city.grid_a)
    refused(services.area_delete, error="attached",
            message="“幸福第一网格” still has buildings 1、posts 1 attached; move or remove them first.",
            area=city.grid_a, now=NOW)


def test_area_delete_refuses_both_sides_of_a_merge(city, refused, assert_trees_sound):
    left = services.area_add(kind=GRID, name="左网格", parent=city.community_a, now=NOW)
    right = services.area_add(kind=GRID, name="右网格", parent=city.community_a, now=NOW)
    services.area_merge(source=left, target=right, now=NOW)
    assert_trees_sound()
    refused(services.area_delete, error="history",
            message="Other places were merged into “右网格”; it is kept as history.", area=right, now=NOW)
    refused(services.area_delete, error="history",
            message="“左网格” was merged into another place; it is kept as history.", area=left, now=NOW)


def test_area_delete_refuses_a_user_outside_their_managing_scope(city, hire, refused):
    empty = services.area_add(kind=GRID, name="空网格", parent=city.community_a, now=NOW)
    for role, place in ((Role.COMMUNITY_STAFF, city.community_b), (Role.GRID_WORKER, city.grid_a)):
        user = hire(role, place)
        refused(services.area_delete, error="forbidden", message="You do not manage “幸福社区”.",
                area=empty, acting_user=user, now=NOW)


# --- buildings and units -------------------------------------------------------------

def test_building_add_stores_the_building_under_the_grid(city, hire, assert_trees_sound):
    staff = hire(Role.COMMUNITY_STAFF, city.community_a)
    building = services.building_add(grid=city.grid_a, number=" 2号楼 ", name="幸福苑2栋", address="幸福路2号",
                                     latitude="31.467000", longitude="104.679000", acting_user=staff)
    assert_trees_sound()
    building = fresh(building)
    assert (building.grid_id, building.number, building.name, building.address) == (
        city.grid_a.pk, "2号楼", "幸福苑2栋", "幸福路2号",
    )
    assert str(building.latitude) == "31.467000"


def test_building_add_refusals(city, hire, refused, assert_trees_sound):
    refused(services.building_add, error="bad_parent", message="Buildings hang under grids.",
            grid=city.community_a, number="2号楼")
    refused(services.building_add, error="no_number", message="A building needs a number.",
            grid=city.grid_a, number=" ")
    refused(services.building_add, error="clash", message="Building 1号楼 already exists in this grid.",
            grid=city.grid_a, number="1号楼")
    refused(services.building_add, error="too_long", message="A number has at most 20 characters.",
            grid=city.grid_a, number="9" * 21)
    outsider = hire(Role.COMMUNITY_STAFF, city.community_b)
    refused(services.building_add, error="forbidden", message="You do not manage “幸福第一网格”.",
            grid=city.grid_a, number="2号楼", acting_user=outsider)
    chief = hire(Role.BUILDING_CHIEF, city.building_a)
    refused(services.building_add, error="forbidden", message="You do not manage “幸福第一网格”.",
            grid=city.grid_a, number="2号楼", acting_user=chief)
    services.area_merge(source=city.grid_a2, target=city.grid_a, now=NOW)
    assert_trees_sound()
    refused(services.building_add, error=None, message="“幸福第二网格” was merged away; choose another grid.",
            grid=fresh(city.grid_a2), number="2号楼")


def test_building_update_changes_the_allowed_fields(city, assert_trees_sound):
    services.building_update(building=city.building_a, number="1栋", address="幸福路一号")
    assert_trees_sound()
    building = fresh(city.building_a)
    assert (building.number, building.address, building.grid_id) == ("1栋", "幸福路一号", city.grid_a.pk)
    # Keeping its own number is not a clash.
    services.building_update(building=building, number="1栋", name="幸福苑")
    assert fresh(building).name == "幸福苑"


def test_building_update_refusals(city, hire, refused):
    services.building_add(grid=city.grid_a, number="2号楼")
    refused(services.building_update, error="clash", message="Building 2号楼 already exists in this grid.",
            building=city.building_a, number="2号楼")
    refused(services.building_update, error="no_number", message="A building needs a number.",
            building=city.building_a, number="")
    refused(services.building_update, error=None, message="Those fields cannot be changed here.",
            building=city.building_a, grid=city.grid_b)
    outsider = hire(Role.STREET_STAFF, city.street_b)
    refused(services.building_update, error="forbidden", message="You do not manage “幸福第一网格”.",
            building=city.building_a, name="越权", acting_user=outsider)


def test_building_delete(city, hire, refused, assert_trees_sound):
    empty = services.building_add(grid=city.grid_a, number="2号楼")
    refused(services.building_delete, error="attached",
            message="Building 1号楼 still has 1 units and 0 posts; remove them first.", building=city.building_a)
    chief = hire(Role.BUILDING_CHIEF, empty)
    refused(services.building_delete, error="attached",
            message="Building 2号楼 still has 0 units and 1 posts; remove them first.", building=empty)
    outsider = hire(Role.COMMUNITY_STAFF, city.community_b)
    refused(services.building_delete, error="forbidden", message="You do not manage “幸福第二网格”.",
            building=city.building_a2, acting_user=outsider)
    Post.objects.filter(user=chief).delete()  # test set-up only: no service removes posts
    services.building_delete(building=empty)
    assert_trees_sound()
    assert not Building.objects.filter(pk=empty.pk).exists()


def test_unit_add(city, hire, refused, assert_trees_sound):
    staff = hire(Role.COMMUNITY_STAFF, city.community_a)
    unit = services.unit_add(building=city.building_a, number=" 2单元 ", acting_user=staff)
    assert_trees_sound()
    assert (fresh(unit).building_id, fresh(unit).number) == (city.building_a.pk, "2单元")
    refused(services.unit_add, error="clash", message="Unit 2单元 already exists in this building.",
            building=city.building_a, number="2单元")
    refused(services.unit_add, error="no_number", message="A unit needs a number.", building=city.building_a, number="")
    refused(services.unit_add, error="forbidden", message="You do not manage “和平第一网格”.",
            building=city.building_b, number="2单元", acting_user=staff)


def test_unit_update_renumbers_within_the_building(city, hire, assert_trees_sound):
    staff = hire(Role.COMMUNITY_STAFF, city.community_a)
    unit = services.unit_update(unit=city.unit_a, number=" 一单元 ", acting_user=staff)
    assert_trees_sound()
    assert (unit.number, fresh(city.unit_a).number, fresh(city.unit_a).building_id) == (
        "一单元", "一单元", city.building_a.pk,
    )


def test_unit_update_to_its_own_number_writes_nothing(city):
    before = snapshot()
    services.unit_update(unit=city.unit_a, number="1单元")
    assert snapshot() == before


def test_unit_update_refusals(city, hire, refused):
    services.unit_add(building=city.building_a, number="2单元")
    refused(services.unit_update, error="clash", message="Unit 2单元 already exists in this building.",
            unit=city.unit_a, number="2单元")
    refused(services.unit_update, error="no_number", message="A unit needs a number.", unit=city.unit_a, number=" ")
    refused(services.unit_update, error="no_number", message="A unit needs a number.", unit=city.unit_a, number=None)
    refused(services.unit_update, error="too_long", message="A number has at most 20 characters.",
            unit=city.unit_a, number="9" * 21)
    outsider = hire(Role.COMMUNITY_STAFF, city.community_b)
    refused(services.unit_update, error="forbidden", message="You do not manage “幸福第一网格”.",
            unit=city.unit_a, number="一单元", acting_user=outsider)
    chief = hire(Role.UNIT_CHIEF, city.unit_a)
    refused(services.unit_update, error="forbidden", message="You do not manage “幸福第一网格”.",
            unit=city.unit_a, number="一单元", acting_user=chief)


def test_unit_update_checks_the_scope_where_the_building_is_now(city, hire, refused, assert_trees_sound):
    stale = Unit.objects.select_related("building__grid").get(pk=city.unit_a.pk)
    services.building_move(building=city.building_a, grid=city.grid_b, now=NOW)
    assert_trees_sound()
    staff_a = hire(Role.COMMUNITY_STAFF, city.community_a)
    refused(services.unit_update, error="forbidden", message="You do not manage “和平第一网格”.",
            unit=stale, number="一单元", acting_user=staff_a)


def test_unit_delete_an_empty_unit(city, hire, assert_trees_sound):
    staff = hire(Role.COMMUNITY_STAFF, city.community_a)
    unit = services.unit_add(building=city.building_a, number="2单元")
    services.unit_delete(unit=unit, acting_user=staff)
    assert_trees_sound()
    assert not Unit.objects.filter(pk=unit.pk).exists()
    assert Unit.objects.filter(pk=city.unit_a.pk).exists()


def test_unit_delete_refuses_a_unit_with_posts_current_or_past(city, hire, refused, assert_trees_sound):
    chief = hire(Role.UNIT_CHIEF, city.unit_a)
    message = "Unit 1单元 still has 1 posts; remove them first."
    refused(services.unit_delete, error="attached", message=message, unit=city.unit_a)
    services.post_end(post=Post.objects.get(user=chief), now=NOW)
    assert_trees_sound()
    # An ended post is the record of who answered for the unit; it still holds it.
    refused(services.unit_delete, error="attached", message=message, unit=city.unit_a)


def test_unit_delete_refuses_a_unit_with_cases(city, refused):
    # Cases PROTECT their unit: the delete runs in a savepoint and turns into a refusal.
    unit = services.unit_add(building=city.building_a, number="2单元")
    resident_report(city, building=city.building_a, unit=unit)
    refused(services.unit_delete, error="attached", message="Unit 2单元 still has records attached.", unit=unit)


def test_unit_delete_refuses_a_user_outside_their_managing_scope(city, hire, refused):
    for role, place in ((Role.COMMUNITY_STAFF, city.community_b), (Role.GRID_WORKER, city.grid_a),
                        (Role.BUILDING_CHIEF, city.building_a)):
        user = hire(role, place)
        refused(services.unit_delete, error="forbidden", message="You do not manage “幸福第一网格”.",
                unit=city.unit_a, acting_user=user)


# --- building_move -------------------------------------------------------------------

def test_building_move_within_a_community(city, hire, assert_trees_sound):
    staff = hire(Role.COMMUNITY_STAFF, city.community_a)
    chief = hire(Role.UNIT_CHIEF, city.unit_a)
    moved = services.building_move(building=city.building_a, grid=city.grid_a2, acting_user=staff, now=NOW)
    assert_trees_sound()
    assert moved.grid_id == fresh(city.building_a).grid_id == city.grid_a2.pk
    # Units and the posts on them hang on the building: they come along untouched.
    assert fresh(city.unit_a).building_id == city.building_a.pk
    assert Post.objects.get(user=chief).unit_id == city.unit_a.pk
    details = {"building_id": city.building_a.pk, "number": "1号楼",
               "from_grid_id": city.grid_a.pk, "from_grid": "幸福第一网格",
               "to_grid_id": city.grid_a2.pk, "to_grid": "幸福第二网格"}
    logged = events(AreaEvent.Action.MOVE)
    assert [e.area_id for e in logged] == [city.grid_a.pk, city.grid_a2.pk]
    for event in logged:
        assert (event.actor, event.at, event.details) == (staff, NOW, details)


def test_building_move_to_another_district_carries_its_cases(city, assert_trees_sound):
    street = services.area_add(kind=STREET, name="远方街道", parent=city.other_district, now=NOW)
    community = services.area_add(kind=COMMUNITY, name="远方社区", parent=street, now=NOW)
    far_grid = services.area_add(kind=GRID, name="远方网格", parent=community, now=NOW)
    on_building = resident_report(city, building=city.building_a)
    on_unit = resident_report(city, building=city.building_a, unit=city.unit_a)
    elsewhere = resident_report(city, building=city.building_a2)
    services.building_move(building=city.building_a, grid=far_grid, now=NOW)
    assert_trees_sound()
    assert stored_path(on_building) == stored_path(on_unit) == path_of(far_grid)
    assert stored_path(on_building)["district_id"] == city.other_district.pk
    assert stored_path(elsewhere) == path_of(city.grid_a2)
    assert {e.area_id for e in events(AreaEvent.Action.MOVE)} == {city.grid_a.pk, far_grid.pk}


def test_building_move_by_a_street_staff_member_across_their_communities(city, hire, assert_trees_sound):
    staff = hire(Role.STREET_STAFF, city.street_a)
    community = services.area_add(kind=COMMUNITY, name="安康社区", parent=city.street_a, acting_user=staff, now=NOW)
    grid = services.area_add(kind=GRID, name="安康第一网格", parent=community, acting_user=staff, now=NOW)
    services.building_move(building=city.building_a2, grid=grid, acting_user=staff, now=NOW)
    assert_trees_sound()
    assert fresh(city.building_a2).grid_id == grid.pk


def test_building_move_to_its_own_grid_writes_nothing(city):
    before = snapshot()
    moved = services.building_move(building=city.building_a, grid=city.grid_a, now=NOW)
    assert moved.grid_id == city.grid_a.pk
    assert snapshot() == before


def test_building_move_of_a_stale_building_starts_from_where_it_is_now(city, assert_trees_sound):
    stale = Building.objects.get(pk=city.building_a2.pk)
    services.area_merge(source=city.grid_a2, target=city.grid_a, now=NOW)  # carries the building to grid_a
    services.building_move(building=stale, grid=city.grid_b, now=LATER)
    assert_trees_sound()
    assert fresh(city.building_a2).grid_id == city.grid_b.pk
    (move,) = events(AreaEvent.Action.MOVE, details__building_id=city.building_a2.pk, area=city.grid_b)
    assert move.details["from_grid_id"] == city.grid_a.pk


@pytest.mark.parametrize("place", ["community_b", "street_a", "district"])
def test_building_move_refuses_anything_but_a_grid(city, refused, place):
    refused(services.building_move, error="bad_parent", message="Buildings hang under grids.",
            building=city.building_a, grid=getattr(city, place), now=NOW)


def test_building_move_refuses_a_grid_merged_away(city, refused, assert_trees_sound):
    services.area_merge(source=city.grid_a2, target=city.grid_a, now=NOW)
    assert_trees_sound()
    message = "“幸福第二网格” was merged away; choose another grid."
    refused(services.building_move, error="merged", message=message,
            building=city.building_b, grid=fresh(city.grid_a2), now=NOW)
    # The caller's copy, read before the merge, still says active: the service reads it again.
    refused(services.building_move, error="merged", message=message,
            building=city.building_b, grid=city.grid_a2, now=NOW)


def test_building_move_refuses_a_number_taken_in_the_target_grid(city, refused):
    services.building_add(grid=city.grid_b, number="1号楼")
    refused(services.building_move, error="clash",
            message="“和平第一网格” already has a building numbered 1号楼; renumber one of them before moving.",
            building=city.building_a, grid=city.grid_b, now=NOW)


@pytest.mark.parametrize(
    "role, post_on, building, grid, forbidden_on",
    [
        # Manages the building's grid, not the grid it would go to.
        (Role.COMMUNITY_STAFF, "community_a", "building_a", "grid_b", "和平第一网格"),
        # Manages the target, not the building's grid.
        (Role.COMMUNITY_STAFF, "community_b", "building_a", "grid_b", "幸福第一网格"),
        (Role.STREET_STAFF, "street_a", "building_a2", "grid_b", "和平第一网格"),
        (Role.DISTRICT_OFFICIAL, "other_district", "building_a", "grid_a2", "幸福第一网格"),
        # Not managing posts.
        (Role.GRID_WORKER, "grid_a", "building_a", "grid_a2", "幸福第一网格"),
        (Role.GRID_CHIEF, "grid_a", "building_a", "grid_a2", "幸福第一网格"),
        (Role.BUILDING_CHIEF, "building_a", "building_a", "grid_a2", "幸福第一网格"),
    ],
)
def test_building_move_refuses_a_user_outside_their_managing_scope(
    city, hire, refused, role, post_on, building, grid, forbidden_on
):
    user = hire(role, getattr(city, post_on))
    refused(services.building_move, error="forbidden", message=f"You do not manage “{forbidden_on}”.",
            building=getattr(city, building), grid=getattr(city, grid), acting_user=user, now=NOW)


# --- posts -----------------------------------------------------------------------

@pytest.mark.parametrize(
    "role, place, staff",
    [
        (Role.DISTRICT_OFFICIAL, "district", True),
        (Role.STREET_STAFF, "street_a", True),
        (Role.COMMUNITY_STAFF, "community_a", True),
        (Role.GRID_WORKER, "grid_a", False),
        (Role.GRID_CHIEF, "grid_a", False),
        (Role.BUILDING_CHIEF, "building_a", False),
        (Role.UNIT_CHIEF, "unit_a", False),
    ],
)
def test_post_grant_on_the_right_kind_of_place(city, assert_trees_sound, role, place, staff):
    user = UserFactory()
    place = getattr(city, place)
    post = services.post_grant(user=user, role=role, place=place, now=NOW)
    assert_trees_sound()
    post = fresh(post)
    assert (post.role, post.place, post.started_at, post.ended_at) == (role, place, NOW, None)
    # Managing posts open the admin (whose pages are scoped); the others do not.
    assert user.is_staff is staff
    assert fresh(user).is_staff is staff


@pytest.mark.parametrize(
    "role, place, message",
    [
        (Role.GRID_WORKER, "community_a", "A Grid worker is posted on a Grid."),
        (Role.DISTRICT_OFFICIAL, "street_a", "A District official is posted on a District."),
        (Role.COMMUNITY_STAFF, "building_a", "A Community staff is posted on a Community."),
        (Role.BUILDING_CHIEF, "grid_a", "A building chief is posted on a building."),
        (Role.UNIT_CHIEF, "building_a", "A unit chief is posted on a unit."),
    ],
)
def test_post_grant_refuses_the_wrong_kind_of_place(city, refused, role, place, message):
    refused(services.post_grant, error="bad_place", message=message,
            user=UserFactory(), role=role, place=getattr(city, place), now=NOW)


def test_post_grant_refusals(city, hire, refused, assert_trees_sound):
    worker = hire(Role.GRID_WORKER, city.grid_a)
    refused(services.post_grant, error="duplicate", message=f"{worker} already holds this post.",
            user=worker, role=Role.GRID_WORKER, place=city.grid_a, now=NOW)
    refused(services.post_grant, error="bad_role", message="Unknown role: mayor.",
            user=worker, role="mayor", place=city.district, now=NOW)
    refused(services.post_grant, error=None, message="A post is held on a place, a building or a unit.",
            user=worker, role=Role.GRID_WORKER, place=worker, now=NOW)
    # No one raises themselves above their post.
    street_staff = hire(Role.STREET_STAFF, city.street_a)
    refused(services.post_grant, error="forbidden", message="You do not manage “城关区”.",
            user=street_staff, role=Role.DISTRICT_OFFICIAL, place=city.district, acting_user=street_staff, now=NOW)
    refused(services.post_grant, error="forbidden", message="You do not manage “和平第一网格”.",
            user=UserFactory(), role=Role.BUILDING_CHIEF, place=city.building_b, acting_user=street_staff, now=NOW)
    refused(services.post_grant, error="forbidden", message="You do not manage “幸福第一网格”.",
            user=UserFactory(), role=Role.GRID_CHIEF, place=city.grid_a, acting_user=worker, now=NOW)
    services.area_merge(source=city.grid_a2, target=city.grid_a, now=NOW)
    assert_trees_sound()
    refused(services.post_grant, error=None, message="“幸福第二网格” was merged away.",
            user=UserFactory(), role=Role.GRID_WORKER, place=fresh(city.grid_a2), now=NOW)


def test_post_grant_checks_the_place_as_it_is_now_not_the_callers_copy(city, refused, assert_trees_sound):
    stale = Area.objects.get(pk=city.grid_a2.pk)  # read before the merge: is_active still True here
    services.area_merge(source=city.grid_a2, target=city.grid_a, now=NOW)
    assert_trees_sound()
    assert stale.is_active
    refused(services.post_grant, error=None, message="“幸福第二网格” was merged away.",
            user=UserFactory(), role=Role.GRID_CHIEF, place=stale, now=NOW)


def test_post_grant_checks_the_scope_where_the_place_is_now(city, hire, refused, assert_trees_sound):
    # The caller read grid_a2 under community_a; it has since moved to community_b.
    stale = Area.objects.get(pk=city.grid_a2.pk)
    services.area_move(area=city.grid_a2, new_parent=city.community_b, now=NOW)
    assert_trees_sound()
    staff_a = hire(Role.COMMUNITY_STAFF, city.community_a)
    refused(services.post_grant, error="forbidden", message="You do not manage “幸福第二网格”.",
            user=UserFactory(), role=Role.GRID_WORKER, place=stale, acting_user=staff_a, now=NOW)
    staff_b = hire(Role.COMMUNITY_STAFF, city.community_b)
    post = services.post_grant(user=UserFactory(), role=Role.GRID_WORKER, place=stale, acting_user=staff_b, now=NOW)
    assert fresh(post).area_id == city.grid_a2.pk


def test_post_grant_on_a_building_moved_since_it_was_read(city, hire, assert_trees_sound):
    stale = Building.objects.get(pk=city.building_a2.pk)
    services.building_move(building=city.building_a2, grid=city.grid_b, now=NOW)
    staff_b = hire(Role.COMMUNITY_STAFF, city.community_b)
    post = services.post_grant(user=UserFactory(), role=Role.BUILDING_CHIEF, place=stale, acting_user=staff_b,
                               now=NOW)
    assert_trees_sound()
    assert fresh(post).building_id == city.building_a2.pk


def test_post_grant_again_after_the_old_post_ended(city, hire, assert_trees_sound):
    worker = hire(Role.GRID_WORKER, city.grid_a)
    services.post_end(post=Post.objects.get(user=worker), now=NOW)
    services.post_grant(user=worker, role=Role.GRID_WORKER, place=city.grid_a, now=LATER)
    assert_trees_sound()
    assert list(Post.objects.filter(user=worker).order_by("pk").values_list("ended_at", flat=True)) == [NOW, None]


def test_post_end_ends_once(city, hire, refused, assert_trees_sound):
    staff = hire(Role.COMMUNITY_STAFF, city.community_a)
    chief = hire(Role.UNIT_CHIEF, city.unit_a)
    post = Post.objects.get(user=chief)
    ended = services.post_end(post=post, acting_user=staff, now=LATER)
    assert_trees_sound()
    assert ended.ended_at == LATER == fresh(post).ended_at
    refused(services.post_end, error="ended", message="This post has already ended.", post=post, now=LATER)


@pytest.mark.parametrize(
    "role, place",
    [(Role.DISTRICT_OFFICIAL, "district"), (Role.STREET_STAFF, "street_a"), (Role.COMMUNITY_STAFF, "community_a")],
)
def test_post_end_of_the_last_managing_post_clears_the_staff_flag(city, hire, assert_trees_sound, role, place):
    user = hire(role, getattr(city, place))
    services.post_grant(user=user, role=Role.GRID_WORKER, place=city.grid_b, now=HIRED)  # not a managing post
    post = Post.objects.get(user=user, role=role)
    assert fresh(user).is_staff
    services.post_end(post=post, now=NOW)
    assert_trees_sound()
    assert fresh(user).is_staff is False
    assert post.user.is_staff is False  # the instance the caller holds says so too


def test_post_end_keeps_the_staff_flag_while_a_managing_post_is_left(city, hire, assert_trees_sound):
    user = hire(Role.COMMUNITY_STAFF, city.community_a)
    services.post_grant(user=user, role=Role.COMMUNITY_STAFF, place=city.community_b, now=HIRED)
    services.post_end(post=Post.objects.get(user=user, area=city.community_a), now=NOW)
    assert fresh(user).is_staff
    services.post_end(post=Post.objects.get(user=user, area=city.community_b), now=NOW)
    assert fresh(user).is_staff is False
    # A new managing post opens the admin again.
    services.post_grant(user=user, role=Role.STREET_STAFF, place=city.street_a, now=LATER)
    assert fresh(user).is_staff


def test_post_end_leaves_a_superusers_staff_flag(city, hire):
    admin = hire(Role.DISTRICT_OFFICIAL, city.district, is_superuser=True, is_staff=True)
    services.post_end(post=Post.objects.get(user=admin), now=NOW)
    assert fresh(admin).is_staff and fresh(admin).is_superuser


def test_post_end_of_a_post_that_never_managed_leaves_the_flag(city, hire):
    # The flag follows managing posts; a grid worker's post never set it, so ending one does not clear it.
    worker = hire(Role.GRID_WORKER, city.grid_a, is_staff=True)
    services.post_end(post=Post.objects.get(user=worker), now=NOW)
    assert fresh(worker).is_staff


def test_post_end_refuses_an_end_before_the_start(city, hire, refused):
    worker = hire(Role.GRID_WORKER, city.grid_a)
    refused(services.post_end, error="bad_date", message="A post cannot end before it started.",
            post=Post.objects.get(user=worker), now=HIRED - timedelta(minutes=1))


def test_post_end_refuses_a_user_outside_their_managing_scope(city, hire, refused):
    chief = hire(Role.BUILDING_CHIEF, city.building_b)
    staff_a = hire(Role.COMMUNITY_STAFF, city.community_a)
    refused(services.post_end, error="forbidden", message="You do not manage “和平第一网格”.",
            post=Post.objects.get(user=chief), acting_user=staff_a, now=NOW)
    worker = hire(Role.GRID_WORKER, city.grid_b)
    refused(services.post_end, error="forbidden", message="You do not manage “和平第一网格”.",
            post=Post.objects.get(user=chief), acting_user=worker, now=NOW)


# --- user_invite -------------------------------------------------------------------

def invite(**kwargs):
    defaults = {"username": "wang.wu", "full_name": "王五", "phone": "13900000001",
                "role": Role.GRID_WORKER, "now": NOW}
    return services.user_invite(**{**defaults, **kwargs})


@pytest.mark.parametrize(
    "role, place, staff",
    [
        (Role.GRID_WORKER, "grid_a", False),
        (Role.GRID_CHIEF, "grid_a2", False),
        (Role.BUILDING_CHIEF, "building_a", False),
        (Role.UNIT_CHIEF, "unit_a", False),
        (Role.COMMUNITY_STAFF, "community_a", True),
    ],
)
def test_user_invite_opens_an_account_with_its_first_post(city, hire, assert_trees_sound, role, place, staff):
    inviter = hire(Role.STREET_STAFF, city.street_a)
    user = invite(username=" wang.wu ", full_name=" 王五 ", role=role, place=getattr(city, place),
                  acting_user=inviter)
    assert_trees_sound()
    user = fresh(user)
    assert (user.username, user.full_name, user.phone) == ("wang.wu", "王五", "13900000001")
    assert not user.has_usable_password()
    assert user.is_active and not user.is_superuser
    assert user.is_staff is staff
    (post,) = Post.objects.filter(user=user)
    assert (post.role, post.place, post.started_at, post.ended_at) == (role, getattr(city, place), NOW, None)


def test_user_invite_by_the_system(city, assert_trees_sound):
    user = invite(place=city.grid_b, acting_user=None)
    assert_trees_sound()
    assert Post.objects.get(user=user).area_id == city.grid_b.pk


@pytest.mark.parametrize(
    "username, error, message",
    [
        ("", "no_username", "An account needs a username."),
        ("   ", "no_username", "An account needs a username."),
        (None, "no_username", "An account needs a username."),
        ("wang wu", "bad_username", "A username may contain only letters, digits and @/./+/-/_ characters."),
        ("wang#wu", "bad_username", "A username may contain only letters, digits and @/./+/-/_ characters."),
        ("w" * 151, "too_long", "A username has at most 150 characters."),
    ],
)
def test_user_invite_refuses_a_bad_username(city, refused, username, error, message):
    refused(services.user_invite, error=error, message=message, username=username, full_name="王五",
            phone="", role=Role.GRID_WORKER, place=city.grid_a, acting_user=None, now=NOW)


def test_user_invite_refuses_a_username_taken_in_any_case(city, refused):
    UserFactory(username="Wang.Wu")
    for username in ("Wang.Wu", "wang.wu"):
        refused(services.user_invite, error="taken", message=f"The username {username} is already taken.",
                username=username, full_name="王五", phone="", role=Role.GRID_WORKER, place=city.grid_a,
                acting_user=None, now=NOW)


def test_user_invite_refuses_missing_or_overlong_details(city, refused):
    base = {"username": "wang.wu", "role": Role.GRID_WORKER, "place": city.grid_a, "acting_user": None, "now": NOW}
    refused(services.user_invite, error="no_full_name", message="An account needs the person’s full name.",
            full_name=" ", phone="", **base)
    refused(services.user_invite, error="too_long", message="A name has at most 50 characters.",
            full_name="名" * 51, phone="", **base)
    refused(services.user_invite, error="too_long", message="A phone number has at most 20 characters.",
            full_name="王五", phone="1" * 21, **base)


@pytest.mark.parametrize(
    "role, place, error, message",
    [
        (Role.GRID_WORKER, "community_a", "bad_place", "A Grid worker is posted on a Grid."),
        (Role.COMMUNITY_STAFF, "grid_a", "bad_place", "A Community staff is posted on a Community."),
        (Role.BUILDING_CHIEF, "unit_a", "bad_place", "A building chief is posted on a building."),
        (Role.UNIT_CHIEF, "building_a", "bad_place", "A unit chief is posted on a unit."),
        ("mayor", "grid_a", "bad_role", "Unknown role: mayor."),
    ],
)
def test_user_invite_refuses_a_role_that_does_not_fit_the_place(city, refused, role, place, error, message):
    refused(services.user_invite, error=error, message=message, username="wang.wu", full_name="王五", phone="",
            role=role, place=getattr(city, place), acting_user=None, now=NOW)


def test_user_invite_refuses_a_place_merged_away(city, refused, assert_trees_sound):
    stale = Area.objects.get(pk=city.grid_a2.pk)
    services.area_merge(source=city.grid_a2, target=city.grid_a, now=NOW)
    assert_trees_sound()
    refused(services.user_invite, error=None, message="“幸福第二网格” was merged away.", username="wang.wu",
            full_name="王五", phone="", role=Role.GRID_WORKER, place=stale, acting_user=None, now=NOW)


@pytest.mark.parametrize(
    "role, post_on, place, forbidden_on",
    [
        # A community staff member invites nobody onto another community's places.
        (Role.COMMUNITY_STAFF, "community_a", "grid_b", "和平第一网格"),
        (Role.COMMUNITY_STAFF, "community_a", "building_b", "和平第一网格"),
        (Role.COMMUNITY_STAFF, "community_a", "unit_b", "和平第一网格"),
        (Role.COMMUNITY_STAFF, "community_a", "street_a", "城北街道"),  # above their post
        (Role.STREET_STAFF, "street_b", "grid_a", "幸福第一网格"),
        (Role.GRID_WORKER, "grid_a", "grid_a", "幸福第一网格"),  # not a managing post
        (Role.BUILDING_CHIEF, "building_a", "unit_a", "幸福第一网格"),
    ],
)
def test_user_invite_refuses_a_place_outside_the_managing_scope(city, hire, refused, role, post_on, place,
                                                                forbidden_on):
    inviter = hire(role, getattr(city, post_on))
    target = getattr(city, place)
    invited_role = {AreaKind.GRID: Role.GRID_WORKER, AreaKind.STREET: Role.STREET_STAFF}.get(
        getattr(target, "kind", None), Role.BUILDING_CHIEF if isinstance(target, Building) else Role.UNIT_CHIEF)
    refused(services.user_invite, error="forbidden", message=f"You do not manage “{forbidden_on}”.",
            username="wang.wu", full_name="王五", phone="", role=invited_role, place=target,
            acting_user=inviter, now=NOW)


# --- a longer life ------------------------------------------------------------------

def test_a_year_of_restructuring_keeps_every_tree_sound(city, assert_trees_sound):
    """A reform like Hongya's: add, move, merge, split and delete, checked after each step."""
    street_c = services.area_add(kind=STREET, name="城东街道", parent=city.district, now=NOW)
    assert_trees_sound()
    communities = []
    for i in range(4):
        communities.append(services.area_add(kind=COMMUNITY, name=f"东{i}社区", parent=street_c, now=NOW))
        assert_trees_sound()
        for j in range(3):
            grid = services.area_add(kind=GRID, name=f"东{i}-{j}网格", parent=communities[-1], now=NOW)
            services.building_add(grid=grid, number=f"{i}-{j}号楼")
            assert_trees_sound()
    services.area_move(area=communities[0], new_parent=city.street_a, now=NOW)
    assert_trees_sound()
    services.area_move(area=city.community_b, new_parent=street_c, now=NOW)
    assert_trees_sound()
    services.area_merge(source=communities[1], target=communities[2], now=NOW)
    assert_trees_sound()
    services.area_merge(source=street_c, target=city.street_b, now=NOW)
    assert_trees_sound()
    services.area_move(area=city.street_b, new_parent=city.other_district, now=NOW)
    assert_trees_sound()
    grid = fresh(city.grid_b)
    services.building_move(building=city.building_a2, grid=grid, now=NOW)
    assert_trees_sound()
    extra = services.building_add(grid=grid, number="新楼")
    new_grid = services.grid_split(grid=grid, name="和平第二网格", buildings=[extra], now=NOW)
    assert_trees_sound()
    services.area_merge(source=new_grid, target=grid, now=NOW)
    assert_trees_sound()
    empty = services.area_add(kind=GRID, name="临时网格", parent=communities[3], now=NOW)
    services.area_delete(area=empty, now=NOW)
    assert_trees_sound()

    # Every building still hangs on an active grid; every code extends its parent's.
    assert not Building.objects.filter(grid__is_active=False).exists()
    assert Building.objects.count() == 3 + 12 + 1
    for area in Area.objects.exclude(parent=None).select_related("parent"):
        assert area.code.startswith(area.parent.code) and len(area.code) == len(area.parent.code) + 3
    assert fresh(city.grid_b).code.startswith("510704")


# --- queued behind a merge (PostgreSQL: real concurrent transactions) --------------------

def queued_behind_a_merge(*, source, target, write):
    """Run `write` while another transaction has merged `source` into `target` and
    holds the tree lock; the writer queues, then runs once the merge commits."""
    import threading
    import time

    from django.db import transaction

    from .test_tree_concurrency import run_together

    held, release, outcome = threading.Event(), threading.Event(), {}

    def merge_and_hold():
        with transaction.atomic():
            services.area_merge(source=source, target=target, now=NOW)
            held.set()
            assert release.wait(30)

    def writer():
        held.wait(30)
        with translation.override("en"):  # the thread does not inherit the test's language
            try:
                outcome["result"] = write()
            except DomainError as exc:
                outcome["refusal"] = exc

    def referee():
        held.wait(30)
        time.sleep(1.0)  # let the writer queue for the lock before the merge commits
        release.set()

    run_together(merge_and_hold, writer, referee)
    return outcome


@pytest.mark.django_db(transaction=True)
def test_building_move_queued_behind_a_merge_of_its_target_is_refused(on_postgres, city):
    outcome = queued_behind_a_merge(
        source=city.grid_b, target=city.grid_a,
        write=lambda: services.building_move(building=city.building_a2, grid=city.grid_b, now=LATER),
    )
    assert outcome["refusal"].code == "merged", outcome
    assert fresh(city.building_a2).grid_id == city.grid_a2.pk
    assert tree_problems() == []


@pytest.mark.django_db(transaction=True)
def test_building_move_queued_behind_a_merge_of_its_grid_starts_from_the_merge_target(on_postgres, city):
    outcome = queued_behind_a_merge(
        source=city.grid_a2, target=city.grid_a,
        write=lambda: services.building_move(building=city.building_a2, grid=city.grid_b, now=LATER),
    )
    assert "refusal" not in outcome, outcome
    assert fresh(city.building_a2).grid_id == city.grid_b.pk
    move = AreaEvent.objects.get(action=AreaEvent.Action.MOVE, area=city.grid_b)
    assert move.details["from_grid_id"] == city.grid_a.pk  # not the merged grid its caller read
    assert tree_problems() == []


@pytest.mark.django_db(transaction=True)
def test_post_grant_queued_behind_a_merge_sees_the_place_merged_away(on_postgres, city):
    user = UserFactory()
    outcome = queued_behind_a_merge(
        source=city.grid_a2, target=city.grid_a,
        write=lambda: services.post_grant(user=user, role=Role.GRID_WORKER, place=city.grid_a2, now=LATER),
    )
    assert str(outcome["refusal"]) == "“幸福第二网格” was merged away.", outcome
    assert not Post.objects.filter(user=user).exists()


@pytest.mark.django_db(transaction=True)
def test_user_invite_queued_behind_a_merge_creates_no_account(on_postgres, city):
    outcome = queued_behind_a_merge(
        source=city.grid_a2, target=city.grid_a,
        write=lambda: invite(place=city.grid_a2, acting_user=None),
    )
    assert str(outcome["refusal"]) == "“幸福第二网格” was merged away.", outcome
    assert not User.objects.filter(username="wang.wu").exists()
