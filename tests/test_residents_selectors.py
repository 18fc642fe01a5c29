"""residents/selectors.py: who reaches which residents' records, for every role.

Each role gets one resident inside their subtree and one outside; the three
chiefs reach none (PIPL: the minimum necessary).
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grid import services as grid_services
from grid.models import AreaKind, Post, Role
from residents import selectors, services
from residents.models import AccessField, Resident

from .factories import UserFactory, user_with_post
from .residents_factories import household_in, resident_in, tag, worker_of

NOW = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def people(city):
    """One resident in grid_a, grid_a2, grid_b and a grid of the other district."""
    unit_a2 = grid_services.unit_add(building=city.building_a2, number="1单元")
    street = grid_services.area_add(kind=AreaKind.STREET, name="远方街道", parent=city.other_district)
    community = grid_services.area_add(kind=AreaKind.COMMUNITY, name="远方社区", parent=street)
    grid = grid_services.area_add(kind=AreaKind.GRID, name="远方网格", parent=community)
    building = grid_services.building_add(grid=grid, number="1号楼")
    unit = grid_services.unit_add(building=building, number="1单元")
    return {
        "a": resident_in(household_in(city.unit_a), "甲", tags=[tag("elderly_alone")], now=NOW),
        "a2": resident_in(household_in(unit_a2), "乙", tags=[tag("elderly_alone")], now=NOW),
        "b": resident_in(household_in(city.unit_b), "丙", now=NOW),
        "other": resident_in(household_in(unit), "丁", now=NOW),
    }


# role, place attribute on the city, residents inside
REACH = [
    (Role.GRID_WORKER, "grid_a", {"a"}),
    (Role.COMMUNITY_STAFF, "community_a", {"a", "a2"}),
    (Role.STREET_STAFF, "street_a", {"a", "a2"}),
    (Role.DISTRICT_OFFICIAL, "district", {"a", "a2", "b"}),
    (Role.GRID_CHIEF, "grid_a", set()),
    (Role.BUILDING_CHIEF, "building_a", set()),
    (Role.UNIT_CHIEF, "unit_a", set()),
]


def names(qs, people):
    by_pk = {r.pk: key for key, r in people.items()}
    return {by_pk[pk] for pk in qs.values_list("pk", flat=True)}


@pytest.mark.parametrize("role, place, inside", REACH)
def test_each_role_reaches_its_subtree_and_nothing_outside(city, people, role, place, inside):
    user = user_with_post(role, getattr(city, place))
    assert names(selectors.residents_visible_to(user), people) == inside
    assert set(selectors.households_visible_to(user).values_list("pk", flat=True)) == {
        people[k].household_id for k in inside}
    for key, resident in people.items():
        assert selectors.can_edit_residents(user, resident) == (key in inside)


def test_superuser_reaches_every_resident_and_a_post_less_user_none(city, people):
    root = UserFactory(is_superuser=True, is_staff=True)
    assert names(selectors.residents_visible_to(root), people) == set(people)
    nobody = UserFactory()
    assert not selectors.residents_visible_to(nobody).exists()
    assert not selectors.households_visible_to(nobody).exists()


def test_an_inactive_user_or_an_ended_post_reaches_nothing(city, people):
    user = worker_of(city.grid_a)
    user.is_active = False
    user.save()
    user.refresh_from_db()
    assert not selectors.residents_visible_to(user).exists()
    assert not selectors.can_edit_residents(user, people["a"])
    other = worker_of(city.grid_a)
    grid_services.post_end(post=Post.objects.get(user=other))
    other.refresh_from_db()
    assert not selectors.residents_visible_to(other).exists()


def test_those_who_left_stay_visible_as_history_unless_asked(city, people):
    worker = worker_of(city.grid_a)
    services.resident_move_out(resident=people["a"], acting_user=worker, now=NOW)
    assert names(selectors.residents_visible_to(worker), people) == {"a"}
    assert not selectors.residents_visible_to(worker, include_left=False).exists()


def test_lists_never_load_the_encrypted_columns(city, people):
    staff = user_with_post(Role.DISTRICT_OFFICIAL, city.district)
    staff.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        rows = list(selectors.residents_visible_to(staff))
    assert len(rows) == 3
    assert all(r.get_deferred_fields() >= {"id_number", "phone"} for r in rows)
    assert all("gAAAA" not in str(r.__dict__) for r in rows)
    selected = queries.captured_queries[-1]["sql"]
    assert '"id_number"' not in selected and '"phone"' not in selected and '"id_masked"' in selected
    # The values are still there for an export that may show them.
    assert set(selectors.residents_visible_to(staff).values_list("phone", flat=True)) == {"13800138000"}


def test_the_list_is_one_query_after_the_scope(city, people, django_assert_max_num_queries):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    staff.refresh_from_db()
    with django_assert_max_num_queries(2):  # the user's posts, then the residents
        assert len(list(selectors.residents_visible_to(staff).only("pk", "name", "id_masked"))) == 2


def test_visits_and_due_visits_follow_the_scope(city, people):
    worker_a, worker_a2 = worker_of(city.grid_a), worker_of(city.grid_a2)
    visit = services.care_visit_log(resident=people["a"], notes="走访", acting_user=worker_a, now=NOW)
    assert list(selectors.visits_visible_to(worker_a)) == [visit]
    assert not selectors.visits_visible_to(worker_a2).exists()
    later = NOW.date() + datetime.timedelta(days=7)
    assert list(selectors.visits_due(worker_a, on=later)) == [people["a"]]
    assert not selectors.visits_due(worker_a, on=later - datetime.timedelta(days=1)).exists()
    assert list(selectors.visits_due(worker_a2, on=NOW.date())) == [people["a2"]]
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    assert list(selectors.visits_due(staff, on=later)) == [people["a2"], people["a"]]  # soonest first
    assert not selectors.visits_due(user_with_post(Role.GRID_CHIEF, city.grid_a), on=later).exists()


def test_access_log_is_read_by_staff_above_and_by_the_actor(city, people):
    worker = worker_of(city.grid_a)
    entry = services.resident_reveal(resident=people["a"], field=AccessField.PHONE, reason="联系家属",
                                     acting_user=worker, now=NOW) and selectors.AccessLog.objects.get()
    readers = [user_with_post(Role.COMMUNITY_STAFF, city.community_a),
               user_with_post(Role.STREET_STAFF, city.street_a),
               user_with_post(Role.DISTRICT_OFFICIAL, city.district), worker,
               UserFactory(is_superuser=True, is_staff=True)]
    for user in readers:
        assert list(selectors.access_log_visible_to(user)) == [entry], user
    others = [user_with_post(Role.COMMUNITY_STAFF, city.community_b), worker_of(city.grid_a),
              user_with_post(Role.GRID_CHIEF, city.grid_a), UserFactory()]
    for user in others:
        assert not selectors.access_log_visible_to(user).exists(), user


def test_sensitive_tags_are_shown_to_staff_only(city):
    assert tag("community_correction").sensitive
    staff = worker_of(city.grid_a)
    chief = user_with_post(Role.BUILDING_CHIEF, city.building_a)
    assert selectors.tags_visible_to(staff).filter(code="community_correction").exists()
    assert not selectors.tags_visible_to(chief).filter(code="community_correction").exists()
    assert selectors.tags_visible_to(chief).filter(code="elderly_alone").exists()


@pytest.mark.parametrize("role, place, field, allowed", [
    (Role.COMMUNITY_STAFF, "community_a", "id_number", True),
    (Role.COMMUNITY_STAFF, "community_a", "phone", True),
    (Role.GRID_WORKER, "grid_a", "phone", True),
    (Role.GRID_WORKER, "grid_a", "id_number", False),
    (Role.GRID_WORKER, "grid_a2", "phone", False),
    (Role.COMMUNITY_STAFF, "community_b", "phone", False),
    (Role.STREET_STAFF, "street_a", "phone", False),
    (Role.DISTRICT_OFFICIAL, "district", "id_number", False),
    (Role.GRID_CHIEF, "grid_a", "phone", False),
    (Role.UNIT_CHIEF, "unit_a", "phone", False),
])
def test_can_reveal(city, people, role, place, field, allowed):
    assert selectors.can_reveal(user_with_post(role, getattr(city, place)), people["a"], field) is allowed


def test_superuser_without_a_post_cannot_reveal_or_export_unmasked(city, people):
    root = UserFactory(is_superuser=True, is_staff=True)
    assert not selectors.can_reveal(root, people["a"], "phone")
    assert not selectors.can_export_unmasked(root)
    assert not selectors.residents_exportable_unmasked(root).exists()


def test_unmasked_export_reaches_only_the_part_held_through_export_posts(city, people):
    user = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    grid_services.post_grant(user=user, role=Role.GRID_WORKER, place=city.grid_b)
    user.refresh_from_db()
    assert names(selectors.residents_visible_to(user), people) == {"a", "a2", "b"}
    assert selectors.can_export_unmasked(user)
    assert names(selectors.residents_exportable_unmasked(user), people) == {"a", "a2"}
    assert not selectors.residents_exportable_unmasked(worker_of(city.grid_a)).exists()


def test_can_edit_is_decided_by_ids_not_by_stale_tree_bounds(city, people):
    """A community moved to another street (nested-set bounds shift) is still judged right,
    even through a scope and a place read before the move."""
    staff = user_with_post(Role.STREET_STAFF, city.street_b)
    stale_grid = city.grid_a  # read before the move
    assert not selectors.can_edit_residents(staff, stale_grid)
    grid_services.area_move(area=city.community_a, new_parent=city.street_b)
    # `staff`'s scope is cached from before the move; `stale_grid` has old bounds.
    assert selectors.can_edit_residents(staff, stale_grid)
    assert selectors.can_edit_residents(staff, Resident.objects.get(pk=people["a"].pk))
    assert selectors.can_edit_residents(staff, city.unit_a) and selectors.can_edit_residents(staff, city.building_a)
    old = user_with_post(Role.STREET_STAFF, city.street_a)
    assert not selectors.can_edit_residents(old, stale_grid)


def test_common_place_of(city):
    worker = worker_of(city.grid_a)
    assert selectors.common_place_of(worker) == city.grid_a
    grid_services.post_grant(user=worker, role=Role.GRID_WORKER, place=city.grid_a2)
    worker.refresh_from_db()
    assert selectors.common_place_of(worker) == city.community_a
    grid_services.post_grant(user=worker, role=Role.GRID_WORKER, place=city.grid_b)
    worker.refresh_from_db()
    assert selectors.common_place_of(worker) == city.district
    assert selectors.common_place_of(user_with_post(Role.GRID_CHIEF, city.grid_a)) is None
