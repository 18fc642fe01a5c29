"""Issue #20 item 5: reporters and orderers get the residents' treatment.

Each finding has a test named for it that failed before the fix (the values sat
in plain text and were shown in full): encrypted at rest, masked in lists,
exports, the admin and the API, the full value only by a logged reveal with a
reason, for posts that cover the matter.
"""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import services_intake
from cases.models import Case, Channel, Intake
from grid.models import Role
from grid.privacy.models import PersonalDataAccess
from grid.privacy.services import personal_reveal
from portal.errors import DomainError
from portal.personal import encrypt_plain_rows, mask_any_phone, mask_name
from volunteers import services as volunteer_services
from volunteers.models import Order

from .cases_factories import MONDAY, category, fresh_calendar, people, resident_report  # noqa: F401
from .factories import UserFactory, user_with_post
from .open311_factories import CODE, file_registered, street_client  # noqa: F401

NAME, PHONE = "张三", "13800000000"


def raw(table, pk, *columns):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()


def browser(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def assert_encrypted(stored, plain):
    assert stored and plain not in stored and stored.startswith("gAAAAA"), "a Fernet token, not the value"


# --- encrypted at rest ------------------------------------------------------------------------------

def test_plain_text_reporters_names_and_phones_on_cases(city):
    case = resident_report(city)
    name, phone, name_masked, phone_masked = raw("cases_case", case.pk, "reporter_name", "reporter_phone",
                                                 "reporter_name_masked", "reporter_phone_masked")
    assert_encrypted(name, NAME)
    assert_encrypted(phone, PHONE)
    assert (name_masked, phone_masked) == ("张*", "138****0000")
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.reporter_name, fresh.reporter_phone) == (NAME, PHONE)


def test_plain_text_reporters_on_received_reports(city):
    intake = services_intake.intake_receive(category=category("E0101"), description="路灯坏了", channel="web",
                                            building=city.building_a, reporter_name="李四",
                                            reporter_phone="13912345678", now=MONDAY)
    name, phone, masked = raw("cases_intake", intake.pk, "reporter_name", "reporter_phone", "reporter_phone_masked")
    assert_encrypted(name, "李四")
    assert_encrypted(phone, "13912345678")
    assert masked == "139****5678"


@pytest.mark.clock(MONDAY)
def test_plain_text_reporters_on_open311_requests(city, street_client):  # noqa: F811
    api, _key = street_client
    filed, created = file_registered(
        client=api, service_code=CODE, description="路口堆了很多垃圾", address_id=str(city.building_a.pk),
        first_name="王", last_name="五", phone="13700001111", now=MONDAY)
    assert created
    name, phone = raw("cases_case", filed.case_id, "reporter_name", "reporter_phone")
    assert_encrypted(name, "王 五")
    assert_encrypted(phone, "13700001111")


def test_plain_text_orderers_on_volunteer_orders(city):
    order = volunteer_services.order_place(kind="errand", description="买药送上楼", contact_name="王阿姨",
                                           contact_phone="13812345678", building=city.building_a, now=MONDAY)
    name, phone, name_masked = raw("volunteers_order", order.pk, "contact_name", "contact_phone",
                                   "contact_name_masked")
    assert_encrypted(name, "王阿姨")
    assert_encrypted(phone, "13812345678")
    assert name_masked == "王**"


def test_masks_hide_all_but_a_hint():
    assert mask_name("欧阳秘密") == "欧***" and mask_name("") == "" and mask_name("张") == "张*"
    assert mask_any_phone("139 1234 5678") == "139****5678"
    assert mask_any_phone("12345") == "*****"  # not a phone: nothing readable


def test_rows_kept_in_plain_text_before_are_encrypted_in_batches_and_only_once(city):
    cases = [resident_report(city) for _ in range(3)]
    with connection.cursor() as cursor:  # as the table stood before the migration
        cursor.execute("UPDATE cases_case SET reporter_name = '李四', reporter_phone = '13912345678', "
                       "reporter_name_masked = '', reporter_phone_masked = ''")
        cursor.execute("UPDATE cases_case SET reporter_name = '', reporter_phone = '' WHERE id = %s",
                       [cases[2].pk])
    assert encrypt_plain_rows(Case, name_field="reporter_name", phone_field="reporter_phone", batch_size=1) == 3
    for case in cases[:2]:
        name, phone, masked = raw("cases_case", case.pk, "reporter_name", "reporter_phone", "reporter_phone_masked")
        assert_encrypted(name, "李四")
        assert masked == "139****5678"
        assert Case.objects.get(pk=case.pk).reporter_phone == "13912345678"
    assert raw("cases_case", cases[2].pk, "reporter_name", "reporter_phone") == (None, None)
    assert encrypt_plain_rows(Case, name_field="reporter_name", phone_field="reporter_phone") == 0


# --- masked in pages, the admin, exports and the API ----------------------------------------------------

def test_full_reporters_shown_to_staff_with_no_reveal(city, people):  # noqa: F811
    case = resident_report(city)
    page = browser(people.community).get(reverse("cases:detail", args=[case.pk]))
    assert page.status_code == 200
    assert NAME not in page.text and PHONE not in page.text
    assert "张*" in page.text and "138****0000" in page.text
    assert "Show the full" in page.text, "a post that handles the matter is offered the reveal"


def test_case_lists_exports_and_admin_show_masks_only(city, people):  # noqa: F811
    case = resident_report(city)
    client = browser(people.community)
    for url in (reverse("cases:board"), reverse("cases:export"),
                reverse("admin:cases_case_changelist"), reverse("admin:cases_case_change", args=[case.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
        text = b"".join(response.streaming_content).decode() if response.streaming else response.text
        assert NAME not in text and PHONE not in text, url
    change = client.get(reverse("admin:cases_case_change", args=[case.pk])).text
    assert "138****0000" in change and "张*" in change


def test_received_report_admin_shows_masks_only(city, people):  # noqa: F811
    intake = services_intake.intake_receive(category=category("E0101"), description="路灯坏了", channel="web",
                                            building=city.building_a, reporter_name="李四",
                                            reporter_phone="13912345678", now=MONDAY)
    page = browser(people.community).get(reverse("admin:cases_intake_change", args=[intake.pk]))
    assert page.status_code == 200
    assert "13912345678" not in page.text and "李四" not in page.text and "139****5678" in page.text


@pytest.mark.clock(MONDAY)
def test_json_api_and_open311_output_carry_no_reporter(client, city, people, street_client):  # noqa: F811
    _api, key = street_client
    filed, _ = file_registered(client=_api, service_code=CODE, description="路口堆了很多垃圾",
                                             address_id=str(city.building_a.pk), first_name="张", last_name="三",
                                             phone=PHONE, now=MONDAY)
    case = filed.case
    signed_in = browser(people.community)
    for url in ("/api/v1/cases/", f"/api/v1/cases/{case.pk}/"):
        response = signed_in.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert "张 三" not in text and PHONE not in text and "138****0000" not in text, url
    for url in ("/open311/v2/requests.json", f"/open311/v2/requests/{case.number}.json", "/open311/v2/requests.xml"):
        response = client.get(url, {"api_key": key})
        assert response.status_code == 200, url
        text = response.content.decode()
        assert case.number in text, url
        assert "张 三" not in text and PHONE not in text and "138****0000" not in text, url


# --- the reveal -------------------------------------------------------------------------------------

def test_reveal_shows_the_value_once_and_logs_who_why_and_where(city, people):  # noqa: F811
    case = resident_report(city)
    client = browser(people.worker)
    url = reverse("cases:reporter_reveal", args=[case.pk])
    page = client.post(url, {"reporter_phone-field": "reporter_phone", "reporter_phone-reason": "回访核实处理结果"})
    assert page.status_code == 200 and PHONE in page.text and NAME not in page.text
    (entry,) = PersonalDataAccess.objects.all()
    assert (entry.actor, entry.record_type, entry.record_id, entry.record_label, entry.field, entry.reason) == (
        people.worker, "cases.case", case.pk, case.number, "reporter_phone", "回访核实处理结果")
    assert (entry.grid_id, entry.community_id) == (city.grid_a.pk, city.community_a.pk)
    # The reveal log is history: the database refuses UPDATE and DELETE.
    for statement in ("UPDATE privacy_personaldataaccess SET reason = 'x'", "DELETE FROM privacy_personaldataaccess"):
        with pytest.raises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)


def test_reveal_without_a_reason_is_refused_and_logs_nothing(city, people):  # noqa: F811
    case = resident_report(city)
    url = reverse("cases:reporter_reveal", args=[case.pk])
    client = browser(people.worker)
    for data in ({"reporter_phone-field": "reporter_phone", "reporter_phone-reason": "  "},
                 {"reporter_phone-field": "reporter_phone"},
                 {"reporter_phone-field": "description", "reporter_phone-reason": "就是想看"},
                 {"nothing": "here"}):
        page = client.post(url, data)
        assert page.status_code == 400, data
        assert PHONE not in page.text
    with pytest.raises(DomainError) as refused:
        personal_reveal(record=case, field="reporter_phone", reason=" x ", acting_user=people.worker)
    assert refused.value.code == "no_reason"
    with pytest.raises(DomainError) as unknown:
        personal_reveal(record=case, field="description", reason="为了回访", acting_user=people.worker)
    assert unknown.value.code == "bad_field"
    assert not PersonalDataAccess.objects.exists()


def test_reveal_is_refused_outside_the_posts_that_cover_the_matter(city, people):  # noqa: F811
    case = resident_report(city)
    url = reverse("cases:reporter_reveal", args=[case.pk])
    data = {"reporter_phone-field": "reporter_phone", "reporter_phone-reason": "回访"}
    # Outside the scope: the case does not exist for them.
    assert browser(people.community_b).post(url, data).status_code == 404
    # Sees the case (a building chief), but the post does not call reporters back.
    page = browser(people.building_chief).post(url, data)
    assert page.status_code == 403 and PHONE not in page.text
    assert "Show the full" not in browser(people.building_chief).get(reverse("cases:detail", args=[case.pk])).text
    for user in (people.worker_b, people.other_district, people.building_chief):
        with pytest.raises(DomainError) as refused:
            personal_reveal(record=case, field="reporter_phone", reason="回访", acting_user=user)
        assert refused.value.code == "forbidden"
    # An administrator administers: the reveal is for posts that work with the matter.
    root = UserFactory(is_superuser=True, is_staff=True)
    with pytest.raises(DomainError):
        personal_reveal(record=case, field="reporter_phone", reason="回访", acting_user=root)
    assert not PersonalDataAccess.objects.exists()
    # Street staff above the matter may.
    assert personal_reveal(record=case, field="reporter_name", reason="回访", acting_user=people.street) == NAME


def test_reveal_log_is_read_by_managers_of_the_place_only(city, people):  # noqa: F811
    case = resident_report(city)
    personal_reveal(record=case, field="reporter_phone", reason="回访", acting_user=people.worker)
    listing = reverse("admin:privacy_personaldataaccess_changelist")
    assert case.number in browser(people.community).get(listing).text
    assert case.number not in browser(people.community_b).get(listing).text


# --- volunteers' orders ------------------------------------------------------------------------------

@pytest.fixture
def order(city):
    return volunteer_services.order_place(kind="errand", description="买药送上楼", contact_name="王阿姨",
                                          contact_phone="13812345678", building=city.building_a,
                                          now=timezone.now())


def test_orderers_shown_in_full_to_volunteers_and_staff_with_no_reveal(city, order):
    user, other = UserFactory(), UserFactory()
    volunteer = volunteer_services.volunteer_register(home=city.grid_a, user=user, acting_user=user)
    volunteer_services.volunteer_register(home=city.grid_a, user=other, acting_user=other)
    # Offered the order (not yet taken): masked.
    page = browser(other).get(reverse("volunteers:me"))
    assert "买药送上楼" in page.text and "王阿姨" not in page.text and "13812345678" not in page.text
    volunteer_services.order_claim(order=order, volunteer=volunteer, acting_user=user)
    me = browser(user).get(reverse("volunteers:me"))
    assert "王**" in me.text and "13812345678" not in me.text
    contact = reverse("volunteers:order_contact", args=[order.pk])
    page = browser(user).post(contact, {"contact_phone-field": "contact_phone", "contact_phone-reason": "上门前联系"})
    assert page.status_code == 200 and "tel:13812345678" in page.text
    assert PersonalDataAccess.objects.get().record_label == order.tracking_code
    # Another volunteer does not reach the taken order; staff of another community neither.
    assert browser(other).post(contact, {"contact_phone-field": "contact_phone",
                                         "contact_phone-reason": "x y"}).status_code == 404
    staff_b = user_with_post(Role.COMMUNITY_STAFF, city.community_b)
    assert browser(staff_b).get(contact).status_code == 404
    # Staff of the place may, and without a reason nobody may.
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    assert browser(staff).post(contact, {"contact_name-field": "contact_name",
                                         "contact_name-reason": ""}).status_code == 400
    assert personal_reveal(record=order, field="contact_name", reason="回访", acting_user=staff) == "王阿姨"
    assert PersonalDataAccess.objects.count() == 2


def test_order_admin_shows_masks_only(city, order):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    page = browser(staff).get(reverse("admin:volunteers_order_change", args=[order.pk]))
    assert page.status_code == 200
    assert "13812345678" not in page.text and "王阿姨" not in page.text and "138****5678" in page.text
    assert Order.objects.get(pk=order.pk).contact_phone == "13812345678"


# --- key rotation -------------------------------------------------------------------------------

def test_reporters_are_re_encrypted_when_the_keys_rotate(city):
    from io import StringIO

    from django.core.management import call_command
    from django.test import override_settings

    from portal.identity import forget_field_keys

    try:
        with override_settings(SALT_KEY=["old-salt-for-the-test"]):
            forget_field_keys()
            case = resident_report(city)
            before = raw("cases_case", case.pk, "reporter_phone")[0]
        with override_settings(SALT_KEY=["new-salt-for-the-test", "old-salt-for-the-test"]):
            out = StringIO()
            call_command("reencrypt_personal_data", "--batch-size", "1", stdout=out)
            assert "cases.reporter: changed=2" in out.getvalue()
            assert raw("cases_case", case.pk, "reporter_phone")[0] != before
            out = StringIO()
            call_command("reencrypt_personal_data", stdout=out)
            assert "cases.reporter: changed=0 already_current=2" in out.getvalue()
        with override_settings(SALT_KEY=["new-salt-for-the-test"]):
            forget_field_keys()
            assert Case.objects.get(pk=case.pk).reporter_phone == PHONE
    finally:
        forget_field_keys()
