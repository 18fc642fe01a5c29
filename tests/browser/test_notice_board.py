"""Print a building's notice board (公示牌), scan its QR target, land on the report form.

In Debian's chromium: the board at A4 with print media (one sheet, no portal
navigation, the chiefs' names and phones, the QR code), the same page on a
360 px phone (no sideways scrolling, Chinese rendered), a community's boards
printed in one go as a PDF with one page per building; then the QR target
(read from the data attribute beside the code, which the server tests prove
is what the code encodes) opened as a resident with no account would: the
report form with the building filled in. Screenshots go to
test-artifacts/screenshots/.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from grid import services
from grid.models import Role
from residents import boards

from ..factories import build_city, user_with_post
from .test_pages import PASSWORD, fits_width, shoot

PHONE = {"width": 360, "height": 740}
# A4 at 96 CSS px per inch: 210 mm × 297 mm.
A4 = {"width": 794, "height": 1123}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city(live_server):
    return build_city()


@pytest.fixture
def team(city):
    return {
        "worker": user_with_post(Role.GRID_WORKER, city.grid_a, full_name="网格员甲", phone="13900000001"),
        "grid_chief": user_with_post(Role.GRID_CHIEF, city.grid_a, full_name="网格长乙", phone="13900000002"),
        "building_chief": user_with_post(Role.BUILDING_CHIEF, city.building_a, full_name="楼栋长丙",
                                         phone="13900000003"),
        "unit_chief": user_with_post(Role.UNIT_CHIEF, city.unit_a, full_name="单元长丁", phone="13900000004"),
        "staff": user_with_post(Role.COMMUNITY_STAFF, city.community_a, full_name="社区员戊"),
    }


def sign_in(page, username):
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))


def test_print_a_board_scan_its_qr_and_land_on_the_report_form(city, team, open_page, screenshot_dir):
    page = open_page(A4)
    sign_in(page, team["building_chief"].username)
    page.goto(page.base + reverse("residents:board", args=[city.building_a.pk]))
    page.emulate_media(media="print")

    sheet = page.locator("article.sheet")
    expect(sheet).to_have_count(1)
    for name, phone in (("网格员甲", "13900000001"), ("网格长乙", "13900000002"), ("楼栋长丙", "13900000003"),
                        ("单元长丁", "13900000004")):
        expect(sheet).to_contain_text(name)
        expect(sheet).to_contain_text(phone)
    for number in ("96116", "95598", "96777", "12345"):
        expect(sheet).to_contain_text(number)
    # Printed, the board stands alone: no header, navigation, footer or page tools.
    for selector in (".site-header", ".site-footer", ".board-tools"):
        expect(page.locator(selector).first).to_be_hidden()
    qr = page.locator(".sheet-qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box["width"] >= 180 and abs(box["width"] - box["height"]) < 2  # ~58 mm, square
    assert not page.csp_violations, page.csp_violations
    shoot(page, screenshot_dir, "board-1-print-a4")
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1  # the whole board on one A4 sheet

    target = page.locator(".sheet-qr").get_attribute("data-qr-target")
    expected = page.base + reverse("cases:report_building", args=[city.building_a.pk])
    assert target == expected
    # What the data attribute says is what the code encodes: the same symbol segno makes for it.
    # (The browser reserialises the markup; the modules drawn are the path's data and the viewBox.)
    made = str(boards.qr_svg(target))
    assert page.locator(".sheet-qr svg path").get_attribute("d") == re.search(r' d="([^"]+)"', made).group(1)
    assert qr.get_attribute("viewBox") == re.search(r'viewBox="([^"]+)"', made).group(1)

    # A resident scans the code: no account, a fresh browser.
    resident = open_page(PHONE, phone=True)
    resident.goto(target)
    expect(resident.locator("h1")).to_have_text(re.compile("反映问题|Report a matter|报告"))
    fixed = resident.locator(".place-fixed")
    expect(fixed).to_be_visible()
    expect(fixed).to_contain_text("幸福第一网格")
    expect(fixed).to_contain_text("1号楼")
    expect(resident.locator("select[name=category]")).to_be_visible()
    fits_width(resident, PHONE["width"])
    shoot(resident, screenshot_dir, "board-4-qr-target-report-form")


def test_board_on_a_phone_fits_and_reads(city, team, open_page, screenshot_dir):
    page = open_page(PHONE, phone=True)
    sign_in(page, team["worker"].username)
    page.goto(page.base + reverse("residents:board", args=[city.building_a.pk]))
    expect(page.locator("h1")).to_contain_text("1号楼")
    expect(page.locator(".sheet-kicker")).to_have_text(re.compile("公示牌|Notice board"))  # translated by the lead
    expect(page.locator("a[href='tel:13900000003']")).to_be_visible()
    fits_width(page, PHONE["width"])
    assert not page.csp_violations, page.csp_violations
    shoot(page, screenshot_dir, "board-2-phone")


def test_a_communitys_boards_print_one_per_page(city, team, open_page, screenshot_dir):
    for n in (2, 3):
        building = services.building_add(grid=city.grid_a2, number=f"{n}号楼", address=f"幸福路{n}号")
        user_with_post(Role.BUILDING_CHIEF, building, full_name=f"楼栋长{n}")
    page = open_page({"width": 1280, "height": 900})
    sign_in(page, team["staff"].username)
    page.goto(page.base + reverse("residents:community_boards", args=[city.community_a.pk]))
    expect(page.locator("article.sheet")).to_have_count(4)
    fits_width(page, 1280)
    shoot(page, screenshot_dir, "board-3-community-screen")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == 4, pages  # one A4 sheet per building, none spilling onto a second page
    assert not page.csp_violations, page.csp_violations


def test_grid_health_on_a_phone_and_at_a_desk(city, team, open_page, screenshot_dir):
    """Not the notice board, but the same stylesheet and audience: the grid-health page."""
    user_with_post(Role.STREET_STAFF, city.street_a, username="street_health")
    for viewport, phone, name in ((PHONE, True, "health-1-phone"), ({"width": 1280, "height": 800}, False,
                                                                     "health-2-desk")):
        page = open_page(viewport, phone=phone)
        sign_in(page, "street_health")
        page.goto(page.base + reverse("residents:health", args=[city.street_a.pk]))
        expect(page.locator("h1")).to_have_text("城北街道")
        expect(page.locator("tr[data-grid-id]")).to_have_count(2)
        expect(page.locator(".flag-no-worker")).to_have_count(1)  # grid_a2; grid_a has its worker
        fits_width(page, viewport["width"])
        assert not page.csp_violations, page.csp_violations
        shoot(page, screenshot_dir, name)
