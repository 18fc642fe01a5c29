"""Issue #20 items 5-6 in a real browser: the reporter on a case page (masked, revealed with a
reason) on a phone and a desk, and the register of processing activities for administrators.
Screenshots go to test-artifacts/screenshots/ for a person to look at."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Channel
from cases.services_report import case_report
from grid.models import Role
from grid.privacy.models import PersonalDataAccess

from ..cases_factories import category
from ..factories import UserFactory, build_city, user_with_post

PASSWORD = "pw-Portal-2026"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
REPORTER_PHONE = "13912345678"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city(live_server):
    return build_city()


def sign_in(page, user):
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))


def fits_width(page, width):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide at {width}px"


@pytest.mark.parametrize("viewport, phone", [(PHONE, True), (DESKTOP, False)], ids=["360", "1280"])
def test_reporter_masked_then_revealed_with_a_reason(city, open_page, screenshot_dir, viewport, phone):
    worker = user_with_post(Role.GRID_WORKER, city.grid_a, full_name="网格员丁")
    case = case_report(category=category("E0101"), channel=Channel.WEB, building=city.building_a,
                       description="楼道灯不亮", reporter_name="欧阳娜娜", reporter_phone=REPORTER_PHONE)
    page = open_page(viewport, phone=phone)
    sign_in(page, worker)
    page.goto(page.base + reverse("cases:detail", args=[case.pk]))
    expect(page.locator("#reporter")).to_contain_text("欧***")
    expect(page.locator("#reporter")).to_contain_text("139****5678")
    assert REPORTER_PHONE not in page.content() and "欧阳娜娜" not in page.content()
    fits_width(page, viewport["width"])
    width = viewport["width"]
    page.screenshot(path=str(screenshot_dir / f"privacy-{width}-1-case-masked.png"), full_page=True)
    reveal = page.locator("#reporter details").nth(1)
    reveal.locator("summary").click()
    reveal.locator("input[name$=reason]").fill("回访核实处理结果")
    reveal.locator("button[type=submit]").click()
    expect(page.locator("#reporter .revealed")).to_have_text(REPORTER_PHONE)
    assert PersonalDataAccess.objects.filter(actor=worker, field="reporter_phone").count() == 1
    fits_width(page, width)
    page.screenshot(path=str(screenshot_dir / f"privacy-{width}-2-case-revealed.png"), full_page=True)
    assert not page.csp_violations


@pytest.mark.parametrize("viewport, phone", [(PHONE, True), (DESKTOP, False)], ids=["360", "1280"])
def test_register_of_processing_activities(city, open_page, screenshot_dir, viewport, phone):
    root = UserFactory(is_superuser=True, is_staff=True, username="root-register")
    page = open_page(viewport, phone=phone)
    sign_in(page, root)
    page.goto(page.base + reverse("privacy:register"))
    expect(page.locator("h1")).to_contain_text("个人信息处理活动记录")
    expect(page.locator("body")).to_contain_text("PERSONAL_DATA_RETENTION_DAYS")
    fits_width(page, viewport["width"])
    page.screenshot(path=str(screenshot_dir / f"privacy-{viewport['width']}-3-register.png"), full_page=True)
    assert not page.csp_violations
