"""The whole loop of a matter in a real browser (Debian's chromium through Playwright):

a resident reports on a phone → gets a tracking code → community staff
register it at a desk (routing dispatches it to the grid worker) → the grid
worker accepts and resolves it with a photo on the phone → community staff (not
the handler) verify it and close it → the resident opens the tracking page and
rates it.

Every phone page must fit 360 px without sideways scrolling; no page may raise
a CSP violation. Screenshots of each step go to test-artifacts/screenshots/.
The assertions read the data and the page's structure, not English labels, so
they hold once the Chinese catalogue is compiled.
"""

import io
import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Case, Status
from cases.seed import load_reference_data
from grid.models import Role
from portal.workcalendar import calendar as working_calendar

from ..factories import build_city, user_with_post

PASSWORD = "pw-Portal-2026"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def png_bytes(color=(60, 140, 60), size=(640, 480)):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    draw.rectangle([size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4], fill=(230, 230, 230))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def city(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    # A transactional test before this one may have flushed the migrated categories and
    # calendar (serialized rollback does not always restore them with in-memory SQLite).
    load_reference_data()
    working_calendar.invalidate()
    return build_city()


def fits_width(page, width):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""w => Array.from(document.querySelectorAll('body *'))
        .filter(e => e.getBoundingClientRect().right > w)
        .map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))
        .slice(0, 12)""", width)
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide at {width}px: {wide}"


def sign_in(page, username):
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))


def shoot(page, directory, name):
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def open_action(page, case, name):
    """Unfold the action's <details> on the case page and return its form."""
    form = page.locator(f"form[action='{reverse('cases:act', args=[case.pk, name])}']")
    details = page.locator(f"details:has(form[action='{reverse('cases:act', args=[case.pk, name])}'])")
    if details.count() and details.get_attribute("open") is None:
        details.locator("> summary").click()
    expect(form).to_be_visible()
    return form


def test_a_matter_from_report_to_rating(city, open_page, screenshot_dir):
    worker = user_with_post(Role.GRID_WORKER, city.grid_a, full_name="网格员丁", phone="13812345678")
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, full_name="社区干部丙")

    # 1. A resident reports on a phone, choosing the place street → community → grid → building.
    resident = open_page(PHONE, phone=True)
    resident.goto(resident.base + reverse("cases:report"))
    expect(resident.locator("html")).to_have_attribute("lang", "zh-hans")
    # JavaScript fills the selects: the no-script "show the places" button is hidden.
    expect(resident.locator("button[name=_refine]")).to_be_hidden()
    resident.locator("select[name=category]").select_option("E0101")
    resident.locator("select[name=street]").select_option(str(city.street_a.pk))
    # The street has one community: it is chosen automatically and its grids are offered.
    expect(resident.locator("select[name=community]")).to_have_value(str(city.community_a.pk))
    expect(resident.locator(f"select[name=grid] option[value='{city.grid_a.pk}']")).to_be_attached()
    resident.locator("select[name=grid]").select_option(str(city.grid_a.pk))
    expect(resident.locator(f"select[name=building] option[value='{city.building_a.pk}']")).to_be_attached()
    resident.locator("select[name=building]").select_option(str(city.building_a.pk))
    resident.locator("textarea[name=description]").fill("幸福路1号楼东侧有一堆暴露垃圾，已经两天没人清理。")
    resident.locator("input[name=photo]").set_input_files(
        files=[{"name": "garbage.png", "mimeType": "image/png", "buffer": png_bytes((120, 90, 40))}]
    )
    resident.locator("input[name=reporter_name]").fill("李阿姨")
    resident.locator("input[name=reporter_phone]").fill("13912345678")
    fits_width(resident, PHONE["width"])
    shoot(resident, screenshot_dir, "case-1-report-phone")
    resident.locator("form.case-form button.button-primary").click()

    resident.wait_for_url(re.compile(r"/report/done/"))
    code_shown = resident.locator(".tracking-code").inner_text().strip()
    case = Case.objects.get()
    assert code_shown == case.tracking_code_display
    assert case.status == Status.REPORTED and case.photos.count() == 1
    fits_width(resident, PHONE["width"])
    shoot(resident, screenshot_dir, "case-2-tracking-code-phone")

    # 2. Community staff register it at a desk; routing dispatches it to the grid worker.
    desk = open_page(DESKTOP)
    sign_in(desk, staff.username)
    desk.goto(desk.base + reverse("cases:board"))
    expect(desk.locator("body")).to_have_class("layout-staff")
    row_link = desk.locator(f"a[href='{reverse('cases:detail', args=[case.pk])}']")
    expect(row_link).to_have_text(case.number)
    shoot(desk, screenshot_dir, "case-3-board-desktop")
    row_link.click()
    expect(desk.locator(".photos img")).to_have_count(1)
    shoot(desk, screenshot_dir, "case-4-register-desktop")
    open_action(desk, case, "register").locator("button[type=submit]").first.click()
    expect(desk.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.assignee == worker

    # 3. The grid worker, on a phone, accepts with one tap and resolves with a photo.
    phone = open_page(PHONE, phone=True)
    sign_in(phone, worker.username)
    phone.goto(phone.base + reverse("cases:queue"))
    expect(phone.locator(".case-item")).to_have_count(1)
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "case-5-queue-phone")
    phone.locator(".quick-accept button").click()
    phone.wait_for_url(phone.base + reverse("cases:detail", args=[case.pk]))
    expect(phone.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.HANDLING
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "case-6-case-phone")
    resolve = open_action(phone, case, "resolve")
    resolve.locator("textarea").fill("已联系环卫清运，现场已清理干净。")
    resolve.locator("input[type=file]").set_input_files(
        files=[{"name": "cleaned.png", "mimeType": "image/png", "buffer": png_bytes((40, 160, 60))}]
    )
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "case-7-resolve-phone")
    resolve.locator("button[type=submit]").first.click()
    expect(phone.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.resolved_by == worker
    expect(phone.locator(".photos img")).to_have_count(2)
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "case-8-resolved-phone")

    # 4. Community staff (not the handler) verify on site and close, at a desk.
    desk.goto(desk.base + reverse("cases:detail", args=[case.pk]))
    verify = open_action(desk, case, "verify")
    verify.locator("textarea").fill("现场核查：已清理。")
    shoot(desk, screenshot_dir, "case-9-verify-desktop")
    verify.locator("button[type=submit]").first.click()
    expect(desk.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.VERIFIED
    open_action(desk, case, "close").locator("button[type=submit]").first.click()
    expect(desk.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    fits_width(desk, DESKTOP["width"])
    shoot(desk, screenshot_dir, "case-10-closed-desktop")

    # 5. The resident opens the tracking page (typing the code) and rates.
    resident.goto(resident.base + reverse("cases:track_lookup"))
    resident.locator("input[name=code]").fill(code_shown.lower())
    resident.locator("form.stack button[type=submit]").click()
    resident.wait_for_url(resident.base + reverse("cases:track", args=[case.tracking_code]))
    expect(resident.locator(".badge.status-closed")).to_be_visible()
    content = resident.content()
    assert "网格员丁" not in content and "社区干部丙" not in content and "13912345678" not in content
    # The public timeline shows the report and the result photo.
    expect(resident.locator(".timeline .photos img")).to_have_count(2)
    resident.locator("input[name=rating][value='5']").check()
    resident.locator("textarea[name=comment]").fill("处理很及时，谢谢！")
    shoot(resident, screenshot_dir, "case-11-rate-phone")
    fits_width(resident, PHONE["width"])
    shoot(resident, screenshot_dir, "case-11-rate-phone")
    resident.locator("form[action$='/rate/'] button[type=submit]").click()
    expect(resident.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.rating == 5 and case.rating_comment == "处理很及时，谢谢！"
    expect(resident.locator("input[name=rating]")).to_have_count(0)
    fits_width(resident, PHONE["width"])
    shoot(resident, screenshot_dir, "case-12-rated-phone")

    for page in (resident, desk, phone):
        assert page.csp_violations == []


def test_report_without_javascript_still_works(city, new_context, live_server, screenshot_dir):
    """The "show the places" button walks the selects one level at a time when scripts are off."""
    context = new_context(viewport=PHONE, java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + reverse("cases:report"))
    page.locator("select[name=category]").select_option("E0302")
    page.locator("select[name=street]").select_option(str(city.street_b.pk))
    page.locator("button[name=_refine]").click()
    page.locator("select[name=community]").select_option(str(city.community_b.pk))
    page.locator("button[name=_refine]").click()
    page.locator("select[name=grid]").select_option(str(city.grid_b.pk))
    page.locator("button[name=_refine]").click()
    page.locator("select[name=building]").select_option(str(city.building_b.pk))
    page.locator("textarea[name=description]").fill("9号楼门口机动车乱停放")
    fits_width(page, PHONE["width"])
    page.locator("form.case-form button.button-primary").click()
    page.wait_for_url(re.compile(r"/report/done/"))
    case = Case.objects.get()
    assert case.building == city.building_b and case.grid_id == city.grid_b.pk


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_report_still_being_registered_shows_as_received(city, open_page, screenshot_dir, viewport):
    """Between the report and the worker's registration (a second, or longer with the broker
    down) the resident's pages say the report is received; then the case appears."""
    from unittest import mock

    from cases import services_intake
    from cases.models import Intake

    page = open_page(viewport, phone=viewport is PHONE)
    page.goto(page.base + reverse("cases:report_building", args=[city.building_a.pk]))
    page.locator("select[name=category]").select_option("E0101")
    page.locator("textarea[name=description]").fill("楼道灯坏了三盏，晚上看不清台阶。")
    with mock.patch.object(services_intake, "_kick"):  # the worker has not come by yet
        page.locator("form.case-form button.button-primary").click()
        page.wait_for_url(re.compile(r"/report/done/"))
    received = Intake.objects.get()
    expect(page.locator(".tracking-code")).to_have_text(received.tracking_code_display)
    expect(page.locator("main")).to_contain_text("系统稍后会生成案件编号")
    expect(page.locator("main")).to_contain_text("之后由社区审核立案")
    name = "phone" if viewport is PHONE else "desktop"
    fits_width(page, viewport["width"])
    shoot(page, screenshot_dir, f"case-received-1-done-{name}")

    page.goto(page.base + reverse("cases:track", args=[received.tracking_code]))
    expect(page.locator(".badge-status")).to_have_text("已收件")
    expect(page.locator("main")).to_contain_text("楼道灯坏了三盏")
    fits_width(page, viewport["width"])
    shoot(page, screenshot_dir, f"case-received-2-track-{name}")

    assert services_intake.intake_register_pending() == 1
    page.reload()
    case = Case.objects.get(tracking_code=received.tracking_code)
    expect(page.locator("main")).to_contain_text(case.number)
    shoot(page, screenshot_dir, f"case-received-3-registered-{name}")
