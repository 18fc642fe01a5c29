"""The grid worker's phone in a real browser (issue #21, "The grid worker's phone").

A worker sees the escalation notice (a case of hers went up to the community when its
deadline passed) in her queue and her inbox, then opens a case in hand, reveals the
reporter's number with a reason and calls it by its link (href="tel:..."). Along the way:
the navigation is one row and a tab bar at 360 px, the pages fit 360 and 1280 px, raise no
CSP violation, and axe-core finds no serious or critical violation on the queue, the
case page, the inbox, the report forms and the 404. Screenshots of each page at both
widths go to test-artifacts/screenshots/ (worker-*.png).

The data is seeded relative to the real clock (the live server reads it): the escalated
case was reported 30 days ago, far past any deadline whatever the calendar's holidays.
"""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases import escalation, notifications, services, services_report
from cases.models import Case, Channel, Notification, Status
from cases.seed import load_reference_data
from grid.models import Role
from portal.workcalendar import calendar as working_calendar

from ..cases_factories import category
from ..factories import build_city, user_with_post
from .axe import check_accessibility

PASSWORD = "pw-Portal-2026"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
REPORTER_PHONE = "13912345678"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def city(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    load_reference_data()
    working_calendar.invalidate()
    return build_city()


@pytest.fixture
def seeded(city):
    """A worker of grid A whose patrol report went up by the sweep, and a resident's report in her hands."""
    worker = user_with_post(Role.GRID_WORKER, city.grid_a, full_name="网格员丁", phone="13812345678")
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, full_name="社区干部丙")
    chief = user_with_post(Role.BUILDING_CHIEF, city.building_a, full_name="楼栋长王")
    now = timezone.now()
    gone = services_report.case_report(category=category("E0101"), channel=Channel.PATROL, building=city.building_a,
                                       description="路边暴露垃圾无人清理", acting_user=worker, now=now - timedelta(days=30))
    assert escalation.escalate_overdue(now=now) == 1
    escalation.escalation_notices_expand()
    notifications.deliver_pending(now=now)
    held = services_report.case_report(category=category("E0101"), channel=Channel.WEB, building=city.building_a,
                                       unit=city.unit_a, description="楼道灯不亮，晚上看不见台阶",
                                       reporter_name="欧阳娜娜", reporter_phone=REPORTER_PHONE, now=now)
    held = services.case_register(case=held, acting_user=staff, now=now)
    assert held.assignee == worker and held.status == Status.DISPATCHED
    gone.refresh_from_db()
    assert gone.responsible_level == "community" and gone.assignee is None
    return {"worker": worker, "staff": staff, "chief": chief, "gone": gone, "held": held}


def sign_in(page, user):
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))


def fits_width(page, width):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide at {width}px"


def look(page, directory, name, width):
    """Every page: fits, axe-clean, screenshotted."""
    fits_width(page, width)
    check_accessibility(page, f"{name}-{width}")
    page.screenshot(path=str(directory / f"worker-{name}-{width}.png"), full_page=True)


@pytest.mark.parametrize("viewport, phone", [(PHONE, True), (DESKTOP, False)], ids=["360", "1280"])
def test_a_worker_sees_the_escalation_notice_and_calls_a_revealed_number(seeded, open_page, screenshot_dir,
                                                                         viewport, phone):
    width = viewport["width"]
    worker, gone, held = seeded["worker"], seeded["gone"], seeded["held"]
    page = open_page(viewport, phone=phone)
    sign_in(page, worker)

    # The queue: the escalated case is gone from the list, and the notice says where and why.
    page.goto(page.base + reverse("cases:queue"))
    notice = page.locator(".left-queue")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(gone.number)
    expect(notice).to_contain_text("社区")
    expect(notice).to_contain_text("超过办理时限")
    expect(page.locator(f".case-list a[href='{reverse('cases:detail', args=[held.pk])}']")).to_be_visible()
    expect(page.locator(f".case-list a[href='{reverse('cases:detail', args=[gone.pk])}']")).to_have_count(0)
    if phone:
        # One compact header, a tab bar with the counts; the menu folded behind a button.
        nav_height = page.locator("header.site-header").bounding_box()["height"]
        assert nav_height < 130, f"the header is {nav_height}px tall at 360px"
        tabbar = page.locator("nav.tab-bar")
        expect(tabbar).to_be_visible()
        unread = Notification.objects.filter(user=worker, read_at__isnull=True).count()
        assert unread >= 1
        expect(tabbar.locator(f"a[href='{reverse('cases:queue')}'] .nav-badge")).to_have_text(re.compile(r"^1\D"))
        expect(tabbar.locator(f"a[href='{reverse('cases:inbox')}'] .nav-badge")).to_have_text(
            re.compile(rf"^{unread}\D"))
        expect(page.locator(".nav-menu > ul")).to_be_hidden()
        page.locator(".nav-menu > summary").click()
        expect(page.locator(f".nav-menu a[href='{reverse('cases:inbox')}']")).to_be_visible()
        page.locator(".nav-menu > summary").click()
    else:
        expect(page.locator("nav.tab-bar")).to_be_hidden()
        expect(page.locator(".nav-menu > summary")).to_be_hidden()
        expect(page.locator(f".main-nav a[href='{reverse('cases:queue')}']")).to_be_visible()
    look(page, screenshot_dir, "1-queue", width)

    # The inbox: the same notice, hers only.
    if phone:
        page.locator(f"nav.tab-bar a[href='{reverse('cases:inbox')}']").click()
    else:
        page.locator(f".main-nav a[href='{reverse('cases:inbox')}']").click()
    page.wait_for_url(page.base + reverse("cases:inbox"))
    item = page.locator(".notice-item", has_text="超过办理时限")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(gone.number)
    look(page, screenshot_dir, "2-inbox", width)
    page.locator("form[action='/inbox/read/'] button").click()
    expect(page.locator(".notice-item.is-unread")).to_have_count(0)

    # The case in hand: reveal the reporter's number and call it by its link.
    page.goto(page.base + reverse("cases:detail", args=[held.pk]))
    look(page, screenshot_dir, "3-case", width)
    reveal = page.locator("#reporter details.reveal:has(input[name='reporter_phone-field'])")
    reveal.locator("summary").click()
    reveal.locator("input[name$=reason]").fill("回访核实处理结果")
    reveal.locator("button[type=submit]").click()
    call = page.locator("#reporter a.revealed")
    expect(call).to_have_text(REPORTER_PHONE)
    expect(call).to_have_attribute("href", f"tel:{REPORTER_PHONE}")
    look(page, screenshot_dir, "4-case-revealed", width)

    # The patrol report form, its errors going once the field is fixed.
    page.goto(page.base + reverse("cases:patrol"))
    page.locator("form.case-form button[type=submit]").click()
    description = page.locator(".field-description")
    expect(description).to_have_class(re.compile(r"\bhas-error\b"))
    look(page, screenshot_dir, "5-patrol-errors", width)
    description.locator("textarea").fill("路灯不亮")
    expect(description.locator(".field-error")).to_be_hidden()
    expect(description).not_to_have_class(re.compile(r"\bhas-error\b"))
    expect(page.locator(".form-errors[data-generic]")).to_be_visible()  # the category is still wrong

    # A page that is not there: the portal's own Chinese page, at the phone's width.
    response = page.goto(page.base + "/cases/no-such-page/")
    assert response.status == 404
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator(".card h1")).to_be_visible()
    assert page.evaluate("window.innerWidth") == width
    look(page, screenshot_dir, "6-404", width)
    assert not page.csp_violations


@pytest.mark.parametrize("viewport, phone", [(PHONE, True), (DESKTOP, False)], ids=["360", "1280"])
def test_a_building_chief_reports_what_she_sees(seeded, open_page, screenshot_dir, viewport, phone, city):
    width = viewport["width"]
    page = open_page(viewport, phone=phone)
    sign_in(page, seeded["chief"])
    page.goto(page.base + reverse("home"))
    expect(page.locator(f"a[href='{reverse('cases:patrol')}']")).to_have_count(0)
    if phone:
        page.locator(f"nav.tab-bar a[href='{reverse('cases:chief_report')}']").click()
    else:
        page.locator(f".main-nav a[href='{reverse('cases:chief_report')}']").click()
    page.wait_for_url(page.base + reverse("cases:chief_report"))
    look(page, screenshot_dir, "7-chief-form", width)
    page.locator("select[name=category]").select_option("E0101")
    page.locator("select[name=place]").select_option(f"u{city.unit_a.pk}")
    page.locator("textarea[name=description]").fill("3楼楼道堆放杂物，堵住了消防通道")
    page.locator("form.case-form button[type=submit]").click()
    page.wait_for_url("**/track/**")
    case = Case.objects.get(reporter=seeded["chief"])
    assert (case.channel, case.unit) == (Channel.WEB, city.unit_a)
    copy = page.locator("button.copy-button")
    expect(copy).to_be_visible()
    code = page.locator("#tracking-code")
    assert page.evaluate("e => getComputedStyle(e).whiteSpace", code.element_handle()) == "nowrap"
    look(page, screenshot_dir, "8-chief-track", width)
    assert not page.csp_violations


@pytest.mark.parametrize("viewport, phone", [(PHONE, True), (DESKTOP, False)], ids=["360", "1280"])
def test_the_order_forms_radios_sit_beside_their_labels(city, open_page, screenshot_dir, viewport, phone):
    page = open_page(viewport, phone=phone)
    page.goto(page.base + reverse("volunteers:order_place"))
    radio = page.locator("input[type=radio]").first
    label = page.locator("label:has(> input[type=radio])").first
    radio_box, label_box = radio.bounding_box(), label.bounding_box()
    # The circle is inside its label's row, vertically centred on it (not a line above the text).
    assert label_box["y"] <= radio_box["y"] and radio_box["y"] + radio_box["height"] <= label_box["y"] + label_box[
        "height"]
    assert label_box["height"] < 60
    page.screenshot(path=str(screenshot_dir / f"worker-9-order-radios-{viewport['width']}.png"), full_page=False)
