"""A district official's dashboard in chromium: charts, map, drill-down to a grid,
at desktop and phone width, with no CSP violation. Screenshots go to
test-artifacts/screenshots/dashboard/ for a person to look at."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Case, Status
from dashboards.rollups import rollups_rebuild
from grid.models import Area, AreaKind, Role

from ..dashboard_factories import make_case
from ..factories import build_city, user_with_post
from .test_pages import PASSWORD, fits_width
from .conftest import SCREENSHOTS

SHOTS = SCREENSHOTS / "dashboard"
PHONE = {"width": 360, "height": 800}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def square(west, south, size=0.004):
    ring = [[west, south], [west + size, south], [west + size, south + size], [west, south + size], [west, south]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


@pytest.fixture
def city(live_server):
    city = build_city()
    for n, grid in enumerate(Area.objects.filter(kind=AreaKind.GRID).order_by("code")):
        grid.boundary = square(104.68 + n * 0.004, 31.46)
        grid.save(update_fields=["boundary"])
    now = timezone.now()
    for day in range(12):
        for n, grid in enumerate((city.grid_a, city.grid_a, city.grid_a2, city.grid_b)):
            created = now - timedelta(days=day, hours=n)
            status = Status.CLOSED if (day + n) % 4 else Status.HANDLING
            make_case(grid, created, status, hours=3 + 10 * n, late=(day + n) % 5 == 0,
                      rating=1 + (day + n) % 5 if status == Status.CLOSED else None,
                      latitude=31.4605 + 0.004 * (n % 3), longitude=104.6805 + 0.004 * (n % 3))
    rollups_rebuild(now=now)
    return city


def sign_in(page, username):
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("size, label", [(DESKTOP, "desktop-1280"), (PHONE, "phone-360")])
def test_district_dashboard_drill_down_to_a_grid(city, open_page, size, label):
    user_with_post(Role.DISTRICT_OFFICIAL, city.district, username="official", full_name="区领导甲")
    page = open_page(size, phone=size is PHONE)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, "official")
    if size is PHONE:
        # The menu is folded on a phone; the bottom tab bar leads to the dashboard.
        expect(page.locator("nav.main-nav a[href='/dashboard/']")).to_be_hidden()
        page.locator(".nav-menu > summary").click()
        expect(page.locator("nav.main-nav a[href='/dashboard/']")).to_be_visible()
        page.locator(".nav-menu > summary").click()
        page.locator("nav.tab-bar a[href='/dashboard/']").click()
    else:
        page.locator("nav.main-nav a[href='/dashboard/']").click()
    page.wait_for_url(page.base + reverse("cases:dashboard_place", args=[city.district.pk]) + "**")
    expect(page.locator("h1")).to_contain_text("城关区")
    # ECharts drew both charts (SVG) and Leaflet the three grids.
    expect(page.locator("[data-dash-chart='volume'] svg")).to_have_count(1)
    expect(page.locator("[data-dash-chart='rate'] svg")).to_have_count(1)
    open_cases = Case.objects.filter(status=Status.HANDLING).count()
    expect(page.locator(".dash-map path.leaflet-interactive")).to_have_count(3 + open_cases)  # grids + points
    # The people panel replaced its link with its table once fetched.
    expect(page.locator("#table-people table")).to_have_count(1)
    # So did the hotline's 三率 panel; the definitions table names each figure's numerator and denominator.
    expect(page.locator("#table-hotline table")).to_have_count(1)
    expect(page.locator(".dash-definitions-list .dash-definition")).to_have_count(9)
    page.locator(".dash-definitions summary").click()
    # The trend stops at today: its last label is today (Beijing time), not the period's last day.
    labels = page.evaluate("JSON.parse(document.getElementById('dash-chart-data').textContent).labels")
    assert labels[-1] == timezone.localdate().isoformat()
    fits_width(page, size["width"])
    shoot(page, f"{label}-1-district")

    for name, step in (("城北街道", "2-street"), ("幸福社区", "3-community"), ("幸福第一网格", "4-grid")):
        page.locator("#table-children a", has_text=name).first.click()
        expect(page.locator("h1")).to_contain_text(name)
        fits_width(page, size["width"])
        shoot(page, f"{label}-{step}")
    expect(page.locator(".dash-crumbs")).to_contain_text("城关区")
    assert not page.locator("#table-children").count()  # a grid has no children
    assert page.csp_violations == [] and errors == []
