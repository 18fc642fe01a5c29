"""The worker hears when a case leaves her for the level above (issue #21): a notice in her
inbox (/inbox/) and in her queue, with the reason; only for the places where she handles cases."""

import time_machine
from django.urls import reverse

from cases import escalation, notifications, services, services_report
from cases.escalation_left import left_my_queue
from cases.models import Channel, Notification

from .cases_factories import at, category, fresh_calendar, people  # noqa: F401

FRIDAY = at(2026, 11, 27, 16, 0)
SWEPT = at(2026, 11, 27, 17, 1)
LATER = at(2026, 11, 27, 17, 30)


def patrol(city, worker, building):
    return services_report.case_report(category=category(), channel=Channel.PATROL, building=building,
                                       description="路边暴露垃圾", acting_user=worker, now=FRIDAY)


def sweep_and_deliver():
    assert escalation.escalate_overdue(now=SWEPT) >= 1
    escalation.escalation_notices_expand()
    notifications.deliver_pending(now=SWEPT)


def test_the_sweep_tells_the_grid_it_left_in_the_inbox_and_the_queue(city, people, client):
    mine = patrol(city, people.worker, city.building_a)
    theirs = patrol(city, people.worker_b, city.building_b)
    sweep_and_deliver()

    # Both workers of grid A hear of their case, not of grid B's; and the other way round.
    for user in (people.worker, people.worker2):
        notes = list(Notification.objects.filter(user=user).values_list("case_id", "message"))
        left = [message for case_id, message in notes if case_id == mine.pk and "自动上报" in message]
        assert len(left) == 1 and "社区" in left[0] and mine.number in left[0]
        assert theirs.pk not in {case_id for case_id, _m in notes}
    assert Notification.objects.filter(user=people.worker_b, case=theirs).exists()
    assert not Notification.objects.filter(user=people.worker_b, case=mine).exists()

    with time_machine.travel(LATER, tick=False):
        client.force_login(people.worker)
        inbox = client.get(reverse("cases:inbox"))
        assert inbox.status_code == 200
        assert mine.number in inbox.content.decode() and theirs.number not in inbox.content.decode()

        queue = client.get(reverse("cases:queue")).content.decode()
        assert 'class="card left-queue"' in queue
        assert mine.number in queue and theirs.number not in queue

        client.force_login(people.worker_b)
        queue_b = client.get(reverse("cases:queue")).content.decode()
        assert theirs.number in queue_b and mine.number not in queue_b


def test_the_queue_notice_fades_after_a_week(city, people):
    mine = patrol(city, people.worker, city.building_a)
    sweep_and_deliver()
    assert [row["case"].pk for row in left_my_queue(people.worker, now=LATER)] == [mine.pk]
    assert left_my_queue(people.worker, now=at(2026, 12, 5, 9, 0)) == []
    # A community staffer handles nothing at grid level: the grid's escalation is not "hers" to lose.
    assert left_my_queue(people.community, now=LATER) == []


def test_a_hand_escalation_tells_the_others_with_the_reason(city, people):
    case = patrol(city, people.worker, city.building_a)
    case = services.case_accept(case=case, acting_user=case.assignee, now=FRIDAY)
    actor = case.assignee
    other = people.worker2 if actor == people.worker else people.worker
    services.case_escalate(case=case, acting_user=actor, reason="涉及违建，超出网格能力", now=FRIDAY)
    notifications.deliver_pending(now=FRIDAY)
    left = [m for m in Notification.objects.filter(user=other, case=case).values_list("message", flat=True)
            if "涉及违建" in m]
    assert len(left) == 1 and case.number in left[0]
    # Who escalated knows; the other grid's worker is not told.
    assert not [m for m in Notification.objects.filter(user=actor, case=case).values_list("message", flat=True)
                if "涉及违建" in m]
    assert not Notification.objects.filter(user=people.worker_b, case=case).exists()
    rows = left_my_queue(other, now=LATER)
    assert rows[0]["case"] == case and rows[0]["by_hand"] and rows[0]["reason"] == "涉及违建，超出网格能力"
    assert left_my_queue(people.worker_b, now=LATER) == []


def test_the_inbox_is_only_ones_own_and_marks_read_by_post(city, people, client):
    mine = Notification.objects.create(user=people.worker, message="给网格员甲", created_at=FRIDAY)
    theirs = Notification.objects.create(user=people.worker_b, message="给网格员乙", created_at=FRIDAY)
    client.force_login(people.worker)
    page = client.get(reverse("cases:inbox")).content.decode()
    assert "给网格员甲" in page and "给网格员乙" not in page
    assert client.get(reverse("cases:inbox_read")).status_code == 405
    with time_machine.travel(LATER, tick=False):
        assert client.post(reverse("cases:inbox_read")).status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at == LATER and theirs.read_at is None


def test_the_inbox_needs_a_sign_in(client, db):
    response = client.get(reverse("cases:inbox"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert client.post(reverse("cases:inbox_read")).status_code == 302
