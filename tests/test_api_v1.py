"""The JSON API under /api/v1/: signed-in users, scoped like the pages, bad input answered 400."""

import pytest

from cases import services as case_services
from grid.models import Role

from .cases_factories import MONDAY, People, resident_report


@pytest.fixture
def people(city, make_user):
    return People(city, make_user)


@pytest.fixture
def two_cases(city):
    return (resident_report(city, building=city.building_a, now=MONDAY),
            resident_report(city, building=city.building_b, now=MONDAY))


def signed_in(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.mark.parametrize("url", ["/api/v1/cases/", "/api/v1/cases/1/", "/api/v1/categories/", "/api/v1/places/",
                                 "/api/v1/places/1/"])
def test_anonymous_gets_401(client, db, url):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.get(url)
    assert response.status_code == 401 and response.json() == {"detail": "Sign in first."}


def test_case_list_shows_the_subtree_only(client, people, two_cases):
    inside, outside = two_cases
    body = signed_in(client, people.community).get("/api/v1/cases/").json()
    assert [row["number"] for row in body["results"]] == [inside.number]
    assert body["has_next"] is False
    district = signed_in(client, people.district).get("/api/v1/cases/").json()
    assert {row["number"] for row in district["results"]} == {inside.number, outside.number}


def test_case_rows_carry_no_personal_data(client, people, two_cases):
    response = signed_in(client, people.community).get(f"/api/v1/cases/{two_cases[0].pk}/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "13800000000" not in text and "张三" not in text


def test_case_detail_has_the_staff_timeline_and_outside_is_404(client, people, two_cases):
    inside, outside = two_cases
    case_services.case_register(case=inside, acting_user=people.community, note="已核实", now=MONDAY)
    api = signed_in(client, people.community)
    body = api.get(f"/api/v1/cases/{inside.pk}/").json()
    actions = [e["action"] for e in body["timeline"]]
    assert actions[:3] == ["report", "register", "dispatch"]
    assert body["timeline"][1]["note"] == "已核实" and body["timeline"][1]["actor"] == str(people.community)
    assert body["status"] == "dispatched" and body["created_at"].endswith("+08:00")
    missing = api.get(f"/api/v1/cases/{outside.pk}/")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}
    assert api.get("/api/v1/cases/99999999/").status_code == 404


def test_case_filters(client, people, city, two_cases):
    inside, _outside = two_cases
    api = signed_in(client, people.district)
    assert [r["number"] for r in api.get("/api/v1/cases/", {"place": city.community_a.pk}).json()["results"]] \
        == [inside.number]
    assert api.get("/api/v1/cases/", {"status": "closed"}).json()["results"] == []
    assert len(api.get("/api/v1/cases/", {"category": "E0101"}).json()["results"]) == 2
    after = api.get("/api/v1/cases/", {"created_after": "2026-11-23T10:00:00+08:00"}).json()
    assert after["results"] == []
    page = api.get("/api/v1/cases/", {"page_size": "1"}).json()
    assert len(page["results"]) == 1 and page["has_next"] is True


def test_a_place_outside_the_subtree_is_404_in_filters(client, people, city, two_cases):
    api = signed_in(client, people.community)
    assert api.get("/api/v1/cases/", {"place": city.community_b.pk}).status_code == 404


@pytest.mark.parametrize("params, words", [
    ({"status": "lost"}, "status"),
    ({"page": "0"}, "page"),
    ({"page_size": "201"}, "page_size"),
    ({"page": "x"}, "page"),
    ({"page": "²"}, "page"),  # str.isdigit() is true for it; int() is not
    ({"page_size": "²"}, "page_size"),
    ({"place": "²"}, "place"),
    ({"created_after": "2026-11-23"}, "created_after"),
    ({"created_before": "2026-11-23T09:00:00"}, "created_before"),
    ({"place": "-1"}, "place"),
    ({"category": "a\x00"}, "category"),
])
def test_bad_parameters_get_400(client, people, params, words):
    response = signed_in(client, people.community).get("/api/v1/cases/", params)
    assert response.status_code == 400 and words in response.json()["detail"]


def test_places_are_scoped(client, people, city):
    api = signed_in(client, people.community)
    ids = {row["id"] for row in api.get("/api/v1/places/").json()["results"]}
    assert ids == {city.community_a.pk, city.grid_a.pk, city.grid_a2.pk}
    grids = api.get("/api/v1/places/", {"kind": "grid"}).json()["results"]
    assert {g["id"] for g in grids} == {city.grid_a.pk, city.grid_a2.pk}
    assert api.get(f"/api/v1/places/{city.grid_a.pk}/").json()["code"] == city.grid_a.code
    assert api.get(f"/api/v1/places/{city.grid_b.pk}/").status_code == 404
    assert api.get("/api/v1/places/", {"kind": "planet"}).status_code == 400


def test_categories(client, people):
    body = signed_in(client, people.worker).get("/api/v1/categories/").json()
    garbage = next(c for c in body if c["code"] == "E0101")
    assert garbage["parent"] and garbage["is_active"] is True
    assert set(garbage) == {"code", "name", "parent", "family", "triage", "is_mediation", "is_active"}


def test_writes_are_refused(client, people):
    response = signed_in(client, people.community).post("/api/v1/cases/", {})
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"


def test_a_user_without_posts_sees_nothing(client, db, city, two_cases):
    from .factories import UserFactory

    api = signed_in(client, UserFactory())
    assert api.get("/api/v1/cases/").json()["results"] == []
    assert api.get("/api/v1/places/").json()["results"] == []
    assert api.get(f"/api/v1/cases/{two_cases[0].pk}/").status_code == 404


def test_a_grid_worker_sees_their_grid(client, make_user, city, two_cases):
    worker = make_user(Role.GRID_WORKER, city.grid_a)
    rows = signed_in(client, worker).get("/api/v1/cases/").json()["results"]
    assert [r["number"] for r in rows] == [two_cases[0].number]



def test_case_list_does_not_grow_queries_with_rows(client, people, city):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = signed_in(client, people.district)
    resident_report(city, now=MONDAY)
    with CaptureQueriesContext(connection) as one:
        api.get("/api/v1/cases/")
    for _ in range(4):
        resident_report(city, now=MONDAY)
    with CaptureQueriesContext(connection) as five:
        assert len(api.get("/api/v1/cases/").json()["results"]) == 5
    assert len(five) == len(one)


# --- issue #22 item 9: the document and the answers agree ------------------------------------------

def test_active_is_a_boolean(client, people):
    from cases.models import Category

    Category.objects.filter(code="E0101").update(is_active=False)
    web = signed_in(client, people.worker)
    codes = {spelling: {row["code"] for row in web.get("/api/v1/categories/", {"active": spelling}).json()}
             for spelling in ("true", "false", "all", "")}
    assert "E0101" not in codes["true"] and codes[""] == codes["true"]
    assert "E0101" in codes["false"] and codes["all"] == codes["false"] and codes["true"] < codes["false"]
    response = web.get("/api/v1/categories/", {"active": "maybe"})
    assert response.status_code == 400 and "active" in response.json()["detail"]


def test_an_empty_created_before_counts_as_absent_as_documented(client, people, two_cases):
    from cases.open311.openapi import document

    web = signed_in(client, people.community)
    plain = web.get("/api/v1/cases/").json()
    assert web.get("/api/v1/cases/", {"created_before": "", "created_after": ""}).json() == plain
    params = {p["name"]: p for p in document()["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert params["created_before"]["allowEmptyValue"] is True
    assert "empty value counts as absent" in params["created_before"]["description"]


@pytest.mark.parametrize("url", ["/api/v1/cases/null,null/", "/api/v1/nothing", "/api/v1/places/x/"])
def test_unknown_api_paths_answer_json_404(client, people, url):
    response = signed_in(client, people.worker).get(url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json") and response.json() == {"detail": "Not found."}
