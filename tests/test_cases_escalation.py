"""The escalation sweep on frozen clocks: weekends, holidays, 调休; twice and concurrently."""

import threading

import pytest
from django.db import connection
from django.utils.translation import ngettext

from cases import escalation, oversight, services, services_report
from cases.models import Case, CaseEvent, Channel, Delivery, EscalationNotice, Status
from grid.models import AreaKind, Role

from .cases_factories import MONDAY, at, category, fresh_calendar, people, to_status  # noqa: F401


def digest_subject(n):
    # Worded in the language active when the sweep ran (the test's own).
    return ngettext("%(n)d case escalated to you", "%(n)d cases escalated to you", n) % {"n": n}


def patrol(city, people, *, now, code="E0101"):
    """A grid worker's patrol report: registered and dispatched to a worker at once."""
    return services_report.case_report(category=category(code), channel=Channel.PATROL, building=city.building_a,
                                       description="路边暴露垃圾", acting_user=people.worker, now=now)


def test_overdue_case_climbs_one_level_with_new_deadline(city, people, django_capture_on_commit_callbacks):
    friday = at(2026, 11, 27, 16, 0)
    case = patrol(city, people, now=friday)
    assert case.due_at == at(2026, 11, 27, 17, 0)  # 1 working hour to accept
    assert escalation.escalate_overdue(now=at(2026, 11, 27, 16, 59)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert escalation.escalate_overdue(now=at(2026, 11, 27, 17, 1)) == 1
    case.refresh_from_db()
    assert (case.status, case.responsible_level, case.assignee) == (Status.DISPATCHED, AreaKind.COMMUNITY, None)
    assert case.escalation_count == 1
    # The community has 1 working hour from Friday 17:01: 29 minutes on Friday, 31 on Monday.
    assert case.due_at == at(2026, 11, 30, 9, 1)
    event = case.events.get(action="escalate")
    assert (event.from_status, event.to_status, event.actor) == (Status.DISPATCHED, Status.DISPATCHED, None)
    assert event.data == {"from_level": "grid", "to_level": "community", "by_hand": False}
    # The weekend passes without an escalation.
    assert escalation.escalate_overdue(now=at(2026, 11, 29, 20, 0)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert escalation.escalate_overdue(now=at(2026, 11, 30, 9, 2)) == 1
    case.refresh_from_db()
    assert case.responsible_level == AreaKind.STREET
    # The new level's staff hear about it (inbox, and email where they have one): the
    # batch's commit asked for its notice to be worded (eagerly here).
    assert not EscalationNotice.objects.exists()
    assert Delivery.objects.filter(case=case, user=people.community).exists()
    assert Delivery.objects.filter(case=case, user=people.street).exists()


def test_a_case_in_hand_goes_back_to_be_accepted_at_the_new_level(city, people):
    case = patrol(city, people, now=MONDAY)
    case = services.case_accept(case=case, acting_user=case.assignee, now=MONDAY)
    assert case.due_at == at(2026, 11, 23, 14, 30)
    assert escalation.escalate_overdue(now=at(2026, 11, 23, 14, 31)) == 1
    case.refresh_from_db()
    assert (case.status, case.responsible_level, case.assignee) == (Status.DISPATCHED, AreaKind.COMMUNITY, None)
    case = services.case_accept(case=case, acting_user=people.community, now=at(2026, 11, 23, 15, 0))
    assert case.status == Status.HANDLING and case.assignee == people.community


def test_public_holiday_stops_the_clock(city, people):
    # Wednesday Sep 30 2026, 17:00; Oct 1–7 is the National Day holiday.
    case = patrol(city, people, now=at(2026, 9, 30, 17, 0))
    assert case.due_at == at(2026, 10, 8, 9, 0)
    assert escalation.escalate_overdue(now=at(2026, 10, 5, 12, 0)) == 0
    assert escalation.escalate_overdue(now=at(2026, 10, 8, 9, 1)) == 1


def test_a_weekend_day_worked_in_exchange_runs_the_clock(city, people):
    # Friday Oct 9 2026 17:00; Saturday Oct 10 is a 调休 working day.
    case = patrol(city, people, now=at(2026, 10, 9, 17, 0))
    assert case.due_at == at(2026, 10, 10, 9, 0)
    assert escalation.escalate_overdue(now=at(2026, 10, 10, 9, 1)) == 1
    case.refresh_from_db()
    assert case.responsible_level == AreaKind.COMMUNITY


def test_unregistered_report_climbs_and_stays_reported(city, people):
    case = to_status(city, people, Status.REPORTED)  # waits at the community, 1 working hour to dispatch
    assert escalation.escalate_overdue(now=at(2026, 11, 23, 10, 1)) == 1
    case.refresh_from_db()
    assert (case.status, case.responsible_level) == (Status.REPORTED, AreaKind.STREET)
    # Street staff now register it; community staff no longer can.
    from portal.errors import DomainError

    with pytest.raises(DomainError):
        services.case_register(case=case, acting_user=people.community, now=at(2026, 11, 23, 10, 5))
    case = services.case_register(case=case, acting_user=people.street, now=at(2026, 11, 23, 10, 5))
    assert case.status == Status.DISPATCHED


def test_run_twice_escalates_once(city, people):
    cases = [patrol(city, people, now=MONDAY) for _ in range(3)]
    late = at(2026, 11, 23, 10, 30)
    assert escalation.escalate_overdue(now=late) == 3
    assert escalation.escalate_overdue(now=late) == 0
    for case in cases:
        case.refresh_from_db()
        assert case.escalation_count == 1
        assert case.events.filter(action="escalate").count() == 1


def test_batches_meet_at_equal_deadlines_and_each_case_moves_once(city, people, monkeypatch,
                                                                  django_capture_on_commit_callbacks):
    from cases import tasks

    enqueued = []
    for task in (tasks.deliver_notifications, tasks.deliver_pending_notifications):
        monkeypatch.setattr(task, "apply_async", lambda *args, **kwargs: enqueued.append(kwargs))
    # Reported together: all due at the same minute, so batch boundaries fall between equal deadlines.
    cases = [patrol(city, people, now=MONDAY) for _ in range(25)]
    ids = [c.pk for c in cases]
    assert len(set(Case.objects.filter(pk__in=ids).values_list("due_at", flat=True))) == 1
    late = at(2026, 11, 23, 10, 30)
    with django_capture_on_commit_callbacks(execute=True):
        assert escalation.escalate_overdue(now=late, batch=10) == 25
    assert len(enqueued) == 3  # one enqueue per batch of 10, 10 and 5
    assert escalation.escalate_overdue(now=late, batch=10) == 0
    assert set(Case.objects.filter(pk__in=ids).values_list("responsible_level", "escalation_count", "assignee")) == {
        (AreaKind.COMMUNITY, 1, None)}
    events = CaseEvent.objects.filter(case_id__in=ids, action="escalate")
    assert events.count() == 25 and {e.data["to_level"] for e in events} == {"community"}
    # The community's staff hear about every case, in their inbox and by e-mail: one digest per
    # batch (10, 10 and 5 matters), not one message per case.
    mine = Delivery.objects.filter(user=people.community)
    inbox = list(mine.filter(channel="inbox").order_by("pk"))
    assert len(inbox) == 3 and mine.filter(channel="email").count() == 3
    assert all(row.case_id is None for row in inbox)
    assert [row.subject for row in inbox] == [digest_subject(10)] * 2 + [digest_subject(5)]
    listed = "\n".join(row.body for row in inbox)
    assert all(case.number in listed for case in Case.objects.filter(pk__in=ids))


def test_a_sweep_words_one_digest_per_recipient_per_batch(city, people, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    from cases import tasks

    pending = []
    monkeypatch.setattr(tasks.deliver_pending_notifications, "apply_async", lambda *a, **k: pending.append(1))
    cases = [patrol(city, people, now=MONDAY) for _ in range(15)]
    with django_capture_on_commit_callbacks(execute=True):
        assert escalation.escalate_overdue(now=at(2026, 11, 23, 10, 30)) == 15
    # One digest (inbox + e-mail) for the community's staff for the batch of 15.
    assert Delivery.objects.filter(user=people.community).count() == 2
    assert not Delivery.objects.filter(case__in=cases, user=people.community).exists()


def test_carried_over_and_district_cases_stay_put(city, people):
    carried = patrol(city, people, now=MONDAY)
    oversight.case_carry_over(case=carried, acting_user=people.community, reason="列入年度计划", now=MONDAY)
    top = patrol(city, people, now=MONDAY)
    for user in (people.community, people.street, people.district):
        top = services.case_escalate(case=top, acting_user=user, reason="超出能力", now=MONDAY)
    assert escalation.escalate_overdue(now=at(2026, 12, 31, 12, 0)) == 0
    carried.refresh_from_db()
    assert carried.responsible_level == AreaKind.GRID and carried.escalation_count == 0


def test_manual_escalation_needs_a_reason_and_is_on_the_timeline(city, people):
    from portal.errors import DomainError

    case = patrol(city, people, now=MONDAY)
    case = services.case_accept(case=case, acting_user=case.assignee, now=MONDAY)
    with pytest.raises(DomainError):
        services.case_escalate(case=case, acting_user=case.assignee, reason="", now=MONDAY)
    case = services.case_escalate(case=case, acting_user=case.assignee, reason="涉及违建，超出网格能力", now=MONDAY)
    event = case.events.get(action="escalate")
    assert event.note == "涉及违建，超出网格能力" and event.data["by_hand"] is True and event.is_public
    assert case.responsible_level == AreaKind.COMMUNITY


def test_the_beat_task_runs_the_sweep(city, people):
    from cases.tasks import escalate_overdue

    patrol(city, people, now=at(2025, 3, 3, 9, 0))  # long overdue by the real clock
    assert escalate_overdue.delay().get() == 1
    assert escalate_overdue.delay().get() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_sweeps_escalate_each_case_once(on_postgres, make_user):
    from .factories import build_city

    city = build_city()
    worker = make_user(Role.GRID_WORKER, city.grid_a)
    make_user(Role.COMMUNITY_STAFF, city.community_a)
    ids = []
    for i in range(40):
        case = services_report.case_report(category=category(), channel=Channel.PATROL, building=city.building_a,
                                           description=f"垃圾 {i}", acting_user=worker, now=MONDAY)
        ids.append(case.pk)
    late = at(2026, 11, 23, 10, 30)
    start = threading.Barrier(4, timeout=10)
    moved = []

    def sweep():
        try:
            start.wait()
            moved.append(escalation.escalate_overdue(now=late, batch=7))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(moved) == 40
    assert CaseEvent.objects.filter(case_id__in=ids, action="escalate").count() == 40
    assert set(Case.objects.filter(pk__in=ids).values_list("escalation_count", "responsible_level")) == {
        (1, "community")}


def test_management_commands_run_the_sweeps(city, people):
    from io import StringIO

    from django.core.management import call_command
    from django.utils import translation

    patrol(city, people, now=at(2025, 3, 3, 9, 0))
    out = StringIO()
    with translation.override("en"):
        call_command("escalate_overdue", stdout=out)
    assert out.getvalue().startswith("1 case escalated")
    out = StringIO()
    call_command("deliver_notifications", stdout=out)
    assert "sent" in out.getvalue()
    assert not Delivery.objects.filter(status="pending", next_attempt_at__lte=at(2030, 1, 1)).exclude(
        channel="chat").exists()


def test_escalation_notices_are_worded_once_even_with_the_broker_down(city, people, monkeypatch,
                                                                      django_capture_on_commit_callbacks):
    """The sweep keeps one notice per batch; a broker outage leaves it for the outbox beat,
    and wording it again changes nothing."""
    from cases import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(tasks.expand_escalation_notices, "apply_async", broker_down)
    cases = [patrol(city, people, now=MONDAY) for _ in range(4)]
    with django_capture_on_commit_callbacks(execute=True):
        assert escalation.escalate_overdue(now=at(2026, 11, 23, 10, 30), batch=3) == 4
    assert EscalationNotice.objects.count() == 2
    assert not Delivery.objects.filter(case__in=cases, user=people.community).exists()

    from cases.notifications import broker_back

    broker_back()
    tasks.deliver_pending_notifications.delay()
    assert not EscalationNotice.objects.exists()
    # Two batches (3 and 1): a digest for the three, the per-case message for the one.
    mine = Delivery.objects.filter(user=people.community)
    assert mine.filter(channel="inbox").count() == 2 and mine.filter(channel="email").count() == 2
    assert escalation.escalation_notices_expand() == 0
    assert mine.count() == 4
    single = mine.get(channel="inbox", case__isnull=False)
    assert single.case.number in single.subject and "垃圾" in single.body
    digest = mine.get(channel="inbox", case__isnull=True)
    assert digest.subject == digest_subject(3) and digest.body.count("路边暴露垃圾") == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_wording_writes_each_notice_once(on_postgres, make_user):
    from .factories import build_city

    city = build_city()
    worker = make_user(Role.GRID_WORKER, city.grid_a)
    staff = make_user(Role.COMMUNITY_STAFF, city.community_a)
    for i in range(12):
        services_report.case_report(category=category(), channel=Channel.PATROL, building=city.building_a,
                                    description=f"垃圾 {i}", acting_user=worker, now=MONDAY)
    from unittest import mock

    from cases import tasks

    with mock.patch.object(tasks.expand_escalation_notices, "apply_async"):
        assert escalation.escalate_overdue(now=at(2026, 11, 23, 10, 30), batch=2) == 12
    assert EscalationNotice.objects.count() == 6
    start = threading.Barrier(3, timeout=10)
    worded = []

    def word():
        try:
            start.wait()
            worded.append(escalation.escalation_notices_expand())
        finally:
            connection.close()

    threads = [threading.Thread(target=word) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(worded) == 12
    # Six batches of two: one digest each, every case listed exactly once.
    digests = list(Delivery.objects.filter(user=staff, channel="inbox").values_list("body", flat=True))
    assert len(digests) == 6
    numbers = Case.objects.values_list("number", flat=True)
    assert all(sum(body.count(number) for body in digests) == 1 for number in numbers)
