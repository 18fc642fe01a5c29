"""网格员工作台账: a grid worker's monthly work record, counted toward the district's duties.

It reads three domain apps (patrols and findings from risks, cases from cases,
care visits from residents), so it lives in the top layer. Each kind of work
(risks.models.WorkKind) is counted once, under the duty of the worker's district
that lists it (risks/duties.py); what no duty lists is shown apart.

Counts only, and the patrol days (date, grid, start and end, findings): no
resident, no case description, nothing a printed sheet should not carry.
"""

import calendar
import datetime
from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from cases.models import Case
from grid.models import AreaKind, Post, Role
from residents.models import CareVisit
from risks.duties import duties_of
from risks.models import Finding, FindingKind, Patrol, WorkKind


class BadMonth(ValueError):
    pass


def parse_month(text, *, today):
    """'2026-11' → the first day of that month; empty → this month. BadMonth otherwise (or in the future)."""
    if not text:
        return today.replace(day=1)
    try:
        year, month = (int(part) for part in str(text).split("-"))
        first = datetime.date(year, month, 1)
    except (TypeError, ValueError):
        raise BadMonth(text) from None
    if first > today or year < 2000:
        raise BadMonth(text)
    return first


def month_bounds(first):
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return start, end


def work_counts(*, worker, start, end):
    """{WorkKind: n} of the worker's work in [start, end)."""
    counts = dict.fromkeys(WorkKind.values, 0)
    counts[WorkKind.PATROL] = Patrol.objects.filter(worker=worker, started_at__gte=start, started_at__lt=end).count()
    by_kind = dict(Finding.objects.filter(patrol__worker=worker, at__gte=start, at__lt=end)
                   .values_list("kind").annotate(n=Count("pk")).order_by())
    counts[WorkKind.RISK_NEW] = by_kind.get(FindingKind.RISK_NEW, 0)
    counts[WorkKind.RISK_REVIEW] = by_kind.get(FindingKind.RISK_REVIEWED, 0)
    counts[WorkKind.FIXED] = by_kind.get(FindingKind.FIXED, 0)
    counts[WorkKind.CASE_REPORTED] = Case.objects.filter(reporter=worker, created_at__gte=start,
                                                         created_at__lt=end).count()
    counts[WorkKind.CASE_RESOLVED] = Case.objects.filter(resolved_by=worker, resolved_at__gte=start,
                                                         resolved_at__lt=end).count()
    counts[WorkKind.CARE_VISIT] = CareVisit.objects.filter(visited_by=worker, visited_at__gte=start,
                                                           visited_at__lt=end).count()
    return counts


@dataclass
class DutyRow:
    number: int
    name: str
    items: list = field(default_factory=list)  # [(label, n)]

    @property
    def total(self):
        return sum(n for _label, n in self.items)


@dataclass
class WorkRecord:
    worker: object
    first: datetime.date
    grids: list
    duties: list
    unassigned: list
    patrols: list


def worker_grids(worker):
    return [p.area for p in Post.objects.filter(user=worker, role=Role.GRID_WORKER, ended_at__isnull=True,
                                                area__kind=AreaKind.GRID).select_related("area")]


def work_record(*, worker, first):
    start, end = month_bounds(first)
    grids = worker_grids(worker)
    district_id = grids[0].get_root().pk if grids else None
    counts = work_counts(worker=worker, start=start, end=end)
    labels = dict(WorkKind.choices)
    rows, counted = [], set()
    for duty in duties_of(district_id):
        kinds = [k for k in duty.work_kinds if k in counts and k not in counted]
        counted.update(kinds)
        rows.append(DutyRow(duty.number, duty.name, [(labels[k], counts[k]) for k in kinds]))
    unassigned = [(labels[k], n) for k, n in counts.items() if k not in counted and n]
    patrols = list(Patrol.objects.filter(worker=worker, started_at__gte=start, started_at__lt=end)
                   .select_related("grid").annotate(n_findings=Count("findings")).order_by("started_at"))
    return WorkRecord(worker, first, grids, rows, unassigned, patrols)
