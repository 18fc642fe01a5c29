"""What a resident or a caller meets, and what the staff who speak to them need.

- A request to handle a matter again goes with a rating of 1 or 2 and a matter not solved:
  otherwise it is refused where it was ticked (400, the form as typed), not dropped unsaid.
- The tracking page and the public Open311 reads show the notes written for the reporter (the
  result, a refusal's reason) and never staff's working notes (a registration's or a check's).
- A callback number has at least 7 digits.
- Hotline staff find a case again by the codes a caller reads out, and read the tracking code
  back from the case page; its handler and the organisations do not get it.
- A bulk action refused on one row names that row.
"""

import pytest
from django.test import Client
from django.urls import reverse

from cases import services, services_orgs, services_report
from cases.models import Case, CaseRating, Channel, Intake, Status
from cases.open311.models import PublicReads
from portal.errors import DomainError

from .cases_factories import MONDAY, category, people, png, resident_report, to_status  # noqa: F401
from .orgs_factories import orgs  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-11-23T09:00:00+08:00")]


def signed_in(user):
    web = Client(HTTP_ACCEPT_LANGUAGE="en")
    web.force_login(user)
    return web


# --- the rating and its request to handle it again ------------------------------------------------

@pytest.mark.parametrize("data", [
    {"rating": "5", "solved": "no", "reopen": "on"},
    {"rating": "3", "reopen": "on"},
    {"rating": "1", "solved": "yes", "reopen": "on"},
])
def test_a_request_to_reopen_that_does_not_fit_is_refused_as_typed(client, city, people, data):
    case = to_status(city, people, Status.CLOSED)
    response = client.post(reverse("cases:track_rate", args=[case.tracking_code]),
                           {**data, "comment": "问题还在，请再处理"})
    body = response.content.decode()
    assert response.status_code == 400
    assert 'class="field-error"' in body and "问题还在，请再处理" in body
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.rated_at is None and not CaseRating.objects.exists()


def test_a_fitting_request_reopens(client, city, people):
    case = to_status(city, people, Status.CLOSED)
    client.post(reverse("cases:track_rate", args=[case.tracking_code]), {"rating": "2", "solved": "no", "reopen": "on"})
    case.refresh_from_db()
    assert case.status == Status.HANDLING and case.rating == 2


# --- whose notes the reporter reads -------------------------------------------------------------

def staff_noted_case(city, people):
    """A resident's report registered with a working note, resolved with a result for the reporter."""
    case = resident_report(city)
    case = services.case_register(case=case, acting_user=people.community, note="内部：按小事派网格，注意与物业协调",
                                  now=MONDAY)
    case = services.case_accept(case=case, acting_user=case.assignee, now=MONDAY)
    return services.case_resolve(case=case, acting_user=case.assignee, note="垃圾已清运完毕", photos=[png()],
                                 now=MONDAY)


def test_tracking_page_shows_the_result_not_the_working_notes(city, people):
    case = staff_noted_case(city, people)
    body = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("cases:track", args=[case.tracking_code])).content.decode()
    assert "垃圾已清运完毕" in body
    assert "内部：按小事派网格" not in body
    assert "Registered" in body  # the step itself still shows, as a status line


def test_a_rating_for_a_case_rated_already_says_why(city, people):
    case = to_status(city, people, Status.CLOSED)
    services.case_rate(tracking_code=case.tracking_code, rating=4, now=MONDAY)
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(reverse("cases:track_rate", args=[case.tracking_code]),
                                                       {"rating": "9"}, follow=True)
    assert response.status_code == 200 and "already been rated" in response.content.decode()


def test_open311_public_reads_leave_working_notes_out(client, city, people, settings):
    settings.OPEN311_PUBLIC_READS = True
    PublicReads.objects.create(district=city.district, enabled=True)
    case = staff_noted_case(city, people)
    services.case_verify(case=case, acting_user=people.community, passed=True, note="核查：现场仍有少量杂物，已口头提醒",
                         now=MONDAY)
    updates = client.get("/open311/v2/servicerequestupdates.json", {
        "start_date": "2026-11-22T00:00:00+08:00", "end_date": "2026-11-24T00:00:00+08:00"})
    assert updates.status_code == 200
    text = updates.content.decode()
    assert "垃圾已清运完毕" in text
    assert "内部：按小事派网格" not in text and "核查：现场仍有少量杂物" not in text
    # The matter itself, read in public: its last note written for the reporter, never a working note.
    listed = client.get("/open311/v2/requests.json").content.decode()
    assert case.number in listed
    assert "核查：现场仍有少量杂物" not in listed and "内部：按小事派网格" not in listed
    assert "垃圾已清运完毕" in listed


# --- the callback number ----------------------------------------------------------------------------

@pytest.mark.parametrize("phone", ["12345", "110", "+86 123"])
def test_a_callback_number_too_short_is_refused(city, phone):
    with pytest.raises(DomainError) as refused:
        services_report.case_report(category=category("E0101"), channel=Channel.WEB, building=city.building_a,
                                    description="路灯不亮了", reporter_phone=phone, now=MONDAY)
    assert refused.value.code == "bad_phone"
    assert not Case.objects.exists()


def test_the_report_page_refuses_a_short_number_as_typed(city):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(reverse("cases:report"), {
        "category": "E0101", "street": city.street_a.pk, "community": city.community_a.pk, "grid": city.grid_a.pk,
        "building": city.building_a.pk, "description": "路灯不亮了", "reporter_phone": "12345"})
    body = response.content.decode()
    assert response.status_code == 400 and "at least 7 digits" in body and "路灯不亮了" in body
    assert not Case.objects.exists() and not Intake.objects.exists()


def test_a_bad_number_is_named_beside_its_field_with_the_other_errors(city):
    """The description left empty and the phone mistyped: both errors in one answer, the phone's by its field."""
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(reverse("cases:report"), {
        "category": "E0101", "street": city.street_a.pk, "community": city.community_a.pk, "grid": city.grid_a.pk,
        "building": city.building_a.pk, "description": "", "reporter_phone": "12345abc"})
    form = response.context["form"]
    assert response.status_code == 400 and set(form.errors) == {"description", "reporter_phone"}
    assert "characters a phone number does not have" in form.errors["reporter_phone"][0]
    assert "12345abc" in response.content.decode()  # kept as typed
    assert not Case.objects.exists() and not Intake.objects.exists()


def test_landlines_and_mobiles_pass(city):
    for phone in ("13800001111", "0816-2345678", "2345678"):
        services_report.check_reporter_phone(phone)


# --- the hotline's codes ----------------------------------------------------------------------------

def hotline_case(city, people, *, ref="GD20261207-0088"):
    return services_report.case_report(category=category("E0101"), channel=Channel.HOTLINE, building=city.building_a,
                                       description="来电反映楼道堆物", reporter_phone="13800002222",
                                       external_ref=ref, acting_user=people.street, now=MONDAY)


@pytest.mark.parametrize("term", ["tracking", "dashed", "ref", "tail"])
def test_admin_finds_a_case_by_what_a_caller_reads_out(city, people, term):
    case = hotline_case(city, people)
    other = resident_report(city)
    search = {"tracking": case.tracking_code.lower(), "dashed": case.tracking_code_display,
              "ref": "GD20261207-0088", "tail": case.number[-5:]}[term]
    page = signed_in(people.street).get(reverse("admin:cases_case_changelist"), {"q": search})
    assert page.status_code == 200
    assert case.number in page.text
    if term != "tail":
        assert other.number not in page.text


def test_admin_search_stays_in_scope(city, people):
    case = hotline_case(city, people)
    page = signed_in(people.community_b).get(reverse("admin:cases_case_changelist"), {"q": case.tracking_code})
    assert page.status_code == 200 and case.number not in page.text


def test_the_case_page_gives_the_code_back_to_who_took_the_call(city, people):
    case = hotline_case(city, people)  # typed in by the street's staff
    assert case.tracking_code_display in signed_in(people.street).get(
        reverse("cases:detail", args=[case.pk])).content.decode()
    web_case = resident_report(city)  # a resident's own report: they have the code
    assert web_case.tracking_code_display not in signed_in(people.street).get(
        reverse("cases:detail", args=[web_case.pk])).content.decode()


def test_nobody_else_gets_the_code_it_takes_to_rate_the_case(city, people):
    """The code rates the case: not the community or district staff whose 满意率 it counts in, not its
    handler, and nobody once it is closed."""
    case = hotline_case(city, people)
    handler = Case.objects.get(pk=case.pk).assignee or people.worker
    for user in (people.community, people.district, handler):
        body = signed_in(user).get(reverse("cases:detail", args=[case.pk])).content.decode()
        assert case.tracking_code_display not in body, user
    Case.objects.filter(pk=case.pk).update(status=Status.CLOSED, resolved_at=MONDAY, closed_at=MONDAY)
    body = signed_in(people.street).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert case.tracking_code_display not in body


def test_the_caller_reads_why_the_order_was_handed_back(city, people):
    from cases.hotline import services as hotline

    case = hotline_case(city, people)
    hotline.order_return(case=case, reason="不属于本街道辖区，请转高新区办理", acting_user=people.street, now=MONDAY)
    body = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("cases:track", args=[case.tracking_code])).content.decode()
    assert "不属于本街道辖区，请转高新区办理" in body


def test_organisation_staff_get_no_hotline_entry_button(city, people, orgs):
    assert reverse("cases:hotline") not in signed_in(orgs.cg_staff).get(reverse("cases:board")).content.decode()
    assert reverse("cases:hotline") in signed_in(people.street).get(reverse("cases:board")).content.decode()


# --- a bulk action refused on one row ---------------------------------------------------------------

def test_a_refused_bulk_close_names_the_case(city, people):
    verified = to_status(city, people, Status.VERIFIED)
    handling = to_status(city, people, Status.HANDLING)
    response = signed_in(people.community).post(reverse("admin:cases_case_changelist"), {
        "action": "close_cases", "_selected_action": [verified.pk, handling.pk]}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any(handling.number in m and "Nothing was changed" in m for m in messages), messages
    verified.refresh_from_db()
    assert verified.status == Status.VERIFIED


def test_an_organisations_reply_reaches_the_reporter(city, people, orgs):
    # The organisation's reply is a result written for the reporter: it shows on the tracking page.
    from .orgs_factories import big_matter

    case = big_matter(city, orgs, people)
    services_orgs.case_org_dispatch(case=case, acting_user=people.street, lead=orgs.chengguan, now=MONDAY)
    case = services_orgs.case_org_sign_in(case=Case.objects.get(pk=case.pk), acting_user=orgs.cg_staff, now=MONDAY)
    services_orgs.case_org_reply(case=case, acting_user=orgs.cg_staff, note="已依法拆除违建", photos=[png()],
                                 now=MONDAY)
    body = Client().get(reverse("cases:track", args=[case.tracking_code])).content.decode()
    assert "已依法拆除违建" in body

