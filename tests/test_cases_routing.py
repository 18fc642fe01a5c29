"""Routing: the least-loaded grid worker on duty; none → the community."""

from cases import routing, services_report
from cases.models import Channel, Status
from grid import services as grid_services
from grid.models import AreaKind, Role

from .cases_factories import MONDAY, category, fresh_calendar  # noqa: F401


def patrol_as(user, city, building=None, code="E0101"):
    return services_report.case_report(category=category(code), channel=Channel.PATROL,
                                       building=building or city.building_a, description="暴露垃圾",
                                       acting_user=user, now=MONDAY)


def test_goes_to_the_least_loaded_worker(city, make_user):
    busy = make_user(Role.GRID_WORKER, city.grid_a)
    idle = make_user(Role.GRID_WORKER, city.grid_a)
    first = patrol_as(busy, city)
    # Equal load: the earlier account first (stable); then the other one.
    assert first.assignee == busy
    second = patrol_as(busy, city)
    assert second.assignee == idle
    third = patrol_as(busy, city)
    assert third.assignee == busy  # equal load again: the earlier account
    assigned = [first.assignee, second.assignee, third.assignee]
    assert abs(assigned.count(busy) - assigned.count(idle)) == 1


def test_closed_cases_do_not_count_as_load(city, make_user):
    a = make_user(Role.GRID_WORKER, city.grid_a)
    b = make_user(Role.GRID_WORKER, city.grid_a)
    case = patrol_as(a, city)
    assert case.assignee == a
    from cases.models import Case

    Case.objects.filter(pk=case.pk).update(status=Status.REJECTED, closed_at=MONDAY)  # off a's hands
    assert routing.least_loaded_grid_worker(city.grid_a.pk) == a
    assert b  # still on duty, just equally loaded and later


def test_workers_off_duty_are_skipped(city, make_user):
    gone = make_user(Role.GRID_WORKER, city.grid_a)
    inactive = make_user(Role.GRID_WORKER, city.grid_a)
    present = make_user(Role.GRID_WORKER, city.grid_a)
    grid_services.post_end(post=gone.posts.get())
    inactive.is_active = False
    inactive.save()
    assert routing.least_loaded_grid_worker(city.grid_a.pk) == present


def test_a_worker_of_another_grid_is_never_chosen(city, make_user):
    make_user(Role.GRID_WORKER, city.grid_b)
    staff = make_user(Role.COMMUNITY_STAFF, city.community_a)
    case = services_report.case_report(category=category(), channel=Channel.HOTLINE, building=city.building_a,
                                       description="暴露垃圾", acting_user=staff, now=MONDAY)
    # Grid A has no worker: the case waits with grid A's community.
    assert (case.responsible_level, case.assignee) == (AreaKind.COMMUNITY, None)
    assert case.responsible_area_id == city.community_a.pk


def test_disputes_go_to_the_community_for_mediation(city, make_user):
    make_user(Role.GRID_WORKER, city.grid_a)
    staff = make_user(Role.COMMUNITY_STAFF, city.community_a)
    case = services_report.case_report(category=category("E0503"), channel=Channel.HOTLINE, building=city.building_a,
                                       description="物业纠纷", acting_user=staff, now=MONDAY)
    assert (case.responsible_level, case.assignee) == (AreaKind.COMMUNITY, None)


def test_responsible_staff_by_level(city, make_user):
    worker = make_user(Role.GRID_WORKER, city.grid_a)
    chief = make_user(Role.GRID_CHIEF, city.grid_a)
    staff = make_user(Role.COMMUNITY_STAFF, city.community_a)
    make_user(Role.COMMUNITY_STAFF, city.community_b)
    street = make_user(Role.STREET_STAFF, city.street_a)
    case = patrol_as(worker, city)
    assert set(routing.responsible_staff(case, AreaKind.GRID)) == {worker, chief}
    assert routing.responsible_staff(case, AreaKind.COMMUNITY) == [staff]
    assert routing.responsible_staff(case, AreaKind.STREET) == [street]
    found = routing.recipients_by_area({(AreaKind.COMMUNITY, city.community_a.pk),
                                        (AreaKind.STREET, city.street_a.pk)})
    assert found == {(AreaKind.COMMUNITY, city.community_a.pk): [(staff.pk, staff.email)],
                     (AreaKind.STREET, city.street_a.pk): [(street.pk, street.email)]}
