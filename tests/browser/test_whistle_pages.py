"""吹哨报到 in chromium at phone width (360 px): the street blows the whistle from the case page,
two organisations report in from their phones (one late), the case is closed, the street rates
them, and the ratings appear on the street's dashboard. Screenshots go to
test-artifacts/screenshots/whistle/ for a person to look at."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases import services
from cases.models import Case, Summons, SummonsStatus
from grid.models import Role

from ..cases_factories import png, resident_report
from ..factories import build_city, make_organisation, user_with_post
from .conftest import SCREENSHOTS
from .test_pages import fits_width, sign_in

SHOTS = SCREENSHOTS / "whistle"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def scene(live_server):
    city = build_city()
    cg = make_organisation(seat=city.street_a, name="城北街道综合执法中队", areas=[city.street_a])
    power = make_organisation(seat=city.district, name="城关供电公司", kind="utility", function="power",
                              areas=[city.district])
    make_organisation(seat=city.street_b, name="城南派出所", function="police", areas=[city.street_b])
    user_with_post(Role.STREET_STAFF, city.street_a, username="street", full_name="街道甲")
    community = user_with_post(Role.COMMUNITY_STAFF, city.community_a, username="community", full_name="社区乙")
    user_with_post(Role.GRID_WORKER, city.grid_a, username="worker", full_name="网格员丙")
    user_with_post(Role.ORG_STAFF, cg, username="cg", full_name="队员丁")
    user_with_post(Role.ORG_STAFF, power, username="power", full_name="电工戊")
    case = resident_report(city, description="路面塌陷，疑似地下电缆沟破损", now=timezone.now())
    case = services.case_register(case=case, acting_user=community)
    services.case_accept(case=case, acting_user=case.assignee)
    return {"city": city, "case": case, "cg": cg, "power": power, "community": community}


def test_whistle_report_in_late_rate_and_the_street_dashboard(scene, open_page):
    case, city = scene["case"], scene["city"]
    errors = []

    # The street blows the whistle from the case page (phone).
    street = open_page(PHONE, phone=True)
    street.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(street, "street")
    street.goto(street.base + reverse("cases:detail", args=[case.pk]))
    form = street.locator("form[action$='/act/whistle/']")
    whistle_box = street.locator("details.action", has=form)
    if whistle_box.get_attribute("open") is None:
        whistle_box.locator("summary").click()
    expect(form).to_contain_text("城北街道综合执法中队")
    expect(form).not_to_contain_text("城南派出所")  # outside the street's jurisdiction: not offered
    form.get_by_label("城北街道综合执法中队").check()
    form.get_by_label("城关供电公司").check()
    form.locator("input[name='whistle-urgent']").check()
    form.locator("textarea[name='whistle-reason']").fill("路面塌陷，需城管与供电联合处置")
    fits_width(street, PHONE["width"])
    shoot(street, "phone-360-1-whistle-form")
    form.locator("button[type=submit]").first.click()
    expect(street.locator(".whistles")).to_contain_text("城关供电公司")
    assert Summons.objects.filter(status=SummonsStatus.SUMMONED).count() == 2
    shoot(street, "phone-360-2-whistled")

    # 城管 reports in on time from the phone page.
    cg = open_page(PHONE, phone=True)
    sign_in(cg, "cg")
    cg.goto(cg.base + reverse("cases:summonses"))
    expect(cg.locator(".summons-queue")).to_contain_text(case.number)
    cg.locator("input[name=note]").fill("两名队员到场")
    fits_width(cg, PHONE["width"])
    shoot(cg, "phone-360-3-summonses")
    cg.locator("form.stack button[type=submit]").click()
    expect(cg.locator(".summons-queue")).to_contain_text("已报到")

    # 供电 comes after the deadline: its report-in is late.
    Summons.objects.filter(organisation=scene["power"]).update(due_at=timezone.now() - timedelta(minutes=5))
    power = open_page(PHONE, phone=True)
    sign_in(power, "power")
    power.goto(power.base + reverse("cases:detail", args=[case.pk]))
    expect(power.locator("body")).not_to_contain_text("13800000000")  # never the reporter
    power.locator(".whistles button[type=submit]").click()
    expect(power.locator(".whistles .badge-late")).to_have_count(1)
    shoot(power, "phone-360-4-late-report-in")

    # The case is handled and closed; the street rates both organisations.
    fresh = Case.objects.get(pk=case.pk)
    fresh = services.case_resolve(case=fresh, acting_user=fresh.assignee, note="已修复", photos=[png()])
    fresh = services.case_verify(case=fresh, acting_user=scene["community"], passed=True)
    services.case_close(case=fresh, acting_user=scene["community"])
    street.goto(street.base + reverse("cases:detail", args=[case.pk]))
    street.locator(".whistles a", has_text="评价").click()
    rows = Summons.objects.order_by("organisation__name")
    for summons, rating in zip(rows, (3, 5)):
        value = 5 if summons.organisation == scene["cg"] else 3
        street.locator(f"input[name='rating_{summons.pk}'][value='{value}']").check()
    fits_width(street, PHONE["width"])
    shoot(street, "phone-360-5-rate")
    street.locator("form.stack button[type=submit]").click()
    expect(street.locator(".whistles")).to_contain_text("5/5")

    # The ratings on the street's dashboard.
    street.goto(street.base + reverse("cases:dashboard_place", args=[city.street_a.pk]))
    table = street.locator("#table-organisations")
    expect(table).to_contain_text("城北街道综合执法中队")
    expect(table).to_contain_text("5.00")
    expect(table).to_contain_text("3.00")
    fits_width(street, PHONE["width"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    table.screenshot(path=str(SHOTS / "phone-360-6-street-dashboard-organisations.png"))
    desk = open_page(DESKTOP)
    sign_in(desk, "street")
    desk.goto(desk.base + reverse("cases:dashboard_place_organisations", args=[city.street_a.pk]))
    expect(desk.locator("#table-organisations")).to_contain_text("3.00")
    shoot(desk, "desktop-1280-7-organisations")
    assert errors == [] and street.csp_violations == [] and cg.csp_violations == []
