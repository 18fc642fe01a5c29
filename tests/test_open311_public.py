"""Open311 issue #22: reads without a key (item 1), filings through the received-report path
with a token (item 2), the optional description (item 4) and discovery's changeset (item 5)."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases import services_intake
from cases.models import Case, Category, Intake
from cases.open311 import selectors, services
from cases.open311.models import Datatype, PublicReads, ServiceAttribute, ServiceRequest
from grid.models import Role

from .cases_factories import MONDAY, category, people, resident_report  # noqa: F401
from .factories import user_with_post
from .open311_factories import CODE, issue, street_client, with_questions  # noqa: F401

NOW = MONDAY + timedelta(hours=1)
pytestmark = pytest.mark.clock(NOW)
BASE = "/open311/v2"
NAME, PHONE = "张三", "13800000000"  # resident_report's reporter
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def reference_data(db):
    category(CODE)  # reloaded if a transactional test before this one flushed it


@pytest.fixture
def public_on(settings):
    settings.OPEN311_PUBLIC_READS = True


def open_district(district, enabled=True):
    return PublicReads.objects.update_or_create(district=district, defaults={"enabled": enabled})[0]


def other_service_code():
    category(CODE)
    return selectors.services().exclude(code=CODE).values_list("code", flat=True).first()


@pytest.fixture
def matters(city):
    """An ordinary matter in a household of building A, one of a sensitive category, one mediation."""
    category(CODE)  # the reference data, reloaded if a transactional test flushed it
    Category.objects.filter(code=other_service_code()).update(is_sensitive=True)
    ordinary = resident_report(city, unit=city.unit_a, address="幸福路1号1单元402室", now=MONDAY)
    sensitive = resident_report(city, code=other_service_code(), now=MONDAY)
    mediation = resident_report(city, code="E0501", now=MONDAY)
    assert mediation.kind == "mediation"
    return ordinary, sensitive, mediation


def read(client, path, **params):
    return client.get(f"{BASE}/{path}", params)


# --- item 1: public reads ---------------------------------------------------------------------

@pytest.mark.parametrize("path", ["requests.json", "requests/{n}.json", "servicerequestupdates.json",
                                  "tokens/{t}.json"])
def test_reads_without_a_key_stay_refused_by_default(client, city, matters, street_client, path):
    open_district(city.district)  # the district alone does not open them: the setting is off
    filed, _ = services.request_file(client=street_client[0], service_code=CODE, description="垃圾",
                                     address_id=str(city.building_a.pk), now=NOW)
    response = read(client, path.format(n=matters[0].number, t=filed.token))
    assert response.status_code == 403 and response.json()[0]["code"] == 403


def test_public_reads_need_the_district_to_opt_in(client, city, matters, public_on):
    ordinary = matters[0]
    assert read(client, "requests.json").json() == []
    assert read(client, f"requests/{ordinary.number}.json").status_code == 404
    open_district(city.district, enabled=False)
    assert read(client, "requests.json").json() == []
    open_district(city.district)
    assert [r["service_request_id"] for r in read(client, "requests.json").json()] == [ordinary.number]
    # Another district opening its own reads opens nothing here.
    open_district(city.district, enabled=False)
    open_district(city.other_district)
    assert read(client, "requests.json").json() == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_public_reads_answer_public_fields_only(client, city, matters, public_on, fmt):
    ordinary, sensitive, mediation = matters
    case_services.case_reject(case=ordinary, acting_user=user_with_post(Role.COMMUNITY_STAFF, city.community_a),
                              reason="已转物业处理", now=MONDAY + timedelta(minutes=5))
    open_district(city.district)
    answers = [read(client, f"requests.{fmt}"), read(client, f"requests/{ordinary.number}.{fmt}"),
               read(client, f"servicerequestupdates.{fmt}")]
    for response in answers:
        assert response.status_code == 200
        text = response.content.decode()
        # No personal data, no words of the resident's, no household: the building only.
        for secret in (NAME, PHONE, "138****0000", ordinary.description, "402室", "1单元", ordinary.tracking_code):
            assert secret not in text, secret
        assert sensitive.number not in text and mediation.number not in text
    if fmt == "json":
        row = answers[1].json()[0]
        assert set(row) == REQUEST_FIELDS
        assert row["address"] == "幸福路1号" and row["address_id"] == str(city.building_a.pk)
        assert row["description"] == "" and row["agency_responsible"] == ""
        assert row["status"] == "closed" and row["status_notes"] == "已转物业处理"
        assert row["service_code"] == CODE and row["requested_datetime"].startswith("2026-")
        updates = answers[2].json()
        assert {u["service_request_id"] for u in updates} == {ordinary.number}
    # The sensitive and the mediation matter do not exist for a public reader.
    assert read(client, f"requests/{sensitive.number}.{fmt}").status_code == 404
    assert read(client, f"requests/{mediation.number}.{fmt}").status_code == 404


def test_a_key_reads_as_before_with_public_reads_on(client, city, matters, public_on, street_client):
    open_district(city.district)
    _api, key = street_client
    rows = read(client, "requests.json", api_key=key).json()
    ordinary = next(r for r in rows if r["service_request_id"] == matters[0].number)
    assert ordinary["description"] == matters[0].description  # the key's own view
    assert matters[1].number in {r["service_request_id"] for r in rows}
    # A wrong key is refused, not served as a public read.
    assert read(client, "requests.json", api_key="o311_wrong").status_code == 403


def test_filing_always_needs_a_key(client, city, public_on):
    open_district(city.district)
    category(CODE)
    response = client.post(f"{BASE}/requests.json", {"service_code": CODE, "description": "垃圾",
                                                      "address_id": str(city.building_a.pk)})
    assert response.status_code == 403
    assert not Intake.objects.exists() and not ServiceRequest.objects.exists()


def test_public_token_lookup(client, city, public_on, street_client):
    api, _key = street_client
    filed, _ = services.request_file(client=api, service_code=CODE, description="垃圾",
                                     address_id=str(city.building_a.pk), first_name="王", phone=PHONE, now=NOW)
    assert read(client, f"tokens/{filed.token}.json").status_code == 404  # the district has not opened reads
    open_district(city.district)
    assert read(client, f"tokens/{filed.token}.json").json() == [{"token": filed.token}]
    services_intake.intake_register_pending()
    filed.refresh_from_db()
    answer = read(client, f"tokens/{filed.token}.json")
    assert answer.json() == [{"service_request_id": filed.case.number, "token": filed.token}]
    assert PHONE not in answer.content.decode()
    assert read(client, "tokens/0123456789abcdef0123456789abcdef.json").status_code == 404
    # A filing whose category is sensitive is not readable once it is a case.
    Category.objects.filter(code=CODE).update(is_sensitive=True)
    assert read(client, f"tokens/{filed.token}.json").status_code == 404


def test_public_token_lookup_of_a_waiting_sensitive_filing_answers_as_it_will_once_registered(
        client, city, public_on, street_client):
    """A waiting filing of a sensitive service answered with its token, then 404 once registered:
    the public could tell a sensitive filing was there. It is 404 throughout now."""
    api, _key = street_client
    open_district(city.district)
    filed, _ = services.request_file(client=api, service_code=CODE, description="家暴求助",
                                     address_id=str(city.building_a.pk), first_name="王", phone=PHONE, now=NOW)
    assert read(client, f"tokens/{filed.token}.json").json() == [{"token": filed.token}]
    Category.objects.filter(code=CODE).update(is_sensitive=True)
    assert read(client, f"tokens/{filed.token}.json").status_code == 404
    Category.objects.filter(code=CODE).update(is_sensitive=False, is_mediation=True)
    assert read(client, f"tokens/{filed.token}.json").status_code == 404
    # The key that filed it still reads its own filing.
    assert client.get(f"{BASE}/tokens/{filed.token}.json", {"api_key": _key}).status_code == 200
    services_intake.intake_register_pending()
    assert read(client, f"tokens/{filed.token}.json").status_code == 404


# --- district switch in the admin ---------------------------------------------------------------

def admin_browser(user):
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(user)
    return web


def test_district_officials_switch_their_own_district_only(city):
    official = user_with_post(Role.DISTRICT_OFFICIAL, city.district)
    web = admin_browser(official)
    add = reverse("admin:open311_publicreads_add")
    response = web.post(add, {"district": city.district.pk, "enabled": "on"})
    assert response.status_code == 302, response.content[:2000]
    row = PublicReads.objects.get()
    assert row.district == city.district and row.enabled
    # Outside their subtree: refused on the form, nothing written.
    response = web.post(add, {"district": city.other_district.pk, "enabled": "on"})
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert PublicReads.objects.count() == 1
    # A street is not a district: refused too.
    response = web.post(add, {"district": city.street_a.pk, "enabled": "on"})
    assert response.status_code == 200 and PublicReads.objects.count() == 1
    # Turned off again from the change page; the other district's row is not theirs to see.
    response = web.post(reverse("admin:open311_publicreads_change", args=[row.pk]), {})
    assert response.status_code == 302
    row.refresh_from_db()
    assert not row.enabled
    other = open_district(city.other_district)
    assert web.get(reverse("admin:open311_publicreads_change", args=[other.pk])).status_code == 404
    assert web.get(reverse("admin:open311_publicreads_change", args=[row.pk])).status_code == 200


# --- item 2: filings wait as received reports -----------------------------------------------------

def test_a_filing_is_a_received_report_until_registered(client, city, street_client):
    api, key = street_client
    response = client.post(f"{BASE}/requests.json", {"api_key": key, "service_code": CODE, "description": "垃圾",
                                                      "address_id": str(city.building_a.pk), "lat": "",
                                                      "address_string": "幸福路1号门口", "first_name": "王"})
    row = response.json()[0]
    assert response.status_code == 200 and "service_request_id" not in row
    waiting = Intake.objects.get()
    assert waiting.channel == "open311" and waiting.external_ref == row["token"]
    assert waiting.address == "幸福路1号门口" and waiting.building == city.building_a
    assert ServiceRequest.objects.get().case is None
    assert services_intake.intake_register_pending() == 1
    case = Case.objects.get()
    assert case.channel == "open311" and case.external_ref == row["token"] and case.address == "幸福路1号门口"
    assert case.reporter_name == "王" and ServiceRequest.objects.get().case == case
    token = client.get(f"{BASE}/tokens/{row['token']}.json", {"api_key": key}).json()
    assert token == [{"service_request_id": case.number, "token": row["token"]}]


def test_a_broker_outage_loses_no_filing(client, city, street_client, django_capture_on_commit_callbacks):
    from cases import tasks

    _api, key = street_client
    with mock.patch.object(tasks.register_intake, "apply_async", side_effect=ConnectionError("redis down")) as send:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"{BASE}/requests.json", {
                "api_key": key, "service_code": CODE, "description": "垃圾", "address_id": str(city.building_a.pk)})
    assert send.called
    assert response.status_code == 200
    token = response.json()[0]["token"]
    assert Intake.objects.count() == 1 and not Case.objects.exists()
    assert client.get(f"{BASE}/tokens/{token}.json", {"api_key": key}).json() == [{"token": token}]
    # The broker is back: the beat's run registers what waited, and the token answers the id.
    assert tasks.register_intake.delay().get() == 1
    answer = client.get(f"{BASE}/tokens/{token}.json", {"api_key": key}).json()
    assert answer == [{"service_request_id": Case.objects.get().number, "token": token}]


def test_a_filing_staff_place_by_hand_answers_its_id_too(client, city, people, street_client):
    api, key = street_client
    filed, _ = services.request_file(client=api, service_code=CODE, description="垃圾",
                                     address_id=str(city.building_a.pk), now=NOW)
    # Its category is withdrawn before the worker gets to it: the row waits for staff.
    Category.objects.filter(code=CODE).update(is_active=False)
    assert services_intake.intake_register_pending() == 0
    waiting = Intake.objects.get()
    assert waiting.failed_at is not None
    replacement = Category.objects.get(code=other_service_code())
    case = services_intake.intake_retry(intake=waiting, acting_user=people.community, category=replacement)
    filed.refresh_from_db()
    assert filed.case == case
    answer = client.get(f"{BASE}/tokens/{filed.token}.json", {"api_key": key}).json()
    assert answer == [{"service_request_id": case.number, "token": filed.token}]


# --- item 4: description optional when a required attribute carries the substance ---------------

def test_a_service_with_required_attributes_takes_a_filing_without_description(client, city, street_client):
    with_questions()  # "smell" is required
    _api, key = street_client
    definition = client.get(f"{BASE}/services/{CODE}.json").json()
    assert definition["description_required"] is False
    response = client.post(f"{BASE}/requests.json", {"api_key": key, "service_code": CODE,
                                                      "address_id": str(city.building_a.pk),
                                                      "attribute[smell]": "yes", "attribute[kinds][]": ["food", "paper"]})
    assert response.status_code == 200, response.content
    services_intake.intake_register_pending()
    assert Case.objects.get().description == "Does it smell?：有\nWhat kinds?：厨余、纸"
    xml = client.get(f"{BASE}/services/{CODE}.xml")
    assert b"<description_required>false</description_required>" in xml.content


def test_a_service_without_required_attributes_needs_a_description(client, city, street_client):
    category(CODE)
    ServiceAttribute.objects.create(category=category(CODE), code="count", datatype=Datatype.NUMBER,
                                    description="How many?")
    _api, key = street_client
    assert client.get(f"{BASE}/services/{CODE}.json").json()["description_required"] is True
    response = client.post(f"{BASE}/requests.json", {"api_key": key, "service_code": CODE, "description": "  ",
                                                      "address_id": str(city.building_a.pk), "attribute[count]": "3"})
    assert response.status_code == 400
    assert response.json()[0]["code"] == 400 and "description" in response.json()[0]["description"]
    assert not Intake.objects.exists() and not ServiceRequest.objects.exists()


# --- item 5: the changeset follows the services ------------------------------------------------

def changeset(client):
    body = client.get("/open311/discovery.json").json()
    assert body["endpoints"][0]["changeset"] == body["changeset"]
    return body["changeset"]


def test_the_changeset_moves_when_a_service_or_its_attributes_change(client, db):
    cat = category(CODE)
    # The reference data was loaded at whatever time the test database was made: set it in the past.
    Category.objects.update(updated_at=MONDAY - timedelta(days=30))
    cat.refresh_from_db()
    first = changeset(client)
    assert first == timezone.localtime(MONDAY - timedelta(days=30)).isoformat(timespec="seconds")
    assert changeset(client) == first  # stable while nothing changes
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        cat.name = "暴露垃圾（新）"
        cat.save()
        moved = changeset(client)
    assert moved > first and moved == timezone.localtime(NOW + timedelta(days=1)).isoformat(timespec="seconds")
    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        question = ServiceAttribute.objects.create(category=cat, code="count", datatype=Datatype.NUMBER,
                                                   description="How many?")
        with_attribute = changeset(client)
    assert with_attribute > moved
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        question.delete()
        services.services_touched(category_ids=[cat.pk])  # what the admin's delete does
        assert changeset(client) > with_attribute
