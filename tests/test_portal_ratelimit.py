"""portal/ratelimit.py and portal/degraded.py: rate limits that fail open, and every public page
with the cache down (issue #25: Redis stopped for a minute and every report in it answered 500).

The "down" cache is Django's real Redis backend pointed at a port nobody listens on, so
the errors are the ones production met (redis ConnectionError), not a stand-in.
"""

import logging
import re
import socket

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from cases import notifications, services_intake
from cases.models import Case, Intake, Status
from portal import degraded, ratelimit

from .cases_factories import category, fresh_calendar, people, resident_report, to_status  # noqa: F401
from .open311_factories import CODE, street_client  # noqa: F401

REPORT = reverse("cases:report")


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def fresh():
    degraded.reset()
    cache.clear()
    yield
    degraded.reset()


@pytest.fixture
def cache_down(settings):
    """The default cache is Redis on a closed port: every call raises redis's ConnectionError."""
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }}
    import redis

    with pytest.raises(redis.exceptions.ConnectionError):
        cache.add("probe", 1)
    degraded.reset()
    return settings


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "en"})


def report_data(city, **overrides):
    return {"category": "E0101", "street": city.street_a.pk, "community": city.community_a.pk,
            "grid": city.grid_a.pk, "building": city.building_a.pk, "description": "小区东门有一堆暴露垃圾",
            "reporter_name": "李四", "reporter_phone": "13912345678", **overrides}


# --- the limiter ------------------------------------------------------------------------------

def test_over_limit_counts_per_bucket_ident_and_window():
    hits = [ratelimit.over_limit(bucket="t", ident="a", limit=2, window=60, now=120.0) for _ in range(3)]
    assert hits == [False, False, True]
    assert not ratelimit.over_limit(bucket="t", ident="b", limit=2, window=60, now=120.0)
    assert not ratelimit.over_limit(bucket="other", ident="a", limit=2, window=60, now=120.0)
    assert not ratelimit.over_limit(bucket="t", ident="a", limit=2, window=60, now=180.0)  # the next window
    assert not ratelimit.over_limit(bucket="t", ident="a", limit=0, window=60)  # 0 turns it off


def test_a_down_cache_fails_open_and_logs_once_a_while(cache_down, caplog):
    caplog.set_level(logging.WARNING, logger="portal.degraded")
    for _ in range(50):
        assert not ratelimit.over_limit(bucket="t", ident="a", limit=1, window=60)
    warnings = [r for r in caplog.records if r.name == "portal.degraded"]
    assert len(warnings) == 1
    assert "cache unavailable" in warnings[0].getMessage() and "ConnectionError" in warnings[0].getMessage()
    # After the pause the cache is tried again; a failure then is counted, not logged again.
    degraded._cache["down_until"] = 0.0
    assert not ratelimit.over_limit(bucket="t", ident="a", limit=1, window=60)
    assert len([r for r in caplog.records if r.name == "portal.degraded"]) == 1


def test_the_warning_names_how_many_it_held_back(caplog):
    caplog.set_level(logging.WARNING, logger="portal.degraded")
    clock = iter([0.0, 1.0, 2.0, 61.0]).__next__
    logged = [degraded.warn_throttled("x", "down: %s", "a", clock=clock) for _ in range(4)]
    assert logged == [True, False, False, True]
    assert [r.getMessage() for r in caplog.records] == ["down: a", "down: a (2 more like this not logged)"]


# --- every public page with the cache down -------------------------------------------------------

def test_a_report_is_kept_with_the_cache_down(cache_down, client, city):
    category()
    response = client.post(REPORT, report_data(city))  # (the nudge on commit is not run here)
    assert response.status_code == 302, response.content.decode()[:2000]
    intake = Intake.objects.get()
    assert response["Location"] == reverse("cases:report_done", args=[intake.tracking_code])
    done = client.get(response["Location"])
    assert done.status_code == 200 and intake.tracking_code_display in done.content.decode()
    # The tracking page shows it as received, then as a case once the worker registered it.
    assert client.get(reverse("cases:track", args=[intake.tracking_code])).status_code == 200
    services_intake.intake_register_pending()
    case = Case.objects.get(tracking_code=intake.tracking_code)
    assert case.status == Status.REPORTED
    assert client.get(reverse("cases:track", args=[intake.tracking_code])).status_code == 200


def test_the_qr_report_page_too(cache_down, client, city):
    category()
    url = reverse("cases:report_building", args=[city.building_a.pk])
    response = client.post(url, {"category": "E0101", "description": "楼道灯坏了"})
    assert response.status_code == 302 and Intake.objects.count() == 1


def test_tracking_answers_as_usual_with_the_cache_down(cache_down, client, city):
    case = resident_report(city)
    assert client.get(reverse("cases:track", args=[case.tracking_code])).status_code == 200
    # An unknown code is the friendly 404 (its miss counter is skipped, not a 500).
    missing = client.get(reverse("cases:track", args=["ABCDEFGHJKMNP"]))
    assert missing.status_code == 404 and "We found no matter with this code" in missing.content.decode()
    assert client.get(reverse("cases:track_lookup"), {"code": case.tracking_code}).status_code == 302


def test_rating_and_reopening_with_the_cache_down(cache_down, client, city, people):
    """Reopening sets a new deadline: the working calendar must not need the cache for it."""
    from portal.workcalendar import calendar

    case = to_status(city, people, Status.CLOSED)
    calendar.invalidate()  # no copy in this process: it has to load one with the cache down
    response = client.post(reverse("cases:track_rate", args=[case.tracking_code]),
                           {"rating": "1", "comment": "没有解决", "reopen": "on"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.HANDLING and case.rework_count == 1


def test_open311_files_with_the_cache_down(cache_down, client, city, street_client):
    category()
    _api, key = street_client
    response = client.post("/open311/v2/requests.json", {
        "api_key": key, "service_code": CODE, "description": "路口堆了很多垃圾", "address_id": str(city.building_a.pk)})
    assert response.status_code == 200, response.content
    # Received: kept as a report waiting for the worker, answered with its token.
    assert Intake.objects.filter(external_ref=response.json()[0]["token"], channel="open311").exists()
    assert client.get("/open311/v2/requests.json", {"api_key": key}).status_code == 200


def test_an_order_is_placed_with_the_cache_down(cache_down, client, city):
    from volunteers.models import Order

    url = reverse("volunteers:order_place")
    token = re.search(r'name="token" value="([0-9a-f]{32})"', client.get(url).content.decode()).group(1)
    response = client.post(url, {
        "kind": "errand", "street": city.street_a.pk, "community": city.community_a.pk, "grid": city.grid_a.pk,
        "building": city.building_a.pk, "address": "2单元501", "description": "帮我去社区医院取药",
        "reporter_name": "王阿姨", "reporter_phone": "13812345678", "token": token})
    assert response.status_code == 302 and Order.objects.count() == 1
    assert client.get(reverse("volunteers:order_track", args=["NOPE"])).status_code in (400, 404)


def test_the_public_pages_render_with_the_cache_down(cache_down, client, city):
    for url in (REPORT, reverse("cases:track_lookup"), reverse("volunteers:order_place"), "/",
                reverse("cases:places") + f"?parent={city.street_a.pk}", "/open311/v2/services.json"):
        assert client.get(url).status_code == 200, url


# --- the broker down -------------------------------------------------------------------------

def test_a_report_is_kept_with_the_broker_unreachable(client, city, caplog, django_capture_on_commit_callbacks):
    """The real Celery app, not eager, its broker a closed port: the report is saved and acknowledged,
    the failed nudge is logged, and the beat's sweep registers the report later."""
    from portal.celery import app

    category()

    def fresh_pools():
        app._pool = None
        app.amqp._producer_pool = None

    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
    app.conf.update(task_always_eager=False, broker_url=f"redis://127.0.0.1:{closed_port()}/0")
    fresh_pools()
    notifications.broker_back()
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(REPORT, report_data(city))
    finally:
        app.conf.update(saved)
        fresh_pools()
        notifications.broker_back()
    assert callbacks, "the nudge ran on commit"
    assert response.status_code == 302
    intake = Intake.objects.get()
    assert response["Location"] == reverse("cases:report_done", args=[intake.tracking_code])
    warned = [r.getMessage() for r in caplog.records if r.name == "cases.notifications"]
    assert warned and "could not enqueue 1 report(s)" in warned[0]
    services_intake.intake_register_pending()  # what the beat's sweep does every 10 s
    assert Case.objects.filter(tracking_code=intake.tracking_code).exists()
