"""A neighbour dispute from the case to a printed agreement, in a real browser at 360 px:

community staff accept the dispute case on a phone, open its mediation file,
accept (受理) and number it, add the two parties and name a people's mediator;
the mediator, on a phone, finds the file in their list, records a session,
reveals a party's phone for a stated reason (logged), records the agreement
and prints the 调解协议书; staff resolve the case through the ordinary workflow.
A second dispute fails and is referred to litigation.

Every page must fit 360 px; no page may raise a CSP violation. Screenshots go
to test-artifacts/screenshots/mediation-*.png.
"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases import services
from cases.models import Channel, Mediation, MediationPartyAccess, MediationRoom, Status
from cases.seed import load_reference_data
from grid.models import Role
from portal.workcalendar import calendar as working_calendar

from ..factories import build_city, user_with_post
from ..mediation_factories import APPLICANT_ID
from .test_case_loop import DESKTOP, PHONE, fits_width, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def city(live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    load_reference_data()
    working_calendar.invalidate()
    return build_city()


def unfold(page, action):
    details = page.locator(f"details:has(form[action='{action}'])")
    if details.get_attribute("open") is None:
        details.locator("> summary").click()
    form = page.locator(f"form[action='{action}']")
    expect(form).to_be_visible()
    return form


def test_a_dispute_from_the_case_to_a_printed_agreement(city, open_page, screenshot_dir):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, full_name="社区干部丙")
    mediator = user_with_post(Role.PEOPLES_MEDIATOR, city.community_a, full_name="人民调解员李")
    MediationRoom.objects.create(area=city.community_a, name="幸福社区人民调解室", address="幸福路1号")
    case = services.case_report(category="E0501", channel=Channel.HOTLINE, building=city.building_a,
                                description="1号楼301住户反映楼上402卫生间漏水，多次协商未果，双方发生争吵。",
                                acting_user=staff)
    failing = services.case_report(category="E0501", channel=Channel.HOTLINE, building=city.building_a,
                                   description="楼下住户噪声扰民纠纷。", acting_user=staff)
    file_url = reverse("cases:mediation", args=[case.pk])

    # 1. Staff, on a phone, accept the dispute and open its mediation file from the case page.
    desk = open_page(PHONE, phone=True)
    sign_in(desk, staff.username)
    desk.goto(desk.base + reverse("cases:detail", args=[case.pk]))
    desk.locator(f"form[action='{reverse('cases:act', args=[case.pk, 'accept'])}'] button").click()
    expect(desk.locator(".message-success")).to_be_visible()
    desk.locator(f"a[href='{file_url}']").click()
    desk.wait_for_url(desk.base + file_url)
    fits_width(desk, PHONE["width"])
    shoot(desk, screenshot_dir, "mediation-1-file-unopened-phone")

    # 2. Accept (受理): the type of dispute, the claims, the room; the committee numbers it.
    open_form = unfold(desk, reverse("cases:mediation_act", args=[case.pk, "open"]))
    open_form.locator("select[name=open-dispute_type]").select_option("neighbour")
    open_form.locator("textarea[name=open-claims]").fill("请求402住户修复漏水并赔偿301住户装修损失。")
    open_form.locator("select[name=open-room]").select_option(label="幸福社区人民调解室")
    open_form.locator("button[type=submit]").click()
    expect(desk.locator(".message-success")).to_be_visible()
    year = timezone.localdate().year
    expect(desk.locator("h1")).to_have_text(f"（{year}）幸福社区调字第001号")

    # 3. Two parties; a bad ID number is refused on its field and nothing is added.
    party = unfold(desk, reverse("cases:mediation_act", args=[case.pk, "party"]))
    party.locator("select[name=party-role]").select_option("applicant")
    party.locator("input[name=party-name]").fill("王五")
    party.locator("input[name=party-id_number]").fill(APPLICANT_ID[:-1] + ("0" if APPLICANT_ID[-1] != "0" else "1"))
    party.locator("input[name=party-phone]").fill("13911112222")
    party.locator("button[type=submit]").click()
    expect(desk.locator(".field-id_number .field-error")).to_be_visible()
    assert not Mediation.objects.get(pk=case.pk).parties.exists()
    fits_width(desk, PHONE["width"])
    shoot(desk, screenshot_dir, "mediation-2-bad-id-phone")
    party = unfold(desk, reverse("cases:mediation_act", args=[case.pk, "party"]))
    party.locator("input[name=party-id_number]").fill(APPLICANT_ID)
    party.locator("input[name=party-address]").fill("幸福路1号1单元301")
    party.locator("button[type=submit]").click()
    expect(desk.locator(".message-success")).to_be_visible()
    party = unfold(desk, reverse("cases:mediation_act", args=[case.pk, "party"]))
    party.locator("select[name=party-role]").select_option("respondent")
    party.locator("input[name=party-name]").fill("赵六")
    party.locator("input[name=party-phone]").fill("010-12345678")
    party.locator("button[type=submit]").click()
    expect(desk.locator(".party")).to_have_count(2)
    assert APPLICANT_ID not in desk.content() and "13911112222" not in desk.content()

    # 4. Staff name the people's mediator.
    naming = unfold(desk, reverse("cases:mediation_act", args=[case.pk, "mediator"]))
    naming.locator("select[name=mediator-mediator]").select_option(str(mediator.pk))
    naming.locator("button[type=submit]").click()
    expect(desk.locator("#mediators")).to_contain_text("人民调解员李")
    fits_width(desk, PHONE["width"])
    shoot(desk, screenshot_dir, "mediation-3-parties-phone")

    # 5. The mediator, on a phone, finds the file in their list and records a session.
    phone = open_page(PHONE, phone=True)
    sign_in(phone, mediator.username)
    phone.goto(phone.base + reverse("cases:mediation_files"))
    expect(phone.locator(f"a[href='{file_url}']")).to_have_count(1)
    expect(phone.locator(f"a[href='{reverse('cases:mediation', args=[failing.pk])}']")).to_have_count(0)
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "mediation-4-list-phone")
    phone.locator(f"a[href='{file_url}']").click()
    session = unfold(phone, reverse("cases:mediation_act", args=[case.pk, "session"]))
    held_at = timezone.localtime() - timedelta(hours=1)
    session.locator("input[name=session-held_at]").fill(held_at.strftime("%Y-%m-%dT%H:%M"))
    session.locator("select[name=session-room]").select_option(label="幸福社区人民调解室")
    session.locator("textarea[name=session-attendees]").fill("王五、赵六、人民调解员李")
    session.locator("textarea[name=session-notes]").fill("双方陈述，经调解员释法说理，双方同意由402住户维修并赔偿。")
    session.locator("button[type=submit]").click()
    expect(phone.locator(".session")).to_have_count(1)

    # 6. The mediator reveals the applicant's phone to call them: shown once, logged.
    applicant = Mediation.objects.get(pk=case.pk).parties.get(name="王五")
    phone.locator(f"details.reveal:has(input[name='p{applicant.pk}-phone-field']) > summary").click()
    form = phone.locator(f"form:has(input[name='p{applicant.pk}-phone-field'])")
    form.locator(f"input[name='p{applicant.pk}-phone-reason']").fill("电话通知签署协议")
    form.locator("button[type=submit]").click()
    expect(phone.locator("strong.revealed")).to_have_text("13911112222")
    assert MediationPartyAccess.objects.filter(actor=mediator, party=applicant, field="phone").count() == 1
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "mediation-5-reveal-phone")

    # 7. The agreement: without consent it is refused, then recorded.
    phone.goto(phone.base + file_url)
    outcome = unfold(phone, reverse("cases:mediation_act", args=[case.pk, "outcome"]))
    outcome.locator("input[name=outcome-outcome][value=agreed]").check()
    outcome.locator("textarea[name=outcome-agreement_text]").fill(
        "一、赵六于2026年12月31日前修复卫生间防水层；\n二、赵六赔偿王五装修损失人民币800元，于签字当日付清。")
    deadline = timezone.localdate() + timedelta(days=30)
    outcome.locator("input[name=outcome-performance_deadline]").fill(deadline.isoformat())
    outcome.locator("button[type=submit]").click()
    expect(phone.locator(".field-consent_recorded .field-error")).to_be_visible()
    assert Mediation.objects.get(pk=case.pk).outcome == "pending"
    outcome = unfold(phone, reverse("cases:mediation_act", args=[case.pk, "outcome"]))
    outcome.locator("input[name=outcome-consent_recorded]").check()
    outcome.locator("button[type=submit]").click()
    expect(phone.locator(".message-success")).to_be_visible()
    assert Mediation.objects.get(pk=case.pk).outcome == "agreed"
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "mediation-6-agreed-phone")

    # 8. The 调解协议书, print-ready: numbered, parties masked, signature lines.
    phone.goto(phone.base + reverse("cases:mediation_print", args=[case.pk, "agreement"]))
    doc = phone.locator("article.med-doc")
    expect(doc).to_contain_text(f"（{year}）幸福社区调字第001号")
    expect(doc).to_contain_text("赔偿王五装修损失人民币800元")
    # Two parties and two mediators (the staff who took the case, and the people's mediator).
    expect(doc.locator(".med-line")).to_have_count(4)
    assert APPLICANT_ID not in phone.content()
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "mediation-7-agreement-phone")
    phone.emulate_media(media="print")
    shoot(phone, screenshot_dir, "mediation-8-agreement-print-view")
    phone.emulate_media(media="screen")

    # 9. Staff resolve the case through the ordinary workflow.
    desk.goto(desk.base + reverse("cases:detail", args=[case.pk]))
    resolve = unfold(desk, reverse("cases:act", args=[case.pk, "resolve"]))
    resolve.locator("textarea").fill("经人民调解达成协议。")
    resolve.locator("button[type=submit]").first.click()
    expect(desk.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.RESOLVED

    # 10. A second dispute fails and is referred to litigation.
    desk.goto(desk.base + reverse("cases:detail", args=[failing.pk]))
    desk.locator(f"form[action='{reverse('cases:act', args=[failing.pk, 'accept'])}'] button").click()
    desk.goto(desk.base + reverse("cases:mediation", args=[failing.pk]))
    open_form = unfold(desk, reverse("cases:mediation_act", args=[failing.pk, "open"]))
    open_form.locator("select[name=open-dispute_type]").select_option("neighbour")
    open_form.locator("button[type=submit]").click()
    expect(desk.locator("h1")).to_have_text(f"（{year}）幸福社区调字第002号")
    outcome = unfold(desk, reverse("cases:mediation_act", args=[failing.pk, "outcome"]))
    outcome.locator("input[name=outcome-outcome][value=failed]").check()
    outcome.locator("select[name=outcome-referral]").select_option("litigation")
    outcome.locator("textarea[name=outcome-note]").fill("双方分歧较大，告知可向人民法院起诉。")
    outcome.locator("button[type=submit]").click()
    expect(desk.locator(".message-success")).to_be_visible()
    failed = Mediation.objects.get(pk=failing.pk)
    assert (failed.outcome, failed.referral) == ("failed", "litigation")
    fits_width(desk, PHONE["width"])
    shoot(desk, screenshot_dir, "mediation-9-referred-phone")

    # 11. At a desk: the file, the mediators' list and the dashboard's mediation panel.
    wide = open_page(DESKTOP)
    sign_in(wide, staff.username)
    wide.goto(wide.base + file_url)
    expect(wide.locator("#follow-up")).to_be_visible()
    fits_width(wide, DESKTOP["width"])
    shoot(wide, screenshot_dir, "mediation-10-file-desktop")
    wide.goto(wide.base + reverse("cases:mediation_files"))
    fits_width(wide, DESKTOP["width"])
    shoot(wide, screenshot_dir, "mediation-11-list-desktop")
    panel = reverse("cases:dashboard_place_mediation", args=[city.community_a.pk]) + "?period=year"
    wide.goto(wide.base + panel)
    expect(wide.locator("#table-mediation")).to_contain_text("50.0%")  # one agreement of two mediated
    fits_width(wide, DESKTOP["width"])
    shoot(wide, screenshot_dir, "mediation-12-dashboard-desktop")
    desk.goto(desk.base + panel)
    fits_width(desk, PHONE["width"])
    shoot(desk, screenshot_dir, "mediation-13-dashboard-phone")
    for page in (desk, phone, wide):
        assert not page.csp_violations, page.csp_violations
