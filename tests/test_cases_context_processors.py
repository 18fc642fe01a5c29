"""The staff navigation's badges (cases/context_processors.py): the queue and unread-notice counts,
right for an object inside and one outside the user's places, read in one statement."""

import pytest
import time_machine
from django.test import RequestFactory

from cases import mediation, services_orgs, whistles
from cases.context_processors import nav_counts
from cases.models import Notification, Status
from cases.selectors import (cases_visible_to, inbox_for, nav_counts_for, org_waiting_for, queue_for,
                             verify_queue_for)
from grid import services as grid_services
from grid.models import Role
from grid.selectors import scope_of

from .cases_factories import MONDAY, people, resident_report, to_status  # noqa: F401
from .mediation_factories import dispute, med  # noqa: F401
from .orgs_factories import big_matter, orgs  # noqa: F401


def request_as(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


@pytest.fixture
def mine_and_theirs(city, people):
    """A dispatched case in worker A's grid and one in worker B's; an unread, a read and someone
    else's notice for worker A."""
    inside = to_status(city, people, Status.DISPATCHED)
    outside = resident_report(city, building=city.building_b)
    from cases import services

    outside = services.case_register(case=outside, acting_user=people.community_b, now=MONDAY)
    assert inside.grid_id == city.grid_a.pk and outside.grid_id == city.grid_b.pk
    Notification.objects.create(user=people.worker, message="新派件", created_at=MONDAY)
    Notification.objects.create(user=people.worker, message="已读", created_at=MONDAY, read_at=MONDAY)
    Notification.objects.create(user=people.worker_b, message="别人的", created_at=MONDAY)
    return inside, outside


def test_the_badges_count_what_is_inside_the_users_places_only(people, mine_and_theirs):
    inside, outside = mine_and_theirs
    badges = nav_counts(request_as(people.worker))
    assert (badges["nav_queue_count"](), badges["nav_inbox_unread"]()) == (1, 1)
    assert list(queue_for(people.worker)) == [inside]
    # Worker B: their own case, nothing of A's, and only their own notice.
    badges = nav_counts(request_as(people.worker_b))
    assert (badges["nav_queue_count"](), badges["nav_inbox_unread"]()) == (1, 1)
    assert list(queue_for(people.worker_b)) == [outside]
    # Reading the notice clears its badge.
    Notification.objects.filter(user=people.worker).update(read_at=MONDAY)
    assert nav_counts_for(people.worker) == (1, 0)


def test_the_two_badges_are_one_statement_read_once(people, mine_and_theirs, django_assert_num_queries):
    scope_of(people.worker)  # the scope is read once per request by the page anyway
    badges = nav_counts(request_as(people.worker))
    with django_assert_num_queries(1):
        assert badges["nav_queue_count"]() == 1
        assert badges["nav_inbox_unread"]() == 1
        assert badges["nav_queue_count"]() == 1  # asked again by the tab bar: no second read


def test_no_badges_signed_out(db):
    from django.contrib.auth.models import AnonymousUser

    assert nav_counts(request_as(AnonymousUser())) == {}


def test_one_statement_visibility_is_the_same_cases(city, people, med, orgs):
    """cases_visible_to(one_statement=True) inlines the cases beyond the user's places; the same set
    as the list read first, for workers, managers, mediators, organisation staff, assignees."""
    from cases import services

    with time_machine.travel(MONDAY, tick=False):
        ordinary_a = to_status(city, people, Status.HANDLING)
        ordinary_b = services.case_register(case=resident_report(city, building=city.building_b),
                                            acting_user=people.community_b, now=MONDAY)
        file_a = dispute(city, people)
        file_b = dispute(city, people, staff=people.community_b, building=city.building_b)
        mediation.mediation_add_mediator(case=file_a, mediator=med.mediator, acting_user=people.community,
                                         now=MONDAY)
        sent = big_matter(city, orgs, people)
        services_orgs.case_org_dispatch(case=sent, acting_user=people.street, lead=orgs.chengguan, now=MONDAY)
        whistled = to_status(city, people, Status.HANDLING)
        whistles.whistle_blow(case=whistled, organisations=[orgs.police], acting_user=people.street,
                              reason="占道经营反复，需联合执法", situation="enforcement", now=MONDAY)
        # Someone with a place and an organisation: worker B also on the police station.
        grid_services.post_grant(user=people.worker_b, role=Role.ORG_STAFF, place=orgs.police)
        people.worker_b.refresh_from_db()
        # Held by name outside the places: worker B is given A's ordinary case.
        from cases.models import Case

        Case.objects.filter(pk=ordinary_a.pk).update(assignee=people.worker_b)
    users = [people.worker, people.worker_b, people.community, people.community_b, people.street, people.district,
             people.other_district, people.building_chief, med.mediator, med.mediator_b, orgs.cg_staff,
             orgs.police_staff, orgs.far_staff]
    reached = {}
    for user in users:
        listed = set(cases_visible_to(user).values_list("pk", flat=True))
        assert set(cases_visible_to(user, one_statement=True).values_list("pk", flat=True)) == listed, user
        assert set(cases_visible_to(user, managing=True, one_statement=True).values_list("pk", flat=True)) \
            == set(cases_visible_to(user, managing=True).values_list("pk", flat=True)), user
        waiting = queue_for(user).count() + verify_queue_for(user).count() + org_waiting_for(user).count()
        assert nav_counts_for(user) == (waiting, inbox_for(user, unread_only=True).count()), user
        reached[user.username] = listed
    # The sets compared are not trivially empty or everything: each arm reaches what it should.
    assert {ordinary_a.pk, whistled.pk} <= reached["worker_b"] and ordinary_b.pk in reached["worker_b"]
    assert file_a.pk in reached["mediator_a"] and file_b.pk not in reached["mediator_a"]
    assert sent.pk in reached["cg_staff"] and ordinary_a.pk not in reached["cg_staff"]
    assert whistled.pk in reached["police_staff"] and sent.pk not in reached["police_staff"]
    assert not reached["far_staff"] and not reached["other_district"]
