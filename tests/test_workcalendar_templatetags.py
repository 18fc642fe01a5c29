"""The admin's banner (portal/workcalendar/templatetags/workcalendar.py) while the next 60 days
reach a year without holidays. Time is frozen with time-machine at the end of the last year
the installed chinese-calendar covers (2026 with 1.11), never read from the real date."""

from datetime import date, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from portal.workcalendar import holidays
from portal.workcalendar.calendar import TZ
from portal.workcalendar.models import CalendarDay, DayKind

from .cases_factories import fresh_calendar, people  # noqa: F401

LAST = holidays.package_coverage()[1]
DECEMBER = datetime(LAST, 12, 6, 9, 0, tzinfo=TZ)
JUNE = datetime(LAST, 6, 1, 9, 0, tzinfo=TZ)


def browser(user=None, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def banner(response):
    text = response.content.decode()
    if 'id="missing-holidays"' not in text:
        return None
    return text.split('id="missing-holidays"', 1)[1].split("</ul>", 1)[0]


def test_those_who_can_enter_holidays_are_warned_on_every_admin_page(people):
    with time_machine.travel(DECEMBER, tick=False):
        client = browser(people.district)  # signed in at that moment, so the session is fresh then
        index = banner(client.get(reverse("admin:index")))
        cases = banner(client.get(reverse("admin:cases_case_changelist")))
    assert index is not None and cases == index
    assert f"no public holidays for {LAST + 1} (元旦 on 1 January is missing)" in index
    assert f"in the next 60 days, until {LAST + 1}-02-04," in index
    # District officials may enter the year: the link opens the add form.
    assert f'href="{reverse("admin:workcalendar_calendarday_add")}"' in index
    assert "manage.py sync_holidays" in index


def test_the_banner_is_chinese_first(people):
    with time_machine.travel(DECEMBER, tick=False):
        text = banner(browser(people.district, language="zh-hans").get(reverse("admin:index")))
    assert f"工作日历缺少 {LAST + 1} 年的法定节假日" in text


def test_staff_who_cannot_enter_holidays_are_not_shown_it(people):
    """Community staff could do nothing about it but read it on every admin page."""
    with time_machine.travel(DECEMBER, tick=False):
        response = browser(people.community).get(reverse("admin:index"))
        district = banner(browser(people.district).get(reverse("admin:index")))
    assert response.status_code == 200 and banner(response) is None
    assert district is not None  # the same moment: the banner is there for those who can act


def test_no_banner_while_the_next_60_days_have_holidays(people):
    with time_machine.travel(JUNE, tick=False):
        response = browser(people.district).get(reverse("admin:index"))
    assert response.status_code == 200 and banner(response) is None


def test_no_banner_once_the_year_is_entered_by_hand(people):
    CalendarDay.objects.create(date=date(LAST + 1, 1, 1), kind=DayKind.HOLIDAY, name="元旦")
    with time_machine.travel(DECEMBER, tick=False):
        assert banner(browser(people.district).get(reverse("admin:index"))) is None


@pytest.mark.django_db
def test_no_banner_on_the_login_page():
    with time_machine.travel(DECEMBER, tick=False):
        response = browser().get(reverse("admin:login"))
    assert response.status_code == 200 and banner(response) is None
