"""The households' points card in a real browser at 360 px (issue #23 part 3): staff record a
resident at a deliberation meeting, the household's card shows the points, and a member
redeems them at the points shop from the card.

Shots at 360 px and 1280 px go to test-artifacts/screenshots/household_points/; every page
must fit the phone width, raise no CSP violation and show Chinese.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from grid.models import Role
from residents.participation import services as participation
from volunteers import household_points as hp
from volunteers.models import CatalogueItem, Redemption

from ..factories import build_city, user_with_post
from ..residents_factories import household_in, resident_in
from .conftest import PHONE, SCREENSHOTS, shoot_both_widths

PASSWORD = "pw-Portal-2026"
SHOTS = SCREENSHOTS / "household_points"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(live_server):
    city = build_city()
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, full_name="社区干部周敏")
    return (city, staff, *household_fixtures(city, staff))


def shoot(page, name):
    shoot_both_widths(page, SHOTS, name)


def household_fixtures(city, staff, *, room="301", name="李秀英"):
    """A household with one member, a meeting held an hour ago and a prize worth one attendance."""
    home = household_in(city.unit_a, room, acting_user=staff)
    member = resident_in(home, name, acting_user=staff, phone="13900000001")
    now = timezone.now()
    meeting = participation.meeting_create(place=city.community_a, kind="council", title="居民议事会：加装充电桩",
                                           held_at=now - timedelta(hours=1), acting_user=staff, now=now)
    item = CatalogueItem.objects.create(community=city.community_a, name="洗衣液", kind="prize",
                                        price=hp.ATTENDANCE_POINTS, stock=3)
    return home, member, meeting, item


def test_a_household_earns_points_for_a_meeting_and_redeems_them(world, open_page):
    city, staff, home, member, meeting, item = world
    page = open_page(PHONE, phone=True)
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(staff.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))
    earn_and_redeem(page, city, home, member, meeting, item, shoot)


def earn_and_redeem(page, city, home, member, meeting, item, shoot, *, name="李秀英"):
    """Staff signed in on `page`: record the member at the meeting, read the card, redeem from it."""
    # At the meeting: find the resident and confirm she attended.
    page.goto(page.base + reverse("participation:meeting", args=[meeting.pk]))
    page.locator("#q-attend").fill(name)
    page.locator("#q-attend").press("Enter")
    page.wait_for_load_state()
    attend = page.locator("form[action$='/attend/'] button[type=submit]").first
    attend.click()
    page.wait_for_load_state()
    assert name in page.locator("#attend-title").locator("..").inner_text()
    shoot(page, "meeting-attended")

    # The household's card: 参与议事 carries the meeting's points.
    page.goto(page.base + reverse("volunteers:household_card", args=[home.pk]))
    balance = page.locator("#card-balance").inner_text()
    assert f"余额：{hp.ATTENDANCE_POINTS} 分" in balance, balance
    assert "参与议事" in page.locator(".hp-entries").inner_text()
    shoot(page, "card-earned")

    # A member redeems them at the points shop.
    page.locator("#hp-member").select_option(str(member.pk))
    page.locator("#hp-item").select_option(str(item.pk))
    page.locator("form[action$='/redeem/'] button[type=submit]").click()
    page.wait_for_load_state()
    assert "洗衣液" in page.content()
    shoot(page, "card-redeemed")
    assert Redemption.objects.get().household_id == home.pk
    assert hp.household_balance(home) == 0

    # The figures per community and grid.
    page.goto(page.base + reverse("volunteers:household_figures"))
    assert city.grid_a.name in page.locator(".hp-figures").inner_text()
    shoot(page, "figures")
