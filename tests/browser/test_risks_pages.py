"""The grid worker's day at 360 px in a real browser: open the day, start a patrol, record a risk
graded orange, fix a problem on the spot with a photo before and after, end the patrol. The pages
must fit the phone without sideways scrolling and raise no CSP violation. Screenshots go to
test-artifacts/screenshots/ for a person to look at."""

import io

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from grid.models import Role
from risks.models import Finding, FindingKind, Patrol, Risk

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


def test_a_worker_walks_her_patrol_at_phone_width(live_server, open_page, screenshot_dir):
    city = build_city()
    worker = user_with_post(Role.GRID_WORKER, city.grid_a, full_name="网格员丁")
    page = open_page(PHONE, phone=True)
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(worker.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))

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
