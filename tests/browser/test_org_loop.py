"""A big matter through the organisation track in a real browser, every step on a 360 px phone
(issue #16, first "Done when"):

resident report → community staff register it as 大事 (the proposed route) → the street's
command centre dispatches it to 城管 → 城管 staff sign in and reply with a photo → the grid
worker verifies on site → the street closes it; and a second matter: 城管 returns it → the
street rules → the 派出所 has it in its queue.

Every page must fit 360 px; no page may raise a CSP violation. Screenshots go to
test-artifacts/screenshots/org-*.png.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from cases.models import Case, Status
from grid.models import Role

from ..factories import user_with_post
from ..orgs_factories import build_orgs, urban_rule
from .test_case_loop import DESKTOP, PHONE, city, fits_width, open_action, png_bytes, shoot, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def report(page, city, text):
    page.goto(page.base + reverse("cases:report_building", args=[city.building_a.pk]))
    page.locator("select[name=category]").select_option("E0201")
    page.locator("textarea[name=description]").fill(text)
    page.locator("form.case-form button.button-primary").click()
    page.wait_for_url(re.compile(r"/report/done/"))
    return Case.objects.get(description=text)


def phone_as(open_page, user):
    page = open_page(PHONE, phone=True)
    sign_in(page, user.username)
    return page


def register_as_big(page, case, screenshot_dir, name):
    page.goto(page.base + reverse("cases:detail", args=[case.pk]))
    expect(page.locator("[data-proposal=public]")).to_be_visible()
    form = open_action(page, case, "register")
    expect(form.locator("select[name=register-triage]")).to_have_value("public")
    fits_width(page, PHONE["width"])
    shoot(page, screenshot_dir, name)
    form.locator("button[type=submit]").first.click()
    expect(page.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and case.triage_class == "public"


def dispatch_from_board(page, case, lead, screenshot_dir, name, *, action="org_dispatch", reason=""):
    page.goto(page.base + reverse("cases:command_centre"))
    section = "awaiting-dispatch" if action == "org_dispatch" else "awaiting-ruling"
    expect(page.locator(f"[data-section={section}] [data-case='{case.number}']")).to_be_visible()
    fits_width(page, PHONE["width"])
    shoot(page, screenshot_dir, f"{name}-board")
    page.locator(f"[data-section={section}] [data-case='{case.number}'] a").click()
    form = open_action(page, case, action)
    form.locator(f"select[name={action}-lead]").select_option(str(lead.pk))
    if reason:
        form.locator(f"textarea[name={action}-reason]").fill(reason)
    fits_width(page, PHONE["width"])
    shoot(page, screenshot_dir, name)
    form.locator("button[type=submit]").first.click()
    expect(page.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.organisation == lead


def test_a_big_matter_through_an_organisation_and_a_return_ruled_by_the_street(city, open_page, screenshot_dir):
    orgs = build_orgs(city)
    urban_rule(city, orgs)
    worker = user_with_post(Role.GRID_WORKER, city.grid_a, full_name="网格员丁")
    community = user_with_post(Role.COMMUNITY_STAFF, city.community_a, full_name="社区干部丙")
    street = user_with_post(Role.STREET_STAFF, city.street_a, full_name="街道指挥中心乙")

    # 1. A resident reports on a phone.
    resident = open_page(PHONE, phone=True)
    case = report(resident, city, "1号楼楼顶有人私自搭建彩钢板房，正在施工。")
    assert case.status == Status.REPORTED

    # 2. Community staff see the proposed route (大事 → 城管) and register it as a big matter.
    desk = phone_as(open_page, community)
    register_as_big(desk, case, screenshot_dir, "org-1-register-phone")

    # 3. The street's command centre dispatches it to 城管 (the proposed lead).
    centre = phone_as(open_page, street)
    dispatch_from_board(centre, case, orgs.chengguan, screenshot_dir, "org-2-dispatch-phone")

    # 4. 城管 staff sign in from their queue with one tap, then reply with a photo.
    cg = phone_as(open_page, orgs.cg_staff)
    cg.goto(cg.base + reverse("cases:org_queue"))
    expect(cg.locator(f"[data-case='{case.number}']")).to_be_visible()
    fits_width(cg, PHONE["width"])
    shoot(cg, screenshot_dir, "org-3-queue-phone")
    cg.locator(f"[data-case='{case.number}'] .quick-accept button").click()
    expect(cg.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.HANDLING and case.assignee == orgs.cg_staff
    reply = open_action(cg, case, "org_reply")
    reply.locator("textarea").fill("已责令当事人自行拆除，现场已恢复。")
    reply.locator("input[type=file]").set_input_files(
        files=[{"name": "removed.png", "mimeType": "image/png", "buffer": png_bytes((40, 120, 160))}])
    fits_width(cg, PHONE["width"])
    shoot(cg, screenshot_dir, "org-4-reply-phone")
    reply.locator("button[type=submit]").first.click()
    expect(cg.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.photos.filter(stage="resolve").count() == 1

    # 5. The grid worker verifies on site; the street closes it.
    grid = phone_as(open_page, worker)
    grid.goto(grid.base + reverse("cases:detail", args=[case.pk]))
    verify = open_action(grid, case, "verify")
    verify.locator("textarea").fill("现场核查：违建已拆除。")
    fits_width(grid, PHONE["width"])
    shoot(grid, screenshot_dir, "org-5-verify-phone")
    verify.locator("button[type=submit]").first.click()
    expect(grid.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.VERIFIED
    centre.goto(centre.base + reverse("cases:detail", args=[case.pk]))
    open_action(centre, case, "close").locator("button[type=submit]").first.click()
    expect(centre.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    expect(centre.locator("[data-assignments]")).to_contain_text(orgs.chengguan.name)
    fits_width(centre, PHONE["width"])
    shoot(centre, screenshot_dir, "org-6-closed-phone")

    # 6. A second matter: 城管 returns it with a reason; the street rules it to the 派出所.
    second = report(resident, city, "1号楼住户扩建院墙，邻里因此发生争执。")
    register_as_big(desk, second, screenshot_dir, "org-7-register-phone")
    dispatch_from_board(centre, second, orgs.chengguan, screenshot_dir, "org-8-dispatch-phone")
    cg.goto(cg.base + reverse("cases:detail", args=[second.pk]))
    back = open_action(cg, second, "org_return")
    back.locator("button[type=submit]").first.click()  # no reason: refused, nothing written
    expect(cg.locator(".message-error")).to_be_visible()
    second.refresh_from_db()
    assert second.status == Status.DISPATCHED
    back = open_action(cg, second, "org_return")
    back.locator("textarea").fill("属相邻纠纷，非执法事项。")
    fits_width(cg, PHONE["width"])
    shoot(cg, screenshot_dir, "org-9-return-phone")
    back.locator("button[type=submit]").first.click()
    cg.wait_for_url(re.compile(r"/cases/"))
    second.refresh_from_db()
    assert second.status == Status.REGISTERED and second.returned_at is not None
    dispatch_from_board(centre, second, orgs.police, screenshot_dir, "org-10-ruling-phone", action="org_rule",
                        reason="涉及治安，由派出所主办。")
    assert second.org_assignment.kind == "ruling"
    police = phone_as(open_page, orgs.police_staff)
    police.goto(police.base + reverse("cases:org_queue"))
    expect(police.locator(f"[data-case='{second.number}']")).to_be_visible()
    fits_width(police, PHONE["width"])
    shoot(police, screenshot_dir, "org-11-police-queue-phone")

    # The command centre at a desk too.
    wide = open_page(DESKTOP)
    sign_in(wide, street.username)
    wide.goto(wide.base + reverse("cases:command_centre"))
    fits_width(wide, DESKTOP["width"])
    shoot(wide, screenshot_dir, "org-12-command-centre-desktop")

    for page in (resident, desk, centre, cg, grid, police, wide):
        assert page.csp_violations == []
