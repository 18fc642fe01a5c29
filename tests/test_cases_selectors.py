"""Scoping: every reader sees the cases under their posts and nothing else; mediation is private."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import oversight, selectors, services, services_report
from cases.mediation import mediation_add_mediator, mediation_record_session
from cases.models import Channel, Status
from grid.models import Role

from .cases_factories import MONDAY, at, category, fresh_calendar, people, resident_report, to_status  # noqa: F401


def visible(user, case):
    return selectors.cases_visible_to(user).filter(pk=case.pk).exists()


def test_inside_and_outside(city, people):
    in_a = to_status(city, people, Status.HANDLING)
    in_b = resident_report(city, building=city.building_b)
    assert visible(people.worker, in_a) and not visible(people.worker, in_b)
    assert visible(people.worker_b, in_b) and not visible(people.worker_b, in_a)
    assert visible(people.community, in_a) and not visible(people.community, in_b)
    assert visible(people.community_b, in_b) and not visible(people.community_b, in_a)
    assert visible(people.street, in_a) and not visible(people.street, in_b)
    assert visible(people.district, in_a) and visible(people.district, in_b)
    assert not visible(people.other_district, in_a)
    # A building chief sees the matters of their building only.
    assert visible(people.building_chief, in_a) and not visible(people.building_chief, in_b)


def test_a_worker_of_the_other_grid_in_the_same_community_sees_nothing(city, people, make_user):
    case = to_status(city, people, Status.DISPATCHED)
    neighbour = make_user(Role.GRID_WORKER, city.grid_a2)
    assert not visible(neighbour, case)
    assert not selectors.queue_for(neighbour).exists()


def test_managing_counts_only_the_managing_posts(city, people):
    from grid.services import post_grant

    in_a = resident_report(city)  # grid A, waiting for community A's staff: nobody's assignee
    in_b = resident_report(city, building=city.building_b)
    # A grid worker of grid A who is also community staff of community B.
    both = people.worker
    post_grant(user=both, role=Role.COMMUNITY_STAFF, place=city.community_b, now=MONDAY)
    assert visible(both, in_a) and visible(both, in_b)
    managed = selectors.cases_visible_to(both, managing=True)
    assert managed.filter(pk=in_b.pk).exists() and not managed.filter(pk=in_a.pk).exists()
    # A grid worker alone manages nothing; an official's managing view is their whole view.
    assert not selectors.cases_visible_to(people.worker_b, managing=True).filter(pk=in_b.pk).exists()
    assert set(selectors.cases_visible_to(people.street, managing=True)) == set(
        selectors.cases_visible_to(people.street))


def test_anonymous_and_inactive_see_nothing(city, people):
    from django.contrib.auth.models import AnonymousUser

    to_status(city, people, Status.DISPATCHED)
    assert not selectors.cases_visible_to(AnonymousUser()).exists()
    assert not selectors.cases_visible_to(None).exists()
    people.community.is_active = False
    assert not selectors.cases_visible_to(people.community).exists()


def test_mediation_is_private(city, people, make_user):
    case = services_report.case_report(category=category("E0501"), channel=Channel.HOTLINE, building=city.building_a,
                                       description="邻里纠纷", acting_user=people.community, now=MONDAY)
    # Officials above see it; the grid's worker and the building chief do not.
    for official in (people.community, people.street, people.district):
        assert visible(official, case)
    for bystander in (people.worker, people.worker2, people.building_chief, people.worker_b, people.other_district):
        assert not visible(bystander, case)
    # A mediator (here the street's justice office) sees it once named on it, not before.
    mediator = make_user(Role.JUSTICE_OFFICE_STAFF, city.street_a)
    assert not visible(mediator, case)
    mediation_add_mediator(case=case, mediator=mediator, acting_user=people.community, now=MONDAY)
    assert visible(mediator, case)
    session = mediation_record_session(case=case, acting_user=mediator, held_at=MONDAY, notes="首次调解",
                                                now=MONDAY)
    assert session.recorded_by == mediator


def test_queue_is_mine_and_my_pool_supervised_first_then_soonest(city, people):
    first = to_status(city, people, Status.DISPATCHED, now=at(2026, 11, 23, 9, 0))
    handler = first.assignee
    other = people.worker2 if handler == people.worker else people.worker
    second = services.case_redispatch(case=to_status(city, people, Status.DISPATCHED, now=at(2026, 11, 23, 8, 0)),
                                      acting_user=people.community, assignee=handler, now=at(2026, 11, 23, 8, 30))
    pooled = services.case_redispatch(case=to_status(city, people, Status.DISPATCHED), acting_user=people.community,
                                      level="grid", now=at(2026, 11, 23, 9, 5))
    theirs = to_status(city, people, Status.DISPATCHED)
    if theirs.assignee != other:  # routing may have named them already (a re-dispatch there is refused)
        theirs = services.case_redispatch(case=theirs, acting_user=people.community, assignee=other, now=MONDAY)
    assert theirs.assignee == other
    closed = to_status(city, people, Status.CLOSED)
    queue = list(selectors.queue_for(handler))
    assert second in queue and first in queue and pooled in queue
    assert theirs not in queue and closed not in queue
    assert queue.index(second) < queue.index(first)  # due sooner
    oversight.case_supervise(case=pooled, acting_user=people.street, now=MONDAY)
    assert list(selectors.queue_for(handler))[0] == pooled  # 督办 tops the queue
    # Two queries whatever its length: the cases seen beyond one's places (here none), then the queue.
    with CaptureQueriesContext(connection) as queries:
        rows = list(selectors.queue_for(handler))
        [(c.category.name, c.building) for c in rows]
    assert len(queries) == 2


def test_board_for_staff(city, people):
    a = to_status(city, people, Status.HANDLING)
    b = resident_report(city, building=city.building_b)
    assert list(selectors.board_for(people.community)) == [a]
    assert set(selectors.board_for(people.district)) == {a, b}
    newer = resident_report(city, now=MONDAY.replace(hour=11))
    assert list(selectors.board_for(people.community)) == [newer, a]
    with CaptureQueriesContext(connection) as queries:
        rows = list(selectors.board_for(people.district)[:50])
        [(c.category.parent, c.assignee, c.grid, c.community, c.building) for c in rows]
    assert len(queries) == 2  # the cases seen beyond one's places, then the page


def test_public_timeline_hides_staff_notes_and_people(city, people):
    case = to_status(city, people, Status.HANDLING)
    services.case_note(case=case, acting_user=people.community, note="内部：联系了物业王经理 13900000000",
                       now=MONDAY)
    services.case_note(case=case, acting_user=case.assignee, note="已安排清运", is_public=True, now=MONDAY)
    lines = selectors.public_timeline(case)
    notes = [line["note"] for line in lines]
    assert "已安排清运" in notes
    assert not any("13900000000" in n for n in notes)
    assert all("actor" not in line for line in lines)
    assert [line["status"] for line in lines if line["status"]][:2] == ["reported", "registered"]


def test_case_by_tracking_code(city, people):
    case = resident_report(city)
    assert selectors.case_by_tracking_code(case.tracking_code_display.lower()) == case
    assert selectors.case_by_tracking_code("") is None
    assert selectors.case_by_tracking_code("ZZZZ-ZZZZ-ZZZZ-Z") is None


@pytest.mark.parametrize("role_place", ["grid_a", "community_a", "street_a", "district"])
def test_detail_lookup_is_scoped(city, people, make_user, role_place):
    roles = {"grid_a": Role.GRID_WORKER, "community_a": Role.COMMUNITY_STAFF, "street_a": Role.STREET_STAFF,
             "district": Role.DISTRICT_OFFICIAL}
    user = make_user(roles[role_place], getattr(city, role_place))
    inside = resident_report(city)
    outside = resident_report(city, building=city.building_b)
    scoped = selectors.cases_visible_to(user)
    assert selectors.case_detail(scoped, inside.pk) == inside
    expected_outside = role_place == "district"
    assert (selectors.case_detail(scoped, outside.pk) is not None) is expected_outside
