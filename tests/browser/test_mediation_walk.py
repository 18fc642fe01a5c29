"""A neighbour dispute from the resident's report to the closed case, in a real browser at 360 px:

a resident reports the dispute on /report/; community staff register and accept
it on a phone, open its mediation file, accept (受理) and number it, add the two
parties and name a people's mediator; the mediator, on a phone, finds the file
in their list, records two sessions two days apart, reveals a party's phone for
a stated reason (logged), records the agreement and prints the 调解协议书
(parties, terms, signature lines, the committee's number); staff resolve the
case; 30 days later the follow-up (回访) finds it performed and closes the case.
A second dispute fails, is referred to the court, and the court's receipt is recorded.

The clock is the test's own (time_machine moves the server's clock: the live
server runs in this process), starting on a fixed Monday.

Every page must fit 360 px; no page may raise a CSP violation. Screenshots go
to test-artifacts/screenshots/mediation-*.png.
"""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from cases import services_report
from cases.models import Case, Channel, Mediation, MediationParty, MediationPartyAccess, MediationRoom, Status
from cases.seed import load_reference_data
from grid.models import Role
from portal.workcalendar import calendar as working_calendar

from ..factories import build_city, user_with_post
from ..cases_factories import at
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
    # The file page's forms post to their action with the section's fragment (#parties...): match its start.
    details = page.locator(f"details:has(form[action^='{action}'])")
    if details.get_attribute("open") is None:
        details.locator("> summary").click()
    form = page.locator(f"form[action^='{action}']")
    expect(form).to_be_visible()
    return form


# A Monday; the agreement is reached on the Wednesday and followed up 30 days later.
START = at(2026, 11, 2, 9, 30)


def test_a_dispute_from_the_report_to_the_follow_up_and_a_referral_to_court(city, open_page, screenshot_dir,
                                                                            time_machine):
    time_machine.move_to(START, tick=True)
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, full_name="社区干部丙")
    mediator = user_with_post(Role.PEOPLES_MEDIATOR, city.community_a, full_name="人民调解员李")
    MediationRoom.objects.create(area=city.community_a, name="幸福社区人民调解室", address="幸福路1号")

    # 1. A resident reports the neighbour dispute on a phone.
    resident = open_page(PHONE, phone=True)
    resident.goto(resident.base + reverse("cases:report"))
    resident.locator("select[name=category]").select_option("E0501")
    resident.locator("select[name=street]").select_option(str(city.street_a.pk))
    expect(resident.locator(f"select[name=grid] option[value='{city.grid_a.pk}']")).to_be_attached()
    resident.locator("select[name=grid]").select_option(str(city.grid_a.pk))
    expect(resident.locator(f"select[name=building] option[value='{city.building_a.pk}']")).to_be_attached()
    resident.locator("select[name=building]").select_option(str(city.building_a.pk))
    resident.locator("textarea[name=description]").fill("1号楼301住户反映楼上402卫生间漏水，多次协商未果，双方发生争吵。")
    resident.locator("input[name=reporter_name]").fill("王五")
    resident.locator("input[name=reporter_phone]").fill("13911112222")
    fits_width(resident, PHONE["width"])
    shoot(resident, screenshot_dir, "mediation-0-report-phone")
    resident.locator("form.case-form button.button-primary").click()
    resident.wait_for_url(re.compile(r"/report/done/"))
    case = Case.objects.get()
    assert (case.kind, case.status) == ("mediation", Status.REPORTED)
    file_url = reverse("cases:mediation", args=[case.pk])

    # 2. Staff, on a phone, register and accept it, then open its mediation file from the case page.
    desk = open_page(PHONE, phone=True)
    sign_in(desk, staff.username)
    desk.goto(desk.base + reverse("cases:detail", args=[case.pk]))
    unfold_case(desk, case, "register").locator("button[type=submit]").first.click()
    expect(desk.locator(".message-success")).to_be_visible()
    desk.locator(f"form[action='{reverse('cases:act', args=[case.pk, 'accept'])}'] button").click()
    expect(desk.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert (case.status, case.assignee) == (Status.HANDLING, staff)
    desk.locator(f"a[href='{file_url}']").click()
    desk.wait_for_url(desk.base + file_url)
    fits_width(desk, PHONE["width"])
    shoot(desk, screenshot_dir, "mediation-1-file-unopened-phone")

    # 3. Accept (受理): the type of dispute, the claims, the room; the committee numbers it.
    open_form = unfold(desk, reverse("cases:mediation_act", args=[case.pk, "open"]))
    open_form.locator("select[name=open-dispute_type]").select_option("neighbour")
    open_form.locator("textarea[name=open-claims]").fill("请求402住户修复漏水并赔偿301住户装修损失。")
    open_form.locator("select[name=open-room]").select_option(label="幸福社区人民调解室")
    open_form.locator("button[type=submit]").click()
    expect(desk.locator(".message-success")).to_be_visible()
    number = "（2026）幸福社区调字第001号"
    expect(desk.locator("h1")).to_have_text(number)

    # 4. Two parties; a bad ID number is refused on its field and nothing is added.
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
    party.locator("input[name=party-name]").fill("赵陆")
    party.locator("input[name=party-phone]").fill("010-12345678")
    party.locator("button[type=submit]").click()
    expect(desk.locator(".party")).to_have_count(2)
    assert APPLICANT_ID not in desk.content() and "13911112222" not in desk.content()
    # 赵六 was typed 赵陆: corrected on the page, with the reason.
    respondent = MediationParty.objects.get(mediation_id=case.pk, role="respondent")
    fix = unfold(desk, reverse("cases:mediation_party_change", args=[case.pk, respondent.pk, "correct"]))
    fix.locator(f"input[name=p{respondent.pk}-correct-name]").fill("赵六")
    fix.locator(f"input[name=p{respondent.pk}-correct-reason]").fill("当事人核对身份证后更正姓名")
    shoot(desk, screenshot_dir, "mediation-2b-correct-party-phone")
    fix.locator("button[type=submit]").click()
    expect(desk.locator(".message-success")).to_be_visible()
    respondent.refresh_from_db()
    assert respondent.name == "赵六" and respondent.phone_masked == "010-****5678"

    # 5. Staff name the people's mediator.
    naming = unfold(desk, reverse("cases:mediation_act", args=[case.pk, "mediator"]))
    naming.locator("select[name=mediator-mediator]").select_option(str(mediator.pk))
    naming.locator("button[type=submit]").click()
    expect(desk.locator("#mediators")).to_contain_text("人民调解员李")
    fits_width(desk, PHONE["width"])
    shoot(desk, screenshot_dir, "mediation-3-parties-phone")

    # 6. The mediator, on a phone, finds the file in their list and records the first session.
    phone = open_page(PHONE, phone=True)
    sign_in(phone, mediator.username)
    phone.goto(phone.base + reverse("cases:mediation_files"))
    expect(phone.locator(f"a[href='{file_url}']")).to_have_count(1)
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "mediation-4-list-phone")
    phone.locator(f"a[href='{file_url}']").click()
    record_session(phone, case, held_at=timezone.localtime() - timedelta(minutes=30),
                   notes="首次调解：双方陈述事实，402住户不认可漏水源于其卫生间，约定请物业查验。")
    expect(phone.locator(".session")).to_have_count(1)

    # 7. Two days later, the second session.
    time_machine.move_to(START + timedelta(days=2), tick=True)
    phone.goto(phone.base + file_url)
    record_session(phone, case, held_at=timezone.localtime() - timedelta(minutes=30),
                   notes="第二次调解：物业查验确认402防水层破损，经调解员释法说理，双方同意由402住户维修并赔偿。")
    expect(phone.locator(".session")).to_have_count(2)

    # 8. The mediator reveals the applicant's phone to call them: shown once, logged.
    applicant = Mediation.objects.get(pk=case.pk).parties.get(name="王五")
    phone.locator(f"details.reveal:has(input[name='p{applicant.pk}-phone-field']) > summary").click()
    form = phone.locator(f"form:has(input[name='p{applicant.pk}-phone-field'])")
    form.locator(f"input[name='p{applicant.pk}-phone-reason']").fill("电话通知签署协议")
    form.locator("button[type=submit]").click()
    # Shown once, as a call link (the mediator is on the phone).
    expect(phone.locator("a.revealed.tel-link")).to_have_text("13911112222")
    expect(phone.locator("a.revealed.tel-link")).to_have_attribute("href", "tel:13911112222")
    assert MediationPartyAccess.objects.filter(actor=mediator, party=applicant, field="phone").count() == 1
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "mediation-5-reveal-phone")

    # 9. The agreement: without consent it is refused, then recorded.
    phone.goto(phone.base + file_url)
    outcome = unfold(phone, reverse("cases:mediation_act", args=[case.pk, "outcome"]))
    outcome.locator("input[name=outcome-outcome][value=agreed]").check()
    terms = "一、赵六于2026年11月30日前修复卫生间防水层；\n二、赵六赔偿王五装修损失人民币800元，于签字当日付清。"
    outcome.locator("textarea[name=outcome-agreement_text]").fill(terms)
    deadline = timezone.localdate() + timedelta(days=26)
    outcome.locator("input[name=outcome-performance_deadline]").fill(deadline.isoformat())
    outcome.locator("button[type=submit]").click()
    # Not confirmed: nothing checked beyond the form.
    expect(phone.locator(".field-final .field-error")).to_be_visible()
    assert Mediation.objects.get(pk=case.pk).outcome == "pending"
    outcome = unfold(phone, reverse("cases:mediation_act", args=[case.pk, "outcome"]))
    outcome.locator("input[name=outcome-final]").check()
    outcome.locator("button[type=submit]").click()
    expect(phone.locator(".field-consent_recorded .field-error")).to_be_visible()
    assert Mediation.objects.get(pk=case.pk).outcome == "pending"
    outcome = unfold(phone, reverse("cases:mediation_act", args=[case.pk, "outcome"]))
    outcome.locator("input[name=outcome-consent_recorded]").check()
    outcome.locator("input[name=outcome-final]").check()
    outcome.locator("button[type=submit]").click()
    expect(phone.locator(".message-success")).to_be_visible()
    assert Mediation.objects.get(pk=case.pk).outcome == "agreed"
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "mediation-6-agreed-phone")

    # 10. The 调解协议书, print-ready: the committee's number, the parties, the terms, signature lines.
    phone.goto(phone.base + reverse("cases:mediation_print", args=[case.pk, "agreement"]))
    doc = phone.locator("article.med-doc")
    expect(doc.locator(".med-number")).to_contain_text(number)
    for name in ("王五", "赵六", "人民调解员李"):
        expect(doc).to_contain_text(name)
    expect(doc.locator(".med-terms")).to_contain_text("修复卫生间防水层")
    expect(doc.locator(".med-terms")).to_contain_text("赔偿王五装修损失人民币800元")
    expect(doc).to_contain_text("幸福社区人民调解委员会")
    # A signature line for each party and each mediator (the staff who took the case, the people's mediator).
    expect(doc.locator(".med-line")).to_have_count(4)
    assert APPLICANT_ID not in phone.content()
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "mediation-7-agreement-phone")
    phone.emulate_media(media="print")
    # Printed from a phone: the paper holds the document only, not the portal's header or tab bar.
    for chrome in (".site-header", ".tab-bar", ".no-print"):
        expect(phone.locator(chrome).first).to_be_hidden()
    shoot(phone, screenshot_dir, "mediation-8-agreement-print-view")
    phone.emulate_media(media="screen")

    # 11. Staff resolve the case through the ordinary workflow (their session lapsed over the two days).
    sign_in(desk, staff.username)
    desk.goto(desk.base + reverse("cases:detail", args=[case.pk]))
    resolve = unfold_case(desk, case, "resolve")
    resolve.locator("textarea").fill("经人民调解达成协议。")
    resolve.locator("button[type=submit]").first.click()
    expect(desk.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Status.RESOLVED

    # 12. A second dispute fails and is referred to the court; the court's receipt is recorded.
    failing = services_report.case_report(category="E0501", channel=Channel.HOTLINE, building=city.building_a,
                                          description="楼下住户噪声扰民纠纷。", acting_user=staff)
    desk.goto(desk.base + reverse("cases:detail", args=[failing.pk]))
    desk.locator(f"form[action='{reverse('cases:act', args=[failing.pk, 'accept'])}'] button").click()
    desk.goto(desk.base + reverse("cases:mediation", args=[failing.pk]))
    open_form = unfold(desk, reverse("cases:mediation_act", args=[failing.pk, "open"]))
    open_form.locator("select[name=open-dispute_type]").select_option("neighbour")
    open_form.locator("button[type=submit]").click()
    expect(desk.locator("h1")).to_have_text("（2026）幸福社区调字第002号")
    outcome = unfold(desk, reverse("cases:mediation_act", args=[failing.pk, "outcome"]))
    outcome.locator("input[name=outcome-outcome][value=failed]").check()
    outcome.locator("select[name=outcome-referral]").select_option("litigation")
    outcome.locator("textarea[name=outcome-note]").fill("双方分歧较大，告知可向人民法院起诉。")
    outcome.locator("input[name=outcome-final]").check()
    outcome.locator("button[type=submit]").click()
    expect(desk.locator(".message-success")).to_be_visible()
    receipt = unfold(desk, reverse("cases:mediation_act", args=[failing.pk, "referral_receipt"]))
    receipt.locator("input[name=referral_receipt-body]").fill("城关区人民法院")
    receipt.locator("input[name=referral_receipt-receipt]").fill("（2026）川0703民初5678号")
    receipt.locator("input[name=referral_receipt-received_on]").fill(timezone.localdate().isoformat())
    receipt.locator("textarea[name=referral_receipt-answer]").fill("已立案受理。")
    receipt.locator("button[type=submit]").click()
    expect(desk.locator(".message-success")).to_be_visible()
    expect(desk.locator(".referral-receipt")).to_contain_text("（2026）川0703民初5678号")
    failed = Mediation.objects.get(pk=failing.pk)
    assert (failed.outcome, failed.referral, failed.referral_body, failed.referral_receipt) == (
        "failed", "litigation", "城关区人民法院", "（2026）川0703民初5678号")
    fits_width(desk, PHONE["width"])
    shoot(desk, screenshot_dir, "mediation-9-referred-phone")

    # 13. 30 days later the follow-up is due on the mediator's list; it finds the agreement performed
    # and the case closes. (Sessions lapse over a month: both sign in again.)
    time_machine.move_to(START + timedelta(days=32), tick=True)
    sign_in(phone, mediator.username)
    phone.goto(phone.base + reverse("cases:mediation_files"))
    due = phone.locator(f"a[href='{file_url}#follow-up']")
    expect(due).to_have_text(number)
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "mediation-10-follow-up-due-phone")
    due.click()
    follow_up = unfold(phone, reverse("cases:mediation_act", args=[case.pk, "follow_up"]))
    follow_up.locator("input[name=follow_up-performance][value=performed]").check()
    follow_up.locator("textarea[name=follow_up-note]").fill("回访王五、赵六：防水层已修复，800元已付清，双方满意。")
    follow_up.locator("button[type=submit]").click()
    expect(phone.locator(".message-success")).to_be_visible()
    case.refresh_from_db()
    assert (case.status, timezone.localtime(case.closed_at).date()) == (Status.CLOSED, (START + timedelta(days=32)).date())
    expect(phone.locator("#follow-up")).to_contain_text("回访王五、赵六")
    fits_width(phone, PHONE["width"])
    shoot(phone, screenshot_dir, "mediation-11-closed-phone")

    # 14. At a desk: the file, the mediators' list and the dashboard's mediation panel.
    wide = open_page(DESKTOP)
    sign_in(wide, staff.username)
    wide.goto(wide.base + reverse("cases:detail", args=[case.pk]))
    expect(wide.locator(".badge-status.status-closed")).to_be_visible()
    wide.goto(wide.base + file_url)
    fits_width(wide, DESKTOP["width"])
    shoot(wide, screenshot_dir, "mediation-12-file-desktop")
    wide.goto(wide.base + reverse("cases:mediation_files"))
    fits_width(wide, DESKTOP["width"])
    shoot(wide, screenshot_dir, "mediation-13-list-desktop")
    panel = reverse("cases:dashboard_place_mediation", args=[city.community_a.pk]) + "?period=year"
    wide.goto(wide.base + panel)
    table = wide.locator("#table-mediation")
    expect(table).to_contain_text("50.0%")  # one agreement of two mediated
    expect(table).to_contain_text("100.0%")  # the one agreement performed at its follow-up
    fits_width(wide, DESKTOP["width"])
    shoot(wide, screenshot_dir, "mediation-14-dashboard-desktop")
    sign_in(desk, staff.username)
    desk.goto(desk.base + panel)
    fits_width(desk, PHONE["width"])
    shoot(desk, screenshot_dir, "mediation-15-dashboard-phone")
    for page in (resident, desk, phone, wide):
        assert not page.csp_violations, page.csp_violations


def unfold_case(page, case, name):
    """Unfold a workflow action's <details> on the case page and return its form."""
    action = reverse("cases:act", args=[case.pk, name])
    details = page.locator(f"details:has(form[action='{action}'])")
    if details.count() and details.get_attribute("open") is None:
        details.locator("> summary").click()
    form = page.locator(f"form[action='{action}']")
    expect(form).to_be_visible()
    return form


def record_session(page, case, *, held_at, notes):
    session = unfold(page, reverse("cases:mediation_act", args=[case.pk, "session"]))
    session.locator("input[name=session-held_at]").fill(held_at.strftime("%Y-%m-%dT%H:%M"))
    session.locator("select[name=session-room]").select_option(label="幸福社区人民调解室")
    session.locator("textarea[name=session-attendees]").fill("王五、赵六、人民调解员李")
    session.locator("textarea[name=session-notes]").fill(notes)
    session.locator("button[type=submit]").click()
    expect(page.locator(".message-success")).to_be_visible()
