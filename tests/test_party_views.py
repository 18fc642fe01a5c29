"""Party pages: the member's phone page (report in, adopt, fulfil), the staff page (inside/outside
the user's places: 404 outside), bad input (a message or the form again, nothing written), the
figures page and its export, and the admin (masked names, a refused membership)."""

import pytest
from django.urls import reverse

from grid.models import LiaisonLevel, Role
from grid.services_liaisons import liaison_assign
from residents.party import services
from residents.party.models import Membership, OrgKind, ReportIn, ReportStatus, Wish, WishStatus

from .factories import UserFactory, user_with_post
from .party_factories import NOW, party, posted_wish  # noqa: F401

pytestmark = pytest.mark.clock("2026-11-24T10:00:00+08:00")


def as_user(client, user):
    client.force_login(user)
    return client


def wish_of_b(party):
    return services.wish_post(resident=party.resident_b, title="一袋大米", category="daily", budget_cap=80,
                              acting_user=party.staff_b, now=NOW)


# --- the member's page ----------------------------------------------------------------------

def test_a_member_reports_in_from_the_phone_page(client, city, party):
    user = UserFactory(username="newmember", full_name="陈党员")
    as_user(client, user)
    page = client.get(reverse("party:me"))
    assert page.status_code == 200 and "幸福社区" in page.content.decode()
    response = client.post(reverse("party:report_in"), {"community": city.community_a.pk, "name": "陈党员",
                                                        "employer_name": "市教育局", "posts": ["wish", "helper"]})
    assert response.status_code == 302
    report = ReportIn.objects.get(user=user)
    assert report.status == ReportStatus.PENDING and report.post_wishes and report.post_building_helper


def test_a_member_ends_their_own_report_in_from_the_phone_page(client, city, party):
    as_user(client, party.member)
    page = client.get(reverse("party:me")).content.decode()
    assert "结束我的双报到" in page
    assert client.get(reverse("party:report_end")).status_code == 405
    response = client.post(reverse("party:report_end"))
    assert response.status_code == 302
    report = ReportIn.objects.get(pk=party.report.pk)
    assert (report.status, report.ended_by) == (ReportStatus.ENDED, party.member)
    assert ReportIn.objects.get(pk=party.report2.pk).status == ReportStatus.CONFIRMED  # the other member's
    page = client.get(reverse("party:me")).content.decode()
    assert "结束我的双报到" not in page and "报到" in page  # the form to report in again
    assert client.post(reverse("party:report_end")).status_code == 404  # nothing live left to end
    as_user(client, UserFactory(username="never_reported"))
    assert client.post(reverse("party:report_end")).status_code == 404


def test_report_in_bad_input_shows_the_form_and_writes_nothing(client, city, party):
    user = UserFactory(username="careless")
    as_user(client, user)
    response = client.post(reverse("party:report_in"), {"community": city.community_a.pk, "name": "某人",
                                                        "employer_name": "", "posts": []})
    assert response.status_code == 400
    assert not ReportIn.objects.filter(user=user).exists()
    # A second report-in while one is live: the service's refusal on the form.
    response = client.post(reverse("party:report_in"), {"community": city.community_b.pk, "name": "李党员",
                                                        "employer_name": "某局", "posts": ["wish"]})
    assert response.status_code == 302  # the careless user's first valid one
    as_user(client, party.member)
    response = client.post(reverse("party:report_in"), {"community": city.community_b.pk, "name": "李党员",
                                                        "employer_name": "某局", "posts": ["wish"]})
    assert response.status_code == 400 and "已有报到记录" in response.content.decode()
    assert ReportIn.objects.filter(user=party.member).count() == 1


def test_member_sees_only_their_communitys_open_wishes_and_adopts_and_fulfils(client, city, party):
    ours = posted_wish(party)
    theirs = wish_of_b(party)
    as_user(client, party.member)
    page = client.get(reverse("party:me")).content.decode()
    assert ours.title in page and theirs.title not in page
    assert "王**" in page and "王秀兰" not in page  # the resident in need, masked
    # Adopting the other community's wish is refused with a message; nothing changes.
    client.post(reverse("party:wish_adopt", args=[theirs.pk]))
    assert Wish.objects.get(pk=theirs.pk).status == WishStatus.POSTED
    assert client.post(reverse("party:wish_adopt", args=[ours.pk])).status_code == 302
    assert Wish.objects.get(pk=ours.pk).adopter == party.report
    # Fulfilling: an empty note is refused, then the note is kept.
    client.post(reverse("party:wish_fulfil", args=[ours.pk]), {"note": ""})
    assert Wish.objects.get(pk=ours.pk).status == WishStatus.ADOPTED
    client.post(reverse("party:wish_fulfil", args=[ours.pk]), {"note": "已送到"})
    assert Wish.objects.get(pk=ours.pk).fulfil_note == "已送到"


def test_fulfil_by_another_member_is_404(client, city, party):
    wish = services.wish_adopt(wish=posted_wish(party), acting_user=party.member, now=NOW)
    as_user(client, party.member2)
    assert client.post(reverse("party:wish_fulfil", args=[wish.pk]), {"note": "我送的"}).status_code == 404
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.ADOPTED


# --- the staff page -----------------------------------------------------------------------------

def test_staff_page_shows_inside_and_acts_404_outside(client, city, party):
    ours, theirs = posted_wish(party), wish_of_b(party)
    as_user(client, party.staff)
    page = client.get(reverse("party:staff")).content.decode()
    assert ours.title in page and theirs.title not in page
    assert client.post(reverse("party:wish_withdraw", args=[theirs.pk])).status_code == 404
    assert Wish.objects.get(pk=theirs.pk).status == WishStatus.POSTED
    assert client.post(reverse("party:wish_withdraw", args=[ours.pk])).status_code == 302
    assert Wish.objects.get(pk=ours.pk).status == WishStatus.WITHDRAWN


def test_staff_confirm_report_in_inside_and_outside(client, city, party):
    user_a, user_b = UserFactory(username="pa"), UserFactory(username="pb")
    report_a = services.report_in(community=city.community_a, employer_name="某局", posts=["wish"], user=user_a,
                                  acting_user=user_a, now=NOW)
    report_b = services.report_in(community=city.community_b, employer_name="某局", posts=["wish"], user=user_b,
                                  acting_user=user_b, now=NOW)
    as_user(client, party.staff)
    assert client.post(reverse("party:report_confirm", args=[report_b.pk])).status_code == 404
    assert client.post(reverse("party:report_confirm", args=[report_a.pk])).status_code == 302
    assert ReportIn.objects.get(pk=report_a.pk).status == ReportStatus.CONFIRMED
    assert ReportIn.objects.get(pk=report_b.pk).status == ReportStatus.PENDING


def test_staff_confirm_a_wish_with_bad_hours_writes_nothing(client, city, party):
    wish = services.wish_adopt(wish=posted_wish(party), acting_user=party.member, now=NOW)
    wish = services.wish_fulfil(wish=wish, note="已送达", acting_user=party.member, now=NOW)
    as_user(client, party.staff)
    client.post(reverse("party:wish_confirm", args=[wish.pk]), {"hours": "-1"})
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.FULFILLED
    client.post(reverse("party:wish_confirm", args=[wish.pk]), {"hours": "2"})
    assert Wish.objects.get(pk=wish.pk).status == WishStatus.CONFIRMED


def test_posting_a_wish_for_a_resident_outside_is_refused(client, city, party):
    as_user(client, party.staff)
    page = client.get(reverse("party:wish_new"), {"q": "赵"}).content.decode()
    assert "赵大爷" not in page  # community B's resident is not offered
    response = client.post(reverse("party:wish_new"), {"resident": party.resident_b.pk, "title": "米",
                                                       "category": "daily", "budget_cap": "50"})
    assert response.status_code == 400
    response = client.post(reverse("party:wish_new"), {"resident": party.resident.pk, "title": "收音机",
                                                       "category": "elderly", "budget_cap": "9999"})
    assert response.status_code == 400
    assert not Wish.objects.exists()
    response = client.post(reverse("party:wish_new"), {"resident": party.resident.pk, "title": "收音机",
                                                       "category": "elderly", "budget_cap": "120"})
    assert response.status_code == 302 and Wish.objects.get().community_id == city.community_a.pk


def test_the_staff_page_is_not_for_chiefs_or_members(client, city, party):
    assert as_user(client, party.chief).get(reverse("party:staff")).status_code == 404
    assert as_user(client, party.member).get(reverse("party:staff")).status_code == 404


# --- figures and 包片 ---------------------------------------------------------------------------

def test_figures_page_and_export_are_scoped(client, city, party):
    done = services.wish_adopt(wish=posted_wish(party), acting_user=party.member, now=NOW)
    done = services.wish_fulfil(wish=done, note="已送", acting_user=party.member, now=NOW)
    services.wish_confirm(wish=done, hours="2.5", acting_user=party.staff, now=NOW)
    leader = UserFactory(username="leader", full_name="包片领导甲")
    district = user_with_post(Role.DISTRICT_OFFICIAL, city.district, username="party_district")
    liaison_assign(user=leader, level=LiaisonLevel.DISTRICT, area=city.street_a, acting_user=district, now=NOW)
    as_user(client, party.street)
    url = reverse("cases:dashboard_place_party", args=[city.street_a.pk])
    page = client.get(url).content.decode()
    assert "幸福社区" in page and "包片领导甲" in page
    csv = client.get(reverse("cases:dashboard_place_export", args=[city.street_a.pk, "party", "csv"]))
    rows = csv.content.decode("utf-8-sig").splitlines()
    assert rows[1] == "幸福社区,2,1,1,2.50"  # 2 members, 1 adopted, 1 fulfilled, 2.5 hours
    assert client.get(reverse("cases:dashboard_place_party", args=[city.street_b.pk])).status_code == 404
    # The street's place page names its 包片 leader.
    assert "包片领导甲" in client.get(reverse("place", args=[city.street_a.pk])).content.decode()


# --- the admin -----------------------------------------------------------------------------------

def test_admin_masks_members_and_refuses_a_membership_outside(client, city, party):
    org = services.org_add(kind=OrgKind.COMMITTEE, name="幸福社区党委", place=city.community_a,
                           acting_user=party.staff, now=NOW)
    services.membership_add(org=org, resident=party.resident, acting_user=party.staff, now=NOW)
    party.staff.is_staff = True
    party.staff.save(update_fields=["is_staff"])
    as_user(client, party.staff)
    listing = client.get(reverse("admin:party_membership_changelist")).content.decode()
    assert "王**" in listing and "王秀兰" not in listing
    response = client.post(reverse("admin:party_membership_add"),
                           {"org": org.pk, "resident": party.resident_b.pk, "role": "member"})
    assert response.status_code == 200  # the form again, with the refusal
    assert Membership.objects.count() == 1
    posted_wish(party)
    wishes = client.get(reverse("admin:party_wish_changelist")).content.decode()
    assert "一台收音机" in wishes and "王**" in wishes and "王秀兰" not in wishes


def test_admin_shows_who_withdrew_a_wish_and_who_ended_a_report_in(client, city, party):
    wish = services.wish_withdraw(wish=posted_wish(party), acting_user=party.staff, now=NOW)
    report = services.report_end(report=party.report2, acting_user=party.member2, now=NOW)
    party.staff.is_staff = True
    party.staff.save(update_fields=["is_staff"])
    as_user(client, party.staff)
    page = client.get(reverse("admin:party_wish_change", args=[wish.pk])).content.decode()
    assert "撤回人" in page and "撤回时间" in page and str(party.staff) in page
    page = client.get(reverse("admin:party_reportin_change", args=[report.pk])).content.decode()
    # Ended by the member: said so, never by name (party membership is sensitive), nor in the page's title.
    assert "结束操作人" in page and "党员本人" in page and "周党员" not in page and "周**" in page
    by_staff = services.report_end(report=party.report, acting_user=party.staff, now=NOW)
    page = client.get(reverse("admin:party_reportin_change", args=[by_staff.pk])).content.decode()
    assert str(party.staff) in page and "李党员" not in page


def test_a_member_who_is_staff_too_and_confirms_their_own_report_in_is_not_named(client, city, party):
    both = user_with_post(Role.COMMUNITY_STAFF, city.community_a, username="staff_and_member", full_name="孙党员")
    report = services.report_in(community=city.community_a, employer_name="市税务局", posts=["wish"], user=both,
                                acting_user=both, now=NOW)
    services.report_confirm(report=report, acting_user=both, now=NOW)
    party.staff.is_staff = True
    party.staff.save(update_fields=["is_staff"])
    as_user(client, party.staff)
    page = client.get(reverse("admin:party_reportin_change", args=[report.pk])).content.decode()
    assert "确认人" in page and "党员本人" in page and "孙党员" not in page


def test_staff_end_reports_in_from_the_admin_inside_their_places_only(client, city, party):
    user_b = UserFactory(username="member_of_b", full_name="吴党员")
    report_b = services.report_in(community=city.community_b, employer_name="某局", posts=["wish"], user=user_b,
                                  acting_user=user_b, now=NOW)
    party.staff.is_staff = True
    party.staff.save(update_fields=["is_staff"])
    as_user(client, party.staff)
    response = client.post(reverse("admin:party_reportin_changelist"), {
        "action": "end", "_selected_action": [party.report.pk, report_b.pk]})
    assert response.status_code == 302
    ours = ReportIn.objects.get(pk=party.report.pk)
    assert (ours.status, ours.ended_by) == (ReportStatus.ENDED, party.staff)
    assert ReportIn.objects.get(pk=report_b.pk).status == ReportStatus.PENDING  # outside: untouched


# --- a member's service on a post (楼栋长助手, 志愿服务) -------------------------------------------

def test_staff_record_a_member_s_volunteer_service_and_it_reaches_the_volunteers_records(client, city, party):
    from residents.party.models import Service
    from volunteers.models import ServiceRecord

    user_b = UserFactory(username="member_b", full_name="吴党员")
    report_b = services.report_in(community=city.community_b, employer_name="某局", posts=["volunteer"], user=user_b,
                                  acting_user=user_b, now=NOW)
    services.report_confirm(report=report_b, acting_user=party.staff_b, now=NOW)
    as_user(client, party.staff)
    form = client.get(reverse("party:service_new")).content.decode()
    assert f'value="{party.report.pk}"' in form and f'value="{report_b.pk}"' not in form  # inside only
    assert "李党员" not in form  # names masked in the picker
    assert f'value="{party.report2.pk}"' not in form  # wishes only: no post to credit
    response = client.post(reverse("party:service_new"), {
        "report": party.report.pk, "post": "volunteer", "content": "社区垃圾分类宣传",
        "started_at": "2026-11-23T09:00", "hours": "3"})
    assert response.status_code == 302
    service = Service.objects.get()
    assert (service.report_id, service.post, service.hours, service.confirmed_by_id) == (
        party.report.pk, "volunteer", 3, party.staff.pk)
    record = ServiceRecord.objects.get()
    assert record.hours == 3 and record.volunteer.community_id == city.community_a.pk
    assert record.source_key == f"party-service:{service.pk}"
    page = client.get(reverse("party:staff")).content.decode()
    assert page.count("社区垃圾分类宣传") == 1 and page.count('id="services-h"') == 1
    assert "<section" not in page.split("<title>")[1].split("</title>")[0]


@pytest.mark.parametrize("changes, why", [
    ({"hours": "-1"}, "hours"),
    ({"hours": "25"}, "hours"),
    ({"hours": "abc"}, "hours"),
    ({"started_at": "2026-11-24T09:00"}, "not ended by now (10:00)"),
    ({"started_at": "2026-13-40T99:00"}, "no such moment"),
    ({"post": "helper"}, "the member did not choose the helper's post"),
    ({"post": "wish"}, "wishes are confirmed on the wish"),
    ({"content": ""}, "no content"),
    ({"content": "\x00"}, "NUL"),
    ({"report": "999999"}, "no such member"),
])
def test_recording_a_service_with_bad_input_writes_nothing(client, city, party, changes, why):
    from residents.party.models import Service
    from volunteers.models import ServiceRecord

    as_user(client, party.staff)
    data = {"report": party.report.pk, "post": "volunteer", "content": "巡楼", "started_at": "2026-11-23T09:00",
            "hours": "2", **changes}
    response = client.post(reverse("party:service_new"), data)
    assert response.status_code == 400, why
    assert not Service.objects.exists() and not ServiceRecord.objects.exists()


def test_recording_a_service_for_a_member_outside_is_refused(client, city, party):
    from residents.party.models import Service

    user_b = UserFactory(username="member_b2")
    report_b = services.report_in(community=city.community_b, employer_name="某局", posts=["volunteer"], user=user_b,
                                  acting_user=user_b, now=NOW)
    services.report_confirm(report=report_b, acting_user=party.staff_b, now=NOW)
    as_user(client, party.staff)
    response = client.post(reverse("party:service_new"), {
        "report": report_b.pk, "post": "volunteer", "content": "巡楼", "started_at": "2026-11-23T09:00", "hours": "2"})
    assert response.status_code == 400 and not Service.objects.exists()
    assert as_user(client, party.chief).get(reverse("party:service_new")).status_code == 404
