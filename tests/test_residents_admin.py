"""residents/admin.py: households, residents, tags, care visits, history and the
access log in the admin community staff use every day.

Every admin is requested with an object inside the staff member's community
and one outside (outside: 404). No admin page, form or search result carries a
full ID number or phone; writes go through the services (their history rows
prove it) and bad input saves nothing; history and the access log are
read-only for everyone; changelists keep a bounded query count.
"""

import datetime

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grid.models import Role
from residents import services
from residents.admin import ResidentAdmin, ResidentAdminForm
from residents.models import AccessLog, CareVisit, Household, Relation, Resident, ResidentEvent, ResidentStatus, Tag

from .cases_factories import fresh_calendar  # noqa: F401 (autouse)
from .factories import UserFactory
from .residents_factories import household_in, resident_in, valid_id_number

ID_A = valid_id_number(area="110105", birth=datetime.date(1948, 3, 9), serial=321)
ID_B = valid_id_number(area="110105", birth=datetime.date(1975, 6, 30), serial=654)
PHONE_A = "13912345678"
PHONE_B = "13698765432"


def url(model, view, *args):
    return reverse(f"admin:residents_{model}_{view}", args=args)


def browser(user):
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def no_personal_values(response, *values):
    body = response.content.decode()
    for value in values:
        assert value not in body


class World:
    def __init__(self, city, make_user):
        self.city = city
        self.worker = make_user(Role.GRID_WORKER, city.grid_a, username="worker_a")
        self.worker_b = make_user(Role.GRID_WORKER, city.grid_b, username="worker_b")
        self.staff = make_user(Role.COMMUNITY_STAFF, city.community_a, username="community_a")
        self.staff_b = make_user(Role.COMMUNITY_STAFF, city.community_b, username="community_b")
        self.district = make_user(Role.DISTRICT_OFFICIAL, city.district, username="district")
        self.elderly = Tag.objects.get(code="elderly_alone")
        self.household = household_in(city.unit_a, "301", acting_user=self.worker)
        self.household_b = household_in(city.unit_b, "502", acting_user=self.worker_b)
        self.resident = resident_in(self.household, "张秀英", id_number=ID_A, phone=PHONE_A, relation=Relation.HEAD,
                                    acting_user=self.worker, tags=[self.elderly])
        self.resident_b = resident_in(self.household_b, "李建国", id_number=ID_B, phone=PHONE_B,
                                      relation=Relation.HEAD, acting_user=self.worker_b)


@pytest.fixture
def w(city, make_user):
    return World(city, make_user)


# --- scope: inside and outside -------------------------------------------------------------

@pytest.mark.parametrize("model, attr", [("resident", "resident"), ("household", "household")])
def test_changelist_and_change_page_scoped(w, model, attr):
    client = browser(w.staff)
    listing = client.get(url(model, "changelist"))
    assert listing.status_code == 200
    rows = list(listing.context["cl"].result_list)
    assert getattr(w, attr) in rows and getattr(w, f"{attr}_b") not in rows
    no_personal_values(listing, ID_A, PHONE_A, ID_B, PHONE_B)
    inside = client.get(url(model, "change", getattr(w, attr).pk))
    assert inside.status_code == 200
    no_personal_values(inside, ID_A, PHONE_A)
    assert client.get(url(model, "change", getattr(w, f"{attr}_b").pk)).status_code == 404
    assert client.get(url(model, "change", 999999)).status_code == 404


def test_resident_pages_show_masks_only(w):
    client = browser(w.staff)
    listing = client.get(url("resident", "changelist"))
    assert w.resident.id_masked in listing.content.decode() and w.resident.phone_masked in listing.content.decode()
    change = client.get(url("resident", "change", w.resident.pk))
    assert w.resident.id_masked in change.content.decode()
    no_personal_values(change, ID_A, PHONE_A)


def test_encrypted_fields_are_never_admin_form_fields(w, rf):
    request = rf.get("/")
    request.user = w.staff
    model_admin = admin.site.get_model_admin(Resident)
    for obj in (None, w.resident):
        form = model_admin.get_form(request, obj)
        assert "id_number" not in form.base_fields and "phone" not in form.base_fields
    assert "id_number" not in ResidentAdmin.list_display and "phone" not in ResidentAdmin.list_display
    for model in (Household, Resident, CareVisit, AccessLog, ResidentEvent):
        display = admin.site.get_model_admin(model).list_display
        assert "id_number" not in display and "phone" not in display


def count_queries(client, target):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(target)
    assert response.status_code == 200
    return len(queries), response


def test_changelist_query_counts_do_not_grow_with_rows(w):
    client = browser(w.staff)
    client.get(url("resident", "changelist"))  # warm the content-type cache
    few = {model: count_queries(client, url(model, "changelist"))[0]
           for model in ("resident", "household", "accesslog", "residentevent")}
    for n in range(40):
        household = household_in(w.city.unit_a, f"{n + 400}", acting_user=w.worker)
        resident = resident_in(household, f"居民{n}", acting_user=w.worker, phone=f"1370000{n:04d}")
        services.resident_reveal(resident=resident, field="phone", reason="联系", acting_user=w.staff)
    for model in few:
        many, response = count_queries(client, url(model, "changelist"))
        assert many == few[model] and many <= 25, (model, few[model], many)
        assert len(response.context["cl"].result_list) >= 40


def test_a_grid_worker_has_no_admin(w):
    client = Client()
    client.force_login(w.worker)
    response = client.get(url("resident", "changelist"))
    assert response.status_code == 302  # to the admin login: not staff


# --- search ----------------------------------------------------------------------------------

def test_search_by_name(w):
    response = browser(w.staff).get(url("resident", "changelist"), {"q": "秀英"})
    assert list(response.context["cl"].result_list) == [w.resident]


def test_search_by_full_id_number_finds_exactly_without_repeating_it(w):
    client = browser(w.staff)
    response = client.get(url("resident", "changelist"), {"q": ID_A})
    assert response.status_code == 302
    assert ID_A not in response["Location"] and "pidx=id" in response["Location"]
    page = client.get(response["Location"])
    assert list(page.context["cl"].result_list) == [w.resident]
    no_personal_values(page, ID_A, PHONE_A)
    # Another community's resident is not found by their number.
    other = client.get(client.get(url("resident", "changelist"), {"q": ID_B})["Location"])
    assert list(other.context["cl"].result_list) == []


def test_search_by_phone(w):
    client = browser(w.staff)
    response = client.get(url("resident", "changelist"), {"q": "139-1234-5678"}, follow=True)
    assert list(response.context["cl"].result_list) == [w.resident]
    no_personal_values(response, PHONE_A)


def test_search_by_a_malformed_id_number_is_a_clear_error(w):
    bad = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")
    response = browser(w.staff).get(url("resident", "changelist"), {"q": bad}, follow=True)
    assert any("check digit" in m for m in messages_of(response))
    no_personal_values(response, bad)


def test_a_forged_index_filter_finds_nothing(w):
    response = browser(w.staff).get(url("resident", "changelist"), {"pidx": "id:nonsense"})
    assert list(response.context["cl"].result_list) == []


def test_resident_autocomplete_by_id_number_is_scoped(w):
    client = browser(w.staff)
    params = {"app_label": "residents", "model_name": "carevisit", "field_name": "resident"}
    found = client.get(reverse("admin:autocomplete"), {**params, "term": ID_A}).json()
    assert [r["text"] for r in found["results"]] == ["张秀英"]
    assert ID_A not in str(found)
    assert client.get(reverse("admin:autocomplete"), {**params, "term": ID_B}).json()["results"] == []


# --- writes through the services --------------------------------------------------------------

def add_data(w, **fields):
    data = {"household": w.household.pk, "name": "赵四", "relation": Relation.SPOUSE, "gender": "",
            "birth_date": "", "registration": "local", "registered_address": "", "moved_in_on": "", "note": "",
            "new_id_number": "", "new_phone": "", "tags": [w.elderly.pk]}
    data.update(fields)
    return data


def test_add_resident_through_the_service(w):
    id_number = valid_id_number(birth=datetime.date(1950, 2, 2))
    response = browser(w.staff).post(url("resident", "add"), add_data(w, new_id_number=id_number,
                                                                       new_phone="13511112222"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    resident = Resident.objects.get(name="赵四")
    assert resident.id_number == id_number and resident.birth_date == datetime.date(1950, 2, 2)
    assert resident.id_masked and resident.phone == "13511112222"
    assert list(resident.tags.all()) == [w.elderly] and resident.visit_due_on is not None
    assert ResidentEvent.objects.filter(resident=resident, action="add", actor=w.staff).count() == 1


@pytest.mark.parametrize("fields, field, words", [
    ({"name": ""}, "name", "required"),
    ({"new_id_number": "110105194803091234"}, "new_id_number", "check digit"),
    ({"new_id_number": ID_B}, "new_id_number", "already recorded"),
    ({"relation": Relation.HEAD}, "relation", "already has a head"),
    ({"birth_date": "2999-01-01"}, "birth_date", "future"),
    ({"new_phone": "12345"}, "new_phone", "mobile or landline"),
])
def test_add_resident_bad_input_saves_nothing(w, fields, field, words):
    before = (Resident.objects.count(), ResidentEvent.objects.count())
    response = browser(w.staff).post(url("resident", "add"), add_data(w, **fields))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(words in str(e) for e in errors.get(field, [])), errors
    assert (Resident.objects.count(), ResidentEvent.objects.count()) == before
    assert ID_B not in str(errors)


def test_add_resident_in_a_foreign_household_is_refused(w):
    before = Resident.objects.count()
    response = browser(w.staff).post(url("resident", "add"), add_data(w, household=w.household_b.pk))
    assert response.status_code == 200 and "household" in response.context["adminform"].form.errors
    assert Resident.objects.count() == before


def change_data(resident, **fields):
    data = {"household": resident.household_id, "name": resident.name, "relation": resident.relation,
            "gender": resident.gender, "birth_date": resident.birth_date.isoformat() if resident.birth_date else "",
            "registration": resident.registration, "registered_address": resident.registered_address,
            "moved_in_on": "", "note": resident.note, "new_id_number": "", "new_phone": "",
            "tags": [t.pk for t in resident.tags.all()]}
    data.update(fields)
    return data


def test_change_resident_through_the_service(w):
    client = browser(w.staff)
    response = client.post(url("resident", "change", w.resident.pk),
                           change_data(w.resident, name="张秀兰", new_phone="13700001111"))
    assert response.status_code == 302
    w.resident.refresh_from_db()
    assert (w.resident.name, w.resident.phone, w.resident.id_number) == ("张秀兰", "13700001111", ID_A)
    event = ResidentEvent.objects.filter(resident=w.resident, action="change").get()
    assert event.details == {"fields": ["name", "phone"]} and event.actor == w.staff


def test_change_resident_refusal_leaves_everything(w):
    before = list(Resident.objects.order_by("pk").values("name", "id_index", "phone_index"))
    response = browser(w.staff).post(url("resident", "change", w.resident.pk),
                                     change_data(w.resident, name="新名字", new_id_number=ID_B))
    assert response.status_code == 200
    assert "already recorded" in str(response.context["adminform"].form.errors)
    assert list(Resident.objects.order_by("pk").values("name", "id_index", "phone_index")) == before
    assert not ResidentEvent.objects.filter(action="change").exists()


def test_move_to_another_household_through_the_service(w):
    other = household_in(w.city.unit_a, "302", acting_user=w.worker)
    response = browser(w.staff).post(url("resident", "change", w.resident.pk),
                                     change_data(w.resident, household=other.pk))
    assert response.status_code == 302
    w.resident.refresh_from_db()
    assert w.resident.household == other and w.resident.relation == Relation.OTHER
    assert ResidentEvent.objects.filter(resident=w.resident, action="move").exists()


def test_nobody_deletes_a_resident(w):
    client = browser(w.staff)
    assert client.post(url("resident", "delete", w.resident.pk), {"post": "yes"}).status_code == 403
    assert Resident.objects.filter(pk=w.resident.pk).exists()


def test_record_leaving_action(w):
    client = browser(w.staff)
    data = {"action": "record_leaving", "_selected_action": [w.resident.pk]}
    form_page = client.post(url("resident", "changelist"), data)
    assert form_page.status_code == 200
    response = client.post(url("resident", "changelist"), {**data, "apply": "1", "status": "deceased", "on": ""})
    assert response.status_code == 302
    w.resident.refresh_from_db()
    assert w.resident.status == ResidentStatus.DECEASED
    # A second time: refused by the service, as a message, nothing changes. The list shows the living
    # unless another status is chosen, so the deceased are chosen on ?status=all; the action's second
    # step posts back to that same address (its form's action is ""), with the same filter.
    listing = url("resident", "changelist") + "?status=all"
    second_step = client.post(listing, data).content.decode()
    assert '<form method="post" action="" novalidate>' in second_step
    again = client.post(listing, {**data, "apply": "1", "status": "moved_out", "on": ""}, follow=True)
    assert any("no longer recorded as living" in m for m in messages_of(again))
    # Chosen, but not in the list as filtered (the living, by default): said, not "0 recorded".
    hidden = client.post(url("resident", "changelist"), {**data, "apply": "1", "status": "moved_out", "on": ""},
                         follow=True)
    assert messages_of(hidden) == ["None of the chosen rows is in the list as it is filtered now; "
                                   "nothing was changed."]
    w.resident.refresh_from_db()
    assert w.resident.status == ResidentStatus.DECEASED
    # The action cannot reach another community's resident.
    client.post(url("resident", "changelist"),
                {"action": "record_leaving", "_selected_action": [w.resident_b.pk], "apply": "1",
                 "status": "moved_out", "on": ""})
    w.resident_b.refresh_from_db()
    assert w.resident_b.status == ResidentStatus.LIVING


def test_add_household_through_the_service(w):
    client = browser(w.staff)
    response = client.post(url("household", "add"), {"unit": w.city.unit_a.pk, "number": "1201"})
    assert response.status_code == 302
    assert Household.objects.filter(unit=w.city.unit_a, number="1201", grid=w.city.grid_a).exists()


@pytest.mark.parametrize("data", [{"number": ""}, {"unit": "999999"}, {"unit": "other"}])
def test_add_household_bad_input(w, data):
    before = Household.objects.count()
    payload = {"unit": w.city.unit_a.pk, "number": "1201", **data}
    if payload["unit"] == "other":
        payload["unit"] = w.city.unit_b.pk
    response = browser(w.staff).post(url("household", "add"), payload)
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert Household.objects.count() == before


def test_households_are_not_edited_or_deleted(w):
    client = browser(w.staff)
    assert client.post(url("household", "change", w.household.pk), {"number": "999"}).status_code == 403
    assert client.post(url("household", "delete", w.household.pk), {"post": "yes"}).status_code == 403
    w.household.refresh_from_db()
    assert w.household.number == "301"


# --- care visits ----------------------------------------------------------------------------

def test_add_care_visit_through_the_service(w):
    client = browser(w.staff)
    visited = timezone.localtime() - datetime.timedelta(hours=2)
    response = client.post(url("carevisit", "add"), {
        "resident": w.resident.pk, "visited_at_0": visited.strftime("%Y-%m-%d"),
        "visited_at_1": visited.strftime("%H:%M:%S"), "notes": "电话回访", "findings": "", "follow_up": "",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    visit = CareVisit.objects.get()
    assert visit.visited_by == w.staff and visit.notes == "电话回访"
    w.resident.refresh_from_db()
    assert w.resident.last_visited_at is not None


@pytest.mark.parametrize("fields", [{"notes": ""}, {"visited_at_0": "2999-01-01"}, {"resident": "b"}])
def test_add_care_visit_bad_input(w, fields):
    data = {"resident": w.resident.pk, "visited_at_0": timezone.localdate().isoformat(), "visited_at_1": "00:00:00",
            "notes": "看望", "findings": "", **fields}
    if data["resident"] == "b":
        data["resident"] = w.resident_b.pk
    response = browser(w.staff).post(url("carevisit", "add"), data)
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not CareVisit.objects.exists()


def test_care_visits_scoped_and_read_only(w):
    visit = services.care_visit_log(resident=w.resident, notes="看望", acting_user=w.worker)
    visit_b = services.care_visit_log(resident=w.resident_b, notes="看望", acting_user=w.worker_b)
    client = browser(w.staff)
    assert list(client.get(url("carevisit", "changelist")).context["cl"].result_list) == [visit]
    assert client.get(url("carevisit", "change", visit.pk)).status_code == 200
    assert client.get(url("carevisit", "change", visit_b.pk)).status_code == 404
    assert client.post(url("carevisit", "change", visit.pk), {"notes": "改"}).status_code == 403


# --- history and the access log: read-only for everyone -------------------------------------------

@pytest.mark.parametrize("model", ["residentevent", "accesslog"])
def test_history_and_access_log_are_read_only_even_for_superusers(w, model):
    services.resident_reveal(resident=w.resident, field="phone", reason="联系家属", acting_user=w.staff)
    superuser = UserFactory(is_superuser=True, is_staff=True)
    client = browser(superuser)
    Model = {"residentevent": ResidentEvent, "accesslog": AccessLog}[model]
    row = Model.objects.first()
    assert client.get(url(model, "add")).status_code == 403
    assert client.get(url(model, "change", row.pk)).status_code == 200
    before = list(Model.objects.values())
    assert client.post(url(model, "change", row.pk), {"reason": "改了"}).status_code == 403
    assert client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert list(Model.objects.values()) == before


def test_access_log_scoped_with_masks(w):
    services.resident_reveal(resident=w.resident, field="id_number", reason="办理低保", acting_user=w.staff)
    services.resident_reveal(resident=w.resident_b, field="id_number", reason="核实", acting_user=w.staff_b)
    client = browser(w.staff)
    listing = client.get(url("accesslog", "changelist"))
    reasons = [e.reason for e in listing.context["cl"].result_list]
    assert reasons == ["办理低保"]
    assert w.resident.id_masked in listing.content.decode()
    no_personal_values(listing, ID_A, ID_B)
    foreign = AccessLog.objects.get(reason="核实")
    assert client.get(url("accesslog", "change", foreign.pk)).status_code == 404
    # The resident's own entries, through the link on the resident's page.
    per_resident = client.get(url("accesslog", "changelist"), {"resident__id__exact": w.resident.pk})
    assert per_resident.status_code == 200 and len(per_resident.context["cl"].result_list) == 1


def test_history_scoped(w):
    client = browser(w.staff)
    rows = list(client.get(url("residentevent", "changelist")).context["cl"].result_list)
    assert {e.resident_id for e in rows} == {w.resident.pk}
    foreign = ResidentEvent.objects.get(resident=w.resident_b)
    assert client.get(url("residentevent", "change", foreign.pk)).status_code == 404
    page = client.get(url("residentevent", "changelist"), {"resident__id__exact": w.resident.pk})
    assert page.status_code == 200
    no_personal_values(page, ID_A, PHONE_A)


# --- tags: reference data ----------------------------------------------------------------------

def tag_data(tag, **fields):
    data = {"name": tag.name, "visit_interval_days": tag.visit_interval_days or "", "ordering": tag.ordering}
    if tag.sensitive:
        data["sensitive"] = "on"
    data.update(fields)
    return data


def test_community_staff_read_tags_but_do_not_change_them(w):
    client = browser(w.staff)
    assert client.get(url("tag", "changelist")).status_code == 200
    response = client.post(url("tag", "change", w.elderly.pk), tag_data(w.elderly, visit_interval_days=3))
    assert response.status_code == 403
    assert client.get(url("tag", "add")).status_code == 403
    w.elderly.refresh_from_db()
    assert w.elderly.visit_interval_days == 7


def test_district_official_changes_a_tag_and_the_round_follows(w):
    client = browser(w.district)
    response = client.post(url("tag", "change", w.elderly.pk), tag_data(w.elderly, visit_interval_days=3))
    assert response.status_code == 302
    w.elderly.refresh_from_db()
    assert w.elderly.visit_interval_days == 3
    services.care_visit_log(resident=w.resident, notes="看望", acting_user=w.worker)
    w.resident.refresh_from_db()
    assert w.resident.visit_due_on == timezone.localdate() + datetime.timedelta(days=3)
    add = client.post(url("tag", "add"), {"code": "pregnant", "name": "孕产妇", "visit_interval_days": "30",
                                          "ordering": "50"})
    assert add.status_code == 302 and Tag.objects.filter(code="pregnant").exists()
    assert client.post(url("tag", "delete", w.elderly.pk), {"post": "yes"}).status_code == 403


@pytest.mark.parametrize("fields", [{"visit_interval_days": "0"}, {"name": ""}, {"name": "党员"}])
def test_tag_bad_input(w, fields):
    response = browser(w.district).post(url("tag", "change", w.elderly.pk), tag_data(w.elderly, **fields))
    assert response.status_code == 200 and response.context["adminform"].form.errors
    w.elderly.refresh_from_db()
    assert (w.elderly.name, w.elderly.visit_interval_days) == ("独居老人", 7)


def test_admin_form_personal_values(w):
    form = ResidentAdminForm(instance=w.resident)
    assert w.resident.id_masked in form.fields["new_id_number"].help_text
    assert form.initial.get("new_id_number") is None


def test_admin_pages_never_read_the_encrypted_columns(w):
    import re

    encrypted = re.compile(r'"residents_resident"\."(id_number|phone)"')
    services.care_visit_log(resident=w.resident, notes="看望", acting_user=w.worker)
    services.resident_reveal(resident=w.resident, field="phone", reason="联系", acting_user=w.staff)
    client = browser(w.staff)
    targets = [url("resident", "changelist"), url("resident", "change", w.resident.pk), url("resident", "add"),
               url("household", "changelist"), url("household", "change", w.household.pk),
               url("carevisit", "changelist"), url("accesslog", "changelist"), url("residentevent", "changelist"),
               url("resident", "changelist") + "?q=秀英",
               reverse("admin:autocomplete") + "?app_label=residents&model_name=carevisit&field_name=resident&term=张"]
    for target in targets:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(target, follow=True)
        assert response.status_code == 200, target
        assert not any(encrypted.search(q["sql"]) for q in queries if "SELECT" in q["sql"][:10].upper()), target
