"""The grid worker's and the staff's case pages: queue, case detail and its
actions, photos, the board with its filters, and the CSV export.

Every scoped URL is requested for a case inside the user's subtree and one
outside it (outside answers 404 like a missing id); every refusal of the
domain comes back as a message, never a 500; lists keep a flat query count.
"""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases import oversight, services, services_report
from cases.models import Case, CaseEvent, CasePhoto, Channel, ExtensionRequest, ExtensionStatus, Status

from .cases_factories import MONDAY, fresh_calendar, people, png, resident_report, to_status  # noqa: F401

# Cases are moved at MONDAY and the pages ask for now: the clock stands just after.
pytestmark = pytest.mark.clock(MONDAY + timedelta(hours=2))

PHONE = "13800000000"  # the reporter's phone in resident_report


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


@pytest.fixture
def client():
    """Pages in English, whatever the Chinese catalogue says: the tests read the English msgids."""
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def text_of(response):
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def kept_form(response, name):
    """The HTML of the open <details> holding action `name`'s form on a case page, or None."""
    html = response.content.decode()
    match = re.search(r'<details class="action[^"]*" open>((?:(?!</details>).)*?/act/%s/"(?:(?!</details>).)*)</details>'
                      % re.escape(name), html, re.S)
    return match.group(1) if match else None


def act(client, case, name, data=None, prefix=None, **extra):
    """POST an action the way the case page's form does (fields carry the action's prefix)."""
    prefix = prefix or name
    payload = {f"{prefix}-{k}": v for k, v in (data or {}).items()}
    return client.post(reverse("cases:act", args=[case.pk, name]), payload, follow=True, **extra)


def now():
    return timezone.now()


@pytest.fixture
def dispatched(city, people):
    """A resident's case in grid A, registered and dispatched to worker_a (routing picks the least loaded)."""
    case = to_status(city, people, Status.DISPATCHED)
    assert case.assignee == people.worker
    return case


@pytest.fixture
def foreign(city, people):
    """A case in grid B (和平社区), dispatched there."""
    case = resident_report(city, building=city.building_b)
    return services.case_register(case=case, acting_user=people.community_b, now=MONDAY)


# --- sign-in and scope ---------------------------------------------------------------------

SIGNED_IN_PAGES = ["cases:queue", "cases:board", "cases:export", "cases:patrol", "cases:hotline"]


@pytest.mark.parametrize("name", SIGNED_IN_PAGES)
def test_anonymous_users_are_sent_to_sign_in(client, city, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_anonymous_users_cannot_open_or_act_on_a_case(client, city, people, dispatched):
    photo_case = resident_report(city, photos=[png()])
    photo = CasePhoto.objects.get(case=photo_case)
    for url in (reverse("cases:detail", args=[dispatched.pk]),
                reverse("cases:photo", args=[photo_case.pk, photo.pk])):
        assert client.get(url).status_code == 302
    response = client.post(reverse("cases:act", args=[dispatched.pk, "accept"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    dispatched.refresh_from_db()
    assert dispatched.status == Status.DISPATCHED


def test_a_worker_of_grid_b_gets_404_on_a_case_of_grid_a(login, city, people, dispatched):
    resident_report(city, photos=[png()])
    photo = CasePhoto.objects.get()
    client = login(people.worker_b)
    assert client.get(reverse("cases:detail", args=[dispatched.pk])).status_code == 404
    assert client.get(reverse("cases:photo", args=[photo.case_id, photo.pk])).status_code == 404
    for name in ("accept", "note", "resolve", "return", "escalate"):
        response = client.post(reverse("cases:act", args=[dispatched.pk, name]), {f"{name}-note": "x",
                                                                                  f"{name}-reason": "x"})
        assert response.status_code == 404
    dispatched.refresh_from_db()
    assert dispatched.status == Status.DISPATCHED and dispatched.events.count() == 3
    export = rows_of(client.get(reverse("cases:export")))
    assert export[1:] == []
    board = client.get(reverse("cases:board"))
    assert dispatched.number not in text_of(board)
    queue = client.get(reverse("cases:queue"))
    assert dispatched.number not in text_of(queue)


def test_community_staff_of_another_community_get_404(login, city, people, dispatched, foreign):
    client = login(people.community_b)
    assert client.get(reverse("cases:detail", args=[dispatched.pk])).status_code == 404
    assert client.get(reverse("cases:detail", args=[foreign.pk])).status_code == 200
    response = client.post(reverse("cases:act", args=[dispatched.pk, "supervise"]), {})
    assert response.status_code == 404


def test_a_missing_case_and_a_foreign_photo_are_404(login, city, people, dispatched):
    other = resident_report(city, photos=[png()])
    photo = CasePhoto.objects.get(case=other)
    client = login(people.community)
    assert client.get(reverse("cases:detail", args=[999999])).status_code == 404
    # The photo of another case, even a visible one, under this case's URL.
    assert client.get(reverse("cases:photo", args=[dispatched.pk, photo.pk])).status_code == 404
    assert client.get(reverse("cases:photo", args=[other.pk, photo.pk])).status_code == 200


def test_unknown_action_is_404_and_get_is_405(login, city, people, dispatched):
    client = login(people.worker)
    assert client.post(reverse("cases:act", args=[dispatched.pk, "explode"])).status_code == 404
    # A GET of a move's address (a refused move's page reloaded) goes to the case page.
    again = client.get(reverse("cases:act", args=[dispatched.pk, "accept"]))
    assert again.status_code == 302 and again["Location"] == reverse("cases:detail", args=[dispatched.pk])


# --- the worker's queue -------------------------------------------------------------------

def test_queue_supervised_first_then_soonest_due_with_overdue_marked(login, city, people):
    old = to_status(city, people, Status.DISPATCHED, now=MONDAY)  # due long ago: overdue
    fresh = to_status(city, people, Status.DISPATCHED, now=now())
    supervised = to_status(city, people, Status.DISPATCHED, now=now())
    oversight.case_supervise(case=supervised, acting_user=people.district, now=now())
    Case.objects.filter(pk__in=[old.pk, fresh.pk, supervised.pk]).update(assignee=people.worker)
    client = login(people.worker)
    response = client.get(reverse("cases:queue"))
    html = response.content.decode()
    order = [m for m in re.findall(r'href="/cases/(\d+)/"', html)]
    assert order == [str(supervised.pk), str(old.pk), str(fresh.pk)]
    items = re.findall(r'<li class="case-item([^"]*)">', html)
    assert items[0].strip() == "is-supervised" and items[1].strip() == "is-overdue" and items[2].strip() == ""
    assert text_of(response).count("Stage past due") == 1
    assert "layout-worker" in html


def test_queue_query_count_is_flat(login, city, people, django_assert_num_queries):
    client = login(people.worker)

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("cases:queue")).status_code == 200
        return len(ctx.captured_queries)

    to_status(city, people, Status.DISPATCHED)
    few = count()
    for _ in range(6):
        case = to_status(city, people, Status.DISPATCHED)
        Case.objects.filter(pk=case.pk).update(assignee=people.worker)
        oversight.case_supervise(case=case, acting_user=people.district, now=now())
    many = count()
    assert few == many
    # +2 (issue #21): the navigation's counts (my queue and unread notices, one statement) and the
    # "left your queue" panel (one read of the timeline); +1: the checks on site of the worker's grids.
    assert many <= 11


def test_one_tap_accept_from_the_queue(login, city, people, dispatched):
    client = login(people.worker)
    page = client.get(reverse("cases:queue")).content.decode()
    assert f'action="{reverse("cases:act", args=[dispatched.pk, "accept"])}"' in page
    response = client.post(reverse("cases:act", args=[dispatched.pk, "accept"]), follow=True)
    assert f"You accepted case {dispatched.number}." in messages_of(response)
    dispatched.refresh_from_db()
    assert dispatched.status == Status.HANDLING and dispatched.assignee == people.worker


def test_a_second_worker_accepting_gets_a_clear_message(login, city, people):
    case = to_status(city, people, Status.REGISTERED)  # returned to the community: nobody holds it
    services.case_dispatch(case=case, acting_user=people.community, level="grid", now=now())
    services.case_accept(case=case, acting_user=people.worker, now=now())
    client = login(people.worker2)
    response = act(client, case, "accept")
    assert response.status_code == 200
    assert messages_of(response) == [f"This case was already accepted by {people.worker}."]
    case.refresh_from_db()
    assert case.assignee == people.worker


# --- the worker's moves -----------------------------------------------------------------------

def test_worker_case_page_shows_the_moves_and_the_staff_timeline(login, city, people, dispatched):
    services.case_accept(case=dispatched, acting_user=people.worker, now=now())
    services.case_note(case=dispatched, acting_user=people.worker, note="内部：住户不在家", now=now())
    client = login(people.worker)
    response = client.get(reverse("cases:detail", args=[dispatched.pk]))
    html = response.content.decode()
    for name in ("resolve", "note", "request_extension", "escalate", "return"):
        assert reverse("cases:act", args=[dispatched.pk, name]) in html
    assert reverse("cases:act", args=[dispatched.pk, "close"]) not in html
    text = text_of(response)
    assert "内部：住户不在家" in text and "Staff only" in text
    # The handler may call the reporter back: masked, with a logged reveal (issue #20 item 5).
    assert PHONE not in text and "138****0000" in text
    assert reverse("cases:reporter_reveal", args=[dispatched.pk]) in html
    assert "layout-worker" in html


def test_resolve_needs_a_photo_then_works(login, city, people, dispatched):
    services.case_accept(case=dispatched, acting_user=people.worker, now=now())
    client = login(people.worker)
    page = client.get(reverse("cases:detail", args=[dispatched.pk])).content.decode()
    assert "Required: a photo of the result on site." in page  # said before the button is pressed
    response = act(client, dispatched, "resolve", {"note": "已清理"})
    # …and after, beside the photo field of the kept form, with the note kept.
    form = kept_form(response, "resolve")
    assert form and "Add a photo of the result." in form and "已清理" in form
    assert 'class="field field-photo has-error"' in form
    dispatched.refresh_from_db()
    assert dispatched.status == Status.HANDLING
    response = act(client, dispatched, "resolve", {"note": "已清理", "photo": png()})
    assert response.status_code == 200
    dispatched.refresh_from_db()
    assert dispatched.status == Status.RESOLVED and dispatched.photos.count() == 1


def test_resolve_with_a_fake_photo_is_refused(login, city, people, dispatched):
    from django.core.files.uploadedfile import SimpleUploadedFile

    services.case_accept(case=dispatched, acting_user=people.worker, now=now())
    client = login(people.worker)
    fake = SimpleUploadedFile("done.png", b"GIF89a not really", content_type="image/png")
    response = act(client, dispatched, "resolve", {"note": "已清理", "photo": fake})
    assert messages_of(response) == ["Photo of the result: “done.png” is not a photo (JPEG, PNG, WebP or GIF)."]
    dispatched.refresh_from_db()
    assert dispatched.status == Status.HANDLING and CasePhoto.objects.count() == 0


def test_a_refused_move_keeps_what_was_typed_in_its_open_form(login, city, people, dispatched):
    """A refusal used to redirect to an empty case page: a worker on a phone lost the result they
    had typed. The page now comes back with that form open and filled, and only that one open."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    services.case_accept(case=dispatched, acting_user=people.worker, now=now())
    client = login(people.worker)
    fake = SimpleUploadedFile("done.txt", b"not a photo", content_type="text/plain")
    by_form = act(client, dispatched, "resolve", {"note": "已清理东门垃圾", "photo": fake})
    by_service = act(client, dispatched, "resolve", {"note": "已清理东门垃圾"})  # no photo: the service refuses

    for response in (by_form, by_service):
        assert response.status_code == 400
        form = kept_form(response, "resolve")
        assert form is not None and "已清理东门垃圾" in form
        assert response.content.decode().count('" open>') == 1
    assert "is not a photo" in kept_form(by_form, "resolve")
    dispatched.refresh_from_db()
    assert dispatched.status == Status.HANDLING and CasePhoto.objects.count() == 0
    # Without a refusal the page opens its first form, empty.
    page = client.get(reverse("cases:detail", args=[dispatched.pk])).content.decode()
    assert "已清理东门垃圾" not in page
    # The language switch on the refused page returns to its address, by GET: the case page, in English.
    switched = client.post(reverse("set_language"), {"language": "en", "next": reverse(
        "cases:act", args=[dispatched.pk, "resolve"])}, follow=True)
    assert switched.status_code == 200 and switched.redirect_chain[-1][0] == reverse(
        "cases:detail", args=[dispatched.pk])


def test_a_refused_move_no_longer_offered_leaves_the_page_as_usual(login, city, people, dispatched):
    staff = login(people.community)
    response = act(staff, dispatched, "close", {"note": "想直接结案"})  # not offered while dispatched
    assert response.status_code == 400 and kept_form(response, "close") is None
    assert response.content.decode().count('" open>') == 1  # the first form, as on the case page


def test_a_refused_move_on_a_case_outside_the_users_places_is_a_404(login, city, people, dispatched):
    outsider = login(people.worker_b)
    response = act(outsider, dispatched, "resolve", {"note": "不是我的网格"})
    assert response.status_code == 404 and "不是我的网格" not in response.content.decode()


def test_progress_note_with_photo(login, city, people, dispatched):
    services.case_accept(case=dispatched, acting_user=people.worker, now=now())
    client = login(people.worker)
    act(client, dispatched, "note", {"note": "已联系物业", "photo": png(), "is_public": "on"})
    event = CaseEvent.objects.get(case=dispatched, action=CaseEvent.Action.NOTE)
    assert event.is_public and event.photos.count() == 1


def test_return_and_escalate_need_a_reason(login, city, people, dispatched):
    client = login(people.worker)
    response = act(client, dispatched, "return", {"reason": ""})
    assert messages_of(response) == ["Reason: This field is required."]
    dispatched.refresh_from_db()
    assert dispatched.status == Status.DISPATCHED
    response = act(client, dispatched, "return", {"reason": "这是供电公司的线路"})
    assert f"Case {dispatched.number} returned to the dispatcher." in messages_of(response)
    dispatched.refresh_from_db()
    assert dispatched.status == Status.REGISTERED and dispatched.responsible_level == "community"


def test_escalate_beyond_my_power(login, city, people, dispatched):
    services.case_accept(case=dispatched, acting_user=people.worker, now=now())
    client = login(people.worker)
    response = act(client, dispatched, "escalate", {"reason": "需要城管执法"})
    assert response.status_code == 200
    dispatched.refresh_from_db()
    assert dispatched.responsible_level == "community" and dispatched.escalation_count == 1


def test_request_and_decide_an_extension(login, city, people, dispatched):
    services.case_accept(case=dispatched, acting_user=people.worker, now=now())
    client = login(people.worker)
    bad = act(client, dispatched, "request_extension", {"value": "0", "unit": "working_days", "reason": "等配件"})
    # Refused on the page itself: the form open again, with what was typed kept.
    assert bad.status_code == 400 and ExtensionRequest.objects.count() == 0
    assert kept_form(bad, "request_extension") and "等配件" in kept_form(bad, "request_extension")
    act(client, dispatched, "request_extension", {"value": "2", "unit": "working_days", "reason": "等配件"})
    request = ExtensionRequest.objects.get()
    assert request.status == ExtensionStatus.PENDING
    staff = login(people.community)
    page = staff.get(reverse("cases:detail", args=[dispatched.pk]))
    assert "asks for 2" in text_of(page)
    due_before = Case.objects.get(pk=dispatched.pk).due_at
    act(staff, dispatched, "decide_extension", {"approve": "yes", "note": "同意"})
    request.refresh_from_db()
    assert request.status == ExtensionStatus.APPROVED
    assert Case.objects.get(pk=dispatched.pk).due_at > due_before
    again = act(staff, dispatched, "decide_extension", {"approve": "no"})
    assert messages_of(again) == ["There is no extension request waiting for a decision."]


# --- staff moves ---------------------------------------------------------------------------------

def test_staff_register_with_a_corrected_category(login, city, people):
    case = resident_report(city)
    client = login(people.community)
    page = client.get(reverse("cases:detail", args=[case.pk]))
    assert reverse("cases:act", args=[case.pk, "register"]) in page.content.decode()
    assert "layout-staff" in page.content.decode()
    act(client, case, "register", {"category": "E0102", "note": ""})
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.category.code == "E0102"


def test_staff_reject_needs_a_reason(login, city, people):
    case = resident_report(city)
    client = login(people.community)
    act(client, case, "reject", {"reason": ""})
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED
    act(client, case, "reject", {"reason": "属于私人纠纷，请自行协商"})
    assert Case.objects.get(pk=case.pk).status == Status.REJECTED


def test_dispatch_to_a_person_in_scope(login, city, people):
    case = to_status(city, people, Status.REGISTERED)
    client = login(people.community)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert f'value="u{people.worker2.pk}"' in page
    assert f'value="u{people.worker_b.pk}"' not in page  # another community's worker
    act(client, case, "dispatch", {"target": f"u{people.worker2.pk}"})
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.assignee == people.worker2
    # A tampered choice (someone outside the case's places) is refused by the form.
    act(client, case, "redispatch", {"target": f"u{people.worker_b.pk}"})
    case.refresh_from_db()
    assert case.assignee == people.worker2
    act(client, case, "redispatch", {"target": "lcommunity", "note": "改由社区处理"})
    case.refresh_from_db()
    assert case.responsible_level == "community" and case.assignee is None


def test_verify_by_someone_else_then_close(login, city, people):
    case = to_status(city, people, Status.RESOLVED)
    resolver = login(case.resolved_by)
    page = resolver.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert reverse("cases:act", args=[case.pk, "verify"]) not in page
    response = act(resolver, case, "verify", {"note": ""})
    assert messages_of(response) == ["Someone other than the handler who resolved it must verify it on site."]
    staff = login(people.community)
    page = staff.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert f'formaction="{reverse("cases:act", args=[case.pk, "verify_fail"])}"' in page
    act(staff, case, "verify", {"note": "现场已清理干净", "photo": png()})
    case.refresh_from_db()
    assert case.status == Status.VERIFIED
    act(staff, case, "close", {"note": ""})
    case.refresh_from_db()
    assert case.status == Status.CLOSED


def test_failed_verification_sends_it_back(login, city, people):
    case = to_status(city, people, Status.RESOLVED)
    staff = login(people.community)
    # The second button posts the verify form's fields to verify_fail.
    response = act(staff, case, "verify_fail", {"note": ""}, prefix="verify")
    assert messages_of(response) == ["Please fill in the reason."]
    act(staff, case, "verify_fail", {"note": "还有垃圾"}, prefix="verify")
    case.refresh_from_db()
    assert case.status == Status.HANDLING and case.rework_count == 1


def test_supervise_carry_over_and_lift(login, city, people, dispatched):
    official = login(people.district)
    act(official, dispatched, "supervise", {"note": "尽快处理"})
    dispatched.refresh_from_db()
    assert dispatched.supervised_by == people.district
    again = act(official, dispatched, "supervise", {"note": ""})
    assert messages_of(again) == ["This case is already supervised."]
    staff = login(people.community)
    act(staff, dispatched, "carry_over", {"reason": "涉及多部门"})
    dispatched.refresh_from_db()
    assert dispatched.carried_over_at is not None
    act(staff, dispatched, "lift_carry_over", {"note": ""})
    dispatched.refresh_from_db()
    assert dispatched.carried_over_at is None


def test_mark_duplicate_by_case_number(login, city, people):
    original = resident_report(city)
    copy = resident_report(city)
    foreign_case = resident_report(city, building=city.building_b)
    staff = login(people.community)
    response = act(staff, copy, "mark_duplicate", {"original": foreign_case.number})
    assert "No case with that number is visible to you." in messages_of(response)
    response = act(staff, copy, "mark_duplicate", {"original": "nonsense"})
    assert "No case with that number is visible to you." in messages_of(response)
    act(staff, copy, "mark_duplicate", {"original": original.number})
    copy.refresh_from_db()
    assert copy.status == Status.DUPLICATE and copy.duplicate_of == original


def test_staff_reopen_a_closed_case(login, city, people):
    case = to_status(city, people, Status.CLOSED)
    staff = login(people.community)
    act(staff, case, "reopen", {"reason": "居民再次来电反映"})
    case.refresh_from_db()
    assert case.status == Status.HANDLING


def test_a_move_not_allowed_now_is_a_message_not_a_500(login, city, people, dispatched):
    staff = login(people.community)
    response = act(staff, dispatched, "close", {"note": ""})
    # The case page again (400), with the refusal; the move itself is not offered there now.
    assert response.status_code == 400
    assert messages_of(response) == ["This case is “Dispatched”; it cannot close now."]
    assert kept_form(response, "close") is None
    response = act(staff, dispatched, "request_extension", {"value": "x", "unit": "parsecs", "reason": ""})
    assert response.status_code == 400 and messages_of(response)


def test_script_in_a_description_is_escaped_on_staff_pages(login, city, people):
    evil = "<script>alert(1)</script>"
    case = resident_report(city, description=evil)
    client = login(people.community)
    for url in (reverse("cases:detail", args=[case.pk]), reverse("cases:board")):
        html = client.get(url).content.decode()
        assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- photos ---------------------------------------------------------------------------------------

def test_photos_are_served_to_those_who_see_the_case_only(login, city, people):
    case = resident_report(city, photos=[png()])
    photo = CasePhoto.objects.get()
    client = login(people.community)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    url = reverse("cases:photo", args=[case.pk, photo.pk])
    assert url in page and "/media/" not in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=3600"
    # The stored file has no public URL.
    assert Client().get(photo.image.url).status_code == 404
    assert login(people.community_b).get(url).status_code == 404


def test_a_photo_is_served_with_the_type_of_its_bytes(login, city, people):
    case = resident_report(city, photos=[png("evil.html")])
    photo = CasePhoto.objects.get()
    response = login(people.community).get(reverse("cases:photo", args=[case.pk, photo.pk]))
    assert response["Content-Type"] == "image/png"


# --- the staff board ---------------------------------------------------------------------------------

@pytest.fixture
def board_cases(city, people):
    """Cases across the city: grid A (web, overdue), grid A2 (patrol), grid B (hotline)."""
    a = resident_report(city, now=MONDAY)
    a2 = services_report.case_report(category="E0302", channel=Channel.PATROL, building=city.building_a2,
                                     description="机动车占用人行道", acting_user=people.community, now=now())
    b = services_report.case_report(category="C0103", channel=Channel.HOTLINE, building=city.building_b,
                                    description="路灯不亮", reporter_phone="13611112222", acting_user=people.community_b,
                                    now=now())
    oversight.case_supervise(case=a2, acting_user=people.street, now=now())
    return {"a": a, "a2": a2, "b": b}


def numbers_on(response):
    return set(re.findall(r'class="code" href="/cases/\d+/">(\d+)<', response.content.decode()))


def test_board_is_scoped_to_the_subtree(login, city, people, board_cases):
    a, a2, b = board_cases["a"], board_cases["a2"], board_cases["b"]
    assert numbers_on(login(people.community).get(reverse("cases:board"))) == {a.number, a2.number}
    assert numbers_on(login(people.community_b).get(reverse("cases:board"))) == {b.number}
    assert numbers_on(login(people.district).get(reverse("cases:board"))) == {a.number, a2.number, b.number}
    assert numbers_on(login(people.other_district).get(reverse("cases:board"))) == set()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "reported"}, {"a"}),
        ({"status": ["reported", "dispatched"]}, {"a", "a2", "b"}),
        ({"channel": "patrol"}, {"a2"}),
        ({"category": "E0302"}, {"a2"}),
        ({"category": "all:E01"}, {"a"}),
        ({"category": "all:C01"}, {"b"}),
        ({"overdue": "yes"}, {"a"}),
        ({"overdue": "no"}, {"a2", "b"}),
        ({"supervised": "yes"}, {"a2"}),
        ({"supervised": "no"}, {"a", "b"}),
        ({"reported_from": "2026-11-24"}, set()),
        ({"reported_to": "2026-11-22"}, set()),
        ({"reported_from": "2026-11-23", "reported_to": "2026-11-23"}, {"a", "a2", "b"}),
        ({"number": "2026"}, {"a", "a2", "b"}),
        # Malformed values are dropped, never a 500.
        ({"status": "exploded", "channel": "zz", "reported_from": "not-a-date", "overdue": "maybe"},
         {"a", "a2", "b"}),
        ({"page": "999"}, {"a", "a2", "b"}),
    ],
)
def test_board_filters(login, city, people, board_cases, query, expected):
    if any(key.startswith("reported_") for key in query):
        # The fixture's cases are reported on MONDAY and today: pin them all to MONDAY (2026-11-23).
        Case.objects.update(created_at=MONDAY)
    response = login(people.district).get(reverse("cases:board"), query)
    assert response.status_code == 200
    assert numbers_on(response) == {board_cases[k].number for k in expected}


def test_board_paginates_and_keeps_its_query_count_flat(login, city, people, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases import views

    client = login(people.street)

    def count(**query):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("cases:board"), query)
            assert response.status_code == 200
        return len(ctx.captured_queries), response

    for _ in range(3):
        to_status(city, people, Status.HANDLING)
    few, _r = count()
    for _ in range(views.PAGE_SIZE + 2):
        resident_report(city, building=city.building_a2)
    many, response = count()
    assert few == many, (few, many)
    assert many <= 10  # +1 (issue #21): the navigation's counts (my queue and unread notices, one statement)
    assert "Page 1 of 2" in text_of(response)
    assert len(numbers_on(response)) == views.PAGE_SIZE
    filtered, response = count(status="reported", overdue="yes", category="all:E01", reported_from="2026-01-01",
                               page="2")
    assert filtered == many
    assert len(numbers_on(response)) == 2


def test_board_reads_only_the_columns_it_shows(login, city, people, board_cases):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Case.objects.filter(pk=board_cases["a"].pk).update(description="垃圾" * 60)
    with CaptureQueriesContext(connection) as ctx:
        response = login(people.street).get(reverse("cases:board"))
    (rows,) = [q["sql"] for q in ctx.captured_queries if 'ORDER BY "cases_case"."created_at" DESC' in q["sql"]
               and "LIMIT" in q["sql"] and "COUNT" not in q["sql"].upper()]
    # No place boundary, no full description, no reporter, no street or district row.
    for column in ('"boundary"', '"reporter_phone"', '"cases_case"."address"'):
        assert column not in rows, column
    assert rows.count('"cases_case"."description"') == 1 \
        and re.search(r'SUBSTR(ING)?\("cases_case"\."description", 1, 41\)', rows)
    # The names beside a case are subqueries by primary key, not an eight-table join to plan.
    assert '"grid_area"."kind"' not in rows and rows.count("JOIN") <= 2
    text = text_of(response)
    assert "垃圾" * 19 + "垃…" in text and "垃圾" * 21 not in text
    assert "督办" in text or "Supervised" in text  # the supervised badge of a2, inlined


def test_worker_on_the_board_sees_only_the_grid(login, city, people, board_cases):
    assert numbers_on(login(people.worker).get(reverse("cases:board"))) == {board_cases["a"].number}


# --- the CSV export ---------------------------------------------------------------------------------

def rows_of(response):
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_export_is_scoped_filtered_and_has_no_phones(login, city, people, board_cases):
    client = login(people.community)
    response = client.get(reverse("cases:export"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = rows_of(response)
    assert rows[0][0] == "Case number"
    numbers = {r[0] for r in rows[1:]}
    assert numbers == {board_cases["a"].number, board_cases["a2"].number}
    flat = "\n".join(",".join(r) for r in rows)
    for secret in (PHONE, "13611112222", "张三"):
        assert secret not in flat
    only_patrol = rows_of(client.get(reverse("cases:export"), {"channel": "patrol"}))
    assert [r[0] for r in only_patrol[1:]] == [board_cases["a2"].number]


def test_export_defuses_spreadsheet_formulas(login, city, people):
    resident_report(city, description="=HYPERLINK(\"http://evil\")")
    rows = rows_of(login(people.community).get(reverse("cases:export")))
    assert rows[1][10].startswith("'=")


def test_export_query_count_is_flat(login, city, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(people.community)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            rows_of(client.get(reverse("cases:export")))
        return len(ctx.captured_queries)

    to_status(city, people, Status.HANDLING)
    few = count()
    for _ in range(5):
        to_status(city, people, Status.HANDLING)
    assert count() == few


def test_board_counts_up_to_a_cap(login, city, people, monkeypatch):
    from cases import views

    monkeypatch.setattr(views.CappedPaginator, "cap", 3)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for _ in range(5):
        resident_report(city)
    client = login(people.community)
    first = client.get(reverse("cases:board"))
    assert '<span class="count">3+</span>' in first.content.decode()
    last = client.get(reverse("cases:board"), {"page": "2"})
    assert len(numbers_on(last)) == 1
    assert "Only the newest 3 are listed" in text_of(last)
    small = client.get(reverse("cases:board"), {"status": "dispatched"})
    assert '<span class="count">0</span>' in small.content.decode()


def test_export_is_bounded(login, city, people, monkeypatch):
    from cases import views

    monkeypatch.setattr(views, "EXPORT_MAX_ROWS", 2)
    for _ in range(4):
        resident_report(city)
    rows = rows_of(login(people.community).get(reverse("cases:export")))
    assert len(rows) == 3


def test_ids_too_large_for_the_database_are_404_not_500(login, city, people):
    client = login(people.community)
    huge = 10**20
    assert client.get(f"/cases/{huge}/").status_code == 404
    assert client.post(f"/cases/{huge}/act/accept/").status_code == 404
    assert client.get(f"/cases/{huge}/photos/{huge}/").status_code == 404
    assert client.get(f"/track/ABCDEFGHJKMNP/photos/{huge}/").status_code == 404


# --- far dates (issue #20: a 500 on year 1 or 9999) ----------------------------------------------

FAR_DATES = {"reported_from": "0001-01-01", "reported_to": "9999-12-31"}


def test_far_dates_on_the_board_are_a_form_error_not_a_500(login, city, people, board_cases):
    response = login(people.district).get(reverse("cases:board"), FAR_DATES)
    assert response.status_code == 200
    assert "Give a date between the years 1900 and 2199." in text_of(response)
    # The refused dates narrow nothing: the board shows what it shows unfiltered.
    assert numbers_on(response) == {c.number for c in board_cases.values()}


@pytest.mark.parametrize("query", [FAR_DATES, {"reported_to": "9999-12-31"}, {"reported_from": "not-a-date"}])
def test_far_dates_on_the_export_are_a_400_before_streaming(login, city, people, board_cases, query):
    response = login(people.district).get(reverse("cases:export"), query)
    assert response.status_code == 400
    assert not response.streaming
    assert "Give a date between the years 1900 and 2199." in response.content.decode() or \
        "Enter a valid date." in response.content.decode()
