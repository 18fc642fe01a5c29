"""Two-step sign-in in a real browser at 360 px and desktop width: a community staff member
with OTP required signs in, is sent to enrol, scans (here: reads) the key, types the code
and reaches the admin. The pages fit the phone and raise no CSP violation. Screenshots go
to test-artifacts/screenshots/ for a person to look at."""

import pytest
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from grid.models import Role

from ..factories import build_city, user_with_post

PASSWORD = "pw-Portal-2026"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth")


@pytest.mark.parametrize("viewport, name", [(PHONE, "360"), (DESKTOP, "desktop")])
@override_settings(OTP_REQUIRED=True)
def test_community_staff_enrol_and_verify(live_server, open_page, screenshot_dir, viewport, name):
    city = build_city()
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, is_staff=True, full_name="社区工作人员甲")
    page = open_page(viewport, phone=viewport is PHONE)
    page.goto(page.base + reverse("login") + "?next=/admin/")
    page.locator("input[name=username]").fill(staff.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/accounts/two-factor/enrol/**")
    fits(page)
    assert page.locator(".qr-frame svg").is_visible()
    page.screenshot(path=str(screenshot_dir / f"twofactor-enrol-{name}.png"), full_page=True)

    page.locator("input[name=token]").fill("12345")
    page.locator("form.stack button[type=submit]").click()
    assert page.locator(".field-error").is_visible()
    page.screenshot(path=str(screenshot_dir / f"twofactor-enrol-error-{name}.png"), full_page=True)

    device = TOTPDevice.objects.get(user=staff)
    page.locator("input[name=token]").fill(f"{totp(device.bin_key):06d}")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/admin/")
    assert page.locator("#site-name").is_visible()
    assert page.csp_violations == []
