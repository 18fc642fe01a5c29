"""residents/services.py: every write, its history row, its refusals (nothing half-saved),
the reveal and its access log, the append-only tables, and concurrent adds on PostgreSQL."""

import datetime
import json
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.test import override_settings
from django.utils import translation

from grid import services as grid_services
from grid.models import Role
from portal.errors import DomainError
from residents import services
from residents.identity import blind_index, forget_field_keys
from residents.models import (
    AccessAction,
    AccessField,
    AccessLog,
    CareVisit,
    Household,
    Relation,
    Resident,
    ResidentEvent,
    ResidentStatus,
)

from .cases_factories import category, fresh_calendar  # noqa: F401 (fresh_calendar: autouse)
from .factories import user_with_post
from .residents_factories import household_in, resident_in, tag, valid_id_number, worker_of

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
TODAY = NOW.date()
PHONE = "13912345678"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def worker(city):
    return worker_of(city.grid_a)


@pytest.fixture
def home(city, worker):
    return services.household_add(unit=city.unit_a, number="301", acting_user=worker, now=NOW)


def add(household, user, **fields):
    fields.setdefault("name", "王五")
    fields.setdefault("id_number", valid_id_number())
    fields.setdefault("phone", PHONE)
    return services.resident_add(household=household, acting_user=user, now=fields.pop("now", NOW), **fields)


def raw(resident, field):
    return Resident.objects.annotate(t=Cast(field, TextField())).values_list("t", flat=True).get(pk=resident.pk)


def counts():
    return (Household.objects.count(), Resident.objects.count(), ResidentEvent.objects.count(),
            AccessLog.objects.count(), CareVisit.objects.count())


def everything_logged():
    """Every history detail, access-log detail and reason, as one string."""
    rows = list(ResidentEvent.objects.values_list("details", flat=True))
    rows += list(AccessLog.objects.values_list("details", "reason"))
    return json.dumps(rows, ensure_ascii=False, default=str)


# --- households -------------------------------------------------------------------

def test_household_add_stores_the_units_path_and_is_idempotent(city, worker):
    household = services.household_add(unit=city.unit_a, number=" 3 01 ", acting_user=worker, now=NOW)
    assert household.number == "301"
    assert (household.district_id, household.street_id, household.community_id, household.grid_id,
            household.building_id) == (city.district.pk, city.street_a.pk, city.community_a.pk, city.grid_a.pk,
                                       city.building_a.pk)
    again = services.household_add(unit=city.unit_a, number="３０１", acting_user=worker, now=NOW)
    assert again.pk == household.pk and Household.objects.count() == 1


@pytest.mark.parametrize("number, code", [("", "bad_number"), ("  ", "bad_number"), ("1" * 21, "bad_number")])
def test_household_add_refuses_bad_numbers(city, worker, number, code):
    with pytest.raises(DomainError) as err:
        services.household_add(unit=city.unit_a, number=number, acting_user=worker, now=NOW)
    assert err.value.code == code and Household.objects.count() == 0


@pytest.mark.parametrize("role, place", [(Role.GRID_WORKER, "grid_b"), (Role.GRID_CHIEF, "grid_a"),
                                         (Role.COMMUNITY_STAFF, "community_b")])
def test_household_add_refuses_outside_the_users_reach(city, role, place):
    user = user_with_post(role, getattr(city, place))
    with pytest.raises(DomainError) as err:
        services.household_add(unit=city.unit_a, number="301", acting_user=user, now=NOW)
    assert err.value.code == "forbidden" and Household.objects.count() == 0


def test_household_add_by_a_building_chief_is_refused(city):
    chief = user_with_post(Role.BUILDING_CHIEF, city.building_a)
    with pytest.raises(DomainError, match="do not look after"):
        services.household_add(unit=city.unit_a, number="301", acting_user=chief, now=NOW)


# --- resident_add -----------------------------------------------------------------

def test_resident_add_stores_encrypted_indexed_and_masked_values(city, worker, home):
    number = valid_id_number(birth=datetime.date(1950, 1, 2), serial=101)  # odd: male
    resident = add(home, worker, id_number=number, phone="+86 139-1234-5678", relation=Relation.HEAD)
    resident.refresh_from_db()
    assert resident.id_number == number and resident.phone == PHONE
    assert resident.id_masked == number[:6] + "********" + number[-4:]
    assert resident.phone_masked == "139****5678"
    assert resident.id_index == blind_index("id", number) and resident.phone_index == blind_index("phone", PHONE)
    assert resident.gender == "M" and resident.birth_date == datetime.date(1950, 1, 2)
    # At rest the columns hold Fernet tokens, not the values.
    assert number not in raw(resident, "id_number") and raw(resident, "id_number").startswith("gAAAA")
    assert PHONE not in raw(resident, "phone")
    assert (resident.grid_id, resident.building_id, resident.household_id) == (city.grid_a.pk, city.building_a.pk,
                                                                               home.pk)
    (event,) = ResidentEvent.objects.filter(resident=resident)
    assert event.action == ResidentEvent.Action.ADD and event.actor == worker and event.at == NOW
    assert event.details == {"household_id": home.pk}
    assert resident.warning == ""


def test_resident_add_without_id_or_phone(worker, home):
    resident = add(home, worker, id_number="", phone="", gender="F", birth_date=datetime.date(2001, 1, 1))
    resident.refresh_from_db()
    assert (resident.id_number, resident.id_index, resident.id_masked) == (None, None, "")
    assert (resident.phone, resident.phone_index, resident.phone_masked) == (None, None, "")
    assert resident.gender == "F"


def test_resident_add_unknown_area_code_saves_with_a_warning(worker, home):
    resident = add(home, worker, id_number=valid_id_number(area="999999"))
    assert "999999" in resident.warning and Resident.objects.filter(pk=resident.pk).exists()


@pytest.mark.parametrize("fields, code", [
    ({"id_number": "11010519800517001"}, "bad_id_number"),
    ({"id_number": "110105199902300011"}, "bad_id_number"),
    ({"phone": "12345"}, "bad_phone"),
    ({"name": "  "}, "bad_name"),
    ({"name": "名" * 51}, "bad_name"),
    ({"relation": "cousin"}, "bad_choice"),
    ({"registration": "abroad"}, "bad_choice"),
    ({"id_number": "", "gender": "X"}, "bad_choice"),
    ({"id_number": "", "birth_date": TODAY + datetime.timedelta(days=1)}, "bad_birth_date"),
    ({"moved_in_on": TODAY + datetime.timedelta(days=1)}, "bad_date"),
    ({"id_number": "", "birth_date": "2001-01-01"}, "bad_birth_date"),
])
def test_resident_add_refuses_bad_input_and_saves_nothing(worker, home, fields, code):
    before = counts()
    with pytest.raises(DomainError) as err:
        add(home, worker, tags=[tag("elderly_alone")], **fields)
    assert err.value.code == code
    assert counts() == before


def test_resident_add_refuses_a_duplicate_id_number_without_saying_where(city, worker, home):
    number = valid_id_number()
    add(home, worker, id_number=number)
    elsewhere = household_in(city.unit_b)
    before = counts()
    with pytest.raises(DomainError) as err:
        add(elsewhere, worker_of(city.grid_b), id_number=f"{number[:6]} {number[6:]}".lower())
    assert err.value.code == "duplicate_id_number"
    assert number not in str(err.value) and home.number not in str(err.value) and "幸福" not in str(err.value)
    assert counts() == before


def test_a_household_has_one_living_head(worker, home):
    add(home, worker, relation=Relation.HEAD)
    before = counts()
    with pytest.raises(DomainError) as err:
        add(home, worker, relation=Relation.HEAD)
    assert err.value.code == "two_heads" and counts() == before
    add(home, worker, relation=Relation.SPOUSE)


def test_the_database_refuses_a_second_living_head_even_past_the_service(worker, home):
    first = add(home, worker, relation=Relation.HEAD)
    second = add(home, worker, relation=Relation.SPOUSE)
    with pytest.raises(DatabaseError), transaction.atomic():
        Resident.objects.filter(pk=second.pk).update(relation=Relation.HEAD)
    services.resident_move_out(resident=first, acting_user=worker, now=NOW)
    Resident.objects.filter(pk=second.pk).update(relation=Relation.HEAD)  # the old head left


def test_resident_add_outside_the_users_reach_is_refused(city, home):
    for user in (worker_of(city.grid_b), user_with_post(Role.GRID_CHIEF, city.grid_a),
                 user_with_post(Role.UNIT_CHIEF, city.unit_a)):
        with pytest.raises(DomainError) as err:
            add(home, user)
        assert err.value.code == "forbidden"
    assert Resident.objects.count() == 0


def test_resident_add_with_a_visit_tag_is_due_today(worker, home):
    resident = add(home, worker, tags=[tag("elderly_alone"), tag("party_member")])
    resident.refresh_from_db()
    assert resident.visit_due_on == TODAY
    assert add(home, worker, tags=[tag("party_member")]).visit_due_on is None


# --- resident_update ---------------------------------------------------------------

def test_update_with_the_same_values_changes_nothing_and_logs_nothing(worker, home):
    number = valid_id_number()
    resident = add(home, worker, id_number=number, relation=Relation.SPOUSE)
    token = raw(resident, "id_number")
    services.resident_update(resident=resident, acting_user=worker, now=NOW, id_number=number.lower(),
                             phone="139 1234 5678", name=" 王五 ", relation=Relation.SPOUSE, tags=[])
    assert ResidentEvent.objects.filter(action=ResidentEvent.Action.CHANGE).count() == 0
    assert raw(resident, "id_number") == token


def test_update_logs_the_changed_fields_by_name_only(worker, home):
    resident = add(home, worker)
    new_phone = "13700001111"
    updated = services.resident_update(resident=resident, acting_user=worker, now=NOW, phone=new_phone,
                                       name="王五五", note="  行动不便 ", tags=[tag("disabled")])
    (event,) = ResidentEvent.objects.filter(action=ResidentEvent.Action.CHANGE)
    assert event.details == {"fields": ["name", "note", "phone", "tags"]}
    updated.refresh_from_db()
    assert (updated.name, updated.note, updated.phone, updated.phone_masked) == ("王五五", "行动不便", new_phone,
                                                                                 "137****1111")
    assert updated.visit_due_on == TODAY
    assert new_phone not in everything_logged() and PHONE not in everything_logged()


def test_update_of_a_name_does_not_rewrite_the_encrypted_columns(worker, home):
    resident = add(home, worker)
    tokens = raw(resident, "id_number"), raw(resident, "phone")
    services.resident_update(resident=resident, acting_user=worker, now=NOW, name="赵六")
    assert (raw(resident, "id_number"), raw(resident, "phone")) == tokens


def test_update_clears_and_replaces_the_id_number(worker, home):
    # A man's number (odd 17th digit) replaced by a woman's: the gender must change too.
    resident = add(home, worker, id_number=valid_id_number(serial=1))
    services.resident_update(resident=resident, acting_user=worker, now=NOW, id_number="", phone="")
    resident.refresh_from_db()
    assert (resident.id_number, resident.id_index, resident.id_masked, resident.phone) == (None, None, "", None)
    number = valid_id_number(birth=datetime.date(1990, 6, 1), serial=2)
    services.resident_update(resident=resident, acting_user=worker, now=NOW, id_number=number)
    resident.refresh_from_db()
    assert resident.id_number == number and resident.birth_date == datetime.date(1990, 6, 1)
    assert resident.gender == "F"
    fields = [e.details["fields"] for e in ResidentEvent.objects.filter(action="change").order_by("id")]
    assert fields == [["id_number", "phone"], ["birth_date", "gender", "id_number"]]


@pytest.mark.parametrize("kwargs, code", [
    ({"phone": "not a phone"}, "bad_phone"),
    ({"id_number": "110105198005170010"}, "bad_id_number"),
    ({"household": 3}, "bad_field"),
    ({"status": "deceased"}, "bad_field"),
    ({"relation": "boss"}, "bad_choice"),
    ({"name": ""}, "bad_name"),
    ({"birth_date": TODAY + datetime.timedelta(days=3)}, "bad_birth_date"),
])
def test_update_refuses_bad_input_and_changes_nothing(worker, home, kwargs, code):
    resident = add(home, worker)
    before = Resident.objects.filter(pk=resident.pk).values().get()
    with pytest.raises(DomainError) as err:
        services.resident_update(resident=resident, acting_user=worker, now=NOW, **{"name": "改了", **kwargs})
    assert err.value.code == code
    assert Resident.objects.filter(pk=resident.pk).values().get() == before
    assert ResidentEvent.objects.filter(action="change").count() == 0


def test_update_refuses_a_duplicate_id_number_and_a_second_head(worker, home):
    number = valid_id_number()
    add(home, worker, id_number=number, relation=Relation.HEAD)
    other = add(home, worker)
    with pytest.raises(DomainError) as err:
        services.resident_update(resident=other, acting_user=worker, now=NOW, id_number=number)
    assert err.value.code == "duplicate_id_number"
    with pytest.raises(DomainError) as err:
        services.resident_update(resident=other, acting_user=worker, now=NOW, relation=Relation.HEAD)
    assert err.value.code == "two_heads"


def test_update_outside_the_users_reach_is_refused(city, worker, home):
    resident = add(home, worker)
    with pytest.raises(DomainError) as err:
        services.resident_update(resident=resident, acting_user=worker_of(city.grid_a2), now=NOW, name="x")
    assert err.value.code == "forbidden"


# --- moving, leaving, returning --------------------------------------------------------

def test_move_to_another_grid_carries_the_path_and_drops_the_head(city):
    staff = user_with_post(Role.STREET_STAFF, city.street_a)
    home = household_in(city.unit_a)
    unit_a2 = grid_services.unit_add(building=city.building_a2, number="2单元")
    target = household_in(unit_a2, "502")
    resident = add(home, staff, relation=Relation.HEAD)
    moved = services.resident_move(resident=resident, household=target, acting_user=staff, now=NOW)
    assert (moved.household_id, moved.building_id, moved.grid_id, moved.relation) == (
        target.pk, city.building_a2.pk, city.grid_a2.pk, Relation.OTHER)
    (event,) = ResidentEvent.objects.filter(action="move")
    assert event.details == {"from_household_id": home.pk, "to_household_id": target.pk}


def test_move_refusals(city, worker, home):
    resident = add(home, worker)
    foreign = household_in(city.unit_b)
    with pytest.raises(DomainError) as err:
        services.resident_move(resident=resident, household=foreign, acting_user=worker, now=NOW)
    assert err.value.code == "forbidden"
    second = services.household_add(unit=city.unit_a, number="302", acting_user=worker, now=NOW)
    add(second, worker, relation=Relation.HEAD)
    with pytest.raises(DomainError) as err:
        services.resident_move(resident=resident, household=second, relation=Relation.HEAD, acting_user=worker,
                               now=NOW)
    assert err.value.code == "two_heads"
    services.resident_move_out(resident=resident, acting_user=worker, now=NOW)
    with pytest.raises(DomainError) as err:
        services.resident_move(resident=resident, household=second, acting_user=worker, now=NOW)
    assert err.value.code == "not_living"
    assert Resident.objects.get(pk=resident.pk).household_id == home.pk


def test_move_out_and_decease_keep_the_row_with_a_date(worker, home):
    a = add(home, worker, tags=[tag("elderly_alone")])
    b = add(home, worker)
    out = services.resident_move_out(resident=a, on=datetime.date(2026, 2, 1), note="去外地", acting_user=worker,
                                     now=NOW)
    assert (out.status, out.left_on, out.visit_due_on) == (ResidentStatus.MOVED_OUT, datetime.date(2026, 2, 1), None)
    dead = services.resident_decease(resident=b, acting_user=worker, now=NOW)
    assert (dead.status, dead.left_on) == (ResidentStatus.DECEASED, TODAY)
    assert Resident.objects.count() == 2
    assert set(ResidentEvent.objects.values_list("action", flat=True)) == {"add", "move_out", "decease"}
    with pytest.raises(DomainError) as err:
        services.resident_decease(resident=b, acting_user=worker, now=NOW)
    assert err.value.code == "not_living"


@pytest.mark.parametrize("on", [TODAY + datetime.timedelta(days=1), datetime.date(1970, 1, 1), "2026-01-01"])
def test_leaving_refuses_bad_dates(worker, home, on):
    resident = add(home, worker, id_number=valid_id_number(birth=datetime.date(1980, 5, 17)))
    with pytest.raises(DomainError) as err:
        services.resident_move_out(resident=resident, on=on, acting_user=worker, now=NOW)
    assert err.value.code == "bad_date"
    assert Resident.objects.get(pk=resident.pk).status == ResidentStatus.LIVING


def test_return_of_someone_who_moved_out(worker, home):
    resident = add(home, worker, relation=Relation.HEAD, tags=[tag("veteran")])
    services.resident_move_out(resident=resident, on=datetime.date(2026, 1, 1), acting_user=worker, now=NOW)
    add(home, worker, relation=Relation.HEAD)  # a new head meanwhile
    back = services.resident_return(resident=resident, acting_user=worker, now=NOW)
    assert (back.status, back.left_on, back.relation, back.moved_in_on) == (ResidentStatus.LIVING, None,
                                                                           Relation.OTHER, TODAY)
    assert back.visit_due_on == TODAY
    with pytest.raises(DomainError) as err:
        services.resident_return(resident=resident, acting_user=worker, now=NOW)
    assert err.value.code == "not_moved_out"


def test_return_from_elsewhere_needs_the_id_number_in_hand(city, worker, home):
    number = valid_id_number()
    resident = add(home, worker, id_number=number)
    services.resident_move_out(resident=resident, on=datetime.date(2026, 1, 1), acting_user=worker, now=NOW)
    other = worker_of(city.grid_b)
    their_home = household_in(city.unit_b, acting_user=other)
    for proof in (None, valid_id_number(), "garbage"):
        with pytest.raises(DomainError) as err:
            services.resident_return(resident=resident, household=their_home, id_number=proof, acting_user=other,
                                     now=NOW)
        assert err.value.code == "forbidden"
    assert Resident.objects.get(pk=resident.pk).status == ResidentStatus.MOVED_OUT
    back = services.resident_return(resident=resident, household=their_home, id_number=number, acting_user=other,
                                    now=NOW)
    assert (back.household_id, back.grid_id, back.community_id) == (their_home.pk, city.grid_b.pk,
                                                                     city.community_b.pk)


def test_return_before_leaving_is_refused(worker, home):
    resident = add(home, worker)
    services.resident_move_out(resident=resident, on=datetime.date(2026, 2, 1), acting_user=worker, now=NOW)
    with pytest.raises(DomainError) as err:
        services.resident_return(resident=resident, on=datetime.date(2026, 1, 1), acting_user=worker, now=NOW)
    assert err.value.code == "bad_date"


# --- reveal and the access log ----------------------------------------------------------

@pytest.fixture
def person(worker, home):
    return add(home, worker, id_number=valid_id_number(serial=555))


def test_reveal_returns_the_value_and_writes_exactly_one_log_row(city, person):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    value = services.resident_reveal(resident=person, field=AccessField.ID_NUMBER, reason="办理低保 核对身份",
                                     acting_user=staff, now=NOW)
    assert value == Resident.objects.get(pk=person.pk).id_number
    (row,) = AccessLog.objects.all()
    assert (row.actor, row.action, row.resident_id, row.field, row.reason, row.at) == (
        staff, AccessAction.REVEAL, person.pk, AccessField.ID_NUMBER, "办理低保 核对身份", NOW)
    assert (row.district_id, row.street_id, row.community_id, row.grid_id) == (
        city.district.pk, city.street_a.pk, city.community_a.pk, city.grid_a.pk)
    assert value not in everything_logged()


def test_a_grid_worker_may_reveal_the_phone_not_the_id_number(worker, person):
    assert services.resident_reveal(resident=person, field="phone", reason="联系家属", acting_user=worker,
                                    now=NOW) == PHONE
    with pytest.raises(DomainError) as err:
        services.resident_reveal(resident=person, field="id_number", reason="核对", acting_user=worker, now=NOW)
    assert err.value.code == "forbidden" and AccessLog.objects.count() == 1


@pytest.mark.parametrize("reason", ["", " ", "a", None])
def test_reveal_without_a_reason_is_refused(city, person, reason):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    with pytest.raises(DomainError) as err:
        services.resident_reveal(resident=person, field="phone", reason=reason, acting_user=staff, now=NOW)
    assert err.value.code == "no_reason" and AccessLog.objects.count() == 0


def test_reveal_refused_to_wrong_post_wrong_place_superuser_and_unknown_field(city, person):
    from .factories import UserFactory

    refused = [
        user_with_post(Role.GRID_CHIEF, city.grid_a),
        user_with_post(Role.BUILDING_CHIEF, city.building_a),
        user_with_post(Role.DISTRICT_OFFICIAL, city.district),
        user_with_post(Role.COMMUNITY_STAFF, city.community_b),
        worker_of(city.grid_a2),
        UserFactory(is_superuser=True, is_staff=True),
    ]
    for user in refused:
        with pytest.raises(DomainError) as err:
            services.resident_reveal(resident=person, field="phone", reason="核对信息", acting_user=user, now=NOW)
        assert err.value.code == "forbidden", user
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    with pytest.raises(DomainError) as err:
        services.resident_reveal(resident=person, field="name", reason="核对信息", acting_user=staff, now=NOW)
    assert err.value.code == "bad_field"
    assert AccessLog.objects.count() == 0


def test_reveal_after_the_post_ended_is_refused_even_with_a_cached_scope(city, person):
    from grid.models import Post
    from grid.selectors import scope_of

    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    assert scope_of(staff).spans  # cached on this instance, as during a request
    grid_services.post_end(post=Post.objects.get(user=staff))
    with pytest.raises(DomainError) as err:
        services.resident_reveal(resident=person, field="phone", reason="核对信息", acting_user=staff, now=NOW)
    assert err.value.code == "forbidden"


def test_reveal_of_an_empty_field(city, worker, home):
    resident = add(home, worker, phone="")
    with pytest.raises(DomainError) as err:
        services.resident_reveal(resident=resident, field="phone", reason="联系", acting_user=worker, now=NOW)
    assert err.value.code == "empty" and AccessLog.objects.count() == 0


def test_reveal_with_keys_that_do_not_open_the_value_fails_loudly_not_with_the_token(worker, person):
    try:
        with override_settings(SALT_KEY=["some-other-salt"]):
            forget_field_keys()
            with pytest.raises(DomainError) as err:
                services.resident_reveal(resident=person, field="phone", reason="联系", acting_user=worker, now=NOW)
            assert err.value.code == "undecryptable"
            assert "gAAAA" not in str(err.value)
    finally:
        forget_field_keys()
    assert AccessLog.objects.count() == 0


def test_export_log_hangs_on_the_common_place_and_masks_typed_numbers(city):
    worker = user_with_post(Role.GRID_WORKER, city.grid_a)
    grid_services.post_grant(user=worker, role=Role.GRID_WORKER, place=city.grid_a2)
    number = valid_id_number()
    entry = services.access_log_export(acting_user=worker, reason="", count=12, masked=True,
                                       filters={"q": f"找 {number} 和 138 0013 8000", "tag": ["elderly_alone"],
                                                "since": "2026-01-01"},
                                       now=NOW)
    assert (entry.district_id, entry.street_id, entry.community_id, entry.grid_id) == (
        city.district.pk, city.street_a.pk, city.community_a.pk, None)
    assert entry.details["rows"] == 12 and entry.details["masked"] is True and entry.field == ""
    assert number not in json.dumps(entry.details) and "0013" not in json.dumps(entry.details)
    assert number[:6] + "********" + number[-4:] in entry.details["filters"]["q"]
    assert entry.details["filters"]["since"] == "2026-01-01"
    assert entry.details["filters"]["tag"] == ["elderly_alone"]


def test_an_unmasked_export_needs_a_reason(city):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    with pytest.raises(DomainError) as err:
        services.access_log_export(acting_user=staff, reason=" ", count=3, masked=False, filters={}, now=NOW)
    assert err.value.code == "no_reason" and AccessLog.objects.count() == 0
    entry = services.access_log_export(acting_user=staff, reason="移交民政局", count=3, masked=False, filters={},
                                       place=city.grid_a, now=NOW)
    assert entry.field == AccessField.ALL and entry.grid_id == city.grid_a.pk


@pytest.mark.parametrize("model", [ResidentEvent, AccessLog])
def test_history_and_access_log_are_append_only_in_the_database(city, person, model):
    services.resident_reveal(resident=person, field="phone", reason="联系家属",
                             acting_user=user_with_post(Role.COMMUNITY_STAFF, city.community_a), now=NOW)
    assert model.objects.exists()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        model.objects.update(at=NOW + datetime.timedelta(days=1))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        model.objects.all().delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {model._meta.db_table}")
    assert model.objects.filter(at=NOW).count() == model.objects.count() >= 1


# --- care visits ---------------------------------------------------------------------

def test_visit_due_semantics(worker, home):
    # Never visited: due today, and it stays due from then on through later changes.
    resident = add(home, worker, tags=[tag("elderly_alone"), tag("disabled")])
    assert Resident.objects.get(pk=resident.pk).visit_due_on == TODAY
    later = NOW + datetime.timedelta(days=10)
    services.resident_update(resident=resident, acting_user=worker, now=later, tags=[tag("disabled")])
    assert Resident.objects.get(pk=resident.pk).visit_due_on == TODAY
    # Visited: last visit + the shortest interval of the tags.
    services.care_visit_log(resident=resident, notes="身体尚好", visited_at=later, acting_user=worker, now=later)
    assert Resident.objects.get(pk=resident.pk).visit_due_on == later.date() + datetime.timedelta(days=30)
    services.resident_update(resident=resident, acting_user=worker, now=later,
                             tags=[tag("disabled"), tag("elderly_alone")])
    assert Resident.objects.get(pk=resident.pk).visit_due_on == later.date() + datetime.timedelta(days=7)
    # No interval tag: none.
    services.resident_update(resident=resident, acting_user=worker, now=later, tags=[tag("party_member")])
    assert Resident.objects.get(pk=resident.pk).visit_due_on is None


def test_an_older_visit_does_not_move_the_round_back(worker, home):
    resident = add(home, worker, tags=[tag("elderly_alone")])
    services.care_visit_log(resident=resident, notes="走访", acting_user=worker, now=NOW)
    services.care_visit_log(resident=resident, notes="补记上周走访", visited_at=NOW - datetime.timedelta(days=5),
                            acting_user=worker, now=NOW)
    resident.refresh_from_db()
    assert resident.last_visited_at == NOW and resident.visit_due_on == TODAY + datetime.timedelta(days=7)
    assert CareVisit.objects.filter(resident=resident).count() == 2


@pytest.mark.parametrize("kwargs, code", [
    ({"notes": "  "}, "no_notes"),
    ({"notes": "x", "visited_at": NOW + datetime.timedelta(hours=1)}, "bad_date"),
    ({"notes": "x", "visited_at": datetime.datetime(2026, 3, 1, 9, 0)}, "bad_date"),
])
def test_care_visit_bad_input(worker, home, kwargs, code):
    resident = add(home, worker)
    with pytest.raises(DomainError) as err:
        services.care_visit_log(resident=resident, acting_user=worker, now=NOW, **kwargs)
    assert err.value.code == code and CareVisit.objects.count() == 0


def test_care_visits_only_to_the_living_and_within_reach(city, worker, home):
    resident = add(home, worker)
    with pytest.raises(DomainError) as err:
        services.care_visit_log(resident=resident, notes="x", acting_user=worker_of(city.grid_b), now=NOW)
    assert err.value.code == "forbidden"
    services.resident_decease(resident=resident, acting_user=worker, now=NOW)
    with pytest.raises(DomainError) as err:
        services.care_visit_log(resident=resident, notes="x", acting_user=worker, now=NOW)
    assert err.value.code == "not_living"


def test_a_visit_becomes_a_case_once(city, worker, home):
    resident = add(home, worker)
    visit = services.care_visit_log(resident=resident, notes="走访", findings="楼道堆放杂物", acting_user=worker,
                                    now=NOW)
    case = services.care_visit_to_case(visit=visit, category=category(), acting_user=worker, now=NOW)
    visit.refresh_from_db()
    assert visit.case_id == case.pk and visit.follow_up
    assert case.building_id == city.building_a.pk and case.description == "楼道堆放杂物"
    with pytest.raises(DomainError) as err:
        services.care_visit_to_case(visit=visit, category=category(), acting_user=worker, now=NOW)
    assert err.value.code == "has_case"


def test_find_by_id_number_city_wide_or_within_a_scope(city, worker, home):
    from residents.selectors import residents_visible_to

    number = valid_id_number()
    resident = add(home, worker, id_number=number)
    assert services.find_by_id_number(number.lower()) == resident
    assert services.find_by_id_number(number, within=residents_visible_to(worker)) == resident
    assert services.find_by_id_number(number, within=residents_visible_to(worker_of(city.grid_b))) is None
    assert services.find_by_id_number(valid_id_number()) is None


def test_no_full_value_anywhere_in_history_or_log_after_a_days_work(city, worker, home):
    number, phone = valid_id_number(), "13655556666"
    resident = add(home, worker, id_number=number, phone=phone, relation=Relation.HEAD)
    services.resident_update(resident=resident, acting_user=worker, now=NOW, phone="13655557777", id_number="")
    services.resident_update(resident=resident, acting_user=worker, now=NOW, id_number=number)
    services.resident_reveal(resident=resident, field="phone", reason="联系", acting_user=worker, now=NOW)
    services.resident_move_out(resident=resident, note="迁往外地", acting_user=worker, now=NOW)
    logged = everything_logged()
    for value in (number, phone, "13655557777", number[6:14]):
        assert value not in logged


# --- concurrency (PostgreSQL) ---------------------------------------------------------------

def run_together(*jobs, timeout=60):
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def work(i, job):
        try:
            barrier.wait(timeout=timeout)
            with translation.override("en"):
                results[i] = job()
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rounds", [10])
def test_concurrent_adds_of_one_id_number_keep_one_row(on_postgres, city, rounds):
    worker = worker_of(city.grid_a)
    homes = [household_in(city.unit_a, str(100 + i), acting_user=worker) for i in range(4)]
    for r in range(rounds):
        number = valid_id_number(serial=r)
        results = run_together(*(
            (lambda h=h: services.resident_add(household=h, name=f"并发{r}", id_number=number, phone="",
                                               acting_user=worker, now=NOW))
            for h in homes
        ))
        made = [x for x in results if isinstance(x, Resident)]
        refused = [x for x in results if isinstance(x, DomainError)]
        assert len(made) == 1 and len(refused) == len(homes) - 1, results
        assert {e.code for e in refused} <= {"duplicate_id_number", "conflict"}
        assert all(number not in str(e) for e in refused)
        assert Resident.objects.filter(id_index=blind_index("id", number)).count() == 1
        assert ResidentEvent.objects.filter(resident__in=made).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_heads_of_one_household_keep_one(on_postgres, city):
    worker = worker_of(city.grid_a)
    home = household_in(city.unit_a, acting_user=worker)
    results = run_together(*(
        (lambda: services.resident_add(household=home, name="户主", id_number="", phone="",
                                       relation=Relation.HEAD, acting_user=worker, now=NOW))
        for _ in range(4)
    ))
    assert sum(isinstance(x, Resident) for x in results) == 1
    assert Resident.objects.filter(household=home, relation=Relation.HEAD).count() == 1
