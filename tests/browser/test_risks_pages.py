"""The grid worker's day at 360 px in a real browser: open the day, start a patrol, record a risk
graded orange, fix a problem on the spot with a photo before and after, end the patrol; the risk's
review comes due, the warning sweep raises a warning, and the street acknowledges it on the warnings
panel at 360 px (issue #19's "Done when"). The pages
must fit the phone without sideways scrolling and raise no CSP violation. Screenshots go to
test-artifacts/screenshots/ for a person to look at."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from grid.models import Role
from risks import early_warning
from risks.models import EarlyWarning, Finding, FindingKind, Patrol, Risk, WarningStatus

from ..factories import build_city, user_with_post

PASSWORD = "pw-Portal-2026"
PHONE = {"width": 360, "height": 740}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def png_bytes(colour):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buffer, format="PNG")
    return {"name": "p.png", "mimeType": "image/png", "buffer": buffer.getvalue()}


def fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")


def sign_in(open_page, user, viewport=PHONE):
    page = open_page(viewport, phone=viewport is PHONE)
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))
    return page


def test_a_worker_walks_her_patrol_at_phone_width(live_server, open_page, screenshot_dir):
    # A transactional test after another finds the tables flushed, the data migration's
    # default ten duties with them: put them back (as the migration does).
    from risks.duties import load_default_duties

    load_default_duties()
    city = build_city()
    worker = user_with_post(Role.GRID_WORKER, city.grid_a, full_name="网格员丁")
    street = user_with_post(Role.STREET_STAFF, city.street_a, full_name="街道干部戊")
    page = sign_in(open_page, worker)

    page.goto(page.base + reverse("risks:day"))
    fits(page)
    page.get_by_role("button", name="开始巡查").click()
    expect(page.get_by_role("link", name="即时处置")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "risks-day-360.png"), full_page=True)

    page.get_by_role("link", name="风险隐患").click()
    page.locator("select[name=kind]").select_option("fire_lane")
    page.locator("select[name=place]").select_option(f"b{city.building_a.pk}")
    page.locator("input[name=title]").fill("消防通道堆放杂物")
    page.locator("textarea[name=description]").fill("一楼楼道堆放纸箱")
    page.locator("select[name=likelihood]").select_option("4")
    page.locator("select[name=severity]").select_option("4")
    page.locator("input[name=responsible]").fill("幸福物业")
    page.locator("textarea[name=measures]").fill("通知物业清理")
    page.locator("input[name=photo]").set_input_files(png_bytes((200, 40, 40)))
    fits(page)
    page.screenshot(path=str(screenshot_dir / "risks-new-360.png"), full_page=True)
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".grade-orange").first).to_be_visible()

    page.get_by_role("link", name="即时处置").click()
    page.locator("textarea[name=description]").fill("扶正倒伏的垃圾桶")
    page.locator("input[name=before]").set_input_files(png_bytes((90, 90, 90)))
    page.locator("input[name=after]").set_input_files(png_bytes((30, 160, 60)))
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("即时处置").first).to_be_visible()
    fits(page)
    page.screenshot(path=str(screenshot_dir / "risks-patrol-360.png"), full_page=True)

    page.get_by_role("button", name="结束巡查").click()
    expect(page.get_by_role("button", name="开始巡查")).to_be_visible()
    assert page.csp_violations == []
    patrol = Patrol.objects.get()
    assert patrol.ended_at is not None
    assert Risk.objects.get().grade == "2orange"
    assert Finding.objects.filter(patrol=patrol, kind=FindingKind.FIXED).count() == 1
    assert Finding.objects.filter(patrol=patrol, kind=FindingKind.RISK_NEW).count() == 1

    # The register with its filter, at phone width: each control a thumb's height, the status
    # said as the register says it (未销号, not the dashboards' 未办结数).
    page.goto(page.base + reverse("risks:list"))
    expect(page.get_by_text("消防通道堆放杂物")).to_be_visible()
    fits(page)
    for control in ("select[name=grade]", "select[name=status]", "form.filters label.check",
                    "form.filters button"):
        assert page.locator(control).bounding_box()["height"] >= 44, control
    assert page.locator("select[name=status] option:checked").inner_text() == "未销号"
    page.locator("form.filters label.check").click()
    assert page.locator("input[name=overdue]").is_checked()  # the whole row toggles it
    page.screenshot(path=str(screenshot_dir / "risks-list-360.png"), full_page=True)

    # The orange risk's review (15 days) comes due and passes; the hourly sweep raises a warning.
    risk = Risk.objects.get()
    early_warning.warnings_sweep(now=risk.created_at + timedelta(days=16))
    warning = EarlyWarning.objects.get(risk=risk)
    page = sign_in(open_page, street)
    page.goto(page.base + reverse("risks:warnings"))
    fits(page)
    page.screenshot(path=str(screenshot_dir / "risks-warnings-360.png"), full_page=True)
    page.locator(f"a[href='{reverse('risks:warning', args=[warning.pk])}']").click()
    page.locator("textarea[name=note]").fill("已通知物业三日内清理，周五复查")
    fits(page)
    page.screenshot(path=str(screenshot_dir / "risks-warning-360.png"), full_page=True)
    page.get_by_role("button", name="签收", exact=True).click()
    expect(page.get_by_text("预警已签收")).to_be_visible()
    assert page.csp_violations == []
    warning.refresh_from_db()
    assert (warning.status, warning.handled_by) == (WarningStatus.ACKNOWLEDGED, street)

    # At desktop width: the handled warning, and the worker's month as her community prints it.
    desk = sign_in(open_page, street, {"width": 1280, "height": 800})
    desk.goto(desk.base + reverse("risks:warnings") + "?status=acknowledged")
    expect(desk.get_by_text("已通知物业三日内清理")).to_be_visible()
    desk.screenshot(path=str(screenshot_dir / "risks-warnings-desktop.png"), full_page=True)
    desk.goto(desk.base + reverse("risks:list"))
    expect(desk.get_by_text("消防通道堆放杂物")).to_be_visible()
    desk.screenshot(path=str(screenshot_dir / "risks-list-desktop.png"), full_page=True)
    desk.goto(desk.base + reverse("cases:work_record", args=[worker.pk]))
    expect(desk.get_by_text("安全隐患排查")).to_be_visible()
    desk.screenshot(path=str(screenshot_dir / "risks-work-record-desktop.png"), full_page=True)
    assert desk.csp_violations == []
