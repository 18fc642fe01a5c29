"""A resident's order end to end in a real browser (Debian's chromium):

a resident opens the building's notice-board link on a phone and places an
order → gets a tracking page → a volunteer claims it on /volunteers/me/ and
marks it done → the resident confirms on the tracking page → the points show
in the volunteer's balance. Then the volunteer's certificate of hours and the
honours page. Every page must fit the screen without sideways scrolling and
raise no CSP violation; the public pages never show the resident's phone.
"""

import re
import shutil
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from grid.models import Role
from volunteers import ledger, services
from volunteers.models import Order

from ..factories import UserFactory, build_city, user_with_post
from .conftest import SCREENSHOTS
from .test_volunteers_pages import fits_width, reveal_contact_phone, sign_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
RESIDENT_PHONE = "13912345678"
SHOTS = SCREENSHOTS / "volunteers"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def club(live_server):
    cache.clear()
    city = build_city()
    now = timezone.now()
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, full_name="赵主任")
    person = UserFactory(full_name="志愿者欧阳娜娜")
    me = services.volunteer_register(home=city.grid_a, user=person, name="欧阳娜娜", acting_user=person,
                                     now=now - timedelta(days=30))
    start = now - timedelta(days=10)
    activity = services.activity_add(area=city.community_a, title="关爱独居老人入户走访", location="幸福路1号",
                                     starts_at=start, ends_at=start + timedelta(hours=3), capacity=8,
                                     acting_user=staff, now=start - timedelta(days=2))
    entry = services.signup(activity=activity, volunteer=me, acting_user=person, now=start - timedelta(days=1))
    services.check_in(signup_obj=entry, at=start, acting_user=staff, now=start)
    services.check_out(signup_obj=entry, at=start + timedelta(hours=2, minutes=30), acting_user=staff,
                       now=start + timedelta(hours=3))
    services.confirm_hours(signup_obj=entry, acting_user=staff, now=start + timedelta(hours=3))
    services.honour_award(volunteer=me, title="社区好人", area=city.community_a, period=str(now.year),
                          citation="常年帮助独居老人买菜、陪同就医", acting_user=staff, now=now)
    return {"city": city, "person": person, "volunteer": me, "staff": staff}


def shoot(page, screenshot_dir, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = screenshot_dir / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    shutil.copy(path, SHOTS / path.name)


@pytest.mark.parametrize("viewport,phone,label", [(PHONE, True, "390"), (DESKTOP, False, "1280")])
def test_order_flow_end_to_end(club, open_page, screenshot_dir, viewport, phone, label):
    city, volunteer = club["city"], club["volunteer"]
    points_before = ledger.balance_of(volunteer)

    # The resident, on the building's notice-board link: no account.
    resident = open_page(viewport, phone=phone)
    resident.goto(resident.base + reverse("volunteers:order_place_building", args=[city.building_a.pk]))
    assert resident.locator("html").get_attribute("lang").startswith("zh")
    fits_width(resident, viewport["width"])
    resident.locator("input[name=kind][value=errand]").check()
    resident.locator("input[name=address]").fill("1单元302")
    resident.locator("textarea[name=description]").fill("腿脚不便，请帮忙去社区医院取降压药送到三楼")
    resident.locator("input[name=reporter_name]").fill("王阿姨")
    resident.locator("input[name=reporter_phone]").fill(RESIDENT_PHONE)
    shoot(resident, screenshot_dir, f"vol-order-form-{label}")
    resident.locator("form.case-form button.button-primary").click()
    resident.wait_for_url(re.compile(r"/order/track/[0-9A-F]{12}/$"))
    order = Order.objects.get()
    assert order.tracking_code in resident.url and order.building_id == city.building_a.pk
    assert RESIDENT_PHONE not in resident.content() and "王阿姨" not in resident.content()
    fits_width(resident, viewport["width"])
    shoot(resident, screenshot_dir, f"vol-order-track-placed-{label}")

    # The volunteer claims it and marks it done.
    server = open_page(viewport, phone=phone)
    sign_in(server, club["person"])
    server.goto(server.base + reverse("volunteers:me"))
    assert RESIDENT_PHONE not in server.content()  # masked until claimed
    server.locator(f"form[action='{reverse('volunteers:claim', args=[order.pk])}'] button").click()
    server.wait_for_load_state()
    assert RESIDENT_PHONE not in server.content() and "139****5678" in server.content()
    order = Order.objects.get(pk=order.pk)
    assert RESIDENT_PHONE in reveal_contact_phone(server, order)  # now theirs to call, by a logged reveal
    server.goto(server.base + reverse("volunteers:me"))
    server.locator(f"form[action='{reverse('volunteers:done', args=[order.pk])}'] button").click()
    server.wait_for_load_state()
    order.refresh_from_db()
    assert order.status == "done"

    # The resident confirms.
    resident.reload()
    confirm = resident.locator(f"form[action='{reverse('volunteers:order_confirm', args=[order.tracking_code])}']")
    shoot(resident, screenshot_dir, f"vol-order-track-done-{label}")
    confirm.locator("button").click()
    resident.wait_for_load_state()
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert confirm.count() == 0  # nothing left to confirm
    fits_width(resident, viewport["width"])
    shoot(resident, screenshot_dir, f"vol-order-track-confirmed-{label}")

    # The points are in the volunteer's balance.
    server.goto(server.base + reverse("volunteers:me"))
    balance = server.locator(".vol-points strong").inner_text()
    assert int(balance) == points_before + order.points == ledger.balance_of(volunteer)
    fits_width(server, viewport["width"])
    shoot(server, screenshot_dir, f"vol-me-paid-{label}")

    # The certificate of hours and the honours page.
    server.goto(server.base + reverse("volunteers:certificate", args=[volunteer.pk]))
    assert "关爱独居老人入户走访" in server.content() and "赵主任" in server.content()
    fits_width(server, viewport["width"])
    shoot(server, screenshot_dir, f"vol-certificate-{label}")
    server.emulate_media(media="print")
    shoot(server, screenshot_dir, f"vol-certificate-print-{label}")
    server.emulate_media(media="screen")
    server.goto(server.base + reverse("volunteers:honours"))
    assert "社区好人" in server.content() and "欧阳娜娜" in server.content()
    fits_width(server, viewport["width"])
    shoot(server, screenshot_dir, f"vol-honours-{label}")

    staff = open_page(viewport, phone=phone)
    sign_in(staff, club["staff"])
    staff.goto(staff.base + reverse("volunteers:honours"))
    fits_width(staff, viewport["width"])
    staff.locator("details.vol-award summary").first.click()
    shoot(staff, screenshot_dir, f"vol-honours-staff-{label}")
    assert ledger.books_problems() == []
    for page in (resident, server, staff):
        assert page.csp_violations == []
