"""Issuing an Open311 key in the admin, in a real browser, on a phone and a desktop:
the key is shown once, in Chinese, and the page fits the screen."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cases.open311.models import ApiClient
from cases.open311.selectors import client_by_key
from grid.models import Role

from ..factories import build_city, user_with_post

PASSWORD = "pw-Portal-2026"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, user):
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))


def choose_place(page, search, place):
    """Pick the place in the admin's own autocomplete: open it, type, click the offered row.

    Only places under the staff member's posts are offered: the other street's 和平社区 also
    matches "社区" and must not be.
    """
    page.locator("#id_area + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(search)
    offered = page.locator(".select2-container--open .select2-results__option")
    expect(offered).to_have_text([str(place)])  # waits for the answer to the typed search
    offered.click()
    assert page.locator("#id_area").input_value() == str(place.pk)
    expect(page.locator("#id_area + .select2 .select2-selection__rendered")).to_have_text(str(place))


@pytest.mark.parametrize("viewport,phone,label", [(PHONE, True, "phone"), (DESKTOP, False, "desktop")])
def test_staff_issue_a_key_and_see_it_once(live_server, open_page, screenshot_dir, viewport, phone, label):
    city = build_city()
    staff = user_with_post(Role.STREET_STAFF, city.street_a, full_name="城北街道管理员")
    page = open_page(viewport, phone=phone)
    sign_in(page, staff)
    page.goto(page.base + reverse("admin:open311_apiclient_add"))
    page.locator("input[name=name]").fill("12345 政务服务便民热线平台")
    page.locator("input[name=contact]").fill("hotline@example.org")
    choose_place(page, "社区", city.community_a)
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    key = page.locator("#open311-key").input_value()
    assert key.startswith("o311_") and client_by_key(key) == ApiClient.objects.get()
    assert ApiClient.objects.get().area == city.community_a
    assert page.locator("#content-main strong").inner_text() == "请立即复制：密钥只显示这一次，系统只保存其哈希值。"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"] + 1, f"{width}px wide"
    assert page.csp_violations == []
    page.screenshot(path=str(screenshot_dir / f"open311-key-issued-{label}.png"), full_page=True)
    page.goto(page.base + reverse("admin:open311_apiclient_changelist"))
    assert key not in page.content()
    page.screenshot(path=str(screenshot_dir / f"open311-clients-{label}.png"), full_page=True)
