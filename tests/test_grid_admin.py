"""grid/admin/: the admin community staff use every day.

Every admin is tested with an object inside the staff member's community and
one outside it (list, change, delete, history, autocomplete). Bad input goes
through the admin pages and must leave the database exactly as it was.
Changelists are checked for a bounded number of queries with many rows.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grid import selectors, services
from grid.admin import AreaAdmin, ScopedAdminMixin, takes_managing
from grid.models import Area, AreaEvent, AreaKind, Building, Post, Role, Unit, User

from .cases_factories import fresh_calendar, resident_report  # noqa: F401 (fresh_calendar: autouse)
from .factories import UserFactory

GRID, COMMUNITY, STREET, DISTRICT = AreaKind.GRID, AreaKind.COMMUNITY, AreaKind.STREET, AreaKind.DISTRICT


def url(model, view, *args):
    return reverse(f"admin:grid_{model}_{view}", args=args)


def browser(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def inline_data(page):
    """The POST data of the inlines on a change page, as the browser would send it back."""
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        for form in formset.forms:
            for field in form:
                if field.value() is not None:
                    data[field.html_name] = field.value()
    return data


def snapshot():
    """Every row the admin may write, in a comparable form."""
    return {
        "areas": list(Area.objects.order_by("pk").values()),
        "buildings": list(Building.objects.order_by("pk").values()),
        "units": list(Unit.objects.order_by("pk").values()),
        "posts": list(Post.objects.order_by("pk").values()),
        "events": list(AreaEvent.objects.order_by("pk").values()),
    }


@pytest.fixture
def staff(city, make_user):
    return make_user(Role.COMMUNITY_STAFF, city.community_a)


@pytest.fixture
def as_staff(staff):
    return browser(staff)


@pytest.fixture
def root(db):
    return UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def as_root(root):
    return browser(root)


@pytest.fixture
def people(city, make_user):
    """Grid workers inside (grid_a) and outside (grid_b) community_a."""
    return {
        "worker_a": make_user(Role.GRID_WORKER, city.grid_a),
        "worker_b": make_user(Role.GRID_WORKER, city.grid_b),
    }


@pytest.fixture
def pairs(city, people):
    """(model name, object inside community_a, object outside it) for every admin."""
    post_a = Post.objects.get(user=people["worker_a"])
    post_b = Post.objects.get(user=people["worker_b"])
    return {
        "area": (city.grid_a, city.grid_b),
        "building": (city.building_a, city.building_b),
        "unit": (city.unit_a, city.unit_b),
        "post": (post_a, post_b),
        "user": (people["worker_a"], people["worker_b"]),
        "areaevent": (
            AreaEvent.objects.filter(area=city.grid_a).first(),
            AreaEvent.objects.filter(area=city.grid_b).first(),
        ),
    }


MODELS = ["area", "building", "unit", "post", "user", "areaevent"]


# --- scope: inside and outside, for every admin ----------------------------------------

@pytest.mark.parametrize("model", MODELS)
def test_changelist_lists_inside_and_not_outside(as_staff, pairs, model):
    inside, outside = pairs[model]
    response = as_staff.get(url(model, "changelist"))
    assert response.status_code == 200
    assert url(model, "change", inside.pk) in response.text
    assert url(model, "change", outside.pk) not in response.text


@pytest.mark.parametrize("model", MODELS)
def test_change_view_is_404_outside_and_for_missing(as_staff, pairs, model):
    inside, outside = pairs[model]
    assert as_staff.get(url(model, "change", inside.pk)).status_code == 200
    assert as_staff.get(url(model, "change", outside.pk)).status_code == 404
    assert as_staff.get(url(model, "change", 987654)).status_code == 404
    assert as_staff.get(url(model, "change", "not-a-number")).status_code == 404


@pytest.mark.parametrize("model", MODELS)
def test_history_view_is_404_outside(as_staff, pairs, model):
    inside, outside = pairs[model]
    assert as_staff.get(url(model, "history", inside.pk)).status_code == 200
    assert as_staff.get(url(model, "history", outside.pk)).status_code == 404


@pytest.mark.parametrize(
    "model, inside_status",
    [
        ("area", 200),  # the staff member manages grid_a's community, so may delete it
        ("building", 200),
        ("unit", 200),  # through unit_delete
        ("post", 403),  # posts are ended, never deleted
        ("user", 403),  # accounts are switched off, never deleted
        ("areaevent", 403),  # history is never deleted
    ],
)
def test_delete_view_is_404_outside(as_staff, pairs, model, inside_status):
    inside, outside = pairs[model]
    assert as_staff.get(url(model, "delete", inside.pk)).status_code == inside_status
    assert as_staff.get(url(model, "delete", outside.pk)).status_code == 404
    before = snapshot()
    assert as_staff.post(url(model, "delete", outside.pk), {"post": "yes"}).status_code == 404
    assert snapshot() == before


AUTOCOMPLETES = [
    # (source model, source field, inside, outside): attribute names on `city`/`people`
    ("area", "parent", "community_a", "community_b"),
    ("area", "merged_into", "grid_a", "grid_b"),  # the merge action's target chooser
    ("building", "grid", "grid_a", "grid_b"),
    ("unit", "building", "building_a", "building_b"),
    ("post", "area", "grid_a", "grid_b"),
    ("post", "building", "building_a", "building_b"),
    ("post", "unit", "unit_a", "unit_b"),
    ("post", "user", "worker_a", "worker_b"),
]


@pytest.mark.parametrize("model, field, inside, outside", AUTOCOMPLETES)
def test_autocomplete_is_scoped(as_staff, city, people, model, field, inside, outside,
                                django_assert_max_num_queries):
    def pick(name):
        return people.get(name) or getattr(city, name)

    query = {"app_label": "grid", "model_name": model, "field_name": field, "term": ""}
    with django_assert_max_num_queries(6):
        response = as_staff.get(reverse("admin:autocomplete"), query)
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert str(pick(inside).pk) in ids
    assert str(pick(outside).pk) not in ids


def test_autocomplete_for_a_parent_offers_no_grids_and_no_merged_places(as_staff, city, staff):
    services.area_merge(source=city.grid_a2, target=city.grid_a, acting_user=staff)
    query = {"app_label": "grid", "model_name": "area", "field_name": "parent", "term": ""}
    ids = {row["id"] for row in as_staff.get(reverse("admin:autocomplete"), query).json()["results"]}
    assert ids == {str(city.community_a.pk)}


def test_autocomplete_search_finds_by_name_and_code(as_root, city):
    query = {"app_label": "grid", "model_name": "building", "field_name": "grid"}
    by_name = as_root.get(reverse("admin:autocomplete"), {**query, "term": "和平"}).json()["results"]
    assert [row["id"] for row in by_name] == [str(city.grid_b.pk)]
    by_code = as_root.get(reverse("admin:autocomplete"), {**query, "term": city.grid_a.code}).json()["results"]
    assert [row["id"] for row in by_code] == [str(city.grid_a.pk)]


def test_a_grid_worker_elsewhere_adds_nothing_to_the_admin_scope(city, staff, as_staff):
    # A grid worker's post is no managing post: it must not widen what the admin shows.
    services.post_grant(user=staff, role=Role.GRID_WORKER, place=city.grid_b)
    assert as_staff.get(url("area", "change", city.grid_b.pk)).status_code == 404
    assert url("area", "change", city.grid_b.pk) not in as_staff.get(url("area", "changelist")).text
    assert as_staff.get(url("building", "change", city.building_b.pk)).status_code == 404


def test_every_grid_admin_asks_its_selector_for_managing_posts():
    grid_admins = [a for m, a in admin.site._registry.items()
                   if m._meta.app_label == "grid" and isinstance(a, ScopedAdminMixin)]
    assert {type(a).__name__ for a in grid_admins} >= {"AreaAdmin", "BuildingAdmin", "UnitAdmin", "PostAdmin",
                                                       "UserAdmin", "AreaEventAdmin"}
    for model_admin in grid_admins:
        assert takes_managing(model_admin.selector), type(model_admin).__name__
        assert model_admin.selector.__module__ == selectors.__name__


def test_superuser_sees_everything(as_root, pairs):
    for model, (inside, outside) in pairs.items():
        assert as_root.get(url(model, "change", outside.pk)).status_code == 200, model


# --- who may use the admin at all -----------------------------------------------------

def test_grid_worker_cannot_use_the_admin(city, people):
    worker = browser(people["worker_a"])
    response = worker.get(url("area", "changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


@pytest.mark.parametrize("model", MODELS)
def test_staff_flag_without_a_managing_post_gives_nothing(city, people, pairs, model):
    # is_staff alone (set by hand, or left over after a post ended) opens no admin page.
    worker = people["worker_a"]
    User.objects.filter(pk=worker.pk).update(is_staff=True)
    client = browser(worker)
    inside, _ = pairs[model]
    assert client.get(url(model, "changelist")).status_code == 403
    assert client.get(url(model, "change", inside.pk)).status_code == 404
    assert client.get(url(model, "add")).status_code == 403


def test_ended_post_closes_the_admin(city, staff, as_staff):
    post = Post.objects.get(user=staff)
    services.post_end(post=post)
    staff.refresh_from_db()
    assert not staff.is_staff  # their last managing post ended: the flag goes with it
    login = reverse("admin:login")
    assert login in as_staff.get(url("area", "changelist"))["Location"]
    assert login in as_staff.get(reverse("admin:index"))["Location"]
    query = {"app_label": "grid", "model_name": "building", "field_name": "grid", "term": ""}
    assert login in as_staff.get(reverse("admin:autocomplete"), query)["Location"]


def test_admin_index_lists_the_grid_models_for_staff(as_staff):
    index = as_staff.get(reverse("admin:index"))
    for model in MODELS:
        assert url(model, "changelist") in index.text


def test_pages_render_in_chinese(staff, city):
    client = Client()  # no Accept-Language: the portal's default, zh-hans
    client.force_login(staff)
    response = client.get(url("area", "changelist"))
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.text


# --- places: add, rename, move ---------------------------------------------------------

def test_staff_adds_a_grid_through_the_service(as_staff, city, assert_trees_sound):
    response = as_staff.post(
        url("area", "add"), {"kind": GRID, "parent": city.community_a.pk, "name": "幸福第三网格", "code_suffix": ""}
    )
    assert response.status_code == 302
    grid = Area.objects.get(name="幸福第三网格")
    assert grid.parent == city.community_a and grid.code == city.community_a.code + "003"
    assert AreaEvent.objects.filter(area=grid, action=AreaEvent.Action.ADD).exists()
    assert response["Location"] == url("area", "changelist")
    assert_trees_sound()


def test_superuser_adds_a_district_with_its_code(as_root, assert_trees_sound):
    response = as_root.post(url("area", "add"), {"kind": DISTRICT, "name": "游仙区", "code_suffix": "510705"})
    assert response.status_code == 302
    assert Area.objects.get(code="510705").kind == DISTRICT
    assert_trees_sound()


def refused_form(client, path, data, message):
    """Post a form the service must refuse; the page shows the message and nothing changes."""
    before = snapshot()
    response = client.post(path, data)
    assert response.status_code == 200, response.status_code
    assert message in response.text, response.text
    assert snapshot() == before
    return response


def test_wrong_parent_kind_is_refused(as_staff, city, assert_trees_sound):
    refused_form(
        as_staff, url("area", "add"),
        {"kind": GRID, "parent": city.grid_a.pk, "name": "错层网格"},
        "A Grid must sit under a Community.",
    )
    assert_trees_sound()


def test_clashing_code_is_refused(as_staff, city):
    refused_form(
        as_staff, url("area", "add"),
        {"kind": GRID, "parent": city.community_a.pk, "name": "撞号网格", "code_suffix": "001"},
        f"The code {city.grid_a.code} is already in use.",
    )


def test_bad_district_code_is_refused(as_root):
    refused_form(as_root, url("area", "add"), {"kind": DISTRICT, "name": "新区", "code_suffix": "5107"},
                 "A District code has 6 digits")


def test_only_an_administrator_adds_a_district(as_staff):
    refused_form(as_staff, url("area", "add"), {"kind": DISTRICT, "name": "新区", "code_suffix": "510799"},
                 "Only an administrator may add a district.")


def test_moving_under_its_own_descendant_is_refused_and_the_rename_rolls_back(as_staff, city):
    # Rename and move in one submission: the refused move must take the rename back with it.
    response = refused_form(
        as_staff, url("area", "change", city.community_a.pk),
        {"name": "改名社区", "parent": city.grid_a.pk},
        "A Community must sit under a Street.",
    )
    assert "改名社区" in response.text  # the user's input stays on the form
    city.community_a.refresh_from_db()
    assert city.community_a.name == "幸福社区"


def test_moving_outside_the_scope_is_refused(as_staff, city):
    before = snapshot()
    response = as_staff.post(url("area", "change", city.grid_a.pk), {"name": city.grid_a.name,
                                                                     "parent": city.community_b.pk})
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert snapshot() == before


def test_rename_and_move_go_through_the_services(as_root, city, assert_trees_sound):
    response = as_root.post(url("area", "change", city.community_a.pk),
                            {"name": "新幸福社区", "parent": city.street_b.pk})
    assert response.status_code == 302
    community = Area.objects.get(pk=city.community_a.pk)
    assert community.name == "新幸福社区" and community.parent_id == city.street_b.pk
    assert community.code.startswith(city.street_b.code)
    actions = set(AreaEvent.objects.filter(area=community).values_list("action", flat=True))
    assert {AreaEvent.Action.RENAME, AreaEvent.Action.MOVE} <= actions
    assert_trees_sound()


def test_district_parent_and_merged_places_are_read_only(as_root, as_staff, city, staff):
    page = as_root.get(url("area", "change", city.district.pk))
    assert 'name="parent"' not in page.text
    services.area_merge(source=city.grid_a2, target=city.grid_a, acting_user=staff)
    before = snapshot()
    response = as_staff.post(url("area", "change", city.grid_a2.pk), {"name": "复活", "parent": city.community_a.pk})
    assert response.status_code == 403
    assert snapshot() == before


def test_area_forms_use_autocomplete_and_never_list_the_tree(as_root, city, root, rf):
    # Many places: the add page must not render an option per place.
    for n in range(40):
        services.area_add(kind=GRID, name=f"批量网格{n}", parent=city.community_b)
    response = as_root.get(url("area", "add") + f"?parent={city.community_a.pk}&kind=grid")
    assert response.status_code == 200
    assert response.text.count("<option") < 10
    assert "批量网格" not in response.text
    request = rf.get("/")
    request.user = root
    form = AreaAdmin(Area, admin.site).get_form(request)
    assert isinstance(form.base_fields["parent"].widget.widget, AutocompleteSelect)
    assert type(form.base_fields["parent"]).__name__ == "ModelChoiceField"


@pytest.mark.parametrize("model", ["building", "unit", "post"])
def test_every_foreign_key_is_an_autocomplete(as_root, model):
    response = as_root.get(url(model, "add"))
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        if hasattr(field, "queryset"):
            assert isinstance(getattr(field.widget, "widget", field.widget), AutocompleteSelect), name


# --- places: delete ---------------------------------------------------------------------

def test_deleting_a_place_with_buildings_is_refused(as_staff, city):
    page = as_staff.get(url("area", "delete", city.grid_a.pk))
    assert "buildings: 1" in page.text
    before = snapshot()
    as_staff.post(url("area", "delete", city.grid_a.pk), {"post": "yes"})
    assert snapshot() == before


def test_deleting_an_empty_place_goes_through_the_service(as_staff, city, staff, assert_trees_sound):
    empty = services.area_add(kind=GRID, name="空网格", parent=city.community_a, acting_user=staff)
    response = as_staff.post(url("area", "delete", empty.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Area.objects.filter(pk=empty.pk).exists()
    assert AreaEvent.objects.filter(area=None, action=AreaEvent.Action.DELETE, details__code=empty.code).exists()
    assert_trees_sound()


def test_a_refused_delete_shows_the_service_message(as_staff, city, staff):
    # Nothing is attached, but another place was merged into it: the service keeps it.
    keep = services.area_add(kind=GRID, name="保留网格", parent=city.community_a, acting_user=staff)
    gone = services.area_add(kind=GRID, name="并入网格", parent=city.community_a, acting_user=staff)
    services.area_merge(source=gone, target=keep, acting_user=staff)
    before = snapshot()
    response = as_staff.post(url("area", "delete", keep.pk), {"post": "yes"})
    assert response.status_code == 302 and response["Location"] == url("area", "change", keep.pk)
    assert any("kept as history" in m for m in messages_of(response))
    assert snapshot() == before


def test_community_staff_cannot_delete_their_own_community(as_staff, city):
    # Deleting a place is decided by whoever manages its parent (the street here).
    assert as_staff.get(url("area", "delete", city.community_a.pk)).status_code == 403


def test_bulk_delete_is_all_or_nothing(as_staff, city, staff, assert_trees_sound):
    empty = services.area_add(kind=GRID, name="空网格", parent=city.community_a, acting_user=staff)
    data = {"action": "delete_selected", "_selected_action": [empty.pk, city.grid_a.pk], "post": "yes"}
    before = snapshot()
    response = as_staff.post(url("area", "changelist"), data)
    assert response.status_code == 302
    assert any("still has buildings 1 attached" in m for m in messages_of(response))
    assert snapshot() == before
    data["_selected_action"] = [empty.pk]
    response = as_staff.post(url("area", "changelist"), data)
    assert response.status_code == 302
    assert not Area.objects.filter(pk=empty.pk).exists()
    assert_trees_sound()


def test_bulk_delete_of_a_place_and_its_empty_children(as_root, city, assert_trees_sound):
    street = services.area_add(kind=STREET, name="新街道", parent=city.district)
    community = services.area_add(kind=COMMUNITY, name="新社区", parent=street)
    data = {"action": "delete_selected", "_selected_action": [street.pk, community.pk], "post": "yes"}
    assert as_root.post(url("area", "changelist"), data).status_code == 302
    assert not Area.objects.filter(pk__in=[street.pk, community.pk]).exists()
    assert_trees_sound()


def test_bulk_delete_refused_by_the_service_rolls_everything_back(as_staff, city, staff):
    keep = services.area_add(kind=GRID, name="保留网格", parent=city.community_a, acting_user=staff)
    gone = services.area_add(kind=GRID, name="并入网格", parent=city.community_a, acting_user=staff)
    empty = services.area_add(kind=GRID, name="空网格", parent=city.community_a, acting_user=staff)
    services.area_merge(source=gone, target=keep, acting_user=staff)
    before = snapshot()
    logs = LogEntry.objects.count()
    data = {"action": "delete_selected", "_selected_action": [empty.pk, keep.pk], "post": "yes"}
    response = as_staff.post(url("area", "changelist"), data)
    assert any("kept as history" in m for m in messages_of(response))
    assert snapshot() == before
    assert LogEntry.objects.count() == logs


# --- places: merge and split -----------------------------------------------------------

def test_merge_two_grids_end_to_end(as_staff, city, assert_trees_sound):
    step1 = as_staff.post(url("area", "changelist"),
                          {"action": "merge_places", "_selected_action": [city.grid_a2.pk], "index": 0})
    assert step1.status_code == 200 and 'name="target"' in step1.text
    assert 'data-field-name="merged_into"' in step1.text  # an autocomplete, not a select of every place
    response = as_staff.post(url("area", "changelist"), {
        "action": "merge_places", "_selected_action": [city.grid_a2.pk], "apply": "1", "target": city.grid_a.pk,
    })
    assert response.status_code == 302
    assert any("Merged" in m for m in messages_of(response))
    city.refresh()
    assert not city.grid_a2.is_active and city.grid_a2.merged_into_id == city.grid_a.pk
    assert city.building_a2.grid_id == city.grid_a.pk
    assert AreaEvent.objects.filter(area=city.grid_a2, action=AreaEvent.Action.MERGE).exists()
    assert_trees_sound()


def test_merge_two_communities_across_streets(as_root, city, assert_trees_sound):
    response = as_root.post(url("area", "changelist"), {
        "action": "merge_places", "_selected_action": [city.community_b.pk], "apply": "1",
        "target": city.community_a.pk,
    })
    assert response.status_code == 302
    city.refresh()
    assert city.grid_b.parent_id == city.community_a.pk
    assert city.grid_b.code.startswith(city.community_a.code)
    assert_trees_sound()


def test_merging_into_itself_is_refused(as_staff, city, assert_trees_sound):
    before = snapshot()
    response = as_staff.post(url("area", "changelist"), {
        "action": "merge_places", "_selected_action": [city.grid_a.pk], "apply": "1", "target": city.grid_a.pk,
    })
    assert "A place cannot be merged into itself." in messages_of(response)
    assert snapshot() == before
    assert_trees_sound()


def test_merging_into_a_place_outside_the_scope_is_refused(as_staff, city):
    before = snapshot()
    response = as_staff.post(url("area", "changelist"), {
        "action": "merge_places", "_selected_action": [city.grid_a2.pk], "apply": "1", "target": city.grid_b.pk,
    })
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert snapshot() == before


def test_a_refused_merge_of_several_places_changes_none(as_staff, city, staff):
    extra = services.area_add(kind=GRID, name="幸福第三网格", parent=city.community_a, acting_user=staff)
    before = snapshot()
    # extra merges fine, then community_a (not a grid) is refused: extra must stay.
    response = as_staff.post(url("area", "changelist"), {
        "action": "merge_places", "_selected_action": [extra.pk, city.community_a.pk], "apply": "1",
        "target": city.grid_a.pk,
    })
    assert "Only two streets, two communities or two grids can be merged." in messages_of(response)
    assert snapshot() == before


def test_merge_from_the_change_form(as_staff, city):
    page = as_staff.get(url("area", "change", city.grid_a2.pk))
    assert "merge_places" in page.text and "split_grid" in page.text
    response = as_staff.post(url("area", "change", city.grid_a2.pk), {
        "CHANGE_FORM-action": "merge_places", "_selected_action": [city.grid_a2.pk],
    })
    assert response.status_code == 200 and 'name="target"' in response.text


def test_split_a_grid_end_to_end(as_staff, city, staff, assert_trees_sound):
    second = services.building_add(grid=city.grid_a, number="2号楼", acting_user=staff)
    step1 = as_staff.post(url("area", "changelist"),
                          {"action": "split_grid", "_selected_action": [city.grid_a.pk], "index": 0})
    assert step1.status_code == 200 and "1号楼" in step1.text and "2号楼" in step1.text
    response = as_staff.post(url("area", "changelist"), {
        "action": "split_grid", "_selected_action": [city.grid_a.pk], "apply": "1",
        "name": "幸福第一网格北", "buildings": [second.pk],
    })
    assert response.status_code == 302
    new_grid = Area.objects.get(name="幸福第一网格北")
    assert new_grid.parent_id == city.community_a.pk and new_grid.kind == GRID
    second.refresh_from_db()
    assert second.grid_id == new_grid.pk
    assert Building.objects.get(pk=city.building_a.pk).grid_id == city.grid_a.pk
    assert AreaEvent.objects.filter(area=city.grid_a, action=AreaEvent.Action.SPLIT).exists()
    assert_trees_sound()


def test_splitting_off_every_building_is_refused(as_staff, city):
    before = snapshot()
    response = as_staff.post(url("area", "changelist"), {
        "action": "split_grid", "_selected_action": [city.grid_a.pk], "apply": "1",
        "name": "空壳网格", "buildings": [city.building_a.pk],
    })
    assert "Leave at least one building in the old grid." in messages_of(response)
    assert snapshot() == before


def test_split_takes_only_buildings_of_that_grid(as_staff, city):
    before = snapshot()
    response = as_staff.post(url("area", "changelist"), {
        "action": "split_grid", "_selected_action": [city.grid_a.pk], "apply": "1",
        "name": "越界网格", "buildings": [city.building_b.pk],
    })
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert snapshot() == before


def test_split_needs_exactly_one_grid(as_staff, city):
    response = as_staff.post(url("area", "changelist"),
                             {"action": "split_grid", "_selected_action": [city.community_a.pk], "index": 0})
    assert "Choose exactly one grid to split." in messages_of(response)


# --- buildings and units ----------------------------------------------------------------

def test_building_add_update_delete_through_services(as_staff, city):
    response = as_staff.post(url("building", "add"), {
        "grid": city.grid_a.pk, "number": "7号楼", "name": "", "address": "幸福路7号", "latitude": "", "longitude": "",
    })
    assert response.status_code == 302
    building = Building.objects.get(grid=city.grid_a, number="7号楼")
    response = as_staff.post(url("building", "change", building.pk), {
        "number": "7号楼", "name": "七号楼", "address": "幸福路7-1号", "latitude": "", "longitude": "",
    })
    assert response.status_code == 302
    building.refresh_from_db()
    assert (building.name, building.address) == ("七号楼", "幸福路7-1号")
    assert as_staff.post(url("building", "delete", building.pk), {"post": "yes"}).status_code == 302
    assert not Building.objects.filter(pk=building.pk).exists()


def test_building_number_clash_is_refused(as_staff, city, staff):
    other = services.building_add(grid=city.grid_a, number="2号楼", acting_user=staff)
    refused_form(as_staff, url("building", "change", other.pk),
                 {"number": "1号楼", "name": "", "address": "", "latitude": "", "longitude": ""},
                 "Building 1号楼 already exists in this grid.")


def test_building_outside_the_scope_cannot_be_added(as_staff, city):
    before = snapshot()
    response = as_staff.post(url("building", "add"), {"grid": city.grid_b.pk, "number": "8号楼"})
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert snapshot() == before


def test_deleting_a_building_with_units_is_refused(as_staff, city):
    before = snapshot()
    response = as_staff.post(url("building", "delete", city.building_a.pk), {"post": "yes"})
    assert response.status_code == 302
    assert any("still has 1 units" in m for m in messages_of(response))
    assert snapshot() == before


def test_unit_add_change_delete_through_the_services(as_staff, city):
    response = as_staff.post(url("unit", "add"), {"building": city.building_a.pk, "number": "2单元"})
    assert response.status_code == 302
    unit = Unit.objects.get(building=city.building_a, number="2单元")
    page = as_staff.get(url("unit", "change", unit.pk))
    assert page.status_code == 200 and 'name="_save"' in page.text
    assert 'name="building"' not in page.text  # a unit never changes building
    response = as_staff.post(url("unit", "change", unit.pk), {"number": "二单元", "building": city.building_b.pk})
    assert response.status_code == 302
    unit.refresh_from_db()
    assert (unit.number, unit.building_id) == ("二单元", city.building_a.pk)
    assert as_staff.get(url("unit", "delete", unit.pk)).status_code == 200
    assert as_staff.post(url("unit", "delete", unit.pk), {"post": "yes"}).status_code == 302
    assert not Unit.objects.filter(pk=unit.pk).exists()


def test_unit_number_clash_is_refused(as_staff, city, staff):
    services.unit_add(building=city.building_a, number="2单元", acting_user=staff)
    # On the add page the (building, number) unique constraint answers first, in Django's words;
    # on the change page the building is read-only, so unit_update answers.
    refused_form(as_staff, url("unit", "add"), {"building": city.building_a.pk, "number": "2单元"},
                 "Unit with this Building and Number already exists.")
    response = refused_form(as_staff, url("unit", "change", city.unit_a.pk), {"number": "2单元"},
                            "Unit 2单元 already exists in this building.")
    assert response.context["adminform"].form.errors["number"] == ["Unit 2单元 already exists in this building."]


def test_deleting_a_unit_with_a_post_is_refused(as_staff, city, make_user):
    make_user(Role.UNIT_CHIEF, city.unit_a)
    page = as_staff.get(url("unit", "delete", city.unit_a.pk))
    assert "posts: 1" in page.text
    before = snapshot()
    response = as_staff.post(url("unit", "delete", city.unit_a.pk), {"post": "yes"})
    assert response.status_code == 200 and "posts: 1" in response.text  # the blockers, again
    assert snapshot() == before


def test_deleting_a_unit_with_cases_shows_the_service_refusal(as_staff, city, staff):
    unit = services.unit_add(building=city.building_a, number="2单元", acting_user=staff)
    resident_report(city, building=city.building_a, unit=unit)
    before = snapshot()
    response = as_staff.post(url("unit", "delete", unit.pk), {"post": "yes"})
    assert response.status_code == 302 and response["Location"] == url("unit", "change", unit.pk)
    assert "Unit 2单元 still has records attached." in messages_of(response)
    assert snapshot() == before


def test_bulk_unit_delete_is_all_or_nothing(as_staff, city, staff, make_user):
    empty = services.unit_add(building=city.building_a, number="2单元", acting_user=staff)
    make_user(Role.UNIT_CHIEF, city.unit_a)
    before = snapshot()
    data = {"action": "delete_selected", "_selected_action": [empty.pk, city.unit_a.pk], "post": "yes"}
    response = as_staff.post(url("unit", "changelist"), data)
    assert "Unit 1单元 still has 1 posts; remove them first." in messages_of(response)
    assert snapshot() == before
    data["_selected_action"] = [empty.pk]
    assert as_staff.post(url("unit", "changelist"), data).status_code == 302
    assert not Unit.objects.filter(pk=empty.pk).exists()


def test_units_outside_the_scope_cannot_be_changed_or_deleted(as_staff, city):
    before = snapshot()
    assert as_staff.post(url("unit", "change", city.unit_b.pk), {"number": "越权"}).status_code == 404
    data = {"action": "delete_selected", "_selected_action": [city.unit_b.pk], "post": "yes"}
    as_staff.post(url("unit", "changelist"), data)
    assert snapshot() == before


# --- buildings: the move action ------------------------------------------------------------

def move(client, buildings, **data):
    return client.post(url("building", "changelist"), {
        "action": "move_buildings", "_selected_action": [b.pk for b in buildings], **data,
    })


def test_move_a_building_end_to_end(as_staff, city, staff, assert_trees_sound):
    step1 = move(as_staff, [city.building_a], index=0)
    assert step1.status_code == 200 and 'name="grid"' in step1.text
    assert 'data-field-name="grid"' in step1.text  # an autocomplete, not a select of every grid
    assert "1号楼（幸福路1号）" in step1.text
    response = move(as_staff, [city.building_a], apply="1", grid=city.grid_a2.pk)
    assert response.status_code == 302
    assert "Moved 1号楼 to 幸福第二网格（510703001001002）." in messages_of(response)
    city.refresh()
    assert city.building_a.grid_id == city.grid_a2.pk
    for grid in (city.grid_a, city.grid_a2):
        event = AreaEvent.objects.get(area=grid, action=AreaEvent.Action.MOVE)
        assert event.actor == staff and event.details["building_id"] == city.building_a.pk
    assert_trees_sound()


def test_move_several_buildings_at_once(as_root, city, assert_trees_sound):
    response = move(as_root, [city.building_a, city.building_a2], apply="1", grid=city.grid_b.pk)
    assert response.status_code == 302
    assert set(Building.objects.filter(grid=city.grid_b).values_list("number", flat=True)) == {
        "1号楼", "5号楼", "9号楼",
    }
    assert_trees_sound()


def test_moving_to_a_grid_outside_the_scope_is_refused(as_staff, city):
    before = snapshot()
    response = move(as_staff, [city.building_a], apply="1", grid=city.grid_b.pk)
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert snapshot() == before


def test_moving_a_building_outside_the_scope_moves_nothing(as_staff, city):
    before = snapshot()
    move(as_staff, [city.building_b], apply="1", grid=city.grid_a.pk)
    assert snapshot() == before


def test_moving_to_a_grid_merged_away_is_refused(as_staff, city, staff):
    services.area_merge(source=city.grid_a2, target=city.grid_a, acting_user=staff)
    before = snapshot()
    response = move(as_staff, [city.building_a], apply="1", grid=city.grid_a2.pk)
    assert response.status_code == 200 and "Select a valid choice" in response.text
    assert snapshot() == before


def test_a_refused_move_of_several_buildings_moves_none(as_staff, city, staff):
    services.building_add(grid=city.grid_a2, number="1号楼", acting_user=staff)
    extra = services.building_add(grid=city.grid_a, number="3号楼", acting_user=staff)
    before = snapshot()
    # 3号楼 moves fine, then 1号楼 clashes in the target: 3号楼 must stay.
    response = move(as_staff, [extra, city.building_a], apply="1", grid=city.grid_a2.pk)
    assert ("“幸福第二网格” already has a building numbered 1号楼; renumber one of them before moving."
            in messages_of(response))
    assert snapshot() == before


def test_move_from_the_change_form(as_staff, city):
    page = as_staff.get(url("building", "change", city.building_a.pk))
    assert "move_buildings" in page.text
    response = as_staff.post(url("building", "change", city.building_a.pk), {
        "CHANGE_FORM-action": "move_buildings", "_selected_action": [city.building_a.pk],
    })
    assert response.status_code == 200 and 'name="grid"' in response.text


def test_a_building_move_shows_in_the_place_history(as_staff, city, staff):
    services.building_move(building=city.building_a, grid=city.grid_a2, acting_user=staff)
    response = as_staff.get(url("areaevent", "changelist"), {"area__id__exact": city.grid_a2.pk})
    assert "1号楼：幸福第一网格 → 幸福第二网格" in response.text


# --- posts --------------------------------------------------------------------------------

def test_grant_a_post_through_the_service(as_staff, city, people):
    worker = people["worker_a"]
    response = as_staff.post(url("post", "add"), {"user": worker.pk, "role": Role.GRID_CHIEF, "area": city.grid_a2.pk})
    assert response.status_code == 302
    assert Post.objects.filter(user=worker, role=Role.GRID_CHIEF, area=city.grid_a2, ended_at=None).exists()


def test_grant_refusals(as_staff, city, people):
    worker = people["worker_a"]
    refused_form(as_staff, url("post", "add"),
                 {"user": worker.pk, "role": Role.BUILDING_CHIEF, "area": city.grid_a.pk},
                 "A building chief is posted on a building.")
    refused_form(as_staff, url("post", "add"),
                 {"user": worker.pk, "role": Role.GRID_WORKER, "area": city.grid_a.pk},
                 "already holds this post.")
    refused_form(as_staff, url("post", "add"),
                 {"user": worker.pk, "role": Role.GRID_WORKER, "area": city.grid_a.pk,
                  "building": city.building_a.pk},
                 "Choose exactly one place for the post")
    refused_form(as_staff, url("post", "add"),
                 {"user": worker.pk, "role": Role.GRID_WORKER, "area": city.grid_b.pk},
                 "Select a valid choice")


def test_end_posts_action(as_staff, city, people):
    post = Post.objects.get(user=people["worker_a"])
    response = as_staff.post(url("post", "changelist"),
                             {"action": "end_posts", "_selected_action": [post.pk], "index": 0})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.ended_at is not None
    outside = Post.objects.get(user=people["worker_b"])
    as_staff.post(url("post", "changelist"), {"action": "end_posts", "_selected_action": [outside.pk], "index": 0})
    outside.refresh_from_db()
    assert outside.ended_at is None


def test_posts_cannot_be_edited(as_staff, people):
    post = Post.objects.get(user=people["worker_a"])
    before = snapshot()
    response = as_staff.post(url("post", "change", post.pk), {"user": post.user_id, "role": Role.GRID_CHIEF,
                                                              "area": post.area_id, "_save": "1"})
    assert response.status_code == 403
    assert snapshot() == before


# --- people --------------------------------------------------------------------------------

def test_staff_edits_a_worker_but_never_rights(as_staff, people):
    worker = people["worker_a"]
    page = as_staff.get(url("user", "change", worker.pk))
    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.text and 'name="full_name"' in page.text
    assert f"{worker} · Grid worker · {worker.posts.get().area}" in page.text  # posts shown inline, in English
    response = as_staff.post(url("user", "change", worker.pk), {
        **inline_data(page), "full_name": "王小明", "phone": "13900000000", "email": "", "is_superuser": "on",
    })
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.full_name == "王小明" and not worker.is_superuser


def test_staff_cannot_take_over_a_colleague(as_staff, city, make_user):
    colleague = make_user(Role.COMMUNITY_STAFF, city.community_a)
    page = as_staff.get(url("user", "change", colleague.pk))
    assert page.status_code == 200 and 'name="full_name"' not in page.text  # view only
    assert as_staff.post(url("user", "change", colleague.pk), {"full_name": "x"}).status_code == 403
    assert as_staff.get(reverse("admin:auth_user_password_change", args=[colleague.pk])).status_code == 403


def test_password_page_is_scoped(as_staff, people):
    assert as_staff.get(reverse("admin:auth_user_password_change", args=[people["worker_a"].pk])).status_code == 200
    assert as_staff.get(reverse("admin:auth_user_password_change", args=[people["worker_b"].pk])).status_code == 404


def test_administrators_add_accounts_with_djangos_form(as_root):
    page = as_root.get(url("user", "add"))
    assert page.status_code == 200 and 'name="password1"' in page.text and 'name="role"' not in page.text


def invite_data(**fields):
    return {"username": "wang.wu", "full_name": "王五", "phone": "13900000001", "role": Role.GRID_WORKER,
            "area": "", "building": "", "unit": "", **fields}


def test_staff_invite_someone_onto_a_place_they_manage(as_staff, city, staff, assert_trees_sound):
    page = as_staff.get(url("user", "add"))
    assert page.status_code == 200
    assert 'name="password1"' not in page.text and 'name="role"' in page.text
    for field in ("area", "building", "unit"):  # scoped autocompletes, not lists of the city
        assert f'data-field-name="{field}"' in page.text and 'data-model-name="post"' in page.text
    assert "It has no password yet" in page.text
    response = as_staff.post(url("user", "add"), invite_data(area=city.grid_a.pk))
    assert response.status_code == 302
    invited = User.objects.get(username="wang.wu")
    assert response["Location"] == url("user", "change", invited.pk)
    assert (invited.full_name, invited.phone, invited.has_usable_password()) == ("王五", "13900000001", False)
    post = Post.objects.get(user=invited)
    assert (post.role, post.area_id, post.ended_at) == (Role.GRID_WORKER, city.grid_a.pk, None)
    assert LogEntry.objects.filter(object_id=str(invited.pk)).exists()
    # Then the password, through the admin's own (scoped) page.
    password_url = reverse("admin:auth_user_password_change", args=[invited.pk])
    assert as_staff.get(url("user", "change", invited.pk)).status_code == 200
    response = as_staff.post(password_url, {"usable_password": "true", "password1": "Xq7-portal-2026",
                                            "password2": "Xq7-portal-2026"})
    assert response.status_code == 302
    invited.refresh_from_db()
    assert invited.check_password("Xq7-portal-2026")
    assert_trees_sound()


@pytest.mark.parametrize(
    "role, place",
    [(Role.BUILDING_CHIEF, "building_a"), (Role.UNIT_CHIEF, "unit_a"), (Role.GRID_CHIEF, "grid_a2")],
)
def test_staff_invite_onto_buildings_and_units(as_staff, city, role, place):
    field = {"building_a": "building", "unit_a": "unit"}.get(place, "area")
    response = as_staff.post(url("user", "add"), invite_data(role=role, **{field: getattr(city, place).pk}))
    assert response.status_code == 302
    assert Post.objects.get(user__username="wang.wu").place == getattr(city, place)


def refused_invite(client, data, message):
    users = User.objects.count()
    response = refused_form(client, url("user", "add"), data, message)
    assert User.objects.count() == users
    return response


def test_invite_refusals_show_on_the_form(as_staff, city):
    response = refused_invite(as_staff, invite_data(role=Role.GRID_WORKER, area=city.community_a.pk),
                              "A Grid worker is posted on a Grid.")
    assert "王五" in response.text  # the input stays
    refused_invite(as_staff, invite_data(role=Role.UNIT_CHIEF, building=city.building_a.pk),
                   "A unit chief is posted on a unit.")
    refused_invite(as_staff, invite_data(area=city.grid_a.pk, building=city.building_a.pk),
                   "Choose exactly one place for the post")
    refused_invite(as_staff, invite_data(full_name=""), "This field is required.")


def test_invite_refuses_a_taken_username(as_staff, city, people):
    worker = people["worker_a"]
    refused_invite(as_staff, invite_data(username=worker.username, area=city.grid_a.pk),
                   "A user with that username already exists.")
    # Another case of the same name: Django's unique check lets it through, user_invite does not.
    response = refused_invite(as_staff, invite_data(username=worker.username.upper(), area=city.grid_a.pk),
                              f"The username {worker.username.upper()} is already taken.")
    assert "taken" in str(response.context["adminform"].form.errors["username"])


@pytest.mark.parametrize("field, place", [("area", "grid_b"), ("building", "building_b"), ("unit", "unit_b"),
                                          ("area", "community_b")])
def test_invite_onto_a_place_outside_the_scope_is_refused(as_staff, city, field, place):
    refused_invite(as_staff, invite_data(role=Role.BUILDING_CHIEF if field == "building" else Role.GRID_WORKER,
                                         **{field: getattr(city, place).pk}),
                   "Select a valid choice")


def test_a_grid_worker_post_elsewhere_is_no_place_to_invite_onto(city, staff, as_staff):
    services.post_grant(user=staff, role=Role.GRID_WORKER, place=city.grid_b)
    refused_invite(as_staff, invite_data(area=city.grid_b.pk), "Select a valid choice")


def test_people_without_a_managing_post_invite_nobody(city, people):
    worker = people["worker_a"]
    User.objects.filter(pk=worker.pk).update(is_staff=True)
    client = browser(worker)
    before = User.objects.count()
    assert client.get(url("user", "add")).status_code == 403
    assert client.post(url("user", "add"), invite_data(area=city.grid_a.pk)).status_code == 403
    assert User.objects.count() == before


# --- place history ------------------------------------------------------------------------

def test_history_of_deleted_places_is_for_administrators_only(as_staff, as_root, city, staff):
    empty = services.area_add(kind=GRID, name="短命网格", parent=city.community_a, acting_user=staff)
    services.area_delete(area=empty, acting_user=staff)
    event = AreaEvent.objects.get(area=None, action=AreaEvent.Action.DELETE)
    assert as_staff.get(url("areaevent", "change", event.pk)).status_code == 404
    assert url("areaevent", "change", event.pk) not in as_staff.get(url("areaevent", "changelist")).text
    assert as_root.get(url("areaevent", "change", event.pk)).status_code == 200


# --- scale: bounded queries on changelists --------------------------------------------------

def crowd(city, make_user, n=40):
    """n more grids, each with a building, a unit and a grid worker: enough to show any N+1."""
    for i in range(n):
        grid = services.area_add(kind=GRID, name=f"网格{i}", parent=city.community_a)
        building = services.building_add(grid=grid, number=f"{i}号楼")
        services.unit_add(building=building, number="1单元")
        make_user(Role.GRID_WORKER, grid)
    return city


@pytest.fixture
def crowded(city, make_user):
    return crowd(city, make_user)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("who", ["root", "staff"])
def test_changelist_query_count_does_not_grow_with_rows(city, make_user, request, model, who,
                                                        django_assert_max_num_queries):
    # The bound is what the page costs with a handful of rows (session, user,
    # posts, the sidebar's permission checks of every app, count, one page);
    # forty more rows of everything must not add a single query.
    client = browser(request.getfixturevalue(who))
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(model, "changelist")).status_code == 200
    crowd(city, make_user)
    with django_assert_max_num_queries(len(few)):
        response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= 40  # the forty new rows are on the page


def test_changelist_search_by_code_prefix(as_root, crowded):
    response = as_root.get(url("area", "changelist"), {"q": crowded.community_b.code})
    assert url("area", "change", crowded.grid_b.pk) in response.text
    assert url("area", "change", crowded.grid_a.pk) not in response.text


def test_drill_down_links(as_staff, city):
    response = as_staff.get(url("area", "changelist"), {"parent__id__exact": city.community_a.pk})
    assert url("area", "change", city.grid_a.pk) in response.text
    assert url("area", "change", city.community_a.pk) not in response.text
    buildings = as_staff.get(url("building", "changelist"), {"grid__id__exact": city.grid_a2.pk})
    assert url("building", "change", city.building_a2.pk) in buildings.text
    assert url("building", "change", city.building_a.pk) not in buildings.text
