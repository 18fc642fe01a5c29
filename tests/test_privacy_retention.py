"""Issue #20 item 6: retention (PIPL art. 19 and 47) and the register of processing activities.

The clock is frozen; matters, orders and residents are seeded relative to it.
"""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse

from cases.models import Case, Status
from grid.models import Role
from grid.privacy import registry
from grid.privacy.services import retention_due, retention_run
from grid.privacy.tasks import anonymise_expired
from residents import services as resident_services
from residents.models import Resident
from volunteers import services as volunteer_services
from volunteers.models import Order

from .cases_factories import at, fresh_calendar, resident_report  # noqa: F401
from .factories import UserFactory, user_with_post
from .residents_factories import household_in, resident_in

NOW = at(2027, 12, 6, 10, 0)
pytestmark = pytest.mark.clock(NOW)


def closed_case(city, days_ago, **figures):
    case = resident_report(city, now=NOW - timedelta(days=days_ago + 3))
    Case.objects.filter(pk=case.pk).update(status=Status.REJECTED, closed_at=NOW - timedelta(days=days_ago),
                                           **figures)
    return Case.objects.get(pk=case.pk)


FIGURES = ("status", "closed_at", "created_at", "category_id", "grid_id", "community_id", "rework_count",
           "escalation_count", "description", "number", "tracking_code")


def figures_of(case):
    return {f: getattr(case, f) for f in FIGURES}


def confirmed_order(city, days_ago):
    user = UserFactory()
    volunteer = volunteer_services.volunteer_register(home=city.grid_a, user=user, acting_user=user)
    order = volunteer_services.order_place(kind="errand", description="取药", contact_name="王阿姨",
                                           contact_phone="13812345678", building=city.building_a,
                                           now=NOW - timedelta(days=days_ago + 2))
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CONFIRMED, claimed_by=volunteer,
                                              confirmed_at=NOW - timedelta(days=days_ago))
    return order


def test_reporters_kept_forever_after_closing(city):
    old, recent = closed_case(city, 366, rework_count=2), closed_case(city, 364)
    still_open = resident_report(city, now=NOW - timedelta(days=800))
    before = figures_of(old)
    assert retention_due(now=NOW)["cases.reporter"] == 1
    assert retention_run(now=NOW, batch_size=1)["cases.reporter"] == 1
    old.refresh_from_db()
    assert (old.reporter_name, old.reporter_phone, old.reporter_name_masked, old.reporter_phone_masked) == (
        None, None, "", "")
    assert old.reporter_erased_at == NOW
    assert figures_of(old) == before, "the figures stay"
    for kept in (recent, still_open):
        kept.refresh_from_db()
        assert kept.reporter_phone == "13800000000" and kept.reporter_erased_at is None
    assert retention_run(now=NOW)["cases.reporter"] == 0, "a second run finds nothing"


def test_a_matter_reopened_meanwhile_keeps_its_reporter(city):
    case = closed_case(city, 400)
    expired = registry.activity("cases.reporter").expired(NOW)
    assert expired.filter(pk=case.pk).exists()
    Case.objects.filter(pk=case.pk).update(status=Status.HANDLING, closed_at=None, due_at=NOW)
    assert retention_run(now=NOW)["cases.reporter"] == 0
    assert Case.objects.get(pk=case.pk).reporter_phone == "13800000000"


@override_settings(PERSONAL_DATA_RETENTION_DAYS=30)
def test_the_period_is_the_setting(city):
    case = closed_case(city, 31)
    assert retention_run(now=NOW)["cases.reporter"] == 1
    assert Case.objects.get(pk=case.pk).reporter_name is None


def test_orderers_kept_forever_after_the_order_ended(city):
    old, recent = confirmed_order(city, 366), confirmed_order(city, 364)
    assert retention_run(now=NOW)["volunteers.orderer"] == 1
    old, recent = Order.objects.get(pk=old.pk), Order.objects.get(pk=recent.pk)
    assert (old.contact_name, old.contact_phone, old.contact_phone_masked, old.contact_erased_at) == (
        None, None, "", NOW)
    assert (old.status, old.points, old.description) == (Order.Status.CONFIRMED, 10, "取药")
    assert recent.contact_phone == "13812345678"


def test_residents_who_left_are_anonymised_after_their_own_period(city):
    days = settings.RESIDENT_RETENTION_DAYS_AFTER_LEAVING
    worker = user_with_post(Role.GRID_WORKER, city.grid_a)
    household = household_in(city.unit_a, acting_user=worker)
    gone = resident_in(household, "李老伯", acting_user=worker)
    left_recently = resident_in(household, "王阿姨", acting_user=worker)
    living = resident_in(household, "赵小妹", acting_user=worker)
    resident_services.resident_decease(resident=gone, on=(NOW - timedelta(days=days + 1)).date(),
                                       acting_user=worker, now=NOW)
    resident_services.resident_move_out(resident=left_recently, on=(NOW - timedelta(days=days - 1)).date(),
                                        acting_user=worker, now=NOW)
    gone.refresh_from_db()
    birth_year, gender = gone.birth_date.year, gone.gender
    assert retention_run(now=NOW)["residents.resident"] == 1
    gone.refresh_from_db()
    assert gone.name == "已匿名" and gone.id_number is None and gone.id_index is None and gone.id_masked == ""
    assert gone.phone is None and gone.phone_masked == "" and gone.anonymised_at == NOW
    assert (gone.birth_date.year, gone.birth_date.month, gone.birth_date.day) == (birth_year, 1, 1)
    assert (gone.gender, gone.status, gone.household_id) == (gender, "deceased", household.pk), "the figures stay"
    for kept in (left_recently, living):
        kept.refresh_from_db()
        assert kept.anonymised_at is None and kept.phone == "13800138000"
    assert retention_run(now=NOW)["residents.resident"] == 0


def test_dry_run_command_shows_and_changes_nothing_then_runs(city):
    old = closed_case(city, 366)
    out = io.StringIO()
    call_command("anonymise_personal_data", stdout=out)
    assert "cases.reporter: 1 due" in out.getvalue() and "Dry run: 1 records" in out.getvalue()
    assert Case.objects.get(pk=old.pk).reporter_phone == "13800000000"
    out = io.StringIO()
    call_command("anonymise_personal_data", "--at", (NOW + timedelta(days=5)).isoformat(), stdout=out)
    assert "Dry run" in out.getvalue()
    out = io.StringIO()
    call_command("anonymise_personal_data", "--run", stdout=out)
    assert "cases.reporter: 1 anonymised" in out.getvalue()
    assert Case.objects.get(pk=old.pk).reporter_phone is None


@pytest.mark.parametrize("args", [["--at", "tomorrow"], ["--at", "2027-01-01T00:00:00"],
                                  ["--run", "--at", "2027-01-01T00:00:00+08:00"], ["--batch-size", "0"]])
def test_command_refuses_bad_input(db, args):
    with pytest.raises(CommandError):
        call_command("anonymise_personal_data", *args, stdout=io.StringIO())


def test_beat_runs_the_sweep_nightly(city):
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "grid.privacy.tasks.anonymise_expired"]
    assert len(entries) == 1
    old = closed_case(city, 366)
    assert anonymise_expired.run()["cases.reporter"] == 1
    assert anonymise_expired.run()["cases.reporter"] == 0
    assert Case.objects.get(pk=old.pk).reporter_name is None


# --- the register ---------------------------------------------------------------------------------

def test_register_is_generated_from_the_settings_for_administrators_only(city):
    root = UserFactory(is_superuser=True, is_staff=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(root)
    closed_case(city, 366)
    url = reverse("privacy:register")
    page = client.get(url)
    assert page.status_code == 200
    text = page.text
    for key in ("cases.reporter", "cases.intake_reporter", "volunteers.orderer", "residents.resident"):
        assert f'id="{key}"' in text
    assert "PERSONAL_DATA_RETENTION_DAYS" in text and "365" in text and "1095" in text
    rows = {r["key"]: r for r in page.context["rows"]}
    assert rows["cases.reporter"]["due"] == 1
    assert rows["cases.reporter"]["retention_days"] == 365
    assert "Grid worker" in rows["cases.reporter"]["fields"][1]["reveal"]
    assert rows["residents.resident"]["fields"][1]["kept"] == "encrypted, shown masked, blind index"
    with override_settings(PERSONAL_DATA_RETENTION_DAYS=90):
        assert {r["key"]: r for r in client.get(url).context["rows"]}["cases.reporter"]["retention_days"] == 90
    staff = Client()
    staff.force_login(user_with_post(Role.COMMUNITY_STAFF, city.community_a))
    assert staff.get(url).status_code == 403
    assert Client().get(url).status_code == 302
