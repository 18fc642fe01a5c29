"""Community staff work a case entirely in the admin (issue #21), in a real browser.

A resident's report waits on the admin index's to-do → staff register it on the case's
admin page (routing hands it to the grid worker) → the worker returns it (the phone's
part, through the services here) → staff dispatch it again from a phone at 360 px → the
worker resolves it with a photo → staff verify it on the phone, the photos shown as
thumbnails through the scoped view → and close it at a 1280 px desk, back to a case list
whose status column stays on one line.

Screenshots of each step go to test-artifacts/screenshots/admin-*.png. The assertions read
the data and the page's structure; the Chinese they check is the catalogue's.
"""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases import services
from cases.models import Case, Status
from cases.seed import load_reference_data
from grid.models import Role
from portal.workcalendar import calendar as working_calendar

from ..cases_factories import png, resident_report
from ..factories import build_city, user_with_post
from .axe import check_accessibility
from .test_case_loop import DESKTOP, PASSWORD, PHONE, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def city(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    load_reference_data()
    working_calendar.invalidate()
    return build_city()


def sign_in(page, username):
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))


def shoot(page, directory, name):
    """Screenshot, and the axe check of the same page (issue #21: every page it names, both widths)."""
    page.screenshot(path=str(directory / f"admin-{name}.png"), full_page=True)
    check_accessibility(page, f"admin-{name}")


def move_form(page, case, name):
    """Unfold the move's <details> on the case's admin page and return its form."""
    url = reverse("admin:cases_case_act", args=[case.pk, name])
    form = page.locator(f"form[action='{url}']")
    details = page.locator(f"details:has(form[action='{url}'])")
    if details.count() and details.get_attribute("open") is None:
        details.locator("> summary").click()
    expect(form).to_be_visible()
    return form


def panel_fits(page, width):
    right = page.evaluate("() => document.querySelector('.portal-workflow').getBoundingClientRect().right")
    assert right <= width, f"the moves are {right}px wide at {width}px"


def one_line(page, selector):
    """Every cell matching `selector` shows its text on one line (its text's boxes share one top)."""
    lines = page.evaluate("""sel => Array.from(document.querySelectorAll(sel)).map(cell => {
        const tops = new Set(), walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) {
            if (!walker.currentNode.textContent.trim()) continue;
            const range = document.createRange(); range.selectNodeContents(walker.currentNode);
            for (const r of range.getClientRects()) tops.add(Math.round(r.top));
        }
        return tops.size; })""", selector)
    assert lines and max(lines) == 1, lines


def thumbnails_loaded(page):
    """Each thumbnail's picture, fetched through the scoped view: its HTTP status and whether it drew."""
    page.locator(".portal-thumb img").last.scroll_into_view_if_needed()
    page.wait_for_function("""() => Array.from(document.querySelectorAll('.portal-thumb img'))
        .every(img => img.complete)""")
    return page.evaluate("""async () => Promise.all(Array.from(document.querySelectorAll('.portal-thumb img'))
        .map(async img => [(await fetch(img.src)).status, img.naturalWidth > 0]))""")


def test_staff_register_dispatch_verify_and_close_in_the_admin(city, open_page, screenshot_dir):
    worker = user_with_post(Role.GRID_WORKER, city.grid_a, full_name="网格员丁")
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, full_name="社区干部丙")
    case = resident_report(city, now=timezone.now(), photos=[png("garbage.png", size=(320, 240), color=(120, 90, 40))])
    assert case.status == Status.REPORTED
    change = reverse("admin:cases_case_change", args=[case.pk])

    # 1. At a desk: the index greets her by name, the day's work first; she registers the report.
    desk = open_page(DESKTOP)
    sign_in(desk, staff.username)
    desk.goto(desk.base + reverse("admin:index"))
    expect(desk.locator("#site-name")).to_contain_text("网格化社会治理")
    expect(desk.locator("#user-tools strong")).to_have_text("社区干部丙")
    first = desk.locator("#content-main .module").first
    expect(first.locator("caption")).to_contain_text("今日待办")
    expect(desk.locator("#content-main")).not_to_contain_text("发件箱")
    shoot(desk, screenshot_dir, "1-index-desktop")
    first.locator("a", has_text="待立案（1）").click()
    # At 1280 px the navigation sidebar starts folded: the list gets the width the filters leave.
    expect(desk.locator("#nav-sidebar")).to_have_attribute("aria-expanded", "false")
    assert desk.locator("#changelist .results").bounding_box()["width"] > 850
    shoot(desk, screenshot_dir, "1b-list-desktop")
    desk.locator("#toggle-nav-sidebar").click()  # « opens it, and the choice is kept
    desk.reload()
    expect(desk.locator("#nav-sidebar")).to_have_attribute("aria-expanded", "true")
    desk.locator(f"#result_list a[href^='{change}']").click()
    desk.wait_for_url(re.compile(re.escape(change)))
    expect(desk.locator("h1")).to_have_text(f"案件 {case.number}")
    expect(desk.locator(".portal-thumb img")).to_have_count(1)
    assert thumbnails_loaded(desk) == [[200, True]]
    shoot(desk, screenshot_dir, "2-register-desktop")
    move_form(desk, case, "register").locator("button[type=submit]").first.click()
    expect(desk.locator(".messagelist .success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.assignee == worker

    # The worker, on her phone elsewhere, hands it back: not her grid's matter.
    services.case_return(case=case, acting_user=worker, reason="不是本网格的事", now=timezone.now())

    # 2. On a phone: staff dispatch it again, naming the worker.
    phone = open_page(PHONE, phone=True)
    sign_in(phone, staff.username)
    phone.goto(phone.base + change)
    dispatch = move_form(phone, case, "dispatch")
    dispatch.locator("select").select_option(f"u{worker.pk}")
    dispatch.locator("textarea").fill("请再核实一下位置后处理。")
    panel_fits(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "3-dispatch-phone")
    dispatch.locator("button[type=submit]").first.click()
    expect(phone.locator(".messagelist .success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.assignee == worker

    # The worker accepts and resolves with a photo (her phone's pages, not the admin's).
    case = services.case_accept(case=case, acting_user=worker, now=timezone.now())
    case = services.case_resolve(case=case, acting_user=worker, note="已清理", now=timezone.now(),
                                 photos=[png("cleaned.png", size=(320, 240), color=(40, 160, 60))])

    # 3. On the phone: staff verify on site, with a photo of their own; the photos are thumbnails.
    phone.goto(phone.base + change)
    expect(phone.locator(".portal-thumb img")).to_have_count(2)
    verify = move_form(phone, case, "verify")
    verify.locator("textarea").fill("现场核查：已清理干净。")
    verify.locator("input[type=file]").set_input_files(
        files=[{"name": "checked.png", "mimeType": "image/png", "buffer": png_bytes((60, 120, 200))}])
    panel_fits(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "4-verify-phone")
    verify.locator("button[type=submit]").first.click()
    expect(phone.locator(".messagelist .success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.VERIFIED
    expect(phone.locator(".portal-thumb img")).to_have_count(3)
    assert thumbnails_loaded(phone) == [[200, True]] * 3
    shoot(phone, screenshot_dir, "5-verified-phone")

    # 4. At the desk: she closes it; the case list's status column stays on one line.
    desk.goto(desk.base + change)
    move_form(desk, case, "close").locator("button[type=submit]").first.click()
    expect(desk.locator(".messagelist .success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    # Closed: no close button any more; what the table still allows (reopen) is offered.
    expect(desk.locator(f"form[action='{reverse('admin:cases_case_act', args=[case.pk, 'close'])}']")).to_have_count(0)
    expect(desk.locator(f"form[action='{reverse('admin:cases_case_act', args=[case.pk, 'reopen'])}']")).to_have_count(1)
    shoot(desk, screenshot_dir, "6-closed-desktop")
    desk.goto(desk.base + reverse("admin:cases_case_changelist"))
    shoot(desk, screenshot_dir, "7-case-list-desktop")
    one_line(desk, "#result_list td.field-status")
    one_line(desk, "#result_list th.column-status .text")
    one_line(desk, "#result_list th.column-due_at .text")
    phone.goto(phone.base + reverse("admin:index"))
    shoot(phone, screenshot_dir, "8-index-phone")

    assert Case.objects.get(pk=case.pk).events.filter(action="close").exists()
    assert desk.csp_violations == [] and phone.csp_violations == []
