"""Issue #23's walk at 360 px in a real browser:

- a resident searches "阳光名苑2号楼" on the report form and lands on that building;
- a party member reports in (双报到) on the phone page, the community confirms it on the staff
  page, and the member adopts a small wish (微心愿) and fulfils it; the staff confirm it and the
  hours reach the member's volunteer records;
- the household of the member's neighbour earns points on its card for a meeting's attendance
  and redeems them at the points shop (the steps of tests/browser/test_household_points.py).

All three in one walk, one after the other in the same city (`test_the_issue_23_walk`).

Shots at 360 px and 1280 px go to test-artifacts/screenshots/party/; every page must fit the
phone width, raise no CSP violation and show Chinese.
"""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases.seed import load_reference_data
from grid import services_compounds
from grid.models import Role
from grid.services import building_add
from portal.workcalendar import calendar as working_calendar
from residents.party import services as party
from residents.party.models import ReportIn, ReportStatus, Wish, WishStatus
from volunteers.models import ServiceRecord

from ..factories import UserFactory, build_city, user_with_post
from ..residents_factories import household_in, resident_in
from .conftest import PHONE, SCREENSHOTS, shoot_both_widths
from .test_household_points import earn_and_redeem, household_fixtures

PASSWORD = "pw-Portal-2026"
SHOTS = SCREENSHOTS / "party"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def world(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    load_reference_data()
    working_calendar.invalidate()
    city = build_city()
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, username="party_staff", full_name="社区干部周敏")
    sunshine = services_compounds.compound_add(community=city.community_a, name="阳光名苑", acting_user=staff)
    two = building_add(grid=city.grid_a, number="2号楼", address="幸福路2号", compound=sunshine)
    elder = resident_in(household_in(city.unit_a, "502", acting_user=staff), "王秀兰", acting_user=staff,
                        phone="13900000009")
    member = UserFactory(username="partymember", full_name="刘建国")
    return city, staff, two, elder, member


def shoot(page, name):
    shoot_both_widths(page, SHOTS, name)


def sign_in(page, user):
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))


def test_the_issue_23_walk(world, open_page):
    """Issue #23's Done-when as one walk at 360 px: the search, the party member, the household."""
    city, staff, two, elder, member = world
    resident_finds_her_building(open_page, two)
    desk = party_member_reports_in_adopts_and_fulfils(world, open_page)
    home, neighbour, meeting, item = household_fixtures(city, staff, room="303", name="赵桂芝")
    earn_and_redeem(desk, city, home, neighbour, meeting, item, shoot, name="赵桂芝")


def resident_finds_her_building(open_page, two):
    page = open_page(PHONE, phone=True)
    page.goto(page.base + reverse("cases:report_where"))
    page.locator("input[name=q]").fill("阳光名苑2号楼")
    page.locator("form.where-search button[type=submit]").click()
    page.wait_for_url(re.compile(r"q=.+"))
    expect(page.locator(".where-result")).to_have_count(1)
    expect(page.locator(".where-result")).to_have_attribute("data-building", str(two.pk))
    shoot(page, "where-search")
    page.locator(".where-result a.where-choose").click()
    page.wait_for_url(page.base + reverse("cases:report_at", args=[two.pk]))
    assert "2号楼" in page.content()


def party_member_reports_in_adopts_and_fulfils(world, open_page):
    """The member's phone and the staff's desk; returns the staff's page, still signed in."""
    city, staff, two, elder, member = world
    now = timezone.now()
    wish = party.wish_post(resident=elder, title="一台收音机", category="elderly", budget_cap=150,
                           acting_user=staff, now=now)

    # The member reports in from the phone.
    phone = open_page(PHONE, phone=True)
    sign_in(phone, member)
    phone.goto(phone.base + reverse("party:me"))
    expect(phone.locator("h1")).to_have_text("我的双报到")
    phone.locator("select[name=community]").select_option(str(city.community_a.pk))
    phone.locator("input[name=employer_name]").fill("市税务局")
    phone.locator("input[name=posts][value=wish]").check()
    phone.locator("input[name=posts][value=volunteer]").check()
    shoot(phone, "report-in-form")
    phone.locator("form[action$='/report-in/'] button[type=submit]").click()
    phone.wait_for_url(phone.base + reverse("party:me"))
    expect(phone.locator(".page-head .badge")).to_have_text("待社区确认")
    shoot(phone, "report-in-waiting")

    # The community confirms it on the staff page (also at 360 px).
    desk = open_page(PHONE, phone=True)
    sign_in(desk, staff)
    desk.goto(desk.base + reverse("party:staff"))
    assert "刘**" in desk.locator("#pending-h").locator("..").inner_text()
    shoot(desk, "staff-pending")
    desk.locator("form[action*='/party/reports/'] button[type=submit]").click()
    desk.wait_for_url(desk.base + reverse("party:staff"))
    assert ReportIn.objects.get(user=member).status == ReportStatus.CONFIRMED

    # The member sees the open wish (the resident's name masked), adopts and fulfils it.
    phone.goto(phone.base + reverse("party:me"))
    open_list = phone.locator("#open-h").locator("..")
    assert "一台收音机" in open_list.inner_text() and "王**" in open_list.inner_text()
    assert "王秀兰" not in phone.content()
    shoot(phone, "open-wishes")
    phone.locator(f"form[action$='/party/wishes/{wish.pk}/adopt/'] button").click()
    phone.wait_for_url(phone.base + reverse("party:me"))
    expect(phone.locator("#mine-h").locator("..")).to_contain_text("已认领")
    phone.locator(f"#note-{wish.pk}").fill("周六已送到王奶奶家")
    shoot(phone, "adopted")
    phone.locator(f"form[action$='/party/wishes/{wish.pk}/fulfil/'] button").click()
    phone.wait_for_url(phone.base + reverse("party:me"))
    expect(phone.locator("#mine-h").locator("..")).to_contain_text("周六已送到王奶奶家")
    shoot(phone, "fulfilled")
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.FULFILLED

    # The staff confirm it with the hours; they reach the volunteers' records.
    desk.goto(desk.base + reverse("party:staff"))
    desk.locator(f"#hours-{wish.pk}").fill("1.5")
    shoot(desk, "staff-confirm")
    desk.locator(f"form[action$='/party/wishes/{wish.pk}/confirm/'] button").click()
    desk.wait_for_url(desk.base + reverse("party:staff"))
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.CONFIRMED
    assert ServiceRecord.objects.get(volunteer__user=member).hours == 1.5

    # A wish taken down on the staff page keeps who did it and when; the admin shows both.
    gone = party.wish_post(resident=elder, title="一副老花镜", category="elderly", budget_cap=80, acting_user=staff,
                           now=now)
    desk.goto(desk.base + reverse("party:staff"))
    desk.locator(f"form[action$='/party/wishes/{gone.pk}/withdraw/'] button").click()
    desk.wait_for_url(desk.base + reverse("party:staff"))
    gone.refresh_from_db()
    assert gone.status == WishStatus.WITHDRAWN and gone.withdrawn_by == staff and gone.withdrawn_at is not None
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    desk.goto(desk.base + reverse("admin:party_wish_change", args=[gone.pk]))
    withdrawn_by = desk.locator(".field-withdrawn_by")
    expect(withdrawn_by).to_contain_text("撤回人")
    expect(withdrawn_by).to_contain_text("社区干部周敏")
    expect(desk.locator(".field-withdrawn_at")).to_contain_text("撤回时间")
    shoot(desk, "admin-withdrawn-wish")
    desk.goto(desk.base + reverse("party:staff"))
    return desk
