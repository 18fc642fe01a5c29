"""The residents' pages in a real browser: a grid worker on a phone, staff at a desk.

The resident list, a resident's page and the visit form must fit 360 px
without sideways scrolling, show Chinese (the site's language), raise no CSP
violation, and carry no full ID number or phone. Screenshots go to
test-artifacts/screenshots/ for a person to look at.
"""

import datetime

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from grid import services as grid_services
from grid.models import Role
from residents.models import AccessLog, Relation, Tag

from ..factories import build_city, user_with_post
from ..residents_factories import household_in, resident_in, valid_id_number

PASSWORD = "pw-Portal-2026"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
ID_NUMBER = valid_id_number(area="110105", birth=datetime.date(1941, 8, 15), serial=777)
PHONE_NUMBER = "13912345678"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def city(live_server):
    return build_city()


def tag(code, name, interval):
    # The flush between transactional tests drops the tags migration 0002 ships.
    return Tag.objects.get_or_create(code=code, defaults={"name": name, "visit_interval_days": interval})[0]


@pytest.fixture
def grid_with_people(city):
    worker = user_with_post(Role.GRID_WORKER, city.grid_a, full_name="网格员丁", phone="13812345678")
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, full_name="社区干部戊")
    elderly, low_income = tag("elderly_alone", "独居老人", 7), tag("low_income", "低保户", 30)
    unit = grid_services.unit_add(building=city.building_a, number="2单元")
    household = household_in(unit, "1203", acting_user=worker)
    head = resident_in(household, "欧阳娜娜", id_number=ID_NUMBER, phone=PHONE_NUMBER, relation=Relation.HEAD,
                       acting_user=worker, tags=[elderly, low_income])
    # A long name and a page of neighbours: neither may widen the phone's page.
    for n in range(30):
        other = household_in(city.unit_a, f"{n + 101}", acting_user=worker)
        resident_in(other, "买买提·艾力" + "阿不都热合曼" * (n % 3) + str(n), acting_user=worker,
                    phone=f"1370000{n:04d}", tags=[elderly] if n % 4 == 0 else [])
    return worker, staff, head


def fits_width(page, width):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    inner_width = page.evaluate("window.innerWidth")
    assert scroll_width <= inner_width <= width, f"{page.url} is {scroll_width}px wide at {width}px"


def sign_in(page, user):
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))


def shoot(page, directory, name):
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def no_full_values(page):
    html = page.content()
    assert ID_NUMBER not in html and PHONE_NUMBER not in html


@pytest.mark.parametrize("viewport, phone", [(PHONE, True), (DESKTOP, False)], ids=["360", "1280"])
def test_worker_list_resident_and_visit_form(grid_with_people, open_page, screenshot_dir, viewport, phone):
    worker, _staff, head = grid_with_people
    width = viewport["width"]
    page = open_page(viewport, phone=phone)
    sign_in(page, worker)

    page.goto(page.base + reverse("residents:list"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator(".resident-list")).to_contain_text("欧阳娜娜")
    expect(page.locator(".resident-list")).to_contain_text("独居老人")
    expect(page.locator(".main-nav")).to_contain_text("首页")
    no_full_values(page)
    fits_width(page, width)
    shoot(page, screenshot_dir, f"residents-{width}-1-list")

    # Looking up the full ID number: posted, found, shown masked.
    page.locator("input[name=number]").fill(ID_NUMBER)
    page.locator(".lookup-form button[type=submit]").click()
    expect(page.locator(".resident-list")).to_contain_text("欧阳娜娜")
    assert ID_NUMBER not in page.url
    no_full_values(page)
    fits_width(page, width)

    page.goto(page.base + reverse("residents:resident", args=[head.pk]))
    expect(page.locator("h1")).to_contain_text("欧阳娜娜")
    expect(page.locator(".personal")).to_contain_text(head.id_masked)
    no_full_values(page)
    fits_width(page, width)
    shoot(page, screenshot_dir, f"residents-{width}-2-resident")

    page.goto(page.base + reverse("residents:visit_add", args=[head.pk]))
    page.locator("textarea[name=notes]").fill("上门看望，老人身体尚可，冰箱里有菜。")
    page.locator("textarea[name=findings]").fill("卫生间扶手松动，需要维修。")
    page.locator("input[name=follow_up]").check()
    fits_width(page, width)
    shoot(page, screenshot_dir, f"residents-{width}-3-visit-form")
    page.locator("form.stack button[type=submit]").click()
    expect(page.locator(".visits")).to_contain_text("卫生间扶手松动")
    expect(page.locator(".to-case select[name$=category]")).to_be_visible()
    fits_width(page, width)
    shoot(page, screenshot_dir, f"residents-{width}-4-visit-saved")

    page.goto(page.base + reverse("residents:visits_due"))
    # Just visited: off today's round; her neighbours tagged 独居老人 are on it.
    expect(page.locator(".due-list")).to_contain_text("买买提·艾力0")
    expect(page.locator(".due-list")).not_to_contain_text("欧阳娜娜")
    fits_width(page, width)
    shoot(page, screenshot_dir, f"residents-{width}-5-visits-due")
    assert page.csp_violations == []


def test_staff_reveal_at_a_desk(grid_with_people, open_page, screenshot_dir):
    _worker, staff, head = grid_with_people
    page = open_page(DESKTOP)
    sign_in(page, staff)
    page.goto(page.base + reverse("residents:resident", args=[head.pk]))
    no_full_values(page)
    details = page.locator("details.reveal").first
    details.locator("summary").click()
    details.locator("input[name$=reason]").fill("办理高龄补贴，核对身份")
    details.locator("button[type=submit]").click()
    expect(page.locator(".revealed")).to_have_text(ID_NUMBER)
    assert ID_NUMBER not in page.url
    assert AccessLog.objects.filter(actor=staff, field="id_number").count() == 1
    shoot(page, screenshot_dir, "residents-1280-6-revealed")
    # Reloading the page by its URL shows the mask again.
    page.goto(page.base + reverse("residents:resident", args=[head.pk]))
    no_full_values(page)
    page.goto(page.base + reverse("residents:access_log"))
    expect(page.locator(".access-rows")).to_contain_text("办理高龄补贴")
    fits_width(page, DESKTOP["width"])
    shoot(page, screenshot_dir, "residents-1280-7-access-log")
    assert page.csp_violations == []
