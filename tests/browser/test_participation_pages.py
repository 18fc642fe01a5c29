"""Resident participation end to end in a real browser (Debian's chromium): a proposal,
residents' supports, a courtyard meeting that votes on it, the decision, a livelihood
project from it with a progress photo, the residents' evaluation, and the public board.

Every page is shot at 390 px and 1280 px into test-artifacts/screenshots/participation/,
must fit the phone width, raise no CSP violation, show Chinese, and the public board
must not show a resident's name.
"""

import io

import pytest
from django.urls import reverse

from grid.models import Role
from residents.participation.models import Project, Proposal, ProposalStatus

from ..factories import build_city, user_with_post
from ..residents_factories import household_in, resident_in
from .conftest import SCREENSHOTS

PASSWORD = "pw-Portal-2026"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SHOTS = SCREENSHOTS / "participation"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(live_server):
    city = build_city()
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, full_name="社区干部周敏")
    home = household_in(city.unit_a, "301", acting_user=staff)
    residents = [resident_in(home, name, acting_user=staff, phone=f"1390000000{n}")
                 for n, name in enumerate(["李秀英", "李建国"])]
    return city, staff, residents


def png_bytes():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 140, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def shoot(page, name, screenshot_dir):
    """Both widths: fits 390 px, then the desktop shot."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(PHONE)
    scroll, inner = page.evaluate("document.documentElement.scrollWidth"), page.evaluate("window.innerWidth")
    assert scroll <= inner, f"{page.url} is {scroll}px wide at {inner}px"
    for folder in (SHOTS, screenshot_dir):
        page.screenshot(path=str(folder / f"participation-{name}-390.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    for folder in (SHOTS, screenshot_dir):
        page.screenshot(path=str(folder / f"participation-{name}-1280.png"), full_page=True)
    assert page.csp_violations == []


def click_form(page, action_suffix, button=None):
    form = page.locator(f"form[action$='{action_suffix}']").first
    (form.get_by_role("button", name=button) if button else form.locator("button[type=submit]")).click()
    page.wait_for_load_state()


def test_proposal_meeting_decision_project_evaluation_end_to_end(world, open_page, screenshot_dir):
    city, staff, residents = world
    page = open_page(DESKTOP)
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(staff.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))

    # A proposal for grid A, two supports to reach the threshold.
    page.goto(page.base + reverse("participation:proposal_new"))
    page.locator("select[name=place]").select_option(str(city.grid_a.pk))
    page.locator("input[name=title]").fill("小区加装电动车充电桩")
    page.locator("textarea[name=description]").fill("楼下电动车飞线充电，有火灾隐患，建议集中建设充电棚。")
    page.locator("input[name=threshold]").fill("2")
    shoot(page, "proposal-form", screenshot_dir)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()
    proposal = Proposal.objects.get()
    for resident in residents:
        page.locator("input[name=q]").fill(resident.name)
        page.locator("form.psearch button").click()
        page.wait_for_load_state()
        if resident is residents[0]:
            shoot(page, "proposal-support", screenshot_dir)
        page.locator(f"form[action$='/support/']:has(input[value='{resident.pk}']) button").click()
        page.wait_for_load_state()
    proposal.refresh_from_db()
    assert (proposal.support_count, proposal.status) == (2, ProposalStatus.DELIBERATION)
    assert page.locator(".pbadge").first.inner_text() == "议事中"  # the proposal's status badge

    # A courtyard meeting takes it on its agenda, records the minutes and votes.
    page.goto(page.base + reverse("participation:meeting_new"))
    page.locator("select[name=place]").select_option(str(city.community_a.pk))
    page.locator("select[name=kind]").select_option("courtyard")
    page.locator("input[name=title]").fill("幸福小区院坝会")
    page.locator("input[name=held_at]").fill("2026-11-25T19:00")
    page.locator("input[name=location]").fill("1号楼前空地")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()
    click_form(page, "/add_item/")
    page.locator("textarea[name=participants]").fill("居民代表12人、物业2人、业委会1人")
    page.locator("input[name=attendance]").fill("15")
    page.locator("textarea[name=minutes]").fill("讨论了充电棚选址与费用分摊。")
    click_form(page, "/record/")
    page.locator("input[name=votes_for]").fill("12")
    page.locator("input[name=votes_against]").fill("2")
    page.locator("input[name=votes_abstain]").fill("1")
    page.locator("textarea[name=decision_text]").fill("同意在2号楼旁建设充电棚")
    shoot(page, "meeting", screenshot_dir)
    click_form(page, "/vote/")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.ADOPTED

    # The adopted proposal becomes a project: review, approval, work with a photo, completion.
    page.goto(page.base + proposal.get_absolute_url())
    page.get_by_role("link", name="从此议题申报项目").or_(page.get_by_role("link", name="Apply for a project from it")).click()
    page.wait_for_load_state()
    page.locator("input[name=title]").fill("建设电动车充电棚")
    page.locator("textarea[name=description]").fill("在2号楼旁建设可容纳40辆车的充电棚。")
    page.locator("input[name=applicant]").fill("幸福小区业委会")
    page.locator("input[name=budget]").fill("52000")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()
    project = Project.objects.get()
    assert project.proposal_id == proposal.pk
    for step in ("review", "approve", "start"):
        click_form(page, f"/{step}/")
    page.locator("textarea[name=note]").last.fill("基础浇筑完成，钢架进场。")
    page.locator("input[name=progress]").fill("60")
    page.locator("input[name=photo]").set_input_files(
        files=[{"name": "site.png", "mimeType": "image/png", "buffer": png_bytes()}])
    click_form(page, "/progress/")
    project.refresh_from_db()
    assert project.progress == 60 and project.updates.get().photos.count() == 1
    click_form(page, "/complete/")
    page.locator("input[name=q]").fill("李秀英")
    page.locator("form.psearch button").click()
    page.wait_for_load_state()
    page.locator("select[name=rating]").select_option("5")
    page.locator("input[name=comment]").fill("充电方便多了")
    shoot(page, "project", screenshot_dir)
    click_form(page, "/evaluate/")
    project.refresh_from_db()
    assert (project.status, project.rating_count) == ("completed", 1)

    # The public board, signed out, on a phone: the whole path, and nobody's name.
    phone = open_page(PHONE, phone=True)
    phone.goto(phone.base + reverse("participation:board", args=[city.community_a.pk]))
    text = phone.content()
    assert "小区加装电动车充电桩" in text and "同意在2号楼旁建设充电棚" in text and "建设电动车充电棚" in text
    for resident in residents:
        assert resident.name not in text
    assert staff.full_name not in text
    shoot(phone, "board", screenshot_dir)
    page.goto(page.base + reverse("participation:index"))
    shoot(page, "index", screenshot_dir)


def test_the_track_and_the_recurring_cases_fit_a_phone(world, open_page, screenshot_dir):
    from django.utils import timezone

    from residents.participation import services

    from ..cases_factories import resident_report

    city, staff, residents = world
    now = timezone.now()
    for _n in range(3):
        resident_report(city, now=now)
    found = services.proposal_create(place=city.grid_a, title="楼道堆物清理", description="消防通道被占",
                                     threshold=5, acting_user=staff, now=now)
    found = services.proposal_deliberate(proposal=found, acting_user=staff, now=now)
    track = services.track_open(proposal=found, acting_user=staff, now=now)
    for step in ("propose", "discuss", "review"):
        track = services.track_step(track=track, step=step, note=f"{step}：会议记录", acting_user=staff, now=now)
    track = services.track_step(track=track, step="decide", note="村民代表会议", votes=(41, 3, 2),
                                decision_text="限期清理楼道堆物", acting_user=staff, now=now)
    track = services.track_publish_decision(track=track, acting_user=staff, now=now)
    services.track_object(track=track, text="希望给老人多留几天时间", resident=residents[0], acting_user=staff, now=now)

    page = open_page(DESKTOP)
    page.goto(page.base + reverse("login"))
    page.locator("input[name=username]").fill(staff.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(page.base + reverse("home"))
    page.goto(page.base + track.get_absolute_url())
    assert "限期清理楼道堆物" in page.content()
    shoot(page, "track", screenshot_dir)
    page.goto(page.base + reverse("participation:clusters"))
    shoot(page, "clusters", screenshot_dir)
    page.locator("form[action$='/clusters/make/'] button").click()
    page.wait_for_load_state()
    assert Proposal.objects.filter(origin="cases").count() == 1
    phone = open_page(PHONE, phone=True)
    phone.goto(phone.base + reverse("participation:board", args=[city.community_a.pk]))
    assert residents[0].name not in phone.content() and "希望给老人" not in phone.content()
    shoot(phone, "board-track", screenshot_dir)
