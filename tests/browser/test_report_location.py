"""A resident reports by location, never choosing a street, community or grid (issue #21):

- on a phone (360 px), "use my location" (the browser's geolocation, mocked by
  Playwright) lists the nearest buildings; she chooses hers and reports;
- at a desk (1280 px), she searches an address, confirms on the small map (grid
  outlines and buildings drawn by the vendored Leaflet, no tile server) and reports;
- without JavaScript, the search form and the list of results alone do the job.

Each case lands on the chosen building, its grid derived from it. Screenshots go
to test-artifacts/screenshots/ (where-*).
"""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Case, Channel
from cases.seed import load_reference_data
from grid.models import Area, Building
from portal.workcalendar import calendar as working_calendar

from ..factories import build_city
from .axe import check_accessibility
from .test_case_loop import DESKTOP, PHONE, fits_width
from .test_case_loop import shoot as take_screenshot


def shoot(page, directory, name, *, axe=True):
    """Screenshot, and the axe check of the same page (issue #21: every page it names, both widths).
    A page with scripts switched off cannot run axe (Playwright's evaluate never answers there):
    the same page is checked with scripts on in the other tests."""
    take_screenshot(page, directory, name)
    if axe:
        check_accessibility(page, name)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HOME = {"latitude": 31.46001, "longitude": 104.68001}  # a few metres from 1号楼


@pytest.fixture
def city(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DASHBOARD_TILE_URL = ""  # no tile server: the map draws outlines and buildings only
    cache.clear()
    load_reference_data()
    working_calendar.invalidate()
    city = build_city()
    # Positions and outlines as an import of the city's places would set them.
    Building.objects.filter(pk=city.building_a.pk).update(latitude=Decimal("31.460000"), longitude=Decimal("104.680000"))
    Building.objects.filter(pk=city.building_a2.pk).update(latitude=Decimal("31.460800"),
                                                           longitude=Decimal("104.680700"))
    Building.objects.filter(pk=city.building_b.pk).update(latitude=Decimal("31.500000"), longitude=Decimal("104.720000"))
    for grid, (west, south) in ((city.grid_a, (104.6790, 31.4590)), (city.grid_a2, (104.6800, 31.4602))):
        Area.objects.filter(pk=grid.pk).update(boundary={"type": "Polygon", "coordinates": [[
            [west, south], [west + 0.0016, south], [west + 0.0016, south + 0.0012], [west, south + 0.0012],
            [west, south]]]})
    return city


def context_for(new_context, viewport, *, phone=False, **extra):
    context = new_context(viewport=viewport, is_mobile=phone, has_touch=phone, device_scale_factor=2 if phone else 1,
                          locale="zh-CN", **extra)
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda msg: page.csp_violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    return page


def report_here(page, description):
    expect(page.locator("select[name=street]")).to_have_count(0)
    expect(page.locator("select[name=grid]")).to_have_count(0)
    page.locator("select[name=category]").select_option("E0101")
    page.locator("textarea[name=description]").fill(description)
    page.locator("form.case-form button.button-primary").click()
    page.wait_for_url(re.compile(r"/report/done/"))


def test_a_resident_reports_by_using_her_location_on_a_phone(city, new_context, live_server, screenshot_dir):
    page = context_for(new_context, PHONE, phone=True, geolocation=HOME, permissions=["geolocation"])
    page.goto(live_server.url + reverse("cases:report"))
    # The report page leads to the location step (the lists stay below for those who know them).
    fits_width(page, PHONE["width"])
    shoot(page, screenshot_dir, "where-0-report-page-phone")
    page.locator("a.place-find").click()
    page.wait_for_url(live_server.url + reverse("cases:report_where"))
    locate = page.locator("[data-where-locate-button]")
    expect(locate).to_be_visible()
    fits_width(page, PHONE["width"])
    shoot(page, screenshot_dir, "where-1-start-phone")

    locate.click()
    page.wait_for_url(re.compile(r"lat=31\.46001"))
    results = page.locator(".where-result")
    expect(results).to_have_count(2)  # 1号楼 a few metres away, 5号楼 about 100 m; 9号楼 is kilometres off
    expect(results.first).to_have_attribute("data-building", str(city.building_a.pk))
    expect(page.locator(".where-map.leaflet-container")).to_be_visible()
    expect(page.locator(".where-map path.leaflet-interactive")).to_have_count(4)  # two grids, two buildings
    fits_width(page, PHONE["width"])
    shoot(page, screenshot_dir, "where-2-near-me-phone")

    results.first.locator("a.where-choose").click()
    page.wait_for_url(live_server.url + reverse("cases:report_at", args=[city.building_a.pk]))
    expect(page.locator(".place-path")).to_contain_text("幸福第一网格")
    fits_width(page, PHONE["width"])
    shoot(page, screenshot_dir, "where-3-report-phone")
    report_here(page, "楼下路灯不亮了，晚上很黑。")

    case = Case.objects.get()
    assert case.building_id == city.building_a.pk and case.grid_id == city.grid_a.pk
    assert case.community_id == city.community_a.pk and case.channel == Channel.WEB
    assert page.csp_violations == []


def test_a_resident_reports_by_search_at_a_desk_and_on_a_phone(city, new_context, live_server, screenshot_dir):
    desk = context_for(new_context, DESKTOP)
    desk.goto(live_server.url + reverse("cases:report_where"))
    desk.locator("input[name=q]").fill("幸福路5号")
    desk.locator("form.where-search button[type=submit]").click()
    desk.wait_for_url(re.compile(r"q=.+"))
    expect(desk.locator(".where-result")).to_have_count(1)
    expect(desk.locator(".where-map path.leaflet-interactive")).to_have_count(2)  # its grid and itself
    fits_width(desk, DESKTOP["width"])
    shoot(desk, screenshot_dir, "where-4-search-desktop")
    # The marker's popup offers the same choice as the list.
    desk.locator(".where-map path.leaflet-interactive").last.click(force=True)
    expect(desk.locator(".where-result.is-picked")).to_have_count(1)
    desk.locator(".leaflet-popup-content a").click()
    desk.wait_for_url(live_server.url + reverse("cases:report_at", args=[city.building_a2.pk]))
    shoot(desk, screenshot_dir, "where-5-report-desktop")
    report_here(desk, "5号楼门口井盖松动。")
    case = Case.objects.get()
    assert case.building_id == city.building_a2.pk and case.grid_id == city.grid_a2.pk

    # On a phone, a search with nothing near: a clear message and no list.
    phone = context_for(new_context, PHONE, phone=True)
    phone.goto(live_server.url + reverse("cases:report_where") + "?q=%E5%B9%B8%E7%A6%8F")  # 幸福
    expect(phone.locator(".where-result")).to_have_count(2)
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "where-6-search-phone")
    phone.goto(live_server.url + reverse("cases:report_where") + "?lat=31.40&lon=104.68")
    expect(phone.locator(".form-errors")).to_contain_text("300")
    expect(phone.locator(".where-result")).to_have_count(0)
    for page in (desk, phone):
        assert page.csp_violations == []


def test_the_location_step_works_without_javascript(city, new_context, live_server, screenshot_dir):
    context = new_context(viewport=PHONE, java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + reverse("cases:report_where"))
    expect(page.locator("[data-where-locate-button]")).to_be_hidden()  # no position without scripts
    expect(page.locator("[data-where-map]")).to_be_hidden()
    page.locator("input[name=q]").fill("和平路")
    page.locator("form.where-search button[type=submit]").click()
    expect(page.locator(".where-result")).to_have_count(1)
    fits_width(page, PHONE["width"])
    shoot(page, screenshot_dir, "where-7-no-script-phone", axe=False)
    page.locator("a.where-choose").click()
    page.wait_for_url(live_server.url + reverse("cases:report_at", args=[city.building_b.pk]))
    report_here(page, "9号楼门口机动车乱停放")
    case = Case.objects.get()
    assert case.building_id == city.building_b.pk and case.grid_id == city.grid_b.pk
