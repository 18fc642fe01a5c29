"""Open311 GeoReport v2 endpoints, in JSON and XML, against the spec's field lists and errors."""

import json
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.core.cache import cache
from django.utils import timezone

from cases.models import Case, Channel, Intake, Status
from cases.services_intake import intake_register_pending
from cases.open311.models import ServiceRequest
from cases.open311.views import PAGE_SIZE_MAX
from grid.models import Area, Building

from .cases_factories import MONDAY, at, category, resident_report
from .open311_factories import CODE, issue, other_client, street_client, with_questions  # noqa: F401

# Keys are issued at MONDAY and revoked or used at now: the clock stands just after.
pytestmark = pytest.mark.clock(MONDAY + timedelta(hours=1))

REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE_FIELDS = ["variable", "code", "datatype", "required", "datatype_description", "order", "description",
                    "values"]
UPDATE_FIELDS = ["update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"]
BASE = "/open311/v2"


@pytest.fixture
def client(client):
    # Messages are checked in English; the portal answers in Chinese by default.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def parsed(response, fmt):
    """JSON as is; XML as (root tag, [dict of each item's children]) for the list answers."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(response.content.decode("utf-8"))
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ElementTree.fromstring(response.content)


def xml_rows(root):
    return [{child.tag: (child.text or "") for child in item} for item in root]


def file(client, key, fmt="json", **fields):
    data = {"api_key": key, "service_code": CODE, "description": "路口堆了很多垃圾", "address_id": "", **fields}
    return client.post(f"{BASE}/requests.{fmt}", data)


def registered(row):
    """Run the intake worker, then the case of the filing whose token `row` holds."""
    intake_register_pending()
    return ServiceRequest.objects.select_related("case").get(token=row["token"]).case


def errors_of(response, fmt):
    body = parsed(response, fmt)
    if fmt == "json":
        assert isinstance(body, list) and set(body[0]) == {"code", "description"}
        return body[0]["code"], body[0]["description"]
    assert body.tag == "errors" and body[0].tag == "error"
    return int(body[0].find("code").text), body[0].find("description").text


# --- discovery, services, definitions -----------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery(client, db, fmt):
    response = client.get(f"/open311/discovery.{fmt}")
    assert response.status_code == 200
    body = parsed(response, fmt)
    if fmt == "json":
        assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
        endpoint = body["endpoints"][0]
        assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint["url"] == "http://testserver/open311/v2/"
        assert endpoint["formats"] == ["text/xml", "application/json"]
        assert "+08:00" in body["changeset"]
    else:
        assert body.tag == "discovery"
        endpoint = body.find("endpoints/endpoint")
        assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]
        assert endpoint.find("type").text == "production"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_list_categories_with_codes_as_strings(client, db, fmt):
    with_questions()
    response = client.get(f"{BASE}/services.{fmt}")
    assert response.status_code == 200
    body = parsed(response, fmt)
    rows = body if fmt == "json" else xml_rows(body)
    assert rows and all(list(row) == SERVICE_FIELDS for row in rows)
    garbage = next(r for r in rows if r["service_code"] == CODE)
    assert garbage["service_name"] == category(CODE).name
    true, false = (True, False) if fmt == "json" else ("true", "false")
    assert garbage["metadata"] == true and garbage["type"] == "realtime"
    others = [r for r in rows if r["service_code"] != CODE]
    assert others and all(r["metadata"] == false for r in others)
    # Mediation (private) and family heads with subcategories are not services.
    from cases.models import Category

    codes = {r["service_code"] for r in rows}
    assert not codes & set(Category.objects.filter(is_mediation=True).values_list("code", flat=True))
    assert category(CODE).parent.code not in codes


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition(client, db, fmt):
    with_questions()
    response = client.get(f"{BASE}/services/{CODE}.{fmt}")
    assert response.status_code == 200
    body = parsed(response, fmt)
    if fmt == "json":
        assert body["service_code"] == CODE
        attributes = body["attributes"]
        assert [list(a) for a in attributes] == [ATTRIBUTE_FIELDS] * 4
        smell = attributes[1]
        assert smell["code"] == "smell" and smell["datatype"] == "singlevaluelist" and smell["required"] is True
        assert smell["values"] == [{"key": "yes", "name": "有"}, {"key": "no", "name": "无"}]
    else:
        assert body.tag == "service_definition" and body.find("service_code").text == CODE
        smell = body.findall("attributes/attribute")[1]
        assert smell.find("variable").text == "true" and smell.find("required").text == "true"
        assert [v.find("name").text for v in smell.findall("values/value")] == ["有", "无"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_definition_is_404_in_the_spec_shape(client, db, fmt):
    response = client.get(f"{BASE}/services/NOPE.{fmt}")
    assert response.status_code == 404
    assert errors_of(response, fmt)[0] == 404


# --- filing ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_files_a_matter_through_the_intake_service(client, city, street_client, fmt):
    api, key = street_client
    response = file(client, key, fmt, address_id=str(city.building_a.pk), first_name="张", last_name="三",
                    phone="13800000000", email="z@example.org", account_id="acc-1")
    assert response.status_code == 200, response.content
    body = parsed(response, fmt)
    row = body[0] if fmt == "json" else xml_rows(body)[0]
    # Received, not registered yet: a token to poll, no id (GeoReport v2).
    assert set(row) == {"token", "service_notice", "account_id"}
    waiting = Intake.objects.get(external_ref=row["token"])
    assert waiting.channel == Channel.OPEN311 and not Case.objects.exists()
    case = registered(row)
    assert case.tracking_code == waiting.tracking_code and not Intake.objects.exists()
    assert case.channel == Channel.OPEN311 and case.status == Status.REPORTED
    assert case.building == city.building_a and case.grid == city.grid_a
    assert case.reporter_name == "张 三" and row["account_id"] == "acc-1"
    filed = ServiceRequest.objects.get(case=case)
    assert filed.client == api and filed.token == row["token"]


def test_a_replayed_post_files_nothing_twice(client, city, street_client):
    _api, key = street_client
    first = file(client, key, address_id=str(city.building_a.pk)).json()[0]
    again = file(client, key, address_id=str(city.building_a.pk)).json()[0]
    assert again["token"] == first["token"]
    assert Intake.objects.count() == 1
    registered(first)
    assert Case.objects.count() == 1
    # Replayed once registered, it answers the id as well.
    assert file(client, key, address_id=str(city.building_a.pk)).json()[0]["service_request_id"] \
        == Case.objects.get().number


def test_a_point_is_filed_at_the_nearest_building_under_the_key(client, city, street_client):
    _api, key = street_client
    Building.objects.filter(pk=city.building_a.pk).update(latitude="31.460000", longitude="104.680000")
    Building.objects.filter(pk=city.building_b.pk).update(latitude="31.460100", longitude="104.680100")
    row = file(client, key, lat="31.4601", long="104.6801").json()[0]
    # building_b is nearer but under street B: the key serves street A only.
    assert registered(row).building == city.building_a


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("fields, words", [
    ({}, "location"),
    ({"lat": "31.46"}, "lat"),
    ({"lat": "north", "long": "104.6"}, "lat"),
    ({"lat": "91", "long": "104.6"}, "lat"),
    ({"lat": "NaN", "long": "104.6"}, "lat"),
    ({"lat": "31.46", "long": "104.68"}, "location"),  # no building near, and a street is not a grid
    ({"address_string": "幸福路1号"}, "location"),
    ({"address_id": "999999"}, "location"),
    ({"address_id": "²"}, "location"),
    ({"service_code": "", "address_id": "BUILDING"}, "service_code"),
    ({"description": "x" * 4001, "address_id": "BUILDING"}, "4000"),
    ({"description": "", "address_id": "BUILDING"}, "description"),
    ({"phone": "call me maybe", "address_id": "BUILDING"}, "phone"),
    ({"description": "a\x00b", "address_id": "BUILDING"}, "control"),
])
def test_bad_posts_get_the_spec_400_and_save_nothing(client, city, street_client, fmt, fields, words):
    _api, key = street_client
    if fields.get("address_id") == "BUILDING":
        fields = {**fields, "address_id": str(city.building_a.pk)}
    response = file(client, key, fmt, **fields)
    assert response.status_code == 400, response.content
    code, description = errors_of(response, fmt)
    assert code == 400 and words.lower() in description.lower()
    assert not Case.objects.exists() and not ServiceRequest.objects.exists()


@pytest.mark.parametrize("attributes, words", [
    ({}, "smell"),  # required
    ({"attribute[smell]": "maybe"}, "choice"),
    ({"attribute[smell]": "yes", "attribute[count]": "many"}, "number"),
    ({"attribute[smell]": "yes", "attribute[seen]": "yesterday"}, "ISO 8601"),
    ({"attribute[smell]": "yes", "attribute[seen]": "2026-11-23T09:00:00"}, "time zone"),
    ({"attribute[smell]": "yes", "attribute[colour]": "red"}, "colour"),
    ({"attribute[smell]": ["yes", "no"]}, "one value"),
])
def test_wrong_attributes_are_refused(client, city, street_client, attributes, words):
    with_questions()
    _api, key = street_client
    response = file(client, key, address_id=str(city.building_a.pk), **attributes)
    assert response.status_code == 400
    assert words in response.json()[0]["description"]
    assert not Case.objects.exists()


def test_good_attributes_are_kept(client, city, street_client):
    with_questions()
    _api, key = street_client
    response = file(client, key, address_id=str(city.building_a.pk), **{
        "attribute[smell]": "yes", "attribute[count]": "3", "attribute[kinds][]": ["food", "paper"],
        "attribute[seen]": "2026-11-23T08:00:00+08:00"})
    assert response.status_code == 200, response.content
    filed = ServiceRequest.objects.get()
    assert filed.attributes == {"smell": "yes", "count": "3", "kinds": ["food", "paper"],
                                "seen": "2026-11-23T08:00:00+08:00"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_revoked_or_missing_keys_get_403(client, city, street_client, fmt):
    api, key = street_client
    for given in ("", "o311_wrong", key + "x"):
        response = file(client, given, fmt, address_id=str(city.building_a.pk))
        assert response.status_code == 403 and errors_of(response, fmt)[0] == 403
    from cases.open311.services import client_revoke
    from grid.models import User

    client_revoke(client=api, acting_user=User.objects.get(username="root"))
    response = client.get(f"{BASE}/requests.{fmt}", {"api_key": key})
    assert response.status_code == 403
    assert not Case.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_rate_limit_answers_429(client, city, fmt):
    _api, key = issue(city.street_a, rate_limit=3)
    for _ in range(3):
        assert client.get(f"{BASE}/requests.{fmt}", {"api_key": key}).status_code == 200
    response = client.get(f"{BASE}/requests.{fmt}", {"api_key": key})
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert errors_of(response, fmt)[0] == 429


def test_a_key_cannot_file_outside_its_place(client, city, street_client):
    _api, key = street_client
    response = file(client, key, address_id=str(city.building_b.pk))
    assert response.status_code == 400
    # The same answer as a building that does not exist: nothing learnt about street B.
    assert response.json() == file(client, key, address_id="999999").json()
    assert not Case.objects.exists()


def test_wrong_method_is_405(client, db):
    response = client.post(f"{BASE}/services.json")
    assert response.status_code == 405 and response.json()[0]["code"] == 405


# --- reading ---------------------------------------------------------------------------------

@pytest.fixture
def two_streets(city):
    """A matter under street A and one under street B, reported now."""
    now = timezone.now()
    inside = resident_report(city, building=city.building_a, now=now)
    outside = resident_report(city, building=city.building_b, now=now)
    return inside, outside


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_requests_lists_the_key_s_place_only_without_personal_data(client, two_streets, street_client, fmt):
    inside, outside = two_streets
    _api, key = street_client
    response = client.get(f"{BASE}/requests.{fmt}", {"api_key": key, "status": "", "service_code": ""})
    assert response.status_code == 200
    body = parsed(response, fmt)
    rows = body if fmt == "json" else xml_rows(body)
    if fmt == "xml":
        assert body.tag == "service_requests" and body[0].tag == "request"
    assert [r["service_request_id"] for r in rows] == [inside.number]
    row = rows[0]
    assert list(row) == REQUEST_FIELDS
    assert row["status"] == "open" and row["service_code"] == CODE
    assert row["requested_datetime"].endswith("+08:00")
    assert "13800000000" not in response.content.decode() and "张三" not in response.content.decode()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_one_request_and_out_of_place_is_404(client, two_streets, street_client, fmt):
    inside, outside = two_streets
    _api, key = street_client
    ok = client.get(f"{BASE}/requests/{inside.number}.{fmt}", {"api_key": key})
    assert ok.status_code == 200
    rows = parsed(ok, fmt) if fmt == "json" else xml_rows(parsed(ok, fmt))
    assert len(rows) == 1 and rows[0]["service_request_id"] == inside.number
    for number in (outside.number, "2099010100001"):
        missing = client.get(f"{BASE}/requests/{number}.{fmt}", {"api_key": key})
        assert missing.status_code == 404 and errors_of(missing, fmt)[0] == 404


def test_filters_status_service_code_ids_and_window(client, city, street_client):
    _api, key = street_client
    now = timezone.now()
    fresh = resident_report(city, now=now - timedelta(days=1))
    old = resident_report(city, now=now - timedelta(days=120), description="很久以前的垃圾")
    other_code = resident_report(city, code="E0102", now=now - timedelta(days=2))

    def ids(**params):
        response = client.get(f"{BASE}/requests.json", {"api_key": key, **params})
        assert response.status_code == 200, response.content
        return [r["service_request_id"] for r in response.json()]

    assert ids() == [fresh.number, other_code.number]  # the last 90 days by default
    assert ids(service_code=CODE) == [fresh.number]
    assert ids(service_code=f"{CODE},E0102") == [fresh.number, other_code.number]
    assert ids(status="closed") == [] and ids(status="open,closed") == [fresh.number, other_code.number]
    start = (now - timedelta(days=130)).isoformat()
    end = (now - timedelta(days=100)).isoformat()
    assert ids(start_date=start, end_date=end) == [old.number]
    # An id ignores the other filters (as the spec says).
    assert ids(service_request_id=f"{old.number},{fresh.number}", status="closed") == [fresh.number, old.number]
    assert ids(page_size="1") == [fresh.number] and ids(page_size="1", page="2") == [other_code.number]
    assert ids(page="3", page_size="1") == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("params, words", [
    ({"start_date": "2026-11-01"}, "ISO 8601"),
    ({"start_date": "2026-11-01T00:00:00"}, "time zone"),
    ({"end_date": "yesterday"}, "end_date"),
    ({"start_date": "2026-08-01T00:00:00+08:00", "end_date": "2026-10-31T00:00:01+08:00"}, "90 days"),
    ({"start_date": "2026-11-02T00:00:00+08:00", "end_date": "2026-11-01T00:00:00+08:00"}, "before"),
    ({"status": "pending"}, "status"),
    ({"page": "0"}, "page"),
    ({"page_size": str(PAGE_SIZE_MAX + 1)}, "page_size"),
    ({"page_size": "-1"}, "page_size"),
    ({"page": "²"}, "page"),  # str.isdigit() is true for it; int() is not
    ({"page_size": "³"}, "page_size"),
])
def test_bad_read_parameters_get_400(client, city, street_client, fmt, params, words):
    _api, key = street_client
    response = client.get(f"{BASE}/requests.{fmt}", {"api_key": key, **params})
    assert response.status_code == 400, response.content
    code, description = errors_of(response, fmt)
    assert code == 400 and words in description


@pytest.fixture
def around_november(city):
    """A matter reported a minute before 2026-11-01T00:00:00Z (08:00 in Shanghai) and one at that instant."""
    return resident_report(city, now=at(2026, 11, 1, 7, 59)), resident_report(city, now=at(2026, 11, 1, 8, 0))


# An offset PostgreSQL would refuse and a far year are still a valid window (an empty one);
# a window that runs past year 9999 is a 400 naming the problem, never a 500.
@pytest.mark.parametrize("start, status, answer", [
    ("7170-10-22T03:17:50+18:07", 200, []),
    ("2026-11-01T00:00:00Z", 200, "the one at the start"),
    ("9999-12-31T20:00:00+00:00", 400, [{"code": 400, "description": "The dates are out of range."}]),
])
def test_odd_but_valid_dates_are_no_500(client, city, street_client, around_november, start, status, answer):
    _api, key = street_client
    _before, at_start = around_november
    response = client.get(f"{BASE}/requests.json", {"api_key": key, "start_date": start})
    assert response.status_code == status, response.content
    if answer == "the one at the start":
        assert [r["service_request_id"] for r in response.json()] == [at_start.number]
    else:
        assert response.json() == answer


def test_a_90_day_window_is_fine(client, city, street_client):
    _api, key = street_client
    before = resident_report(city, now=at(2026, 7, 31, 23, 59))
    first = resident_report(city, now=at(2026, 8, 1, 0, 0))
    last = resident_report(city, now=at(2026, 10, 30, 0, 0))
    after = resident_report(city, now=at(2026, 10, 30, 0, 1))
    response = client.get(f"{BASE}/requests.json", {"api_key": key, "start_date": "2026-08-01T00:00:00+08:00",
                                                   "end_date": "2026-10-30T00:00:00+08:00"})
    assert response.status_code == 200, response.content
    # Both ends are inside the window, newest first; a minute either side is out.
    assert [r["service_request_id"] for r in response.json()] == [last.number, first.number]
    assert {before.number, after.number}.isdisjoint(r["service_request_id"] for r in response.json())


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_tokens(client, city, street_client, other_client, fmt):
    _api, key = street_client
    row = file(client, key, address_id=str(city.building_a.pk)).json()[0]

    def lookup():
        response = client.get(f"{BASE}/tokens/{row['token']}.{fmt}", {"api_key": key})
        assert response.status_code == 200
        return parsed(response, fmt) if fmt == "json" else xml_rows(parsed(response, fmt))

    # Before registration the token alone; after it, the case number too.
    assert lookup() == [{"token": row["token"]}]
    case = registered(row)
    assert lookup() == [{"service_request_id": case.number, "token": row["token"]}]
    # Another client's key does not find it.
    response = client.get(f"{BASE}/tokens/{row['token']}.{fmt}", {"api_key": other_client[1]})
    assert response.status_code == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_empty_optional_parameters_count_as_absent(client, two_streets, street_client, fmt):
    _api, key = street_client
    params = {"api_key": key, "start_date": "", "end_date": "", "status": "", "service_code": "",
              "service_request_id": "", "page": "", "page_size": "", "jurisdiction_id": ""}
    plain = client.get(f"{BASE}/requests.{fmt}", {"api_key": key})
    assert client.get(f"{BASE}/requests.{fmt}", params).content == plain.content


def test_listing_runs_a_fixed_number_of_queries(client, city, street_client, django_assert_num_queries):
    _api, key = street_client
    resident_report(city, now=timezone.now())
    with django_assert_num_queries(2):  # the key, the page of cases (with their latest event and note)
        assert len(client.get(f"{BASE}/requests.json", {"api_key": key}).json()) == 1
    for _ in range(4):
        resident_report(city, now=timezone.now())
    with django_assert_num_queries(2):
        assert len(client.get(f"{BASE}/requests.xml", {"api_key": key}).content) > 0


@pytest.mark.parametrize("path", ["services/%00.json", "requests/%00.json", "tokens/%00.xml", "requests/a%01b.json"])
def test_control_characters_in_the_path_are_the_spec_400(client, city, street_client, path):
    _api, key = street_client
    response = client.get(f"{BASE}/{path}", {"api_key": key})
    assert response.status_code == 400
    fmt = path.rsplit(".", 1)[1]
    code, description = errors_of(response, fmt)
    assert code == 400 and "control" in description.lower()


# --- a point must lie in the key's place (issue #20) --------------------------------------------

# 幸福社区 drawn as a small square around 31.46 N, 104.68 E; Chengdu (30.66 N, 104.07 E) is another city.
SQUARE = {"type": "Polygon", "coordinates": [[[104.67, 31.45], [104.69, 31.45], [104.69, 31.47], [104.67, 31.47],
                                              [104.67, 31.45]]]}
CHENGDU = {"lat": "30.660000", "long": "104.070000"}


@pytest.fixture
def community_client(city):
    return issue(city.community_a)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_lat_long_outside_the_key_s_place_is_refused_by_its_boundary(client, city, community_client, fmt):
    Area.objects.filter(pk=city.community_a.pk).update(boundary=SQUARE)
    _api, key = community_client
    response = file(client, key, fmt, **CHENGDU)
    assert response.status_code == 400, response.content
    code, description = errors_of(response, fmt)
    assert code == 400 and "location" in description.lower()
    assert not Case.objects.exists() and not ServiceRequest.objects.exists()
    # Inside the outline it is filed at the key's place as before.
    assert file(client, key, fmt, lat="31.460000", long="104.680000").status_code == 200


def test_lat_long_outside_the_key_s_place_is_refused_by_its_buildings_without_a_boundary(client, city,
                                                                                          community_client):
    Building.objects.filter(pk=city.building_a.pk).update(latitude="31.460000", longitude="104.680000")
    Building.objects.filter(pk=city.building_a2.pk).update(latitude="31.465000", longitude="104.690000")
    _api, key = community_client
    response = file(client, key, **CHENGDU)
    assert response.status_code == 400, response.content
    assert not Case.objects.exists()
    # Between and near its buildings (here some 550 m south of their box) is still the key's place.
    row = file(client, key, lat="31.4550", long="104.6850").json()[0]
    assert registered(row).community == city.community_a


def test_lat_long_with_nothing_to_check_against_is_filed_at_the_key_s_place(client, city, community_client):
    # No outline and no building with coordinates: the point cannot be checked, and is filed as before.
    _api, key = community_client
    row = file(client, key, **CHENGDU).json()[0]
    assert registered(row).community == city.community_a


# --- the spec's small print (issue #22) -----------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_code_on_post_is_404(client, city, street_client, fmt):
    _api, key = street_client
    response = file(client, key, fmt, service_code="NOPE", address_id=str(city.building_a.pk))
    assert response.status_code == 404, response.content
    code, description = errors_of(response, fmt)
    assert code == 404 and "service_code" in description
    assert not Case.objects.exists() and not ServiceRequest.objects.exists()


@pytest.mark.parametrize("path", ["/open311/discovery.json", f"{BASE}/services.xml", f"{BASE}/services/{CODE}.json"])
def test_head_answers_as_get_without_a_body(client, db, path):
    category(CODE)
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head["Content-Type"] == got["Content-Type"]
    assert head["Content-Length"] == str(len(got.content))


def test_head_on_a_keyed_read_answers_like_its_get(client, db):
    got, head = client.get(f"{BASE}/requests.json"), client.head(f"{BASE}/requests.json")
    assert head.status_code == got.status_code == 403 and head.content == b""


def test_a_multipart_post_without_a_boundary_gets_the_spec_error(client, db, street_client):
    _api, key = street_client
    response = client.generic("POST", f"{BASE}/requests.json?api_key={key}", b"--x\r\nnonsense",
                              content_type="multipart/form-data")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()[0]["code"] == 400
    assert not Case.objects.exists()


@pytest.mark.parametrize("path, fmt", [
    (f"{BASE}/services.csv", "json"),
    (f"{BASE}/services", "json"),
    (f"{BASE}/nothing-here.xml", "xml"),
    ("/open311/v3/requests.json", "json"),
])
def test_unknown_paths_and_formats_answer_in_the_spec_shape(client, db, path, fmt):
    response = client.get(path)
    assert response.status_code == 404
    code, _description = errors_of(response, fmt)
    assert code == 404


def test_xml_keeps_a_carriage_return(client, city, street_client):
    _api, key = street_client
    response = file(client, key, "json", address_id=str(city.building_a.pk), description="第一行\r\n第二行")
    assert response.status_code == 200, response.content
    number = registered(response.json()[0]).number
    answer = client.get(f"{BASE}/requests/{number}.xml", {"api_key": key})
    root = ElementTree.fromstring(answer.content)
    assert root[0].find("description").text == "第一行\r\n第二行"
