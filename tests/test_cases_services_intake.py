"""Residents' reports kept in one insert and registered as cases by a worker
(cases/services_intake.py): what is saved, what the resident sees meanwhile,
what the worker makes of it, what happens when it cannot, and that no broker
outage and no concurrent worker loses or doubles a report.
"""

import threading
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from cases import services_intake
from cases.models import Case, CaseEvent, CasePhoto, Category, Channel, Intake, ReporterKind, Status
from cases.selectors import intakes_visible_to
from grid import services as grid_services
from portal.errors import DomainError

from .cases_factories import MONDAY, category, fresh_calendar, people, png  # noqa: F401


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "en"})


def receive(city, **overrides):
    fields = {"category": category(), "description": "小区东门有一堆暴露垃圾", "channel": Channel.WEB,
              "building": city.building_a, "reporter_name": "李四", "reporter_phone": "13912345678", "now": MONDAY}
    fields.update(overrides)
    return services_intake.intake_receive(**fields)


# --- receiving ----------------------------------------------------------------------------

def test_a_report_is_kept_as_received_until_the_worker_registers_it(city, client):
    received = receive(city)
    assert Case.objects.count() == 0
    row = Intake.objects.get()
    assert (row.tracking_code, row.building, row.grid, row.received_at) == (
        received.tracking_code, city.building_a, None, MONDAY)

    page = client.get(reverse("cases:track", args=[received.tracking_code]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Received" in text and "being registered" in text and received.tracking_code_display in text
    assert "13912345678" not in text and "李四" not in text
    done = client.get(reverse("cases:report_done", args=[received.tracking_code]))
    assert done.status_code == 200 and "Case number" not in done.content.decode()
    # It says what really happens: the worker gives it a number in a moment; the community registers it (立案).
    assert "in a moment it gets a case number" in done.content.decode()
    assert "community reviews it and registers it" in done.content.decode()

    assert services_intake.intake_register_pending() == 1
    assert not Intake.objects.exists()
    case = Case.objects.get()
    assert case.tracking_code == received.tracking_code
    assert (case.channel, case.reporter_kind, case.status) == (Channel.WEB, ReporterKind.RESIDENT, Status.REPORTED)
    assert (case.building, case.grid_id, case.community_id) == (city.building_a, city.grid_a.pk, city.community_a.pk)
    assert (case.reporter_name, case.reporter_phone) == ("李四", "13912345678")
    # The clock started when the resident reported, not when the worker came by.
    assert case.created_at == MONDAY
    assert case.events.get(action=CaseEvent.Action.REPORT).at == MONDAY

    page = client.get(reverse("cases:track", args=[received.tracking_code]))
    assert page.status_code == 200 and case.number in page.content.decode()
    done = client.get(reverse("cases:report_done", args=[received.tracking_code]))
    assert case.number in done.content.decode()


def test_a_grid_level_report_and_a_qr_report(city):
    receive(city, building=None, grid=city.grid_a2)
    receive(city, channel=Channel.QR, building=city.building_b)
    assert services_intake.intake_register_pending() == 2
    grid_case, qr_case = Case.objects.order_by("pk")
    assert (grid_case.grid_id, grid_case.building_id) == (city.grid_a2.pk, None)
    assert (qr_case.channel, qr_case.grid_id) == (Channel.QR, city.grid_b.pk)


def test_the_photo_travels_to_the_case_as_the_same_stripped_file(city):
    received = receive(city, photo=png())
    stored = Intake.objects.get(pk=received.pk).photo.name
    assert stored
    services_intake.intake_register_pending()
    photo = CasePhoto.objects.get()
    assert photo.image.name == stored and (photo.width, photo.height) == (8, 8)
    assert photo.event.action == CaseEvent.Action.REPORT


@pytest.mark.parametrize(("overrides", "code"), [
    ({"channel": Channel.HOTLINE}, "bad_channel"),
    ({"category": "NOPE"}, "unknown_category"),
    ({"category": ""}, "unknown_category"),
    ({"description": "   "}, "blank"),
    ({"description": "长" * 4001}, "too_long"),
    ({"reporter_phone": "call me<script>"}, "bad_phone"),
    ({"building": None}, "no_place"),
])
def test_bad_reports_are_refused_and_nothing_is_kept(city, overrides, code):
    with pytest.raises(DomainError) as refused:
        receive(city, **overrides)
    assert refused.value.code == code
    assert not Intake.objects.exists()


def test_a_street_or_a_merged_grid_is_not_a_place(city):
    with pytest.raises(DomainError) as refused:
        receive(city, building=None, grid=city.street_a)
    assert refused.value.code == "bad_place"
    grid_services.area_merge(source=city.grid_a2, target=city.grid_a)
    city.grid_a2.refresh_from_db()
    with pytest.raises(DomainError):
        receive(city, building=None, grid=city.grid_a2)
    assert not Intake.objects.exists()


@pytest.mark.parametrize("chain", [
    {"grid": "grid_a", "community": "community_b"},
    {"grid": "grid_a", "community": "community_a", "street": "street_b"},
    {"building": "building_b", "grid": "grid_a"},
    {"building": "building_a", "community": "community_b"},
    {"building": "building_a", "street": "street_b"},
    {"grid": "street_a"},
    {"grid": "district"},
    # A community is no grid, and no level may stand in for the one above it.
    {"grid": "community_a"},
    {"grid": "grid_a", "community": "grid_a"},
    {"grid": "grid_a", "community": "community_a", "street": "community_a"},
])
def test_the_insert_refuses_a_place_off_the_chosen_chain(city, chain):
    places = {level: getattr(city, name).pk for level, name in chain.items()}
    with pytest.raises(DomainError) as refused:
        receive(city, **{"building": None, **places})
    assert refused.value.code == "bad_place"
    assert not Intake.objects.exists()


def test_the_insert_accepts_the_whole_chain(city):
    receive(city, building=city.building_a.pk, grid=city.grid_a.pk, community=city.community_a.pk,
            street=city.street_a.pk)
    receive(city, building=None, grid=city.grid_a2.pk, community=city.community_a.pk, street=city.street_a.pk)
    assert list(Intake.objects.order_by("pk").values_list("building_id", "grid_id")) == [
        (city.building_a.pk, None), (None, city.grid_a2.pk)]


def test_a_category_under_a_withdrawn_family_is_refused(city):
    sub = category("E0101")
    Category.objects.filter(pk=sub.parent_id).update(is_active=False)
    with pytest.raises(DomainError) as refused:
        receive(city, category="E0101")
    assert refused.value.code == "unknown_category"
    assert not Intake.objects.exists()


def test_an_inactive_category_is_refused(city):
    withdrawn = category("E0102")
    Category.objects.filter(pk=withdrawn.pk).update(is_active=False)
    withdrawn.refresh_from_db()
    with pytest.raises(DomainError):
        receive(city, category=withdrawn)
    assert not Intake.objects.exists()


def test_a_photo_that_is_not_an_image_is_refused_and_not_stored(city, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(DomainError) as refused:
        receive(city, photo=SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg"))
    assert refused.value.code == "not_an_image"
    assert not Intake.objects.exists()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


# --- when the worker cannot register a report --------------------------------------------

def test_a_report_whose_grid_was_merged_meanwhile_waits_for_staff(city, people, client):
    received = receive(city, building=None, grid=city.grid_a2)
    grid_services.area_merge(source=city.grid_a2, target=city.grid_a)
    assert services_intake.intake_register_pending() == 0
    row = Intake.objects.get()
    assert row.failed_at is not None and "已并入其他区域，请选择合并后的区域" in row.failure
    # It is not retried by every run (nothing changed), and the resident still sees it received.
    assert services_intake.intake_register_pending() == 0
    page = client.get(reverse("cases:track", args=[received.tracking_code]))
    assert page.status_code == 200 and "checking where it belongs" in page.content.decode()
    assert row.failure not in page.content.decode()

    case = services_intake.intake_retry(intake=row, acting_user=people.community, grid=city.grid_a)
    assert (case.tracking_code, case.grid_id, case.created_at) == (received.tracking_code, city.grid_a.pk, MONDAY)
    assert not Intake.objects.exists()


def test_staff_outside_the_place_cannot_place_a_report(city, people):
    receive(city)
    row = Intake.objects.get()
    with pytest.raises(DomainError) as refused:
        services_intake.intake_retry(intake=row, acting_user=people.community_b, grid=city.grid_b)
    assert refused.value.code == "gone"
    assert Intake.objects.filter(pk=row.pk, grid=None, building=city.building_a).exists()
    assert not Case.objects.exists()


def test_retry_with_a_bad_place_keeps_the_report(city, people):
    row = receive(city)
    with pytest.raises(DomainError):
        services_intake.intake_retry(intake=row, acting_user=people.community, grid=city.street_a)
    assert Intake.objects.filter(pk=row.pk).exists() and not Case.objects.exists()


def test_intakes_are_scoped_to_the_places_staff_manage(city, people):
    inside = receive(city)
    by_grid = receive(city, building=None, grid=city.grid_a2)
    outside = receive(city, building=city.building_b)
    assert set(intakes_visible_to(people.community)) == {inside, by_grid}
    assert set(intakes_visible_to(people.community_b)) == {outside}
    assert set(intakes_visible_to(people.district)) == {inside, by_grid, outside}
    # Grid workers hold no managing post: registering residents' reports is community work.
    assert not intakes_visible_to(people.worker).exists()
    assert not intakes_visible_to(people.other_district).exists()


def test_the_admin_lists_and_places_reports_in_scope_only(city, people):
    inside = receive(city, building=None, grid=city.grid_a2)
    grid_services.area_merge(source=city.grid_a2, target=city.grid_a)
    services_intake.intake_register_pending()
    # Waiting for the worker's next run:
    outside = receive(city, building=city.building_b)
    waiting = receive(city)
    staff = Client(headers={"Accept-Language": "en"})
    staff.force_login(people.community)
    listing = staff.get(reverse("admin:cases_intake_changelist"))
    assert listing.status_code == 200
    assert inside.tracking_code in listing.content.decode()
    assert outside.tracking_code not in listing.content.decode()
    assert staff.get(reverse("admin:cases_intake_change", args=[outside.pk])).status_code == 404

    url = reverse("admin:cases_intake_change", args=[inside.pk])
    assert staff.get(url).status_code == 200
    refused = staff.post(url, {"category": category().pk, "grid": city.street_a.pk, "building": ""})
    assert refused.status_code == 200 and Intake.objects.filter(pk=inside.pk).exists()
    placed = staff.post(url, {"category": category().pk, "grid": city.grid_a.pk, "building": ""})
    assert placed.status_code == 302
    assert not Intake.objects.filter(pk=inside.pk).exists()
    assert Case.objects.get(tracking_code=inside.tracking_code).grid_id == city.grid_a.pk
    # No delete: a report is registered or rejected as a case, never dropped.
    assert staff.post(reverse("admin:cases_intake_delete", args=[waiting.pk]), {"post": "yes"}).status_code == 403
    assert Intake.objects.filter(pk=waiting.pk).exists()


# --- the worker's message ---------------------------------------------------------------

def test_a_commit_asks_the_worker_once_per_window(city, django_capture_on_commit_callbacks):
    from cases import tasks

    with mock.patch.object(tasks.register_intake, "apply_async") as send:
        with django_capture_on_commit_callbacks(execute=True):
            receive(city)
        with django_capture_on_commit_callbacks(execute=True):
            receive(city)
    assert send.call_count == 1
    assert send.call_args.kwargs["countdown"] == services_intake.INTAKE_KICK_SECONDS
    cache.delete(services_intake.INTAKE_KICK_KEY)  # the window closed (the shared key and this process's note of it)
    services_intake._window_opened_here_until = 0.0
    with mock.patch.object(tasks.register_intake, "apply_async") as send:
        with django_capture_on_commit_callbacks(execute=True):
            receive(city)
    assert send.call_count == 1


def test_the_process_that_opened_the_window_skips_the_cache_until_it_closes(city, django_capture_on_commit_callbacks,
                                                                            monkeypatch):
    from cases import tasks

    clock = [1000.0]
    monkeypatch.setattr(services_intake, "_clock", lambda: clock[0])
    adds = []
    real_add = cache.add
    monkeypatch.setattr(services_intake.cache, "add", lambda *a, **k: adds.append(a[0]) or real_add(*a, **k))
    with mock.patch.object(tasks.register_intake, "apply_async") as send:
        for _ in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                receive(city)
        assert (send.call_count, len(adds)) == (1, 1)  # one message, one round trip to the cache
        cache.delete(services_intake.INTAKE_KICK_KEY)
        clock[0] += services_intake.INTAKE_KICK_SECONDS  # the window this process opened has closed
        with django_capture_on_commit_callbacks(execute=True):
            receive(city)
    assert (send.call_count, len(adds)) == (2, 2)


def test_a_broker_outage_loses_no_report(city, client, django_capture_on_commit_callbacks):
    from cases import tasks

    data = {"category": "E0101", "street": city.street_a.pk, "community": city.community_a.pk,
            "grid": city.grid_a.pk, "building": city.building_a.pk, "description": "暴露垃圾"}
    with mock.patch.object(tasks.register_intake, "apply_async", side_effect=ConnectionError("redis down")) as send:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("cases:report"), data)
    assert send.called
    assert response.status_code == 302
    assert Intake.objects.count() == 1 and not Case.objects.exists()
    # The broker is back: the beat's run registers what waited.
    assert tasks.register_intake.delay().get() == 1
    assert Case.objects.get().tracking_code in response["Location"]


def test_the_beat_runs_the_registration(city):
    """Beat's own scheduler, built from the Celery app's configuration, sends the entry and a report becomes a case."""
    from datetime import timedelta

    from celery.beat import Scheduler

    from portal.celery import app

    received = receive(city)  # its commit's kick never comes (the test's transaction does not commit)
    app.loader.import_default_modules()  # the task modules, as beat and the worker import them at start
    scheduler = Scheduler(app=app, lazy=False)
    entry = scheduler.schedule["cases-register-intake"]
    assert entry.task in app.tasks  # a name no worker knows would be sent and never run
    # Due again within a minute of its last run, so a report waits at most that long after a broker outage.
    assert entry.schedule.is_due(entry.default_now() - timedelta(seconds=60)).is_due
    result = scheduler.apply_async(entry, advance=False)  # eager in the tests: the task runs here
    assert result.get() == 1
    assert not Intake.objects.exists()
    assert Case.objects.get().tracking_code == received.tracking_code


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_workers_register_each_report_once(on_postgres):
    from .factories import build_city

    city = build_city()
    # Autocommit: each receive would kick the (eager) task at once; the workers below do it instead.
    with mock.patch.object(services_intake, "_kick"):
        codes = {receive(city, description=f"垃圾 {i}").tracking_code for i in range(30)}
    assert Intake.objects.count() == 30
    start = threading.Barrier(3, timeout=10)
    counts = []

    def work():
        try:
            start.wait()
            counts.append(services_intake.intake_register_pending())
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 30
    assert set(Case.objects.values_list("tracking_code", flat=True)) == codes
    assert not Intake.objects.exists()
    assert CaseEvent.objects.filter(action=CaseEvent.Action.REPORT).count() == 30


def test_a_report_that_breaks_the_worker_is_set_aside_and_the_rest_go_on(city, settings):
    """Not only refusals: any error registering one row marks it for staff, so it does not
    stand first in line for ever."""
    broken = receive(city, photo=png())
    (settings.MEDIA_ROOT / Intake.objects.get(pk=broken.pk).photo.name).unlink()
    fine = receive(city)
    assert services_intake.intake_register_pending() == 1
    assert Case.objects.filter(tracking_code=fine.tracking_code).exists()
    left = Intake.objects.get()
    assert left.pk == broken.pk and left.failed_at is not None and "请人工确认地点后立案" in left.failure
    assert services_intake.intake_register_pending() == 0


def test_staff_may_not_place_a_report_outside_their_places(city, people):
    row = receive(city)
    with pytest.raises(DomainError) as refused:
        services_intake.intake_retry(intake=row, acting_user=people.community, grid=city.grid_b)
    assert refused.value.code == "forbidden"
    with pytest.raises(DomainError) as refused:
        services_intake.intake_retry(intake=row, acting_user=people.community, grid=city.grid_a2,
                                     building=city.building_a)
    assert refused.value.code == "bad_place"
    assert Intake.objects.filter(pk=row.pk).exists() and not Case.objects.exists()


def test_in_the_admin_a_new_grid_replaces_the_building(city, people):
    row = receive(city)
    staff = Client(headers={"Accept-Language": "en"})
    staff.force_login(people.community)
    url = reverse("admin:cases_intake_change", args=[row.pk])
    # The form shows the row's building; staff choose another grid and leave the building as shown.
    response = staff.post(url, {"category": category().pk, "grid": city.grid_a2.pk, "building": city.building_a.pk})
    assert response.status_code == 302
    case = Case.objects.get(tracking_code=row.tracking_code)
    assert (case.grid_id, case.building_id) == (city.grid_a2.pk, None)
