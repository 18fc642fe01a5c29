"""Points for a closed case a volunteer reported or verified (hub/points.py): asked for when
cases.services.case_close commits (cases.signals.case_closed, connected in hub/wiring.py), once
per case and volunteer, however often it closes."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from cases import services as case_services
from cases import services_report as case_reports
from cases.models import Channel, Status
from hub import points, tasks
from volunteers import ledger, services
from volunteers.models import LedgerTransaction, TransactionKind

from .cases_factories import MONDAY, category, fresh_calendar, people, png, to_status  # noqa: F401 (fixtures)


@pytest.fixture
def verifier(city, people):  # noqa: F811
    """The community staff member who verifies cases in to_status, registered as a volunteer."""
    return services.volunteer_register(home=city.grid_a, user=people.community, acting_user=people.community,
                                       now=MONDAY)


def case_awards(case):
    return LedgerTransaction.objects.filter(kind=TransactionKind.CASE, case=case)


def close(case, people, django_capture_on_commit_callbacks, now=MONDAY):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        return case_services.case_close(case=case, acting_user=people.community, now=now)


def test_closing_pays_the_verifying_volunteer_once(city, people, verifier, django_capture_on_commit_callbacks):  # noqa: F811
    case = to_status(city, people, Status.VERIFIED)
    assert ledger.balance_of(verifier) == 0
    close(case, people, django_capture_on_commit_callbacks)
    assert ledger.balance_of(verifier) == ledger.CASE_POINTS
    assert case_awards(case).count() == 1
    # The task runs again (a redelivered message): nothing more.
    tasks.award_case_points.delay(case_id=case.pk)
    assert ledger.balance_of(verifier) == ledger.CASE_POINTS
    assert ledger.books_problems() == []


def test_closed_reopened_and_closed_again_pays_once(city, people, verifier, django_capture_on_commit_callbacks):  # noqa: F811
    case = to_status(city, people, Status.VERIFIED)
    close(case, people, django_capture_on_commit_callbacks)
    case = case_services.case_reopen(case=case, acting_user=people.community, reason="居民不满意", now=MONDAY)
    handler = case.assignee
    case_services.case_resolve(case=case, acting_user=handler, note="再次清理", photos=[png()], now=MONDAY)
    case_services.case_verify(case=case, acting_user=people.community, passed=True, now=MONDAY)
    close(case, people, django_capture_on_commit_callbacks)
    assert ledger.balance_of(verifier) == ledger.CASE_POINTS
    assert case_awards(case).count() == 1


def test_a_volunteer_who_reported_earns_and_a_bystander_does_not(city, people, make_user,  # noqa: F811
                                                                 django_capture_on_commit_callbacks):
    worker_volunteer = services.volunteer_register(home=city.grid_a, user=people.worker, acting_user=people.worker,
                                                   now=MONDAY)
    bystander = services.volunteer_register(home=city.grid_a, user=people.worker2, acting_user=people.worker2,
                                            now=MONDAY)
    case = case_reports.case_report(category=category(), description="井盖缺失", channel=Channel.PATROL,
                                    building=city.building_a, acting_user=people.worker, now=MONDAY)
    assert case.reporter_id == people.worker.pk
    handler = case.assignee or people.worker
    if case.status != Status.HANDLING:
        case = case_services.case_accept(case=case, acting_user=handler, now=MONDAY)
    case_services.case_resolve(case=case, acting_user=case.assignee, note="已补", photos=[png()], now=MONDAY)
    case_services.case_verify(case=case, acting_user=people.community, passed=True, now=MONDAY)
    close(case, people, django_capture_on_commit_callbacks)
    assert ledger.balance_of(worker_volunteer) == ledger.CASE_POINTS
    assert ledger.balance_of(bystander) == 0


def test_no_volunteer_no_points_and_an_open_case_pays_nothing(city, people, django_capture_on_commit_callbacks):  # noqa: F811
    case = to_status(city, people, Status.VERIFIED)
    close(case, people, django_capture_on_commit_callbacks)
    assert not case_awards(case).exists()
    # A case reopened before the task ran pays nothing now.
    other = to_status(city, people, Status.RESOLVED)
    assert points.award_closed_case(case_id=other.pk, now=MONDAY) == []
    assert points.award_closed_case(case_id=10**9, now=MONDAY) == []


def test_a_reversed_case_award_is_not_paid_again(city, people, verifier, django_capture_on_commit_callbacks):  # noqa: F811
    case = to_status(city, people, Status.VERIFIED)
    close(case, people, django_capture_on_commit_callbacks)
    ledger.reverse(txn=case_awards(case).get(), reason="误核", acting_user=people.community, now=MONDAY)
    assert points.award_closed_case(case_id=case.pk, now=MONDAY) == []
    assert ledger.balance_of(verifier) == 0
    assert ledger.books_problems() == []


def test_the_sweep_pays_what_a_lost_message_did_not(city, people, verifier, monkeypatch):  # noqa: F811
    def broker_down(*args, **kwargs):
        raise OSError("broker down")

    monkeypatch.setattr(tasks.award_case_points, "apply_async", broker_down)
    case = to_status(city, people, Status.CLOSED)
    tasks.case_closed(case.pk)  # what the close's signal calls on commit: logs, never raises
    assert ledger.balance_of(verifier) == 0
    assert points.closed_cases_to_award(now=MONDAY + timedelta(hours=1)) == [case.pk]
    # Too long ago for the sweep's window: left alone.
    assert points.closed_cases_to_award(now=MONDAY + timedelta(days=3)) == []
    monkeypatch.setattr("django.utils.timezone.now", lambda: MONDAY + timedelta(hours=1))
    assert tasks.award_recent_closed_cases.delay().get() == 1
    assert ledger.balance_of(verifier) == ledger.CASE_POINTS
    assert points.closed_cases_to_award(now=MONDAY + timedelta(hours=1)) == []


def test_the_sweep_pays_a_volunteer_first_owed_on_a_later_close(city, people, monkeypatch,  # noqa: F811
                                                                  django_capture_on_commit_callbacks):
    """The first close paid the reporting volunteer; after a reopen a newly registered volunteer
    verifies it, and the second close's message is lost: the sweep still finds the case."""
    reporter = services.volunteer_register(home=city.grid_a, user=people.worker, acting_user=people.worker,
                                           now=MONDAY)
    case = case_reports.case_report(category=category(), description="路灯不亮", channel=Channel.PATROL,
                                    building=city.building_a, acting_user=people.worker, now=MONDAY)
    if case.status != Status.HANDLING:
        case = case_services.case_accept(case=case, acting_user=case.assignee or people.worker, now=MONDAY)
    case_services.case_resolve(case=case, acting_user=case.assignee, note="已修", photos=[png()], now=MONDAY)
    case_services.case_verify(case=case, acting_user=people.community, passed=True, now=MONDAY)
    monkeypatch.setattr("django.utils.timezone.now", lambda: MONDAY)  # the task pays when the close commits
    close(case, people, django_capture_on_commit_callbacks)
    assert ledger.balance_of(reporter) == ledger.CASE_POINTS

    later = MONDAY + timedelta(hours=2)
    verifier = services.volunteer_register(home=city.grid_a, user=people.community, acting_user=people.community,
                                           now=later)
    case = case_services.case_reopen(case=case, acting_user=people.community, reason="又不亮了", now=later)
    case_services.case_resolve(case=case, acting_user=case.assignee, note="换灯泡", photos=[png()], now=later)
    case_services.case_verify(case=case, acting_user=people.community, passed=True, now=later)
    monkeypatch.setattr(tasks.award_case_points, "apply_async", lambda *a, **k: (_ for _ in ()).throw(OSError()))
    case_services.case_close(case=case, acting_user=people.community, now=later)
    tasks.case_closed(case.pk)  # the lost message
    assert ledger.balance_of(verifier) == 0
    assert points.closed_cases_to_award(now=later + timedelta(hours=1)) == [case.pk]
    points.award_closed_case(case_id=case.pk, now=later + timedelta(hours=1))
    assert (ledger.balance_of(verifier), ledger.balance_of(reporter)) == (ledger.CASE_POINTS, ledger.CASE_POINTS)
    assert points.closed_cases_to_award(now=later + timedelta(hours=1)) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_the_task_pay_once(city, people, verifier, on_postgres, monkeypatch):  # noqa: F811
    monkeypatch.setattr(tasks, "case_closed", lambda case_id: None)  # the close's own message is "lost"
    case = to_status(city, people, Status.CLOSED)
    assert ledger.balance_of(verifier) == 0
    ledger.member_account(verifier)  # the race is on the award, not on opening the account
    barrier = threading.Barrier(4)
    paid = []

    def deliver():
        try:
            barrier.wait()
            paid.append(len(points.award_closed_case(case_id=case.pk, now=MONDAY)))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(paid) == [0, 0, 0, 1]
    assert ledger.balance_of(verifier) == ledger.CASE_POINTS
    assert case_awards(case).count() == 1
    assert ledger.books_problems() == []
