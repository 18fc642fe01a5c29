"""grid/admin_reference.py: the working calendar in the admin, read by managers and
edited by district officials and administrators only, under its own app label."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from portal.workcalendar.models import CalendarDay

from .cases_factories import fresh_calendar, people  # noqa: F401


def url(model, view, *args):
    return reverse(f"admin:workcalendar_{model}_{view}", args=args)


def browser(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_calendar_lives_under_its_own_label():
    assert url("calendarday", "changelist") == "/admin/workcalendar/calendarday/"
    assert url("workingperiod", "changelist") == "/admin/workcalendar/workingperiod/"


def test_calendar_is_edited_by_district_officials_not_community_staff(people):
    staff = browser(people.community)
    assert staff.get(url("calendarday", "changelist")).status_code == 200
    denied = staff.post(url("calendarday", "add"), {"date": "2026-12-01", "kind": "holiday", "name": "x"})
    assert denied.status_code == 403
    official = browser(people.district)
    official.post(url("calendarday", "add"), {"date": "2026-12-01", "kind": "holiday", "name": "地方假日"})
    assert CalendarDay.objects.get(date=date(2026, 12, 1)).name == "地方假日"


def test_grid_workers_do_not_see_the_calendar(people):
    assert browser(people.worker).get(url("calendarday", "changelist")).status_code in (302, 403)


@pytest.mark.django_db
def test_content_types_and_permissions_carry_the_new_label():
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    assert ContentType.objects.get_for_model(CalendarDay).app_label == "workcalendar"
    assert not ContentType.objects.filter(app_label="cases", model__in=["calendarday", "workingperiod"]).exists()
    assert Permission.objects.filter(content_type__app_label="workcalendar", codename="change_calendarday").exists()


def test_a_package_row_saved_in_the_admin_becomes_staffs(people):
    from portal.workcalendar.models import DayKind, DaySource

    day = CalendarDay.objects.get(date=date(2026, 10, 10))
    assert day.source == DaySource.PACKAGE
    official = browser(people.district)
    form = official.get(url("calendarday", "change", day.pk))
    assert "sync_holidays never changes or removes them" in form.text  # the help for entering a year by hand
    official.post(url("calendarday", "change", day.pk), {"date": "2026-10-10", "kind": "holiday", "name": "本市调整",
                                                          "source": "package"})
    day.refresh_from_db()
    assert (day.kind, day.name, day.source) == (DayKind.HOLIDAY, "本市调整", DaySource.STAFF)


def test_rows_entered_by_hand_are_staffs(people):
    from portal.workcalendar.models import DaySource

    browser(people.district).post(url("calendarday", "add"), {"date": "2027-01-01", "kind": "holiday",
                                                              "name": "元旦"})
    assert CalendarDay.objects.get(date=date(2027, 1, 1)).source == DaySource.STAFF
