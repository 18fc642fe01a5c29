"""A volunteer's phone pages in a real browser: my points, orders, activities and the catalogue.

They must fit 360 px without sideways scrolling, show Chinese, raise no CSP
violation, and show an open order's phone only masked. A claim, then "done",
runs through the real buttons. Screenshots go to test-artifacts/screenshots/.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from grid.models import Role
from volunteers import ledger, services
from volunteers.models import CatalogueItem, Order, Redemption

from ..factories import UserFactory, build_city, user_with_post

PASSWORD = "pw-Portal-2026"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
RESIDENT_PHONE = "13912345678"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def volunteer(live_server):
    city = build_city()
    now = timezone.now()
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    person = UserFactory(full_name="志愿者欧阳娜娜")
    me = services.volunteer_register(home=city.grid_a, user=person, acting_user=person, now=now)
    for n in range(6):
        ledger.award_bonus(volunteer=me, points=15, reason=f"社区好人：帮助独居老人买菜、修水管、陪同就医第{n}次",
                           acting_user=staff, now=now)
    services.activity_add(area=city.community_a, title="周末清理楼道和小区绿化带", location="幸福路1号楼下",
                          starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=3), capacity=8,
                          acting_user=staff, now=now)
    services.order_place(kind="errand", description="腿脚不便，请帮忙去药店买降压药送到三楼" * 2,
                         contact_name="王阿姨", contact_phone=RESIDENT_PHONE, building=city.building_a, now=now)
    CatalogueItem.objects.create(community=city.community_a, name="理发服务券（社区理发室）", kind="service", price=20,
                                 stock=10)
    return person


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



def reveal_contact_phone(page, order):
    """The claimed order's phone: masked on "my volunteering", in full only on its contact page by a
    logged reveal with a reason (issue #20: personal data everywhere)."""
    page.goto(page.base + reverse("volunteers:order_contact", args=[order.pk]))
    form = page.locator("details.reveal", has=page.locator("input[name='contact_phone-reason']"))
    form.locator("summary").click()
    form.locator("input[name='contact_phone-reason']").fill("上门前电话确认时间")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    return page.content()

@pytest.mark.parametrize("viewport,phone,label", [(PHONE, True, "phone"), (DESKTOP, False, "desktop")])
def test_volunteer_pages_fit_and_the_order_flow_works(volunteer, open_page, screenshot_dir, viewport, phone, label):
    page = open_page(viewport, phone=phone)
    sign_in(page, volunteer)
    page.goto(page.base + reverse("volunteers:me"))
    assert page.locator("html").get_attribute("lang").startswith("zh")
    assert "首页" in page.content()  # the layout, in the site's language
    assert RESIDENT_PHONE not in page.content()
    fits_width(page, viewport["width"])
    page.screenshot(path=str(screenshot_dir / f"volunteers-me-{label}.png"), full_page=True)

    page.locator("form.vol-button button").first.click()  # claim the open order
    page.wait_for_load_state()
    order = Order.objects.get()
    assert order.status == "claimed"
    assert RESIDENT_PHONE not in page.content() and "139****5678" in page.content()  # mine, still masked
    assert RESIDENT_PHONE in reveal_contact_phone(page, order)  # now it is mine to call, by a logged reveal
    page.goto(page.base + reverse("volunteers:me"))
    page.locator("form.vol-button button").first.click()  # done
    page.wait_for_load_state()
    order.refresh_from_db()
    assert order.status == "done"

    for name in ("activities", "catalogue"):
        page.goto(page.base + reverse(f"volunteers:{name}"))
        fits_width(page, viewport["width"])
        page.screenshot(path=str(screenshot_dir / f"volunteers-{name}-{label}.png"), full_page=True)
    page.locator("form.vol-redeem button").click()
    page.wait_for_load_state()
    assert Redemption.objects.count() == 1 and ledger.books_problems() == []
    assert page.csp_violations == []
