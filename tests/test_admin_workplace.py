"""The staff's workplace in the admin (issue #21): the portal's site, the case's moves as
buttons, photos through a scoped view, local time, Chinese throughout.

cases/admin_workflow.py and portal/admin_site.py. Every scoped URL is tried with a case
inside the staffer's places and one outside (404), and every move by a permitted user
and by one who is not (403 or 404, nothing changed).
"""

import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from cases import services
from cases.models import Case, Status

from .cases_factories import MONDAY, fresh_calendar, people, png, resident_report, to_status  # noqa: F401

pytestmark = pytest.mark.clock("2026-11-23T10:00:00+08:00")


def staff(user, language="zh-hans"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def change_url(case):
    return reverse("admin:cases_case_change", args=[case.pk])


def act_url(case, name):
    return reverse("admin:cases_case_act", args=[case.pk, name])


# --- the site ---------------------------------------------------------------------------------

def section_titles(page):
    return [app["name"] for app in page.context["app_list"]]


def test_index_is_the_portals_greets_by_name_and_puts_the_days_work_first(people, city):
    people.community.full_name = "王芳"
    people.community.save(update_fields=["full_name"])
    to_status(city, people, Status.RESOLVED)
    page = staff(people.community).get(reverse("admin:index"))
    assert page.status_code == 200
    text = page.text
    assert "Django" not in text
    assert "网格化社会治理" in text and "今日工作" in text
    assert re.search(r'欢迎，\s*<strong class="portal-admin-user">王芳</strong>', text)
    assert ">community_a<" not in text
    titles = [str(t) for t in section_titles(page)]
    assert titles[:2] == ["今日待办", "案件"], titles
    order = [titles.index(t) for t in ("案件", "居民", "志愿者", "居民参与", "调解", "风险与巡查") if t in titles]
    assert order == sorted(order) and len(order) >= 4, titles
    assert "系统（管理员）" not in titles
    models = [m["admin_url"] for app in page.context["app_list"] for m in app["models"]]
    for hidden in ("cases_delivery", "cases_notification", "workcalendar_workingperiod", "open311_apiclient"):
        assert not any(hidden.replace("_", "/", 1) in url for url in models), hidden
    todo = page.context["app_list"][0]["models"]
    # The resolved case waits for verification: counted on the index.
    assert any(m["name"] == "待核查（1）" and "status__exact=resolved" in m["admin_url"] for m in todo), todo


def test_administrators_see_the_system_section(make_user, city):
    from tests.factories import UserFactory

    root = UserFactory(is_superuser=True, is_staff=True, username="root")
    page = staff(root).get(reverse("admin:index"))
    titles = [str(t) for t in section_titles(page)]
    assert titles[-1] == "系统（管理员）", titles
    system = [m["admin_url"] for m in page.context["app_list"][-1]["models"]]
    assert any("cases/delivery" in url for url in system) and any("workingperiod" in url for url in system)


# --- photos through the scoped view ---------------------------------------------------------------

def test_case_photos_are_thumbnails_through_the_scoped_view(people, city):
    inside = to_status(city, people, Status.RESOLVED)
    photo = inside.photos.get()
    client = staff(people.community)
    page = client.get(change_url(inside))
    url = reverse("admin:cases_case_photo", args=[inside.pk, photo.pk])
    assert f'<img src="{url}"' in page.text
    assert "/media/" not in page.text and " object (" not in page.text
    shown = client.get(url)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert b"".join(shown.streaming_content).startswith(b"\x89PNG")


def test_case_photo_outside_the_places_or_of_another_case_is_404(people, city):
    inside = to_status(city, people, Status.RESOLVED)
    photo = inside.photos.get()
    other = resident_report(city, building=city.building_a)
    url = reverse("admin:cases_case_photo", args=[inside.pk, photo.pk])
    assert staff(people.community_b).get(url).status_code == 404
    # The photo named under another case the user does see: no.
    assert staff(people.community).get(
        reverse("admin:cases_case_photo", args=[other.pk, photo.pk])).status_code == 404
    assert staff(people.community).get(
        reverse("admin:cases_case_photo", args=[inside.pk, 999_999])).status_code == 404


# --- the moves as buttons ------------------------------------------------------------------------

MOVES = {
    # move: (the status the case is brought to, its POST data, the status after)
    "register": (Status.REPORTED, {"register-note": "已核实"}, Status.DISPATCHED),
    "dispatch": (Status.REGISTERED, {"dispatch-target": "", "dispatch-note": "请处理"}, Status.DISPATCHED),
    "verify": (Status.RESOLVED, {"verify-note": "现场核查通过"}, Status.VERIFIED),
    "close": (Status.VERIFIED, {"close-note": "结案"}, Status.CLOSED),
}


def snapshot(case):
    case.refresh_from_db()
    return case.status, case.events.count(), case.assignee_id


@pytest.mark.parametrize("name", list(MOVES))
def test_each_move_is_a_button_that_goes_through_the_service(people, city, name):
    start, data, after = MOVES[name]
    case = to_status(city, people, start)
    client = staff(people.community)
    page = client.get(change_url(case))
    assert f'action="{act_url(case, name)}"' in page.text
    before_events = case.events.count()
    response = client.post(act_url(case, name), data)
    assert response.status_code == 302 and response["Location"] == change_url(case)
    case.refresh_from_db()
    assert case.status == after
    assert case.events.count() > before_events, "the move is on the timeline"
    followed = client.get(change_url(case))
    assert case.number in followed.text


@pytest.mark.parametrize("name", list(MOVES))
def test_each_move_outside_the_places_is_404_and_changes_nothing(people, city, name):
    start, data, _after = MOVES[name]
    case = to_status(city, people, start)
    before = snapshot(case)
    assert staff(people.community_b).post(act_url(case, name), data).status_code == 404
    assert staff(people.community_b).get(change_url(case)).status_code == 404
    assert snapshot(case) == before


@pytest.mark.parametrize("name", list(MOVES))
def test_each_move_by_a_worker_who_is_not_admin_staff_changes_nothing(people, city, name):
    start, data, _after = MOVES[name]
    case = to_status(city, people, start)
    before = snapshot(case)
    response = staff(people.worker).post(act_url(case, name), data)
    assert response.status_code in (302, 403, 404)
    assert "/admin/login/" in response.get("Location", "/admin/login/")
    assert snapshot(case) == before


@pytest.mark.parametrize("name,start", [("register", Status.REPORTED), ("dispatch", Status.REGISTERED)])
def test_a_move_the_table_gives_the_level_above_is_403_for_the_community(people, city, name, start):
    case = to_status(city, people, start)
    case = services.case_escalate(case=case, acting_user=people.community, reason="超出社区职权", now=MONDAY)
    assert case.responsible_level == "street"
    client = staff(people.community)
    page = client.get(change_url(case))
    assert page.status_code == 200, "the community still sees the case in its places"
    assert f'action="{act_url(case, name)}"' not in page.text
    before = snapshot(case)
    assert client.post(act_url(case, name), MOVES[name][1]).status_code == 403
    assert snapshot(case) == before
    # The street, whose move it now is, makes it.
    assert staff(people.street).post(act_url(case, name), MOVES[name][1]).status_code == 302
    case.refresh_from_db()
    assert case.status != before[0] or case.events.count() > before[1]


def test_a_move_refused_by_the_cases_state_is_a_message_and_changes_nothing(people, city):
    # Closing is the community's move, but only once the case is verified.
    case = to_status(city, people, Status.RESOLVED)
    client = staff(people.community)
    before = snapshot(case)
    response = client.post(act_url(case, "close"), {"close-note": "x"})
    assert response.status_code == 302 and response["Location"] == change_url(case)
    assert snapshot(case) == before
    page = client.get(change_url(case))
    assert "不能结案" in page.text or "不能" in page.text, "the refusal is shown in Chinese"


def test_a_bad_form_is_a_message_and_changes_nothing(people, city):
    case = to_status(city, people, Status.REGISTERED)
    client = staff(people.community)
    before = snapshot(case)
    response = client.post(act_url(case, "dispatch"), {"dispatch-target": "u999999", "dispatch-note": "x"})
    assert response.status_code == 302
    assert snapshot(case) == before


def test_get_on_a_move_and_an_unknown_move(people, city):
    case = to_status(city, people, Status.VERIFIED)
    client = staff(people.community)
    assert client.get(act_url(case, "close")).status_code == 405
    assert client.post(act_url(case, "no-such-move"), {}).status_code == 404
    assert Case.objects.get(pk=case.pk).status == Status.VERIFIED


# --- local time and the Chinese page -----------------------------------------------------------

def test_case_page_is_titled_by_the_case_with_local_times_and_no_save_button(people, city):
    case = to_status(city, people, Status.DISPATCHED)
    page = staff(people.community).get(change_url(case))
    text = page.text
    assert f"案件 {case.number}" in text and "修改 案件" not in text
    assert 'name="_save"' not in text
    # MONDAY is 09:00 in Shanghai (01:00 UTC): every time on the page is the local one.
    assert "2026-11-23 09:00" in text or "2026年11月23日 09:00" in text
    assert "01:00" not in text


def test_resident_page_names_the_person_and_links_to_reveal_and_history(people, city):
    from .residents_factories import household_in, resident_in

    household = household_in(city.unit_a, acting_user=people.community)
    resident = resident_in(household, acting_user=people.community)
    page = staff(people.community).get(reverse("admin:residents_resident_change", args=[resident.pk]))
    assert page.status_code == 200
    labels = re.findall(r"<label[^>]*>([^<]*)</label>", page.text)
    assert sum(1 for label in labels if label.strip() == "身份证号:") <= 1, labels
    assert page.text.count(">身份证号:<") == 1
    assert "姓名:" in labels, labels
    assert "名称:" not in labels
    assert reverse("residents:resident", args=[resident.pk]) + "#personal-title" in page.text
    assert reverse("admin:residents_residentevent_changelist") + f"?resident__id__exact={resident.pk}" in page.text
    listing = staff(people.community).get(reverse("admin:residents_resident_changelist"))
    (header,) = re.findall(r'<th scope="col"[^>]*column-name[^>]*>(.*?)</th>', listing.text, re.DOTALL)
    assert "姓名" in header and "名称" not in header, header


# --- attachments of a mediation file -------------------------------------------------------------

def test_mediation_attachments_open_through_the_scoped_download(people, city, settings, tmp_path):
    from cases.mediation_files import mediation_attach_file

    from .mediation_factories import dispute, with_parties

    settings.MEDIA_ROOT = tmp_path
    inside = dispute(city, people)
    with_parties(inside, people.community)
    stored = mediation_attach_file(case=inside, acting_user=people.community, upload=png("scan.png"),
                                   kind="evidence", description="现场照片", now=MONDAY)
    page = staff(people.community).get(reverse("admin:cases_mediation_change", args=[inside.mediation.pk]))
    download = reverse("cases:mediation_file", args=[inside.pk, stored.pk])
    assert download in page.text and "/media/" not in page.text and "打开文件" in page.text
    assert staff(people.community).get(download).status_code == 200
    assert staff(people.community_b).get(download).status_code == 404
