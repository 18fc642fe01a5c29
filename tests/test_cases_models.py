"""Invariants the database itself keeps."""

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from cases.models import Case, CaseEvent, Category, ExtensionRequest, Status, TimeUnit

from .cases_factories import MONDAY, fresh_calendar, people, resident_report, to_status  # noqa: F401


def refused(**changes):
    def check(case):
        with pytest.raises(IntegrityError), transaction.atomic():
            Case.objects.filter(pk=case.pk).update(**changes)
    return check


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "lost"},
        {"rating": 6, "rated_at": MONDAY},
        {"rating": 0, "rated_at": MONDAY},
        {"rating": 5},  # a rating without a date, on an open case
        {"status": Status.CLOSED},  # closed without closed_at or resolved_at
        {"status": Status.RESOLVED, "due_at": None},  # resolved without resolved_at
        {"status": Status.DUPLICATE, "closed_at": MONDAY},  # duplicate of nothing
        {"supervised_at": MONDAY},  # supervised by nobody
        {"carried_over_at": MONDAY},  # carried over for no reason
        {"due_at": None},  # on the clock without a deadline
        {"channel": "fax"},
        {"responsible_level": "province"},
        {"latitude": 123},
        {"kind": "secret"},
    ],
)
def test_case_constraints(city, changes):
    case = resident_report(city)
    refused(**changes)(case)


def test_not_a_duplicate_of_itself(city):
    case = resident_report(city)
    refused(status=Status.DUPLICATE, duplicate_of=case, closed_at=MONDAY)(case)


def test_community_level_needs_a_community(city):
    case = resident_report(city)
    refused(responsible_level="grid", grid=None)(case)


def test_timeline_events_cannot_be_rewritten(city):
    case = resident_report(city)
    # The database's trigger refuses it (IntegrityError on SQLite, ProgrammingError on PostgreSQL).
    with pytest.raises(DatabaseError, match="^case timeline events are immutable"), transaction.atomic():
        CaseEvent.objects.filter(case=case).update(note="rewritten history")


def test_one_pending_extension_and_no_self_approval(city, people):
    case = to_status(city, people, Status.HANDLING)
    ExtensionRequest.objects.create(case=case, requested_by=case.assignee, requested_at=MONDAY, value=1,
                                    unit=TimeUnit.WORKING_DAYS, reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        ExtensionRequest.objects.create(case=case, requested_by=case.assignee, requested_at=MONDAY, value=1,
                                        unit=TimeUnit.WORKING_DAYS, reason="y")
    with pytest.raises(IntegrityError), transaction.atomic():
        ExtensionRequest.objects.filter(case=case).update(status="approved", decided_by=case.assignee,
                                                          decided_at=MONDAY)


def test_category_limits_must_be_positive(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.create(family="incident", code="X1", name="x", handle_limit=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.create(family="incident", code="X2", name="x", handle_limit_unit="fortnights")


def test_categories_are_shipped_two_levels_deep(db):
    from django.core.exceptions import ValidationError

    assert Category.objects.filter(parent__isnull=True).count() >= 10
    assert Category.objects.filter(parent__isnull=False).count() >= 30
    garbage = Category.objects.get(code="E0101")
    assert (garbage.name, garbage.limit("handle")) == ("暴露垃圾", (4, TimeUnit.WORKING_HOURS))
    assert Category.objects.get(code="E0102").limit("handle") == (2, TimeUnit.WORKING_HOURS)
    assert Category.objects.get(code="C0102").limit("handle") == (1, TimeUnit.WORKING_DAYS)
    assert Category.objects.get(code="E0201").limit("handle") == (4, TimeUnit.WORKING_HOURS)
    assert Category.objects.get(code="E0501").is_mediation
    # Three levels are refused with a friendly message.
    third = Category(parent=garbage, family="incident", code="E010101", name="x")
    with pytest.raises(ValidationError):
        third.clean()


def test_loading_reference_data_again_changes_nothing(db):
    from cases.seed import load_reference_data

    garbage = Category.objects.get(code="E0101")
    garbage.handle_limit = 3  # staff tightened it
    garbage.save()
    assert load_reference_data() == 0
    garbage.refresh_from_db()
    assert garbage.handle_limit == 3


def test_derived_responsible_area(city, people):
    case = to_status(city, people, Status.DISPATCHED)
    assert case.responsible_area == city.grid_a
    assert case.tracking_code_display.replace("-", "") == case.tracking_code
    assert case.is_overdue(MONDAY.replace(hour=23))
