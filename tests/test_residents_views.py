"""The residents' pages (residents/views.py): list and lookup, household and
resident pages, the forms, the reveal action, care visits, visits due, the
access log.

Every scoped URL is requested for an object inside the user's subtree and one
outside it (outside answers 404 like a missing id); a chief gets 403 or 404.
No page may carry a full ID number or phone except the response to an allowed
reveal, which writes exactly one access-log row. Every form is sent bad input
and must save nothing. Lists keep a bounded query count.
"""

import datetime
import re

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import Case
from grid.models import Role
from residents import services
from residents.models import AccessLog, CareVisit, Household, Relation, Resident, ResidentEvent, ResidentStatus, Tag
from residents.views import due_visit_rows

from .cases_factories import category, fresh_calendar  # noqa: F401 (fresh_calendar: autouse)
from .residents_factories import household_in, resident_in, valid_id_number

ID_A = valid_id_number(area="110105", birth=datetime.date(1948, 3, 9), serial=123)
ID_B = valid_id_number(area="110105", birth=datetime.date(1975, 6, 30), serial=456)
PHONE_A = "13912345678"
PHONE_B = "13698765432"
# A valid number whose area code python-stdnum does not know: saved, with a warning.
ID_UNKNOWN_AREA = valid_id_number(area="999999", birth=datetime.date(1990, 1, 1), serial=7)

# Every page here is dated against a frozen moment (tests own their clock): 00:30 in Beijing, which is
# still the day before in UTC, where the services once took UTC's date for Beijing's and refused a
# move-in of "today" as in the future.
pytestmark = pytest.mark.clock("2026-11-24T00:30:00+08:00")


@pytest.fixture
def client():
    """Pages in English: the tests read the English msgids."""
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def text_of(response):
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def no_personal_values(response, *values):
    body = response.content.decode()
    for value in values:
        assert value not in body, f"{value[:3]}… leaked into {response.request['PATH_INFO']}"


class World:
    def __init__(self, city, make_user):
        self.city = city
        self.worker = make_user(Role.GRID_WORKER, city.grid_a, username="worker_a", full_name="网格员甲")
        self.worker_b = make_user(Role.GRID_WORKER, city.grid_b, username="worker_b")
        self.community = make_user(Role.COMMUNITY_STAFF, city.community_a, username="community_a",
                                   full_name="社区乙")
        self.community_b = make_user(Role.COMMUNITY_STAFF, city.community_b, username="community_b")
        self.street = make_user(Role.STREET_STAFF, city.street_a, username="street_a")
        self.chief = make_user(Role.BUILDING_CHIEF, city.building_a, username="chief_a")
        self.grid_chief = make_user(Role.GRID_CHIEF, city.grid_a, username="grid_chief_a")
        self.elderly = Tag.objects.get(code="elderly_alone")
        self.party = Tag.objects.get(code="party_member")
        self.household = household_in(city.unit_a, "301", acting_user=self.worker)
        self.household_b = household_in(city.unit_b, "502", acting_user=self.worker_b)
        self.resident = resident_in(self.household, "张秀英", id_number=ID_A, phone=PHONE_A, relation=Relation.HEAD,
                                    acting_user=self.worker, tags=[self.elderly])
        self.resident_b = resident_in(self.household_b, "李建国", id_number=ID_B, phone=PHONE_B,
                                      relation=Relation.HEAD, acting_user=self.worker_b, tags=[self.elderly])


@pytest.fixture
def w(city, make_user):
    return World(city, make_user)


def url(name, *args):
    return reverse(f"residents:{name}", args=args)


# --- access: anonymous, chiefs, in and out of scope ---------------------------------------

SCOPED_GETS = ("resident", "resident_edit", "resident_leave", "visit_add")


def test_anonymous_is_sent_to_sign_in(client, w):
    for target in (url("list"), url("resident", w.resident.pk), url("household", w.household.pk),
                   url("visits_due"), url("access_log")):
        response = client.get(target)
        assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize("who", ["chief", "grid_chief"])
def test_chiefs_do_not_reach_residents_records(as_user, w, who):
    client = as_user(getattr(w, who))
    for target in (url("list"), url("visits_due"), url("access_log"), url("household_add")):
        assert client.get(target).status_code == 403
    for target in (url("resident", w.resident.pk), url("household", w.household.pk),
                   url("resident_edit", w.resident.pk)):
        assert client.get(target).status_code == 403  # posted on the place, but not a role that reads residents
    response = client.post(url("resident_reveal", w.resident.pk),
                           {"phone-field": "phone", "phone-reason": "need to call"})
    assert response.status_code == 403
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("name", SCOPED_GETS)
def test_resident_pages_inside_and_outside_the_subtree(as_user, w, name):
    client = as_user(w.worker)
    inside = client.get(url(name, w.resident.pk))
    assert inside.status_code == 200
    no_personal_values(inside, ID_A, PHONE_A)
    assert client.get(url(name, w.resident_b.pk)).status_code == 404
    assert client.get(url(name, 999999)).status_code == 404


def test_household_page_inside_and_outside(as_user, w):
    client = as_user(w.worker)
    response = client.get(url("household", w.household.pk))
    assert response.status_code == 200
    text = text_of(response)
    assert "张秀英" in text and "Added" in text
    assert w.resident.id_masked in text
    no_personal_values(response, ID_A, PHONE_A)
    assert client.get(url("household", w.household_b.pk)).status_code == 404
    assert client.get(url("resident_add", w.household_b.pk)).status_code == 404


def test_community_staff_reach_their_community_only(as_user, w):
    client = as_user(w.community)
    assert client.get(url("resident", w.resident.pk)).status_code == 200
    assert client.get(url("resident", w.resident_b.pk)).status_code == 404
    assert client.get(url("household", w.household_b.pk)).status_code == 404


# --- the list and the lookup -------------------------------------------------------------

def test_list_shows_my_grid_masked_only(as_user, w):
    client = as_user(w.worker)
    response = client.get(url("list"))
    assert response.status_code == 200
    text = text_of(response)
    assert "张秀英" in text and "李建国" not in text
    assert w.resident.id_masked in text and w.resident.phone_masked in text
    assert "独居老人" in text
    no_personal_values(response, ID_A, PHONE_A, ID_B, PHONE_B)
    assert response["Cache-Control"] == "private, no-store"


def test_list_filters_narrow_and_never_widen(as_user, w):
    other = resident_in(w.household, "王小明", id_number="", phone="", acting_user=w.worker, tags=[w.party])
    client = as_user(w.worker)
    by_name = text_of(client.get(url("list"), {"name": "小明"}))
    assert "王小明" in by_name and "张秀英" not in by_name
    by_tag = text_of(client.get(url("list"), {"tag": w.elderly.pk}))
    assert "张秀英" in by_tag and "王小明" not in by_tag
    # Another grid's id in the filter shows nothing of that grid.
    foreign = text_of(client.get(url("list"), {"grid": w.city.grid_b.pk, "building": w.city.building_b.pk}))
    assert "李建国" not in foreign
    services.resident_move_out(resident=other, acting_user=w.worker, now=timezone.now())
    living = text_of(client.get(url("list")))
    assert "王小明" not in living
    moved = text_of(client.get(url("list"), {"status": ResidentStatus.MOVED_OUT}))
    assert "王小明" in moved and "张秀英" not in moved


def test_list_query_count_stays_flat(as_user, w, django_assert_max_num_queries):
    for n in range(40):
        household = household_in(w.city.unit_a, f"{n + 400}", acting_user=w.worker)
        resident_in(household, f"居民{n}", acting_user=w.worker, phone=f"1370000{n:04d}", tags=[w.elderly, w.party])
    client = as_user(w.community)
    with django_assert_max_num_queries(14):
        response = client.get(url("list"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 41
    with django_assert_max_num_queries(14):
        client.get(url("list"), {"tag": w.elderly.pk, "name": "居民"})


def test_lookup_by_full_id_number_is_exact_and_scoped(as_user, w):
    client = as_user(w.worker)
    response = client.post(url("list"), {"number": ID_A})
    assert response.status_code == 200
    text = text_of(response)
    assert "张秀英" in text and w.resident.id_masked in text
    no_personal_values(response, ID_A, PHONE_A)
    # Lower-case x, spaces: the same person. Someone else's grid: nobody.
    assert "李建国" not in text_of(client.post(url("list"), {"number": ID_B}))
    assert "Nobody with this number" in text_of(client.post(url("list"), {"number": ID_B}))


def test_lookup_by_phone(as_user, w):
    client = as_user(w.worker)
    response = client.post(url("list"), {"number": "139 1234 5678"})
    text = text_of(response)
    assert "张秀英" in text and "139****5678" in text
    no_personal_values(response, PHONE_A)


@pytest.mark.parametrize("typed", ["11010519480309123", "110105194803091239X", "110105194813091230", "12345", ""])
def test_lookup_bad_input_is_a_clear_error_without_the_number(as_user, w, typed):
    client = as_user(w.worker)
    response = client.post(url("list"), {"number": typed})
    assert response.status_code == 400
    if typed:
        no_personal_values(response, typed)
    assert "form-errors" in response.content.decode()


def test_id_numbers_never_go_in_a_get_url(as_user, w):
    """The filters have no ID-number parameter: a typed number in ?name= matches no one."""
    client = as_user(w.worker)
    response = client.get(url("list"), {"name": ID_A})
    assert "张秀英" not in text_of(response).replace(ID_A, "")
    lookup = client.get(url("list")).content.decode()
    assert re.search(r'<form method="post" action="/residents/" class="lookup-form"', lookup)


# --- the resident page and reveal ----------------------------------------------------------

def test_resident_page_masks_and_offers_reveal_per_post(as_user, w):
    page = as_user(w.community).get(url("resident", w.resident.pk))
    text = text_of(page)
    assert w.resident.id_masked in text and w.resident.phone_masked in text
    no_personal_values(page, ID_A, PHONE_A)
    assert [i["field"] for i in page.context["personal"] if i["form"]] == ["id_number", "phone"]
    # A grid worker may see the phone in full, not the ID number.
    worker_page = as_user(w.worker).get(url("resident", w.resident.pk))
    assert [i["field"] for i in worker_page.context["personal"] if i["form"]] == ["phone"]
    # Street staff read the record but reveal nothing.
    street_page = as_user(w.street).get(url("resident", w.resident.pk))
    assert street_page.status_code == 200
    assert [i["field"] for i in street_page.context["personal"] if i["form"]] == []


def reveal(client, resident, field, reason="核实身份，办理低保"):
    return client.post(url("resident_reveal", resident.pk), {f"{field}-field": field, f"{field}-reason": reason})


def test_reveal_shows_the_value_once_and_logs_it(as_user, w):
    client = as_user(w.community)
    response = reveal(client, w.resident, "id_number")
    assert response.status_code == 200
    assert ID_A in response.content.decode()
    assert PHONE_A not in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    log = AccessLog.objects.get()
    assert (log.actor, log.resident, log.field, log.reason) == (w.community, w.resident, "id_number", "核实身份，办理低保")
    assert ID_A not in str(log.details) and ID_A not in log.reason
    # The next ordinary page shows the mask again.
    no_personal_values(client.get(url("resident", w.resident.pk)), ID_A)


def test_worker_reveals_a_phone(as_user, w):
    response = reveal(as_user(w.worker), w.resident, "phone", reason="联系家属")
    assert response.status_code == 200 and PHONE_A in response.content.decode()
    assert AccessLog.objects.filter(actor=w.worker, field="phone").count() == 1


@pytest.mark.parametrize("reason", ["", " ", "x"])
def test_reveal_without_a_reason_is_refused_and_not_logged(as_user, w, reason):
    response = reveal(as_user(w.community), w.resident, "id_number", reason=reason)
    assert response.status_code == 400
    no_personal_values(response, ID_A, PHONE_A)
    assert not AccessLog.objects.exists()


def test_reveal_refused_for_a_worker_asking_for_the_id_number(as_user, w):
    response = reveal(as_user(w.worker), w.resident, "id_number")
    assert response.status_code == 403
    no_personal_values(response, ID_A)
    assert not AccessLog.objects.exists()


def test_reveal_outside_the_subtree_is_404(as_user, w):
    response = reveal(as_user(w.community_b), w.resident, "id_number")
    assert response.status_code == 404
    assert not AccessLog.objects.exists()
    assert as_user(w.community).get(url("resident_reveal", w.resident.pk)).status_code == 405


def test_reveal_unknown_field_is_refused(as_user, w):
    client = as_user(w.community)
    response = client.post(url("resident_reveal", w.resident.pk), {"field": "name", "reason": "因为"})
    assert response.status_code == 400
    assert not AccessLog.objects.exists()


# --- household and resident forms --------------------------------------------------------

def test_household_add(as_user, w):
    client = as_user(w.worker)
    form_page = client.get(url("household_add"))
    choices = dict(c for _g, group in form_page.context["form"].fields["unit"].choices[1:] for c in group)
    assert w.city.unit_a.pk in choices and w.city.unit_b.pk not in choices
    response = client.post(url("household_add"), {"unit": w.city.unit_a.pk, "number": "1202"})
    household = Household.objects.get(unit=w.city.unit_a, number="1202")
    assert response.status_code == 302 and response["Location"] == url("household", household.pk)


@pytest.mark.parametrize("data", [{"number": "   "}, {"number": "1" * 21}, {"unit": "-1"}, {"unit": "abc"}])
def test_household_add_bad_input(as_user, w, data):
    before = Household.objects.count()
    data = {"unit": w.city.unit_a.pk, "number": "808", **data}
    response = as_user(w.worker).post(url("household_add"), data)
    assert response.status_code == 400 and response.context["form"].errors
    assert Household.objects.count() == before


def test_household_add_in_a_foreign_unit_saves_nothing(as_user, w):
    before = Household.objects.count()
    response = as_user(w.worker).post(url("household_add"), {"unit": w.city.unit_b.pk, "number": "808"})
    assert response.status_code == 400
    assert Household.objects.count() == before


def add_data(**fields):
    data = {"name": "赵四", "id_number": "", "phone": "", "relation": Relation.SPOUSE, "gender": "",
            "birth_date": "", "registration": "local", "registered_address": "", "moved_in_on": "", "note": ""}
    data.update(fields)
    return data


def test_resident_add_through_the_service(as_user, w):
    client = as_user(w.worker)
    id_number = valid_id_number(birth=datetime.date(1950, 2, 2))
    response = client.post(url("resident_add", w.household.pk),
                           add_data(id_number=id_number, phone="13511112222", tags=[w.elderly.pk]))
    resident = Resident.objects.get(name="赵四")
    assert response.status_code == 302 and response["Location"] == url("resident", resident.pk)
    assert resident.household == w.household and resident.birth_date == datetime.date(1950, 2, 2)
    assert list(resident.tags.all()) == [w.elderly] and resident.visit_due_on is not None
    assert ResidentEvent.objects.filter(resident=resident, action="add").count() == 1


def test_a_move_in_of_today_in_beijing_is_not_in_the_future(as_user, w):
    """At 00:30 Beijing time it is still yesterday in UTC: today's local date must be accepted."""
    client = as_user(w.worker)
    response = client.post(url("resident_add", w.household.pk), add_data(moved_in_on="2026-11-24"))
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    assert Resident.objects.get(name="赵四").moved_in_on == datetime.date(2026, 11, 24)


def test_resident_add_with_an_unknown_area_code_warns_after_saving(as_user, w):
    client = as_user(w.worker)
    response = client.post(url("resident_add", w.household.pk), add_data(id_number=ID_UNKNOWN_AREA), follow=True)
    assert Resident.objects.filter(name="赵四").exists()
    assert any("999999" in m and "reference table" in m for m in messages_of(response))
    no_personal_values(response, ID_UNKNOWN_AREA)


TOMORROW = "2026-11-25"  # the module's clock (pytestmark) stands on 2026-11-24


@pytest.mark.parametrize("fields, field, words", [
    ({"name": ""}, "name", "required"),
    ({"name": "   "}, "name", "required"),
    ({"id_number": "110105194803091234"}, "id_number", "check digit"),
    ({"id_number": "11010519480309"}, "id_number", "18 characters"),
    ({"id_number": "110105194802301238"}, "id_number", "impossible"),
    ({"id_number": ID_A}, "id_number", "already recorded"),
    ({"birth_date": TOMORROW}, "birth_date", "future"),
    ({"birth_date": "2020-13-40"}, "birth_date", "valid date"),
    ({"relation": Relation.HEAD}, "relation", "already has a head"),
    ({"relation": "boss"}, "relation", "valid choice"),
    ({"phone": "12345"}, "phone", "mobile or landline"),
    ({"moved_in_on": TOMORROW}, "moved_in_on", "future"),
])
def test_resident_add_bad_input_saves_nothing(as_user, w, fields, field, words):
    before = (Resident.objects.count(), ResidentEvent.objects.count())
    response = as_user(w.worker).post(url("resident_add", w.household.pk), add_data(**fields))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(words in str(e) for e in errors.get(field, [])), errors
    assert (Resident.objects.count(), ResidentEvent.objects.count()) == before
    # The error never repeats someone's ID number.
    assert ID_A not in str(errors)


def test_resident_edit_never_prefills_personal_values(as_user, w):
    client = as_user(w.worker)
    page = client.get(url("resident_edit", w.resident.pk))
    assert page.status_code == 200
    no_personal_values(page, ID_A, PHONE_A)
    assert w.resident.id_masked in text_of(page)


def edit_data(resident, **fields):
    data = {"name": resident.name, "relation": resident.relation, "gender": resident.gender,
            "birth_date": resident.birth_date.isoformat() if resident.birth_date else "",
            "registration": resident.registration, "registered_address": "", "moved_in_on": "", "note": "",
            "new_id_number": "", "new_phone": "", "tags": [t.pk for t in resident.tags.all()]}
    data.update(fields)
    return data


def test_resident_edit_keeps_or_replaces_personal_values(as_user, w):
    client = as_user(w.worker)
    response = client.post(url("resident_edit", w.resident.pk), edit_data(w.resident, name="张秀兰"))
    assert response.status_code == 302
    w.resident.refresh_from_db()
    assert w.resident.name == "张秀兰" and w.resident.id_number == ID_A and w.resident.phone == PHONE_A
    client.post(url("resident_edit", w.resident.pk), edit_data(w.resident, new_phone="13700001111"))
    w.resident.refresh_from_db()
    assert w.resident.phone == "13700001111"
    event = ResidentEvent.objects.filter(resident=w.resident, action="change").first()
    assert event.details == {"fields": ["phone"]}
    client.post(url("resident_edit", w.resident.pk), edit_data(w.resident, clear_phone="on"))
    w.resident.refresh_from_db()
    assert w.resident.phone is None and w.resident.phone_masked == ""


@pytest.mark.parametrize("fields, field", [
    ({"name": ""}, "name"),
    ({"new_id_number": ID_B}, "new_id_number"),
    ({"new_id_number": "123"}, "new_id_number"),
    ({"birth_date": TOMORROW}, "birth_date"),
    ({"new_phone": "13700001111", "clear_phone": "on"}, "clear_phone"),
])
def test_resident_edit_bad_input_saves_nothing(as_user, w, fields, field):
    resident_in(w.household, "孙某", id_number="", phone="", acting_user=w.worker)
    before = list(Resident.objects.order_by("pk").values("name", "id_index", "phone_index", "birth_date"))
    events = ResidentEvent.objects.count()
    response = as_user(w.worker).post(url("resident_edit", w.resident.pk), edit_data(w.resident, **fields))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not response.context["form"].non_field_errors()  # beside the field, once
    assert list(Resident.objects.order_by("pk").values("name", "id_index", "phone_index", "birth_date")) == before
    assert ResidentEvent.objects.count() == events
    assert ID_B not in str(response.context["form"].errors)


def test_second_head_through_edit_is_refused(as_user, w):
    spouse = resident_in(w.household, "孙某", id_number="", phone="", acting_user=w.worker)
    response = as_user(w.worker).post(url("resident_edit", spouse.pk), edit_data(spouse, relation=Relation.HEAD))
    assert response.status_code == 400 and "already has a head" in str(response.context["form"].errors)
    spouse.refresh_from_db()
    assert spouse.relation == Relation.OTHER


# --- moving out, death, moving back ------------------------------------------------------------

def test_move_out_and_back(as_user, w):
    client = as_user(w.worker)
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    response = client.post(url("resident_leave", w.resident.pk), {"status": "moved_out", "on": yesterday})
    assert response.status_code == 302
    w.resident.refresh_from_db()
    assert w.resident.status == ResidentStatus.MOVED_OUT and w.resident.left_on.isoformat() == yesterday
    assert w.resident.visit_due_on is None
    page = client.get(url("resident", w.resident.pk))
    assert page.context["can_return"] and not page.context["can_edit"]
    client.post(url("resident_return", w.resident.pk), {"on": ""})
    w.resident.refresh_from_db()
    assert w.resident.status == ResidentStatus.LIVING


def test_deceased(as_user, w):
    as_user(w.worker).post(url("resident_leave", w.resident.pk), {"status": "deceased", "on": "", "note": "病故"})
    w.resident.refresh_from_db()
    assert w.resident.status == ResidentStatus.DECEASED
    assert ResidentEvent.objects.filter(resident=w.resident, action="decease").exists()


@pytest.mark.parametrize("data", [
    {"status": "moved_out", "on": TOMORROW},
    {"status": "moved_out", "on": "1900-01-01"},  # before the date of birth (the service says so)
    {"status": "gone", "on": ""},
    {"status": "", "on": ""},
])
def test_leave_bad_input_saves_nothing(as_user, w, data):
    response = as_user(w.worker).post(url("resident_leave", w.resident.pk), data)
    assert response.status_code == 400 and response.context["form"].errors
    w.resident.refresh_from_db()
    assert w.resident.status == ResidentStatus.LIVING


def test_leave_twice_is_a_clear_error(as_user, w):
    client = as_user(w.worker)
    client.post(url("resident_leave", w.resident.pk), {"status": "moved_out", "on": ""})
    response = client.post(url("resident_leave", w.resident.pk), {"status": "deceased", "on": ""})
    assert response.status_code == 400 and "no longer recorded as living" in str(response.context["form"].errors)


def test_return_outside_the_subtree_is_404(as_user, w):
    services.resident_move_out(resident=w.resident_b, acting_user=w.worker_b, now=timezone.now())
    assert as_user(w.worker).post(url("resident_return", w.resident_b.pk), {}).status_code == 404


# --- care visits --------------------------------------------------------------------------------

def test_visit_logged_from_the_form(as_user, w):
    client = as_user(w.worker)
    response = client.post(url("visit_add", w.resident.pk),
                           {"notes": "上门看望，身体尚可", "findings": "屋顶漏水", "follow_up": "on", "visited_at": ""})
    assert response.status_code == 302
    visit = CareVisit.objects.get()
    assert visit.follow_up and visit.visited_by == w.worker and visit.findings == "屋顶漏水"
    w.resident.refresh_from_db()
    assert w.resident.visit_due_on == timezone.localdate() + datetime.timedelta(days=7)
    page = client.get(url("resident", w.resident.pk))
    assert "屋顶漏水" in text_of(page) and "Turn into a case" in text_of(page)


@pytest.mark.parametrize("data, field", [
    ({"notes": ""}, "notes"),
    ({"notes": "   "}, "notes"),
    ({"notes": "看望", "visited_at": "2999-01-01T10:00"}, "visited_at"),
    ({"notes": "看望", "visited_at": "yesterday"}, "visited_at"),
])
def test_visit_bad_input_saves_nothing(as_user, w, data, field):
    response = as_user(w.worker).post(url("visit_add", w.resident.pk), data)
    assert response.status_code == 400 and field in response.context["form"].errors
    assert not CareVisit.objects.exists()


def test_visit_outside_the_subtree(as_user, w):
    response = as_user(w.worker).post(url("visit_add", w.resident_b.pk), {"notes": "看望"})
    assert response.status_code == 404
    assert not CareVisit.objects.exists()


def test_visit_turns_into_a_case_with_one_click(as_user, w):
    visit = services.care_visit_log(resident=w.resident, notes="看望", findings="楼道灯坏了", follow_up=True,
                                    acting_user=w.worker, now=timezone.now())
    client = as_user(w.worker)
    code = category().code
    response = client.post(url("visit_to_case", visit.pk), {f"v{visit.pk}-category": code})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cases:detail", args=[case.pk])
    assert case.description == "楼道灯坏了" and case.building == w.city.building_a
    visit.refresh_from_db()
    assert visit.case == case
    # A second click opens nothing new.
    again = client.post(url("visit_to_case", visit.pk), {f"v{visit.pk}-category": code}, follow=True)
    assert Case.objects.count() == 1
    assert any("already has a case" in m for m in messages_of(again))


def test_visit_to_case_bad_input_and_scope(as_user, w):
    visit = services.care_visit_log(resident=w.resident, notes="看望", follow_up=True, acting_user=w.worker,
                                    now=timezone.now())
    client = as_user(w.worker)
    response = client.post(url("visit_to_case", visit.pk), {f"v{visit.pk}-category": ""}, follow=True)
    assert any("Choose a category" in m for m in messages_of(response))
    response = client.post(url("visit_to_case", visit.pk), {f"v{visit.pk}-category": "NOPE"}, follow=True)
    assert Case.objects.count() == 0
    visit_b = services.care_visit_log(resident=w.resident_b, notes="看望", follow_up=True, acting_user=w.worker_b,
                                      now=timezone.now())
    assert client.post(url("visit_to_case", visit_b.pk), {f"v{visit_b.pk}-category": category().code}).status_code == 404
    assert Case.objects.count() == 0


# --- visits due --------------------------------------------------------------------------

def test_visits_due_for_a_worker(as_user, w):
    response = as_user(w.worker).get(url("visits_due"))
    assert response.status_code == 200 and not response.context["by_grid"]
    text = text_of(response)
    assert "张秀英" in text and "李建国" not in text and "独居老人" in text
    no_personal_values(response, ID_A, PHONE_A)


def test_visits_due_soonest_first_with_the_tags_that_call_for_them(w):
    today = timezone.localdate()
    later = resident_in(w.household, "后来者", id_number="", phone="", acting_user=w.worker, tags=[w.elderly, w.party])
    Resident.objects.filter(pk=w.resident.pk).update(visit_due_on=today - datetime.timedelta(days=3))
    Resident.objects.filter(pk=later.pk).update(visit_due_on=today)
    rows = due_visit_rows(w.worker, today=today)
    assert [r["name"] for r in rows] == ["张秀英", "后来者"]
    assert rows[0]["days_over"] == 3
    assert [t["name"] for t in rows[1]["tags"]] == ["独居老人"]  # 党员 calls for no visit
    html = render_to_string("residents/_due_visits.html", {"due": rows})
    assert "张秀英" in html and "超期 3 天" in html


def test_visits_due_for_community_staff_grouped_by_grid(as_user, w, django_assert_max_num_queries):
    household2 = Household.objects.create(
        unit=w.city.unit_a, building=w.city.building_a, number="999", district=w.city.district,
        street=w.city.street_a, community=w.city.community_a, grid=w.city.grid_a)
    for n in range(15):
        resident_in(household2, f"老人{n}", id_number="", phone="", acting_user=w.worker, tags=[w.elderly])
    client = as_user(w.community)
    with django_assert_max_num_queries(12):
        response = client.get(url("visits_due"))
    assert response.context["by_grid"]
    groups = response.context["groups"]
    assert [g["grid_name"] for g in groups] == ["幸福第一网格"]
    assert len(groups[0]["rows"]) == 16
    assert "李建国" not in text_of(response)
    # The other community sees its own.
    other = as_user(w.community_b).get(url("visits_due"))
    assert [g["grid_name"] for g in other.context["groups"]] == ["和平第一网格"]


# --- the access log ---------------------------------------------------------------------------

def test_access_log_scoped_and_read_only(as_user, w):
    services.resident_reveal(resident=w.resident, field="id_number", reason="办理低保", acting_user=w.community)
    services.resident_reveal(resident=w.resident_b, field="id_number", reason="核实", acting_user=w.community_b)
    services.resident_reveal(resident=w.resident, field="phone", reason="联系", acting_user=w.worker)
    page = as_user(w.community).get(url("access_log"))
    assert page.status_code == 200
    text = text_of(page)
    assert "办理低保" in text and "联系" in text and "核实" not in text
    assert w.resident.id_masked in text
    no_personal_values(page, ID_A, PHONE_A, ID_B)
    # The street above sees its community; the worker only their own entries.
    assert "办理低保" in text_of(as_user(w.street).get(url("access_log")))
    worker_text = text_of(as_user(w.worker).get(url("access_log")))
    assert "联系" in worker_text and "办理低保" not in worker_text
    b_text = text_of(as_user(w.community_b).get(url("access_log")))
    assert "核实" in b_text and "办理低保" not in b_text
    # Read-only: nothing but GET.
    assert as_user(w.community).post(url("access_log"), {}).status_code == 405


def test_access_log_query_count(as_user, w, django_assert_max_num_queries):
    for n in range(30):
        services.resident_reveal(resident=w.resident, field="phone", reason=f"第{n}次", acting_user=w.community)
    client = as_user(w.community)
    with django_assert_max_num_queries(10):
        response = client.get(url("access_log"))
    assert len(response.context["rows"]) == 30


# --- navigation ---------------------------------------------------------------------------

def test_navigation_links_per_audience(as_user, w):
    worker_nav = as_user(w.worker).get(url("list")).content.decode()
    assert url("visits_due") in worker_nav and url("access_log") not in worker_nav
    staff_nav = as_user(w.community).get(url("list")).content.decode()
    assert url("access_log") in staff_nav


# --- the encrypted columns are never read for a page ---------------------------------------------

ENCRYPTED_COLUMN = re.compile(r'"residents_resident"\."(id_number|phone)"')


def test_pages_never_read_the_encrypted_columns(as_user, w):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.care_visit_log(resident=w.resident, notes="看望", follow_up=True, acting_user=w.worker)
    services.resident_reveal(resident=w.resident, field="phone", reason="联系", acting_user=w.community)
    client = as_user(w.community)
    pages = [("get", url("list"), None), ("get", url("list"), {"tag": w.elderly.pk, "name": "张"}),
             ("post", url("list"), {"number": ID_A}), ("post", url("list"), {"number": PHONE_A}),
             ("get", url("household", w.household.pk), None), ("get", url("resident", w.resident.pk), None),
             ("get", url("resident_edit", w.resident.pk), None), ("get", url("visit_add", w.resident.pk), None),
             ("get", url("visits_due"), None), ("get", url("access_log"), None)]
    for method, target, data in pages:
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(target, data or {})
        assert response.status_code == 200, target
        selects = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
        assert not any(ENCRYPTED_COLUMN.search(sql) for sql in selects), target


@pytest.mark.parametrize("query", [{"page": "abc"}, {"page": "999"}, {"grid": "abc"}, {"tag": "999999"},
                                   {"building": "-1"}, {"status": "gone"}, {"name": "x" * 500}])
def test_list_with_bad_filter_values_still_answers(as_user, w, query):
    response = as_user(w.worker).get(url("list"), query)
    assert response.status_code == 200
    assert "李建国" not in text_of(response)


def test_household_page_query_count(as_user, w, django_assert_max_num_queries):
    for n in range(20):
        resident_in(w.household, f"家人{n}", id_number="", phone="", acting_user=w.worker, tags=[w.party])
    client = as_user(w.worker)
    with django_assert_max_num_queries(14):
        response = client.get(url("household", w.household.pk))
    assert len(response.context["residents"]) == 21


def test_a_moved_out_resident_page_offers_no_visit(as_user, w):
    services.resident_move_out(resident=w.resident, acting_user=w.worker, now=timezone.now())
    client = as_user(w.worker)
    page = client.get(url("resident", w.resident.pk))
    assert page.context["visit_form"] is None and page.context["can_return"]
    assert client.get(url("visit_add", w.resident.pk)).status_code == 403
    assert client.post(url("visit_add", w.resident.pk), {"notes": "看望"}).status_code == 403
    assert not CareVisit.objects.exists()


def test_navigation_shows_residents_links_only_to_posts_that_reach_records(client, city):
    """Chiefs hold posts for cases and notice boards, not for residents' records."""
    from django.urls import reverse

    from grid.models import Role

    from .factories import user_with_post

    worker = user_with_post(Role.GRID_WORKER, city.grid_a)
    chief = user_with_post(Role.BUILDING_CHIEF, city.building_a)
    list_url = reverse("residents:list")
    client.force_login(worker)
    assert list_url in client.get(reverse("home")).content.decode()
    client.force_login(chief)
    assert list_url not in client.get(reverse("home")).content.decode()


def test_the_cases_queue_lists_care_visits_due_inside_the_scope_only(client, city):
    """Overdue visits appear in the worker's queue (issue #4); another grid's do not."""
    from django.urls import reverse

    from grid.models import Role
    from residents.models import Tag

    from .factories import user_with_post
    from .residents_factories import household_in, resident_in

    worker = user_with_post(Role.GRID_WORKER, city.grid_a)
    elderly = list(Tag.objects.filter(code="elderly_alone"))
    resident_in(household_in(city.unit_a, "301"), "独居甲", tags=elderly)
    resident_in(household_in(city.unit_b, "101"), "独居乙", tags=elderly)
    client.force_login(worker)
    page = client.get(reverse("cases:queue")).content.decode()
    assert "独居甲" in page and "独居乙" not in page
    chief = user_with_post(Role.GRID_CHIEF, city.grid_a)
    client.force_login(chief)  # a chief's queue shows cases, not residents
    assert "独居甲" not in client.get(reverse("cases:queue")).content.decode()
