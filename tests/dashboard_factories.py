"""A hand-computed dashboard fixture: cases written as rows with known figures.

Rows go in directly (not through the services) so each timestamp and state is
exactly what the expected figures in tests/test_dashboard_figures.py assume;
the database constraints still check every row.
"""

from datetime import timedelta
from itertools import count

import pytest

from cases.models import Case, Channel, ReporterKind, Status
from grid.models import AreaKind
from portal.workcalendar.calendar import working_minutes_between

from .cases_factories import at, category
from .factories import UserFactory

_numbers = count(1)


def make_case(grid, created, status=Status.CLOSED, *, level=AreaKind.GRID, hours=1, late=False, rating=None,
              channel=Channel.WEB, code="E0101", **fields):
    """A case at `grid`, reported at `created`; a closed one closes `hours` later."""
    n = next(_numbers)
    community = grid.parent
    street = community.parent
    row = dict(
        district_id=street.parent_id, street=street, community=community, grid=grid,
        number=f"T{n:09d}", tracking_code=f"TRK{n:09d}", channel=channel, reporter_kind=ReporterKind.RESIDENT,
        category=category(code), description="测试", status=status, responsible_level=level, created_at=created,
        handle_due_at=created + timedelta(hours=hours / 2 if late else hours + 1),
    )
    # The judged deadline is the handling deadline here (no escalation moved it); registered on arrival.
    row["deadline_at"] = row["handle_due_at"]
    if status != Status.REPORTED:
        row["registered_at"] = created
    if status in (Status.REPORTED, Status.REGISTERED, Status.DISPATCHED, Status.HANDLING):
        row["due_at"] = created + timedelta(hours=4)
    if status == Status.CLOSED:
        row.update(resolved_at=created + timedelta(hours=hours), closed_at=created + timedelta(hours=hours))
        row["handling_minutes"] = round(working_minutes_between(created, row["closed_at"]))
        if rating:
            row.update(rating=rating, rated_at=row["closed_at"], rating_count=1, satisfied_count=int(rating >= 4))
    if status in (Status.REJECTED, Status.DUPLICATE):
        row["closed_at"] = created + timedelta(hours=1)
    row.update(fields)
    return Case.objects.create(**row)


@pytest.fixture
def fixture_cases(city):
    """Nine cases around November 2026 (see the expectations in test_dashboard_figures)."""
    c = {}
    c["nov1_after_midnight"] = make_case(city.grid_a, at(2026, 11, 1, 0, 10), hours=1.25, rating=5)
    c["nov30_late"] = make_case(city.grid_a, at(2026, 11, 30, 23, 50), hours=70, late=True, rating=3,
                                level=AreaKind.COMMUNITY, rework_count=1)
    c["oct31_before_midnight"] = make_case(city.grid_a, at(2026, 10, 31, 23, 59))
    c["dec1_midnight"] = make_case(city.grid_a, at(2026, 12, 1, 0, 0))
    c["handling"] = make_case(city.grid_a, at(2026, 11, 15, 10, 0), Status.HANDLING, extension_count=1,
                              escalation_count=1, channel=Channel.HOTLINE,
                              supervised_at=at(2026, 11, 16), supervised_by=UserFactory())
    c["rejected"] = make_case(city.grid_a, at(2026, 11, 15, 11, 0), Status.REJECTED)
    c["duplicate"] = make_case(city.grid_a, at(2026, 11, 20), Status.DUPLICATE, duplicate_of=c["handling"])
    c["street_b"] = make_case(city.grid_b, at(2026, 11, 10), hours=240, level=AreaKind.STREET)
    c["other_district"] = _other_district_case(city)
    return c


def _other_district_case(city):
    from grid import services

    street = services.area_add(kind=AreaKind.STREET, name="外区街道", parent=city.other_district)
    community = services.area_add(kind=AreaKind.COMMUNITY, name="外区社区", parent=street)
    grid = services.area_add(kind=AreaKind.GRID, name="外区第一网格", parent=community)
    return make_case(grid, at(2026, 11, 10), hours=3, rating=1)
