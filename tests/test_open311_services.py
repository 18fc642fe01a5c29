"""Open311 writes: keys issued and revoked within the tree, filing through the intake service
into the grid worker's queue, status changes coming back through requests and updates."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from cases import services as case_services
from cases.models import Case, Intake, Status
from cases.open311 import selectors, services
from cases.open311.models import ApiClient, ServiceRequest, hash_key
from cases.selectors import queue_for
from portal.errors import DomainError

from .cases_factories import MONDAY, People
from .open311_factories import CODE, file_registered, street_client  # noqa: F401


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()


@pytest.fixture
def people(city, make_user):
    return People(city, make_user)


def test_issue_keeps_only_a_hash_and_the_key_finds_its_client(city, people):
    client, key = services.client_issue(name="12345 热线平台", area=city.street_a, acting_user=people.street)
    assert key.startswith("o311_") and len(key) > 40
    row = ApiClient.objects.get(pk=client.pk)
    assert row.key_hash == hash_key(key) and key not in (row.key_hash, row.key_prefix)
    assert selectors.client_by_key(key) == client
    assert selectors.client_by_key(key[:-1]) is None and selectors.client_by_key("") is None


def test_staff_issue_keys_only_for_places_they_manage(city, people):
    with pytest.raises(DomainError) as refused:
        services.client_issue(name="城南 app", area=city.street_b, acting_user=people.street)
    assert refused.value.code == "forbidden"
    with pytest.raises(DomainError):
        services.client_issue(name="网格 app", area=city.grid_a, acting_user=people.worker)
    assert not ApiClient.objects.exists()


@pytest.mark.parametrize("fields, code", [
    ({"name": ""}, "blank"),
    ({"rate_limit": 0}, "bad_rate_limit"),
    ({"rate_limit": 10_001}, "bad_rate_limit"),
])
def test_issue_refuses_bad_input(city, people, fields, code):
    with pytest.raises(DomainError) as refused:
        services.client_issue(**{"name": "app", "area": city.street_a, "acting_user": people.street, **fields})
    assert refused.value.code == code


def test_names_are_unique(city, people):
    services.client_issue(name="app", area=city.street_a, acting_user=people.street)
    with pytest.raises(DomainError) as refused:
        services.client_issue(name="app", area=city.street_a, acting_user=people.street)
    assert refused.value.code == "clash"


def test_revoke_is_scoped_and_idempotent(city, people):
    client, key = services.client_issue(name="app", area=city.street_a, acting_user=people.street)
    with pytest.raises(DomainError):
        services.client_revoke(client=client, acting_user=people.community_b)
    assert services.client_revoke(client=client, acting_user=people.street) is True
    assert services.client_revoke(client=client, acting_user=people.street) is False
    assert selectors.client_by_key(key) is None


def test_replays_within_the_window_answer_the_first_filing(city, street_client):
    client, _key = street_client
    args = dict(client=client, service_code=CODE, description="垃圾", address_id=str(city.building_a.pk))
    first, created = services.request_file(now=MONDAY, **args)
    again, created_again = services.request_file(now=MONDAY + timedelta(minutes=5), **args)
    later, created_later = services.request_file(now=MONDAY + timedelta(minutes=11), **args)
    assert created and not created_again and created_later
    assert again == first and later != first
    assert ServiceRequest.objects.count() == 2


def test_an_address_alone_files_at_a_grid_key_s_own_grid(city, db):
    from .open311_factories import issue

    client, _key = issue(city.grid_a2)
    filed, _ = file_registered(client=client, service_code=CODE, description="垃圾",
                               address_string="幸福路5号旁", now=MONDAY)
    assert filed.case.grid == city.grid_a2 and filed.case.address == "幸福路5号旁"


def test_a_matter_filed_through_open311_reaches_the_grid_worker_and_reports_back(client, city, people,
                                                                                  street_client):
    api, key = street_client
    now = timezone.now() - timedelta(minutes=5)
    filed, _ = file_registered(client=api, service_code=CODE, description="垃圾成堆",
                               address_id=str(city.building_a.pk), now=now)
    declined, _ = file_registered(client=api, service_code=CODE, description="不是我们的事",
                                  address_id=str(city.building_a.pk), now=now)
    case = case_services.case_register(case=filed.case, acting_user=people.community, now=now)
    case_services.case_reject(case=declined.case, acting_user=people.community, reason="属于物业自行处理",
                              now=now + timedelta(minutes=1))
    assert case.status == Status.DISPATCHED
    assert case in queue_for(people.worker) and case not in queue_for(people.worker_b)

    rows = {r["service_request_id"]: r for r in client.get("/open311/v2/requests.json", {"api_key": key}).json()}
    assert rows[case.number]["status"] == "open"
    assert rows[declined.case.number]["status"] == "closed"
    assert rows[declined.case.number]["status_notes"] == "属于物业自行处理"

    updates = client.get("/open311/v2/servicerequestupdates.json", {"api_key": key}).json()
    assert all(list(u) == ["update_id", "service_request_id", "status", "updated_datetime", "description",
                           "media_url"] for u in updates)
    mine = [(u["service_request_id"], u["status"]) for u in updates]
    assert (case.number, "open") in mine and (declined.case.number, "closed") in mine
    assert mine.index((declined.case.number, "closed")) == len(mine) - 1  # oldest first
    closed = next(u for u in updates if u["status"] == "closed")
    assert closed["description"] == "属于物业自行处理"
    xml = client.get("/open311/v2/servicerequestupdates.xml", {"api_key": key})
    assert xml.status_code == 200 and b"<service_requests_updates><request_update>" in xml.content


def test_updates_outside_the_key_s_place_are_not_shown(client, city, people, street_client):
    from .cases_factories import resident_report

    outside = resident_report(city, building=city.building_b, now=timezone.now())
    case_services.case_register(case=outside, acting_user=people.community_b, now=timezone.now())
    _api, key = street_client
    response = client.get("/open311/v2/servicerequestupdates.json", {"api_key": key})
    assert response.status_code == 200 and response.json() == []
    bad = client.get("/open311/v2/servicerequestupdates.json", {"api_key": key, "start_date": "2026-01-01"})
    assert bad.status_code == 400


def test_mediation_matters_stay_private(city, people, street_client):
    from cases.models import Category

    from .cases_factories import resident_report

    mediation = Category.objects.get(code="E0501")  # 矛盾纠纷, shipped by the reference data
    assert mediation.is_mediation and mediation.is_active
    api, _key = street_client
    private = resident_report(city, code=mediation.code, now=timezone.now())
    assert private not in selectors.cases_for_client(api)
    with pytest.raises(DomainError):
        services.request_file(client=api, service_code=mediation.code, description="邻里纠纷",
                              address_id=str(city.building_a.pk))


def test_people_without_a_post_are_refused(city):
    from .factories import UserFactory

    nobody = UserFactory()
    with pytest.raises(DomainError):
        services.client_issue(name="x", area=city.street_a, acting_user=nobody)
    assert not ApiClient.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_identical_posts_at_the_same_instant_file_once(on_postgres, monkeypatch):
    """Both pass validation before either writes; the lock on the client row lets one file."""
    import threading

    from django.db import connection

    from cases.seed import load_reference_data

    from .factories import build_city
    from .open311_factories import issue

    load_reference_data()  # a plain transactional test before this one may have flushed the categories
    city = build_city()
    client, _key = issue(city.street_a)
    barrier = threading.Barrier(2, timeout=10)
    real_locate = services.locate

    def locate_then_wait(*args, **kwargs):
        found = real_locate(*args, **kwargs)
        barrier.wait()
        return found

    monkeypatch.setattr(services, "locate", locate_then_wait)
    outcomes = []

    def post():
        try:
            filed, created = services.request_file(client=client, service_code=CODE, description="同一条",
                                                   address_id=str(city.building_a.pk), now=MONDAY)
            outcomes.append((filed.pk, created))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(created for _case, created in outcomes) == [False, True]
    assert len({pk for pk, _created in outcomes}) == 1
    # One filing: waiting as received, or registered already (Celery runs eagerly on commit here).
    assert ServiceRequest.objects.count() == 1 and Intake.objects.count() + Case.objects.count() == 1


@pytest.fixture(autouse=True)
def fresh_content_types():
    """The flush after a transactional test gives content types new ids; an admin
    log entry written later (a live-server test) must not use a cached old one."""
    from django.contrib.contenttypes.models import ContentType

    yield
    ContentType.objects.clear_cache()
