"""The command screen (指挥大屏) in chromium at 1920×1080, on the demo city's Voronoi grids:
everything drawn, no scrollbar, no CSP violation, the trend ending today, and a refresh
30 s later that updates the counters without reloading. And the existing dashboard at
360 px. Screenshots go to test-artifacts/screenshots/screen/ for a person to look at."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Status
from dashboards.figures import local_day
from dashboards.rollups import rollups_rebuild
from grid.demo import DEMO_PASSWORD
from grid.models import Area, AreaKind

from ..dashboard_factories import make_case
from .conftest import SCREENSHOTS

SHOTS = SCREENSHOTS / "screen"
WALL = {"width": 1920, "height": 1080}
SMALL_PHONE = {"width": 360, "height": 740}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(live_server):
    call_command("seed_city", scale="demo", seed=1, accounts=True, places_only=True, stdout=open("/dev/null", "w"))
    now = timezone.now()
    grids = list(Area.objects.filter(kind=AreaKind.GRID).order_by("code"))
    for day in range(45):
        for n, grid in enumerate(grids[day % 5::3]):
            status = Status.CLOSED if (day + n) % 3 else Status.HANDLING
            make_case(grid, now - timedelta(days=day, minutes=7 * n + 1), status, hours=2 + n, late=(day + n) % 4 == 0,
                      rating=1 + (day + n) % 5 if status == Status.CLOSED else None)
    rollups_rebuild(now=now)
    return Area.objects.get(kind=AreaKind.DISTRICT), grids


def sign_in(page, username):
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))


def test_district_command_screen_on_the_wall(demo, open_page):
    district, grids = demo
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(WALL)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.clock.install()
    sign_in(page, "district")
    page.goto(page.base + reverse("cases:command_screen_place", args=[district.pk]))
    expect(page.locator("h1")).to_contain_text(district.name)
    expect(page.locator("[data-screen-trend] svg")).to_have_count(1)
    expect(page.locator(".rate")).to_have_count(4)
    expect(page.locator(".screen-map path")).to_have_count(len(grids))
    expect(page.locator("[data-screen-newest] li").first).to_be_visible()
    expect(page.locator("[data-ranking-body] tr").first).to_be_visible()
    # The trend's last day is today (Beijing time), never a day after it.
    data = page.evaluate("JSON.parse(document.getElementById('screen-data').textContent)")
    assert data["trend"]["last_day"] == local_day(timezone.now()).isoformat()
    # Kiosk: the page is exactly the screen, no scrollbar either way.
    size = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert size[0] <= WALL["width"] and size[1] <= WALL["height"], size
    page.screenshot(path=str(SHOTS / "district-1920x1080.png"))

    # A new matter comes in; 30 s later the counter shows it, the page was not reloaded.
    before = int(page.locator("[data-counter='reported_today']").inner_text().replace(",", ""))
    page.evaluate("window.__same_page = true")
    make_case(grids[0], timezone.now() - timedelta(seconds=5), Status.HANDLING)
    rollups_rebuild(now=timezone.now())
    page.clock.fast_forward("00:31")
    expect(page.locator("[data-counter='reported_today']")).to_have_text(str(before + 1))
    assert page.evaluate("window.__same_page") is True
    assert page.csp_violations == [] and errors == []


def test_street_screen_and_the_dashboard_at_360_px(demo, open_page):
    district, _grids = demo
    street = Area.objects.filter(kind=AreaKind.STREET).order_by("code").first()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = open_page(WALL)
    sign_in(page, "district")
    page.goto(page.base + reverse("cases:command_screen_place", args=[street.pk]))
    expect(page.locator("[data-screen-trend] svg")).to_have_count(1)
    page.screenshot(path=str(SHOTS / "street-1920x1080.png"))

    phone = open_page(SMALL_PHONE, phone=True)
    errors = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(phone, "district")
    phone.goto(phone.base + reverse("cases:dashboard_place", args=[district.pk]))
    expect(phone.locator("[data-dash-chart='volume'] svg")).to_have_count(1)
    chart = phone.evaluate("JSON.parse(document.getElementById('dash-chart-data').textContent)")
    assert chart["labels"][-1] == local_day(timezone.now()).isoformat()  # this month, up to today only
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= SMALL_PHONE["width"], width
    phone.screenshot(path=str(SHOTS / "dashboard-district-360.png"), full_page=True)
    assert phone.csp_violations == [] and errors == []
