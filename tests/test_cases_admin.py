"""cases/admin.py: scoped, read-only cases with their timeline; actions through services;
categories edited by district officials and administrators only."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from cases.models import Case, Category, Delivery, Notification, Status

from .cases_factories import MONDAY, fresh_calendar, people, resident_report, to_status  # noqa: F401


def url(model, view, *args):
    return reverse(f"admin:cases_{model}_{view}", args=args)


def browser(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def pair(city, people):
    inside = to_status(city, people, Status.HANDLING)
    outside = resident_report(city, building=city.building_b)
    return inside, outside


def test_changelist_lists_inside_only(people, pair):
    inside, outside = pair
    page = browser(people.community).get(url("case", "changelist"))
    assert page.status_code == 200
    assert inside.number in page.text and outside.number not in page.text


def test_change_view_is_404_outside_and_for_missing(people, pair):
    inside, outside = pair
    client = browser(people.community)
    assert client.get(url("case", "change", inside.pk)).status_code == 200
    assert client.get(url("case", "change", outside.pk)).status_code == 404
    assert client.get(url("case", "change", 999_999)).status_code == 404


def test_case_page_shows_the_timeline_and_edits_nothing(people, pair):
    inside, _ = pair
    client = browser(people.community)
    page = client.get(url("case", "change", inside.pk))
    assert re.search(r'<h2 id="events-heading" class="inline-heading">\s*Timeline\s*</h2>', page.text)
    (timeline,) = [s for s in page.context["inline_admin_formsets"] if s.opts.model.__name__ == "CaseEvent"]
    assert len(list(timeline)) == inside.events.count() > 0, "the timeline's rows are shown, read-only"
    assert 'name="status"' not in page.text
    client.post(url("case", "change", inside.pk), {"status": Status.CLOSED, "description": "changed"})
    inside.refresh_from_db()
    assert inside.status == Status.HANDLING and inside.description != "changed"


def test_no_add_and_no_delete(people, pair):
    inside, _ = pair
    client = browser(people.community)
    assert client.get(url("case", "add")).status_code == 403
    assert client.post(url("case", "delete", inside.pk), {"post": "yes"}).status_code == 403
    assert Case.objects.filter(pk=inside.pk).exists()


def test_grid_worker_cannot_use_the_case_admin(people, pair):
    response = browser(people.worker).get(url("case", "changelist"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_supervise_action_goes_through_the_service(people, pair):
    inside, outside = pair
    client = browser(people.street)
    client.post(url("case", "changelist"), {"action": "supervise_cases", "_selected_action": [inside.pk]})
    inside.refresh_from_db()
    assert inside.supervised_by == people.street
    assert inside.events.filter(action="supervise").exists()
    # A case outside the scope cannot be selected into the action.
    client.post(url("case", "changelist"), {"action": "supervise_cases", "_selected_action": [outside.pk]})
    outside.refresh_from_db()
    assert outside.supervised_at is None


def test_carry_over_action_asks_for_a_reason(people, pair):
    inside, _ = pair
    client = browser(people.community)
    first = client.post(url("case", "changelist"), {"action": "carry_over_cases", "_selected_action": [inside.pk]})
    assert first.status_code == 200 and 'name="reason"' in first.text
    client.post(url("case", "changelist"), {"action": "carry_over_cases", "_selected_action": [inside.pk],
                                            "apply": "1", "reason": "需列入年度改造计划"})
    inside.refresh_from_db()
    assert inside.carried_over_reason == "需列入年度改造计划"


def test_a_refused_action_changes_nothing(people, pair, city):
    inside, _ = pair
    other = to_status(city, people, Status.VERIFIED)
    client = browser(people.community)
    # One verified, one in hand: closing both is refused as a whole.
    response = client.post(url("case", "changelist"), {"action": "close_cases",
                                                       "_selected_action": [inside.pk, other.pk]}, follow=True)
    other.refresh_from_db()
    assert other.status == Status.VERIFIED
    assert any("cannot" in str(m) for m in response.context["messages"])


def test_changelist_queries_do_not_grow_with_rows(city, people):
    for _ in range(3):
        to_status(city, people, Status.DISPATCHED)
    client = browser(people.community)
    with CaptureQueriesContext(connection) as few:
        client.get(url("case", "changelist"))
    for _ in range(10):
        to_status(city, people, Status.DISPATCHED)
    with CaptureQueriesContext(connection) as many:
        client.get(url("case", "changelist"))
    assert len(many) == len(few)


def test_categories_are_read_only_for_community_staff(people):
    garbage = Category.objects.get(code="E0101")
    staff = browser(people.community)
    assert staff.get(url("category", "change", garbage.pk)).status_code == 200
    staff.post(url("category", "change", garbage.pk), {"name": "改名", "family": "incident", "code": "E0101"})
    garbage.refresh_from_db()
    assert garbage.name == "暴露垃圾"


def test_inbox_and_outbox_are_scoped(city, people, pair, django_capture_on_commit_callbacks):
    inside, outside = pair
    services.case_note(case=inside, acting_user=people.community, note="x", now=MONDAY)
    Notification.objects.create(user=people.community, case=inside, message="mine", created_at=MONDAY)
    Notification.objects.create(user=people.street, case=inside, message="not mine", created_at=MONDAY)
    page = browser(people.community).get(url("notification", "changelist"))
    assert "mine" in page.text and "not mine" not in page.text
    outbox = browser(people.community).get(url("delivery", "changelist"))
    assert outbox.status_code == 200
    visible_cases = {d.case_id for d in outbox.context["cl"].queryset}
    assert Delivery.objects.filter(case=outside).exists()  # community B's staff were told of it
    assert outside.pk not in visible_cases


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_far_dates_in_the_admin_date_filters_are_not_a_500(people, pair, day):
    year, month, date = day.split("-")
    client = browser(people.community)
    client.raise_request_exception = True
    by_parts = client.get(url("case", "changelist"),
                          {"created_at__year": year, "created_at__month": month, "created_at__day": date})
    by_range = client.get(url("case", "changelist"), {"created_at__gte": day, "created_at__lt": day})
    # Django's answer to a bad change-list lookup is a redirect to ?e=1; an empty list will do too.
    for response in (by_parts, by_range):
        assert response.status_code in (200, 302)
        assert pair[0].number not in response.text


def test_changelist_reads_the_shown_columns_with_a_capped_count_and_no_date_scan(people, pair):
    inside, _ = pair
    client = browser(people.community)
    client.get(url("case", "changelist"))  # the session, the sign-in and the caches
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url("case", "changelist"))
    assert inside.number in page.text
    sql = [q["sql"] for q in queries.captured_queries if "cases_case" in q["sql"]]
    # The selector's look-up of mediated and assigned cases outside the places,
    # one capped count for the pager and one page of rows: no date hierarchy
    # (SELECT DISTINCT of the years, MIN/MAX) and no count of the whole table.
    assert len(sql) == 3, sql
    _, count, rows = sql
    assert "COUNT(" in count.upper() and "LIMIT 10001" in count
    assert "DISTINCT" not in " ".join(sql).upper() and "MIN(" not in " ".join(sql).upper()
    assert '"cases_case"."description"' not in rows and '"boundary"' not in rows
    # 9: the "organisation queue" filter lists the organisations seated in the staff's places.
    assert len(queries) <= 9, [q["sql"] for q in queries.captured_queries]


def test_changelist_says_more_than_when_the_count_is_capped(city, people, pair, monkeypatch):
    from portal.admin_paging import CappedCountPaginator

    to_status(city, people, Status.DISPATCHED)
    monkeypatch.setattr(CappedCountPaginator, "cap", 1)
    page = browser(people.community).get(url("case", "changelist"))
    assert page.status_code == 200
    assert "more than 1 cases" in page.text
    # A page beyond the capped count: Django shows the last page, never a 500.
    assert browser(people.community).get(url("case", "changelist"), {"p": "3"}).status_code == 200

