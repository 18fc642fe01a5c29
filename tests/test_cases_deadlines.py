"""cases/deadlines.py: the judged deadline (考核时限) and its history, beyond the golden fixture."""

from datetime import timedelta

import pytest

from cases import oversight, services
from cases.models import CaseDeadline, DeadlineKind, Status, TimeUnit
from portal.errors import DomainError

from .cases_factories import MONDAY, people, to_status  # noqa: F401


def firsts(case):
    return list(CaseDeadline.objects.filter(case=case, kind=DeadlineKind.FIRST).values_list("stage", flat=True))


def test_a_refused_transition_leaves_no_line(city, people):
    case = to_status(city, people, Status.DISPATCHED)
    with pytest.raises(DomainError):
        services.case_accept(case=case, acting_user=people.worker_b, now=MONDAY)  # another grid's worker
    assert firsts(case) == ["dispatch", "accept"]
    case.refresh_from_db()
    assert case.deadline_stage == "accept"


def test_a_stage_has_one_first_deadline_however_often_it_starts(city, people):
    case = to_status(city, people, Status.DISPATCHED)
    first = case.deadline_at
    later = MONDAY + timedelta(minutes=20)
    case = services.case_return(case=case, acting_user=case.assignee, reason="不是本网格的事", now=later)
    case = services.case_dispatch(case=case, acting_user=people.community, now=later)
    assert firsts(case) == ["dispatch", "accept"]
    assert case.deadline_at == first and case.due_at > first  # the worker's fresh clock, not the judged one


def test_an_extension_cannot_rescue_a_missed_deadline(city, people):
    case = to_status(city, people, Status.DISPATCHED)
    missed = case.deadline_at
    late = missed + timedelta(hours=1)
    case = services.case_accept(case=case, acting_user=case.assignee, now=late)
    assert (case.deadline_stage, case.deadline_at) == ("missed", missed)
    request = oversight.case_request_extension(case=case, acting_user=case.assignee, value=2,
                                               unit=TimeUnit.WORKING_DAYS, reason="需要协调", now=late)
    oversight.case_decide_extension(extension=request, acting_user=people.community, approve=True, now=late)
    case.refresh_from_db()
    assert case.deadline_at == missed and case.extension_count == 1
    assert CaseDeadline.objects.filter(case=case, kind=DeadlineKind.EXTENSION).count() == 1  # kept as history
