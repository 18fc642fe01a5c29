"""The pages in a real browser: a grid worker on a phone, staff at a desk.

Each page a grid worker sees must fit 360 px without sideways scrolling, show
Chinese (not tofu), and raise no CSP violation. Screenshots go to
test-artifacts/screenshots/ for a person to look at.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from grid import services
from grid.models import Role

from ..factories import build_city, user_with_post

PASSWORD = "pw-Portal-2026"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city(live_server):
    return build_city()


def fits_width(page, width):
    """No sideways scrolling: the document is no wider than the screen."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide at {width}px"


def sign_in(page, username):
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))


def shoot(page, directory, name):
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def test_grid_worker_on_a_phone(city, open_page, screenshot_dir):
    worker = user_with_post(Role.GRID_WORKER, city.grid_a, full_name="网格员丁", phone="13812345678")
    user_with_post(Role.GRID_CHIEF, city.grid_a, full_name="网格长戊")
    user_with_post(Role.BUILDING_CHIEF, city.building_a, full_name="楼栋长己")
    user_with_post(Role.UNIT_CHIEF, city.unit_a, full_name="单元长庚")
    # Enough buildings for a second page, one with a long address: neither may widen the page.
    for n in range(2, 56):
        services.building_add(grid=city.grid_a, number=f"{n}号楼", address="幸福路" + "长长的" * 12 + f"{n}号")
    page = open_page(PHONE, phone=True)

    page.goto(page.base + reverse("home"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    fits_width(page, PHONE["width"])
    shoot(page, screenshot_dir, "phone-1-landing")

    page.goto(page.base + reverse("login"))
    fits_width(page, PHONE["width"])
    shoot(page, screenshot_dir, "phone-2-login")
    sign_in(page, worker.username)

    expect(page.locator("h1")).to_have_text("网格员丁")
    expect(page.locator(".posts")).to_contain_text("城关区 › 城北街道 › 幸福社区 › 幸福第一网格")
    expect(page.get_by_text("138****5678")).to_be_visible()
    assert "13812345678" not in page.content()
    fits_width(page, PHONE["width"])
    shoot(page, screenshot_dir, "phone-3-home")

    page.locator(".tiles").get_by_role("link", name="幸福第一网格").click()
    page.wait_for_url(page.base + reverse("place", args=[city.grid_a.pk]))
    expect(page.locator("h1")).to_have_text("幸福第一网格")
    expect(page.locator(".people")).to_contain_text("网格长戊")
    expect(page.locator(".pagination")).to_be_visible()
    fits_width(page, PHONE["width"])
    shoot(page, screenshot_dir, "phone-4-grid")

    building_url = reverse("building", args=[city.building_a.pk])
    page.locator(f"a[href='{building_url}']").click()
    page.wait_for_url(page.base + building_url)
    expect(page.locator(".units")).to_contain_text("单元长庚")
    expect(page.locator("main")).to_contain_text("楼栋长己")
    fits_width(page, PHONE["width"])
    shoot(page, screenshot_dir, "phone-5-building")

    # The language switcher is a plain form: it works under the CSP with no script.
    page.locator(".lang-switch button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".lang-switch button[value=en]")).to_have_attribute("aria-pressed", "true")
    fits_width(page, PHONE["width"])

    page.locator(".account button").click()
    page.wait_for_url(page.base + reverse("login"))
    assert page.csp_violations == []


def test_community_staff_at_a_desk(city, open_page, screenshot_dir):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, full_name="社区干部丙", phone="13900001111")
    user_with_post(Role.GRID_WORKER, city.grid_a, full_name="网格员丁", phone="13812345678")
    page = open_page(DESKTOP)

    page.goto(page.base + reverse("home"))
    shoot(page, screenshot_dir, "desktop-1-landing")

    sign_in(page, staff.username)
    expect(page.locator("body")).to_have_class("layout-staff")
    expect(page.locator(".main-nav a[href='/admin/']")).to_be_visible()
    shoot(page, screenshot_dir, "desktop-2-home")

    page.locator(".tiles").get_by_role("link", name="幸福社区").click()
    expect(page.locator("h1")).to_have_text("幸福社区")
    expect(page.locator("main")).to_contain_text("幸福第二网格")
    fits_width(page, DESKTOP["width"])
    shoot(page, screenshot_dir, "desktop-3-community")
    assert page.csp_violations == []


def test_district_official_on_a_wide_screen(city, open_page, screenshot_dir):
    official = user_with_post(Role.DISTRICT_OFFICIAL, city.district, full_name="区领导甲")
    page = open_page(DESKTOP)
    sign_in(page, official.username)
    expect(page.locator("body")).to_have_class("layout-official")
    page.locator(".tiles").get_by_role("link", name="城关区").click()
    expect(page.locator("main")).to_contain_text("城北街道")
    fits_width(page, DESKTOP["width"])
    shoot(page, screenshot_dir, "desktop-4-district")
    assert page.csp_violations == []
