"""12345 docking (cases/hotline/): the pushed work order, reply (回单), hand-back (退单),
follow-up call (回访), the JSON endpoint and the case page's moves.

Each refused input answers 400 (or a message) and writes nothing; a key reads only the
orders its own system pushed, under its own place.
"""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from cases import services, services_report, workflow
from cases.hotline import services as hotline
from cases.hotline.models import HotlineOrder
from cases.models import Case, CaseEvent, Channel, Status
from cases.open311.models import ApiClient
from portal.errors import DomainError

from .cases_factories import MONDAY, category, people, png  # noqa: F401
from .open311_factories import issue

pytestmark = pytest.mark.django_db
A = CaseEvent.Action


@pytest.fixture
def key(city):
    cache.clear()
    client, raw = issue(city.street_a, name="12345 平台", rate_limit=10_000)
    ApiClient.objects.filter(pk=client.pk).update(is_hotline=True)
    client.refresh_from_db()
    return client, raw


def order_data(city, **overrides):
    data = {"order_number": "GD20261123001", "service_code": category().code, "description": "小区门口垃圾堆积三天",
            "address_id": str(city.building_a.pk), "caller_name": "李四", "caller_phone": "13900000000"}
    data.update(overrides)
    return data


def push(city, key, now=MONDAY, **overrides):
    return hotline.order_receive(client=key[0], data=order_data(city, **overrides), now=now)


def handled(city, people, key, now=MONDAY):
    order, _created = push(city, key, now=now)
    case = order.case
    worker = case.assignee
    services.case_accept(case=case, acting_user=worker, now=now)
    return services.case_resolve(case=case, acting_user=worker, note="已清运", photos=[png()], now=now), order


# --- services --------------------------------------------------------------------------------

def test_push_files_a_registered_hotline_case_keeping_its_number(city, key):
    order, created = push(city, key)
    assert created and order.case.channel == Channel.HOTLINE and order.case.external_ref == "GD20261123001"
    assert order.case.status == Status.DISPATCHED and order.case.building == city.building_a
    assert order.return_due_at == MONDAY + timedelta(hours=24)


def test_duplicate_push_is_idempotent(city, key):
    first, _ = push(city, key)
    again, created = push(city, key, description="换了描述也一样")
    assert not created and again.pk == first.pk
    assert Case.objects.count() == 1 and HotlineOrder.objects.count() == 1


def test_another_systems_number_is_refused(city, key):
    push(city, key)
    other, _raw = issue(city.street_a, name="另一平台")
    with pytest.raises(DomainError) as refused:
        hotline.order_receive(client=other, data=order_data(city), now=MONDAY)
    assert refused.value.code == "taken"


@pytest.mark.parametrize("overrides, code", [
    ({"order_number": ""}, "bad_order_number"),
    ({"order_number": "x" * 65}, "bad_order_number"),
    ({"order_number": 12}, "bad_order_number"),
    ({"service_code": "NOPE"}, "unknown_service"),
    ({"description": ""}, "blank"),
    ({"description": ["a"]}, "bad_type"),
    ({"address_id": "999999"}, "bad_location"),
    ({"address_id": "", "place_code": "999"}, "bad_location"),
    ({"received_at": "yesterday"}, "bad_date"),
    ({"return_window_hours": 0}, "bad_window"),
    ({"return_window_hours": "24"}, "bad_window"),
    ({"caller_phone": "call me"}, "bad_phone"),
    ({"address_id": "", "lat": [31], "long": 104}, "bad_location"),
    ({"address_id": "", "lat": 31.4}, "bad_location"),
])
def test_bad_push_writes_nothing(city, key, overrides, code):
    with pytest.raises(DomainError) as refused:
        push(city, key, **overrides)
    assert refused.value.code == code
    assert not Case.objects.exists() and not HotlineOrder.objects.exists()


def test_place_outside_the_keys_place_is_refused(city, key):
    with pytest.raises(DomainError):
        push(city, key, address_id=str(city.building_b.pk))
    with pytest.raises(DomainError):
        push(city, key, address_id="", place_code=city.grid_b.code)
    order, _ = push(city, key, address_id="", place_code=city.grid_a.code)
    assert order.case.grid == city.grid_a


def test_reply_then_follow_up(city, people, key):
    case, order = handled(city, people, key)
    with pytest.raises(DomainError) as refused:
        hotline.order_visit(case=case, result="satisfied", client=key[0], now=MONDAY)
    assert refused.value.code == "no_reply"
    hotline.order_reply(case=case, text="已清运，现场恢复整洁", acting_user=people.community, now=MONDAY)
    order = hotline.order_visit(case=case, result="satisfied", note="很满意", client=key[0], now=MONDAY)
    assert order.reply_text == "已清运，现场恢复整洁" and order.visit_result == "satisfied"
    assert [e.action for e in case.events.filter(action__startswith="hotline")] == [A.HOTLINE_REPLY,
                                                                                     A.HOTLINE_VISIT]


def test_reply_needs_text_and_a_handled_case(city, people, key):
    case, _order = handled(city, people, key)
    with pytest.raises(DomainError):
        hotline.order_reply(case=case, text=" ", acting_user=people.community, now=MONDAY)
    order, _ = push(city, key, order_number="GD-OPEN")
    with pytest.raises(DomainError) as refused:
        hotline.order_reply(case=order.case, text="已办", acting_user=people.community, now=MONDAY)
    assert refused.value.code == "bad_state"
    assert not HotlineOrder.objects.filter(replied_at__isnull=False).exists()


def test_return_within_its_window_rejects_the_case(city, people, key):
    order, _ = push(city, key, return_window_hours=2)
    with pytest.raises(DomainError) as refused:
        hotline.order_return(case=order.case, reason="", acting_user=people.community, now=MONDAY)
    assert refused.value.code == "blank"
    with pytest.raises(DomainError) as refused:
        hotline.order_return(case=order.case, reason="属供电公司产权", acting_user=people.community,
                             now=MONDAY + timedelta(hours=3))
    assert refused.value.code == "window_closed"
    order.case.refresh_from_db()
    assert order.case.status == Status.DISPATCHED
    order = hotline.order_return(case=order.case, reason="属供电公司产权", acting_user=people.community,
                                 now=MONDAY + timedelta(hours=1))
    order.case.refresh_from_db()
    assert order.case.status == Status.REJECTED and order.return_reason == "属供电公司产权"


def test_return_by_someone_outside_is_refused(city, people, key):
    order, _ = push(city, key)
    with pytest.raises(DomainError) as refused:
        hotline.order_return(case=order.case, reason="不是我们的", acting_user=people.community_b, now=MONDAY)
    assert refused.value.code == "forbidden"


def test_hand_typed_hotline_case_gets_its_order_on_first_reply(city, people):
    case = services_report.case_report(category=category(), description="噪音扰民", channel=Channel.HOTLINE,
                                       building=city.building_a, external_ref="GD-HAND-1", acting_user=people.community,
                                       now=MONDAY)
    services.case_accept(case=case, acting_user=case.assignee, now=MONDAY)
    services.case_resolve(case=case, acting_user=case.assignee, note="已劝导", photos=[png()], now=MONDAY)
    order = hotline.order_reply(case=case, text="已劝导", acting_user=people.community, now=MONDAY)
    assert order.order_number == "GD-HAND-1" and order.client is None


def test_a_case_without_a_work_order_number_has_no_hotline_moves(city, people):
    from .cases_factories import to_status

    case = to_status(city, people, Status.RESOLVED)
    assert "hotline_reply" not in workflow.allowed(case, people.community)
    with pytest.raises(DomainError):
        hotline.order_reply(case=case, text="x", acting_user=people.community, now=MONDAY)


# --- the endpoint ---------------------------------------------------------------------------

def api(method, path, raw_key, body=None, **extra):
    web = Client()
    headers = {"HTTP_X_API_KEY": raw_key} if raw_key else {}
    if method == "post":
        payload = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return web.post(path, payload, content_type="application/json", **headers, **extra)
    return web.get(path, body or {}, **headers, **extra)


@pytest.mark.clock("2026-11-23T09:00:00+08:00")
def test_endpoint_push_fetch_and_replies(city, people, key):
    url = reverse("hotline:orders")
    first = api("post", url, key[1], order_data(city))
    assert first.status_code == 201 and first.json()["order_number"] == "GD20261123001"
    again = api("post", url, key[1], order_data(city))
    assert again.status_code == 200 and again.json()["case_number"] == first.json()["case_number"]
    assert HotlineOrder.objects.count() == 1
    got = api("get", reverse("hotline:order", args=["GD20261123001"]), key[1])
    assert got.status_code == 200 and got.json()["reply"] is None
    case = Case.objects.get()
    services.case_accept(case=case, acting_user=case.assignee)
    services.case_resolve(case=case, acting_user=case.assignee, note="已清运", photos=[png()])
    hotline.order_reply(case=case, text="已清运完毕", acting_user=people.community)
    replies = api("get", reverse("hotline:replies"), key[1], {"since": "2026-11-22T00:00:00+08:00"})
    assert replies.status_code == 200
    assert [r["reply"]["text"] for r in replies.json()["results"]] == ["已清运完毕"]
    visit = api("post", reverse("hotline:order_visit", args=["GD20261123001"]), key[1], {"result": "basically"})
    assert visit.status_code == 200 and visit.json()["visit"]["result"] == "basically"


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", json.dumps({"order_number": ""}),
                                  json.dumps({"order_number": "A1", "service_code": "E0101"}),
                                  json.dumps({"order_number": "A1", "service_code": "E0101", "description": "x",
                                              "address_id": "abc"}),
                                  json.dumps({"order_number": "A\x00", "service_code": "E0101", "description": "x"})])
def test_endpoint_bad_input_is_400_and_writes_nothing(city, key, body):
    response = api("post", reverse("hotline:orders"), key[1], body)
    assert response.status_code == 400
    assert set(response.json()) == {"error", "detail"} and response.json()["detail"]
    assert not Case.objects.exists()


def test_endpoint_refuses_bad_keys_and_other_systems_orders(city, key):
    url = reverse("hotline:orders")
    assert api("post", url, "", order_data(city)).status_code == 403
    assert api("post", url, "wrong", order_data(city)).status_code == 403
    plain, plain_key = issue(city.street_a, name="市民App")  # an Open311 key, not a hotline system
    assert api("post", url, plain_key, order_data(city)).status_code == 403
    assert api("post", url, key[1], order_data(city)).status_code == 201
    other, other_key = issue(city.street_a, name="另一12345")
    ApiClient.objects.filter(pk=other.pk).update(is_hotline=True)
    # Another hotline system: the order is not its own (404 to read, 400 to push again).
    assert api("get", reverse("hotline:order", args=["GD20261123001"]), other_key).status_code == 404
    assert api("post", url, other_key, order_data(city)).status_code == 400
    assert api("get", reverse("hotline:order", args=["NOPE"]), key[1]).status_code == 404
    assert api("get", url, key[1]).status_code == 405


def test_endpoint_bad_since_and_visit(city, key):
    assert api("get", reverse("hotline:replies"), key[1], {"since": "monday"}).status_code == 400
    api("post", reverse("hotline:orders"), key[1], order_data(city))
    visit = reverse("hotline:order_visit", args=["GD20261123001"])
    assert api("post", visit, key[1], {"result": "happy"}).status_code == 400
    # Not replied yet (and not handled): refused, nothing written.
    assert api("post", visit, key[1], {"result": "satisfied"}).status_code == 400
    assert not HotlineOrder.objects.filter(visited_at__isnull=False).exists()


def test_openapi_documents_the_hotline_endpoint():
    from cases.open311.openapi import document

    doc = document()
    assert {"/api/hotline/v1/orders/", "/api/hotline/v1/orders/{number}/", "/api/hotline/v1/orders/{number}/visit/",
            "/api/hotline/v1/replies/"} <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["hotline_key"] == {"type": "apiKey", "in": "header",
                                                                   "name": "X-Api-Key"}


# --- the case page --------------------------------------------------------------------------

def test_case_page_moves_and_scope(city, people, key):
    case, _order = handled(city, people, key)
    web = Client()
    web.force_login(people.community)
    page = web.get(reverse("cases:detail", args=[case.pk]))
    assert page.status_code == 200 and "GD20261123001" in page.content.decode()
    assert "hotline_reply" in page.content.decode()
    bad = web.post(reverse("cases:act", args=[case.pk, "hotline_reply"]), {"hotline_reply-text": ""})
    assert bad.status_code == 400 and not HotlineOrder.objects.filter(replied_at__isnull=False).exists()
    web.post(reverse("cases:act", args=[case.pk, "hotline_reply"]), {"hotline_reply-text": "已处理完毕"})
    assert HotlineOrder.objects.get().reply_text == "已处理完毕"
    outsider = Client()
    outsider.force_login(people.community_b)
    assert outsider.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert outsider.post(reverse("cases:act", args=[case.pk, "hotline_visit"]),
                         {"hotline_visit-result": "satisfied"}).status_code == 404


def test_admin_lists_orders_in_scope_only(city, people, key):
    order, _ = push(city, key)
    admin_url = reverse("admin:hotline_hotlineorder_changelist")
    inside = Client(HTTP_ACCEPT_LANGUAGE="en")
    inside.force_login(people.community)
    assert "GD20261123001" in inside.get(admin_url).content.decode()
    assert inside.get(reverse("admin:hotline_hotlineorder_change", args=[order.pk])).status_code == 200
    outside = Client(HTTP_ACCEPT_LANGUAGE="en")
    outside.force_login(people.community_b)
    assert "GD20261123001" not in outside.get(admin_url).content.decode()
    assert outside.get(reverse("admin:hotline_hotlineorder_change", args=[order.pk])).status_code == 404
    assert inside.post(reverse("admin:hotline_hotlineorder_change", args=[order.pk]),
                       {"reply_text": "x"}).status_code == 403
