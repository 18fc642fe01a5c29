"""grid/selectors.py: who sees which places, buildings, units, posts and people.

Each role is checked against the exact set it may see in a city where something
lies outside every subtree (another street, another grid, another district).
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, Value
from django.http import Http404

from grid import selectors, services
from grid.models import Area, AreaKind, Building, Post, Role, User
from grid.models import AreaEvent
from grid.selectors import (
    Scope,
    Span,
    area_events_visible_to,
    areas_managed_by,
    areas_visible_to,
    buildings_visible_to,
    can_manage_area,
    forget_scope,
    get_visible_or_404,
    posts_visible_to,
    scope_of,
    units_visible_to,
    users_visible_to,
)

from .factories import UserFactory


@pytest.fixture
def places(city):
    """The demo city plus a branch in the other district and a second unit in building A."""
    far_street = services.area_add(kind=AreaKind.STREET, name="远方街道", parent=city.other_district)
    far_community = services.area_add(kind=AreaKind.COMMUNITY, name="远方社区", parent=far_street)
    far_grid = services.area_add(kind=AreaKind.GRID, name="远方网格", parent=far_community)
    far_building = services.building_add(grid=far_grid, number="7号楼")
    far_unit = services.unit_add(building=far_building, number="1单元")
    unit_a2 = services.unit_add(building=city.building_a, number="2单元")
    city.refresh()
    return SimpleNamespace(
        **vars(city), far_street=far_street, far_community=far_community, far_grid=far_grid,
        far_building=far_building, far_unit=far_unit, unit_a2=unit_a2,
    )


def pks(queryset):
    return set(queryset.values_list("pk", flat=True))


def named(p, *names):
    return {getattr(p, n).pk for n in names}


ALL_AREAS = ("district", "street_a", "street_b", "community_a", "community_b", "grid_a", "grid_a2", "grid_b",
             "other_district", "far_street", "far_community", "far_grid")
ALL_BUILDINGS = ("building_a", "building_a2", "building_b", "far_building")
ALL_UNITS = ("unit_a", "unit_a2", "unit_b", "far_unit")

# role, the place it is held on, and exactly what it reaches.
REACH = {
    "district official": (
        Role.DISTRICT_OFFICIAL, "district",
        ("district", "street_a", "street_b", "community_a", "community_b", "grid_a", "grid_a2", "grid_b"),
        ("building_a", "building_a2", "building_b"),
        ("unit_a", "unit_a2", "unit_b"),
    ),
    "street staff": (
        Role.STREET_STAFF, "street_a",
        ("street_a", "community_a", "grid_a", "grid_a2"),
        ("building_a", "building_a2"),
        ("unit_a", "unit_a2"),
    ),
    "community staff": (
        Role.COMMUNITY_STAFF, "community_b",
        ("community_b", "grid_b"),
        ("building_b",),
        ("unit_b",),
    ),
    "grid worker": (Role.GRID_WORKER, "grid_a", ("grid_a",), ("building_a",), ("unit_a", "unit_a2")),
    "grid chief": (Role.GRID_CHIEF, "grid_a2", ("grid_a2",), ("building_a2",), ()),
    "building chief": (Role.BUILDING_CHIEF, "building_a", (), ("building_a",), ("unit_a", "unit_a2")),
    "unit chief": (Role.UNIT_CHIEF, "unit_a2", (), ("building_a",), ("unit_a2",)),
}


@pytest.mark.parametrize("who", list(REACH))
def test_each_role_sees_exactly_its_subtree(places, make_user, who):
    role, place, areas, buildings, units = REACH[who]
    user = make_user(role, getattr(places, place))
    assert pks(areas_visible_to(user)) == named(places, *areas)
    assert pks(buildings_visible_to(user)) == named(places, *buildings)
    assert pks(units_visible_to(user)) == named(places, *units)
    # Something of every kind lies outside, so each check above could fail.
    assert set(ALL_AREAS) - set(areas) and set(ALL_BUILDINGS) - set(buildings) and set(ALL_UNITS) - set(units)


@pytest.mark.parametrize("who", list(REACH))
def test_each_role_gets_404_outside_and_the_object_inside(places, make_user, who):
    role, place, areas, buildings, units = REACH[who]
    user = make_user(role, getattr(places, place))
    for names, everything, visible in (
        (areas, ALL_AREAS, areas_visible_to),
        (buildings, ALL_BUILDINGS, buildings_visible_to),
        (units, ALL_UNITS, units_visible_to),
    ):
        for name in names:
            assert get_visible_or_404(visible(user), pk=getattr(places, name).pk) == getattr(places, name)
        outside = [n for n in everything if n not in names]
        for name in outside:
            with pytest.raises(Http404):
                get_visible_or_404(visible(user), pk=getattr(places, name).pk)


def test_missing_and_out_of_scope_ids_answer_the_same_404(places, make_user):
    staff = make_user(Role.COMMUNITY_STAFF, places.community_a)
    missing = Area.objects.order_by("-pk").first().pk + 1000
    for pk in (missing, places.grid_b.pk):
        with pytest.raises(Http404) as info:
            get_visible_or_404(areas_visible_to(staff), pk=pk)
        assert str(info.value) == ""  # nothing tells the two apart
    with pytest.raises(Http404):
        get_visible_or_404(buildings_visible_to(staff), pk=Building.objects.order_by("-pk").first().pk + 1000)


def test_a_superuser_sees_everything(places):
    admin = UserFactory(is_superuser=True)
    assert pks(areas_visible_to(admin)) == named(places, *ALL_AREAS)
    assert pks(buildings_visible_to(admin)) == named(places, *ALL_BUILDINGS)
    assert pks(units_visible_to(admin)) == named(places, *ALL_UNITS)
    post = services.post_grant(user=UserFactory(), role=Role.GRID_WORKER, place=places.far_grid)
    assert pks(posts_visible_to(admin)) == {post.pk}
    assert pks(users_visible_to(admin)) == set(User.objects.values_list("pk", flat=True))


def test_a_user_without_posts_sees_nothing_but_themselves(places):
    nobody = UserFactory()
    services.post_grant(user=UserFactory(), role=Role.GRID_WORKER, place=places.grid_a)
    assert not areas_visible_to(nobody).exists()
    assert not buildings_visible_to(nobody).exists()
    assert not units_visible_to(nobody).exists()
    assert not posts_visible_to(nobody).exists()
    assert pks(users_visible_to(nobody)) == {nobody.pk}
    assert scope_of(nobody).is_empty


def test_an_inactive_user_reaches_nothing_despite_their_post(places, make_user):
    official = make_user(Role.DISTRICT_OFFICIAL, places.district)
    User.objects.filter(pk=official.pk).update(is_active=False)
    official.refresh_from_db()
    forget_scope(official)
    assert scope_of(official).is_empty
    assert not areas_visible_to(official).exists()
    assert not buildings_visible_to(official).exists()
    assert not units_visible_to(official).exists()
    assert not can_manage_area(official, places.grid_a)
    inactive_admin = UserFactory(is_superuser=True, is_active=False)
    assert not areas_visible_to(inactive_admin).exists()


def test_anonymous_reaches_nothing(places, django_assert_num_queries):
    with django_assert_num_queries(0):
        scope = scope_of(AnonymousUser())
    assert scope.is_empty
    assert not areas_visible_to(AnonymousUser()).exists()


def test_an_ended_post_grants_nothing(places, make_user):
    worker = make_user(Role.GRID_WORKER, places.grid_a)
    post = Post.objects.get(user=worker)
    assert pks(areas_visible_to(worker)) == {places.grid_a.pk}
    services.post_end(post=post)
    # post_end forgets the scope cached on the post's user, which is this instance
    # only if the caller passed it; a new request starts with a fresh user anyway.
    forget_scope(worker)
    assert not areas_visible_to(worker).exists()
    assert not buildings_visible_to(worker).exists()
    assert not can_manage_area(worker, places.grid_a)
    # Their own (ended) post stays visible to them as history.
    assert pks(posts_visible_to(worker)) == {post.pk}


def test_several_posts_add_up(places, make_user):
    user = make_user(Role.GRID_WORKER, places.grid_b)
    services.post_grant(user=user, role=Role.UNIT_CHIEF, place=places.far_unit)
    forget_scope(user)
    assert pks(areas_visible_to(user)) == {places.grid_b.pk}
    assert pks(buildings_visible_to(user)) == {places.building_b.pk, places.far_building.pk}
    assert pks(units_visible_to(user)) == {places.unit_b.pk, places.far_unit.pk}


def test_buildings_reached_through_two_units_are_listed_once(places, make_user):
    chief = make_user(Role.UNIT_CHIEF, places.unit_a)
    services.post_grant(user=chief, role=Role.UNIT_CHIEF, place=places.unit_a2)
    assert list(buildings_visible_to(chief).values_list("pk", flat=True)) == [places.building_a.pk]


# --- posts and people --------------------------------------------------------------

@pytest.fixture
def staffing(places, make_user):
    """One person on each kind of place, inside and outside community A."""
    people = SimpleNamespace(
        official=make_user(Role.DISTRICT_OFFICIAL, places.district),
        staff_a=make_user(Role.COMMUNITY_STAFF, places.community_a),
        staff_b=make_user(Role.COMMUNITY_STAFF, places.community_b),
        worker_a=make_user(Role.GRID_WORKER, places.grid_a),
        worker_b=make_user(Role.GRID_WORKER, places.grid_b),
        bchief_a=make_user(Role.BUILDING_CHIEF, places.building_a),
        bchief_b=make_user(Role.BUILDING_CHIEF, places.building_b),
        uchief_a2=make_user(Role.UNIT_CHIEF, places.unit_a2),
        uchief_b=make_user(Role.UNIT_CHIEF, places.unit_b),
        far=make_user(Role.GRID_WORKER, places.far_grid),
    )
    people.post = {name: Post.objects.get(user=u).pk for name, u in vars(people).items()}
    return people


def test_posts_visible_to_community_staff(staffing):
    s = staffing
    expected = {s.post[n] for n in ("staff_a", "worker_a", "bchief_a", "uchief_a2")}
    assert pks(posts_visible_to(s.staff_a)) == expected
    assert pks(users_visible_to(s.staff_a)) == {s.staff_a.pk, s.worker_a.pk, s.bchief_a.pk, s.uchief_a2.pk}


def test_posts_visible_to_a_district_official(staffing):
    s = staffing
    outside = {s.post["far"]}
    assert pks(posts_visible_to(s.official)) == set(s.post.values()) - outside
    assert s.far.pk not in pks(users_visible_to(s.official))


def test_posts_visible_to_a_building_chief_are_those_of_the_building_and_its_units(staffing):
    s = staffing
    assert pks(posts_visible_to(s.bchief_a)) == {s.post["bchief_a"], s.post["uchief_a2"]}
    assert pks(users_visible_to(s.bchief_a)) == {s.bchief_a.pk, s.uchief_a2.pk}


def test_posts_visible_to_a_unit_chief(staffing):
    s = staffing
    # A unit chief reaches the building of their unit, so its chief too, but not other units.
    assert pks(posts_visible_to(s.uchief_a2)) == {s.post["uchief_a2"], s.post["bchief_a"]}
    assert s.uchief_b.pk not in pks(users_visible_to(s.uchief_a2))


def test_posts_visible_to_a_grid_worker(staffing):
    s = staffing
    assert pks(posts_visible_to(s.worker_b)) == {s.post["worker_b"], s.post["bchief_b"], s.post["uchief_b"]}
    assert pks(users_visible_to(s.worker_b)) == {s.worker_b.pk, s.bchief_b.pk, s.uchief_b.pk}


def test_people_with_past_posts_in_scope_stay_visible(staffing):
    s = staffing
    services.post_end(post=Post.objects.get(user=s.worker_a))
    assert s.post["worker_a"] in pks(posts_visible_to(s.staff_a))
    assert s.worker_a.pk in pks(users_visible_to(s.staff_a))
    assert list(users_visible_to(s.staff_a)).count(s.worker_a) == 1


# --- managing ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "role, post_on, may, may_not",
    [
        (Role.DISTRICT_OFFICIAL, "district", ("district", "community_b", "grid_a"), ("other_district", "far_grid")),
        (Role.STREET_STAFF, "street_a", ("street_a", "grid_a2"), ("district", "street_b", "grid_b")),
        (Role.COMMUNITY_STAFF, "community_a", ("community_a", "grid_a"), ("street_a", "community_b", "grid_b")),
        (Role.GRID_WORKER, "grid_a", (), ("grid_a", "community_a")),
        (Role.GRID_CHIEF, "grid_a", (), ("grid_a",)),
        (Role.BUILDING_CHIEF, "building_a", (), ("grid_a",)),
        (Role.UNIT_CHIEF, "unit_a", (), ("grid_a",)),
    ],
)
def test_can_manage_area(places, make_user, role, post_on, may, may_not):
    user = make_user(role, getattr(places, post_on))
    for name in may:
        assert can_manage_area(user, getattr(places, name)), name
    for name in may_not:
        assert not can_manage_area(user, getattr(places, name)), name
    if may:
        assert pks(areas_managed_by(user)) == pks(areas_visible_to(user))
    else:
        assert not areas_managed_by(user).exists()


def test_can_manage_area_for_the_system_and_a_superuser(places):
    assert can_manage_area(None, places.far_grid)
    assert can_manage_area(UserFactory(is_superuser=True), places.far_grid)
    assert not can_manage_area(UserFactory(), places.far_grid)


def test_managing_part_of_a_mixed_scope(places, make_user):
    user = make_user(Role.GRID_WORKER, places.grid_b)
    services.post_grant(user=user, role=Role.COMMUNITY_STAFF, place=places.community_a)
    assert can_manage_area(user, places.grid_a)
    assert not can_manage_area(user, places.grid_b)  # seen as a worker, not managed
    assert pks(areas_managed_by(user)) == named(places, "community_a", "grid_a", "grid_a2")
    assert pks(areas_visible_to(user)) == named(places, "community_a", "grid_a", "grid_a2", "grid_b")


@pytest.fixture
def mixed(places, make_user):
    """Community staff on A who is also a grid worker on B and a unit chief far away."""
    user = make_user(Role.COMMUNITY_STAFF, places.community_a)
    services.post_grant(user=user, role=Role.GRID_WORKER, place=places.grid_b)
    services.post_grant(user=user, role=Role.UNIT_CHIEF, place=places.far_unit)
    worker_b = make_user(Role.GRID_WORKER, places.grid_b)
    worker_a = make_user(Role.GRID_WORKER, places.grid_a)
    return SimpleNamespace(user=user, worker_a=worker_a, worker_b=worker_b)


def test_managing_narrows_every_selector_to_the_managing_posts(places, mixed):
    user = mixed.user
    assert pks(areas_visible_to(user)) == named(places, "community_a", "grid_a", "grid_a2", "grid_b")
    assert pks(areas_visible_to(user, managing=True)) == named(places, "community_a", "grid_a", "grid_a2")
    assert pks(buildings_visible_to(user)) == named(places, "building_a", "building_a2", "building_b",
                                                    "far_building")
    assert pks(buildings_visible_to(user, managing=True)) == named(places, "building_a", "building_a2")
    assert pks(units_visible_to(user)) == named(places, "unit_a", "unit_a2", "unit_b", "far_unit")
    assert pks(units_visible_to(user, managing=True)) == named(places, "unit_a", "unit_a2")
    own = set(Post.objects.filter(user=user).values_list("pk", flat=True))
    post_a = Post.objects.get(user=mixed.worker_a).pk
    post_b = Post.objects.get(user=mixed.worker_b).pk
    assert pks(posts_visible_to(user)) == own | {post_a, post_b}
    assert pks(posts_visible_to(user, managing=True)) == own | {post_a}  # their own posts stay theirs to see
    assert pks(users_visible_to(user)) == {user.pk, mixed.worker_a.pk, mixed.worker_b.pk}
    assert pks(users_visible_to(user, managing=True)) == {user.pk, mixed.worker_a.pk}
    assert {e.area_id for e in area_events_visible_to(user)} == named(
        places, "community_a", "grid_a", "grid_a2", "grid_b")
    assert {e.area_id for e in area_events_visible_to(user, managing=True)} == named(
        places, "community_a", "grid_a", "grid_a2")
    assert pks(areas_managed_by(user)) == pks(areas_visible_to(user, managing=True))


def test_managing_is_nothing_but_oneself_without_a_managing_post(places, make_user):
    worker = make_user(Role.GRID_WORKER, places.grid_a)
    assert not areas_visible_to(worker, managing=True).exists()
    assert not buildings_visible_to(worker, managing=True).exists()
    assert not units_visible_to(worker, managing=True).exists()
    assert pks(posts_visible_to(worker, managing=True)) == {Post.objects.get(user=worker).pk}
    assert pks(users_visible_to(worker, managing=True)) == {worker.pk}
    assert not area_events_visible_to(worker, managing=True).exists()


def test_managing_changes_nothing_for_a_superuser(places):
    admin = UserFactory(is_superuser=True)
    for visible in (areas_visible_to, buildings_visible_to, units_visible_to, posts_visible_to,
                    users_visible_to, area_events_visible_to):
        assert pks(visible(admin, managing=True)) == pks(visible(admin)), visible.__name__


@pytest.mark.parametrize("who", list(REACH))
def test_managing_answers_what_the_admins_managing_view_did(places, make_user, mixed, who):
    # The admin used to hand selectors a copy of the user carrying only the
    # managing part of the scope (grid.admin.managing_view, kept for cases.admin
    # until cases_visible_to takes the keyword); the keyword must agree with it.
    from grid.admin import managing_view

    role, place, *_ = REACH[who]
    for user in (make_user(role, getattr(places, place)), mixed.user):
        for visible in (areas_visible_to, buildings_visible_to, units_visible_to, posts_visible_to,
                        users_visible_to, area_events_visible_to):
            assert pks(visible(user, managing=True)) == pks(visible(managing_view(user))), visible.__name__


def test_history_of_a_deleted_place_is_for_the_unrestricted_only(places, make_user):
    staff = make_user(Role.COMMUNITY_STAFF, places.community_a)
    empty = services.area_add(kind=AreaKind.GRID, name="短命网格", parent=places.community_a, acting_user=staff)
    services.area_delete(area=empty, acting_user=staff)
    deleted = AreaEvent.objects.get(area=None, action=AreaEvent.Action.DELETE)
    assert deleted.pk not in pks(area_events_visible_to(staff))
    assert deleted.pk in pks(area_events_visible_to(UserFactory(is_superuser=True)))


# --- the scope cache -----------------------------------------------------------------

def test_scope_of_takes_one_query_then_none(places, make_user, django_assert_num_queries):
    user = make_user(Role.STREET_STAFF, places.street_a)
    services.post_grant(user=user, role=Role.UNIT_CHIEF, place=places.unit_b)
    forget_scope(user)
    with django_assert_num_queries(1):
        scope = scope_of(user)
    with django_assert_num_queries(0):
        assert scope_of(user) is scope
    assert [s.area_id for s in scope.spans] == [places.street_a.pk]
    assert scope.unit_ids == {places.unit_b.pk}


def test_a_superuser_scope_needs_no_query(places, django_assert_num_queries):
    admin = UserFactory(is_superuser=True)
    with django_assert_num_queries(0):
        assert scope_of(admin).unrestricted


@pytest.mark.parametrize("who", list(REACH))
def test_each_scoped_list_is_one_query_once_the_scope_is_known(
    places, make_user, django_assert_max_num_queries, who
):
    role, place, areas, buildings, units = REACH[who]
    user = make_user(role, getattr(places, place))
    scope_of(user)
    for visible, expected in (
        (areas_visible_to, len(areas)),
        (buildings_visible_to, len(buildings)),
        (units_visible_to, len(units)),
        (posts_visible_to, 1),  # their own
        (users_visible_to, 1),  # themselves
    ):
        # An empty scope may answer without asking the database at all.
        with django_assert_max_num_queries(1):
            rows = list(visible(user))
        assert len(rows) == expected


def test_post_grant_drops_the_cached_scope(places):
    user = UserFactory()
    assert scope_of(user).is_empty
    services.post_grant(user=user, role=Role.COMMUNITY_STAFF, place=places.community_a)
    assert pks(areas_visible_to(user)) == named(places, "community_a", "grid_a", "grid_a2")


def test_post_end_drops_the_cached_scope(places):
    user = UserFactory()
    post = services.post_grant(user=user, role=Role.COMMUNITY_STAFF, place=places.community_a)
    assert can_manage_area(user, places.grid_a)
    services.post_end(post=post)
    assert not can_manage_area(user, places.grid_a)
    assert not areas_visible_to(user).exists()


def test_the_cache_is_real_until_forgotten(places):
    user = UserFactory()
    assert scope_of(user).is_empty
    Post.objects.create(user=user, role=Role.GRID_WORKER, area=places.grid_a, started_at=places.grid_a.created_at)
    assert not areas_visible_to(user).exists()  # same request: the cached scope holds
    forget_scope(user)
    assert pks(areas_visible_to(user)) == {places.grid_a.pk}


def test_scope_follows_a_moved_subtree(places, make_user):
    staff = make_user(Role.STREET_STAFF, places.street_b)
    assert places.building_a.pk not in pks(buildings_visible_to(staff))
    services.area_move(area=places.community_a, new_parent=places.street_b)
    forget_scope(staff)  # the next request
    assert named(places, "community_a", "grid_a", "grid_a2") <= pks(areas_visible_to(staff))
    assert places.building_a.pk in pks(buildings_visible_to(staff))
    assert places.unit_a2.pk in pks(units_visible_to(staff))


def test_scope_after_a_merge_reaches_the_target(places, make_user):
    staff = make_user(Role.COMMUNITY_STAFF, places.community_b)
    services.area_merge(source=places.community_b, target=places.community_a)
    forget_scope(staff)
    assert places.community_a.pk in pks(areas_visible_to(staff))
    assert places.building_a.pk in pks(buildings_visible_to(staff))


# --- the Scope value -------------------------------------------------------------------

def test_span_contains_its_subtree_only(places):
    span = Span(places.community_a.pk, AreaKind.COMMUNITY, places.community_a.tree_id,
                places.community_a.lft, places.community_a.rght, Role.COMMUNITY_STAFF)
    assert span.contains(places.community_a) and span.contains(places.grid_a2)
    assert not span.contains(places.street_a)
    assert not span.contains(places.grid_b)
    assert not span.contains(places.far_grid)  # same bounds may exist in another tree


def matches(q, **row):
    """Evaluate a Q against one row of stored path values (no PlacePath table needed)."""
    return q.check({"pk": Value(0), **{field: Value(value) for field, value in row.items()}})


def test_path_q_filters_stored_paths_by_the_post_level(places, make_user):
    row_a = dict(district_id=places.district.pk, street_id=places.street_a.pk,
                 community_id=places.community_a.pk, grid_id=places.grid_a.pk,
                 building_id=places.building_a.pk, unit_id=places.unit_a.pk)
    row_b = dict(district_id=places.district.pk, street_id=places.street_b.pk,
                 community_id=places.community_b.pk, grid_id=places.grid_b.pk,
                 building_id=places.building_b.pk, unit_id=places.unit_b.pk)
    staff = make_user(Role.COMMUNITY_STAFF, places.community_a)
    assert matches(scope_of(staff).path_q(), **row_a)
    assert not matches(scope_of(staff).path_q(), **row_b)
    chief = make_user(Role.BUILDING_CHIEF, places.building_b)
    assert matches(scope_of(chief).path_q(), **row_b)
    assert not matches(scope_of(chief).path_q(), **row_a)
    unit_chief = make_user(Role.UNIT_CHIEF, places.unit_a)
    q = scope_of(unit_chief).path_q(unit_field="home_unit_id")
    assert matches(q, home_unit_id=places.unit_a.pk, building_id=0)
    assert not matches(q, home_unit_id=places.unit_b.pk, building_id=0)
    official = make_user(Role.DISTRICT_OFFICIAL, places.district)
    assert matches(scope_of(official).path_q(), **row_b)
    assert not matches(scope_of(official).path_q(), **{**row_b, "district_id": places.other_district.pk})
    assert scope_of(UserFactory(is_superuser=True)).path_q() == Q()
    # Nothing in scope matches nothing, rather than everything.
    assert Area.objects.filter(scope_of(UserFactory()).path_q()).count() == 0


def test_managing_keeps_only_managing_spans(places, make_user):
    user = make_user(Role.GRID_WORKER, places.grid_b)
    services.post_grant(user=user, role=Role.STREET_STAFF, place=places.street_a)
    services.post_grant(user=user, role=Role.BUILDING_CHIEF, place=places.building_b)
    managing = scope_of(user).managing()
    assert [s.area_id for s in managing.spans] == [places.street_a.pk]
    assert not managing.building_ids
    assert Scope(unrestricted=True).managing().unrestricted


# --- pages' helpers ----------------------------------------------------------------

def test_reach_summary_counts_active_places_by_kind(places, make_user):
    staff = make_user(Role.STREET_STAFF, places.street_a)
    summary, buildings, units = selectors.reach_summary(staff)
    assert dict(summary) == {AreaKind.DISTRICT: 0, AreaKind.STREET: 1, AreaKind.COMMUNITY: 1, AreaKind.GRID: 2}
    assert (buildings, units) == (2, 2)
    services.area_merge(source=places.grid_a2, target=places.grid_a)
    summary, buildings, units = selectors.reach_summary(staff)
    assert dict(summary)[AreaKind.GRID] == 1  # the merged grid is history, not reach
    assert buildings == 2


def test_top_places_drop_places_inside_another(places, make_user):
    user = make_user(Role.STREET_STAFF, places.street_a)
    services.post_grant(user=user, role=Role.COMMUNITY_STAFF, place=places.community_a)
    services.post_grant(user=user, role=Role.GRID_WORKER, place=places.grid_b)
    assert selectors.top_places(user) == [places.street_a, places.grid_b]
    admin = UserFactory(is_superuser=True)
    assert selectors.top_places(admin) == [places.district, places.other_district]


@pytest.mark.parametrize(
    "role, place, audience",
    [
        (Role.DISTRICT_OFFICIAL, "district", "official"),
        (Role.STREET_STAFF, "street_a", "staff"),
        (Role.COMMUNITY_STAFF, "community_a", "staff"),
        (Role.GRID_WORKER, "grid_a", "worker"),
        (Role.BUILDING_CHIEF, "building_a", "worker"),
    ],
)
def test_primary_audience(places, make_user, role, place, audience):
    assert selectors.primary_audience(make_user(role, getattr(places, place))) == audience


def test_primary_audience_of_a_superuser_and_of_nobody(places):
    assert selectors.primary_audience(UserFactory(is_superuser=True)) == "staff"
    assert selectors.primary_audience(UserFactory()) == "worker"
