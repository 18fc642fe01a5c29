"""The dashboards' risk figures (issue #19, item 5): the register by grade and type per place, overdue
reviews, warnings open and handled, patrols and problems fixed on the spot, patrol coverage, and the
map's risk layer.

Patrol coverage (巡查覆盖率) is the portal's own definition (no published
standard names one): buildings inspected in the period ÷ buildings of the
place's active grids. A building is inspected when a patrol finding in the
period is at it (a risk registered or reviewed, a case, a fix on the spot) or
an inspection plan of it was last ticked done in the period (a round that
found nothing leaves only that tick). Pinned by tests/test_dashboard_risks.py.

Read through the risks app's scoping functions with the user's managing posts
(`risks_visible_to(user, managing=True)`, `warnings_visible_to`,
`findings_visible_to`), restricted to the dashboard's place by its stored
path. Counts and colours only: no title, no responsible person, no phone.
"""

from collections import defaultdict

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from grid.selectors import buildings_visible_to
from risks.grading import COLOURS, Grade
from risks.models import FindingKind, RiskStatus, RiskType, WarningStatus
from risks.selectors import (findings_visible_to, patrols_visible_to, plans_visible_to, risks_visible_to,
                             warnings_visible_to)

from .figures import Table

GRADES = list(Grade)


def _grade_columns():
    return [Grade(g).label for g in GRADES]


def _subtree_q(place, prefix):
    """Rows whose grid (at `prefix`) lies under the place; the whole city: everything."""
    area = place.area
    if area is None:
        return Q()
    return Q(**{f"{prefix}tree_id": area.tree_id, f"{prefix}lft__gte": area.lft, f"{prefix}lft__lte": area.rght})


def open_risks(board):
    return risks_visible_to(board.user, managing=True).filter(board.place.path_q(), status=RiskStatus.OPEN)


def open_warnings(board):
    return warnings_visible_to(board.user).filter(board.place.path_q(), status=WarningStatus.OPEN)


def _risk_counts(board):
    """Open risks counted once per (place one level down, type, grade), with how many of each are past
    their review: [(child id or None, kind, grade, n, overdue)]. Every risk table folds these rows."""
    if "_risk_counts" not in board.__dict__:
        child = board.place.child_field
        fields = [f"{child}_id"] if child else []
        rows = open_risks(board).values_list(*fields, "kind", "grade").annotate(
            n=Count("pk"), overdue=Count("pk", filter=Q(review_overdue_since__isnull=False))).order_by()
        board.__dict__["_risk_counts"] = [tuple(row) if child else (None, *row) for row in rows]
    return board.__dict__["_risk_counts"]


def _warning_counts(board):
    """Warnings per place one level down: [(child id or None, open, handled in the period)]."""
    if "_warning_counts" not in board.__dict__:
        period, child = board.period, board.place.child_field
        counts = {"open": Count("pk", filter=Q(status=WarningStatus.OPEN)),
                  "handled": Count("pk", filter=~Q(status=WarningStatus.OPEN) & Q(
                      handled_at__gte=period.start, handled_at__lt=period.end))}
        warnings = warnings_visible_to(board.user).filter(board.place.path_q())
        if child:
            rows = [tuple(r) for r in warnings.values_list(f"{child}_id").annotate(**counts).order_by()]
        else:
            found = warnings.aggregate(**counts)
            rows = [(None, found["open"], found["handled"])]
        board.__dict__["_warning_counts"] = rows
    return board.__dict__["_warning_counts"]


def summary(board):
    """One row: open risks by grade, reviews overdue, warnings open and handled in the period, patrols and
    problems fixed on the spot in the period."""
    by_grade, overdue = defaultdict(int), 0
    for _child, _kind, grade, n, late in _risk_counts(board):
        by_grade[grade] += n
        overdue += late
    warned_open = sum(row[1] for row in _warning_counts(board))
    warned_handled = sum(row[2] for row in _warning_counts(board))
    period = board.period
    in_period = Q(started_at__gte=period.start, started_at__lt=period.end)
    patrols = patrols_visible_to(board.user, managing=True).filter(_subtree_q(board.place, "grid__"), in_period)
    fixed = findings_visible_to(board.user, managing=True).filter(
        _subtree_q(board.place, "patrol__grid__"), kind=FindingKind.FIXED, at__gte=period.start, at__lt=period.end)
    columns = [*_grade_columns(), _("Reviews overdue"), _("Warnings open"), _("Warnings handled"), _("Patrols"),
               _("Fixed on the spot")]
    row = [by_grade.get(g.value, 0) for g in GRADES] + [overdue, warned_open, warned_handled,
                                                       patrols.count(), fixed.count()]
    return Table("risks", _("Risks and patrols"), columns, [row],
                 note=_("Open risks by grade (national four colours); patrols, fixes on the spot (即时处置) and "
                        "warnings handled in the period."))


def by_place(board):
    """Open risks by grade, overdue reviews and open warnings for each place one level down."""
    if board.place.child_field is None:
        return None
    counts = defaultdict(lambda: defaultdict(int))
    for child, _kind, grade, n, late in _risk_counts(board):
        counts[child][grade] += n
        counts[child]["overdue"] += late
    for child, n_open, _handled in _warning_counts(board):
        counts[child]["warnings"] += n_open
    table = Table("risks_places", _("Risks by place"),
                  [_("Place"), *_grade_columns(), _("Reviews overdue"), _("Warnings open")])
    for area in board.child_areas:
        c = counts.get(area.pk, {})
        table.rows.append([area.name, *[c.get(g.value, 0) for g in GRADES], c.get("overdue", 0),
                           c.get("warnings", 0)])
        table.links.append(board.url_for(area.pk))
    return table


def by_type(board):
    counts = defaultdict(lambda: defaultdict(int))
    for _child, kind, grade, n, _late in _risk_counts(board):
        counts[kind][grade] += n
    table = Table("risks_types", _("Risks by type"), [_("Type"), *_grade_columns(), _("Total")])
    for kind, label in RiskType.choices:
        if kind in counts:
            cells = [counts[kind].get(g.value, 0) for g in GRADES]
            table.rows.append([label, *cells, sum(cells)])
    return table


def coverage_counts(board):
    """(buildings inspected in the period, buildings of the place's active grids), both as the user sees them.

    The inspected buildings are matched by `IN (ids of the period's findings) OR IN (ids of the plans
    ticked in it)`, which PostgreSQL hashes once, not by a correlated EXISTS per building: with that
    plan a district's 25,000 buildings were costed past the JIT threshold and compiling took ~300 ms
    of the 330 ms (issue #24).
    """
    period = board.period
    buildings = buildings_visible_to(board.user, managing=True).filter(_subtree_q(board.place, "grid__"),
                                                                       grid__is_active=True)
    found = findings_visible_to(board.user, managing=True).filter(
        at__gte=period.start, at__lt=period.end).values("building_id")
    ticked = plans_visible_to(board.user, managing=True).filter(
        last_done_at__gte=period.start, last_done_at__lt=period.end).values("building_id")
    # No DISTINCT: a building is one row here (aggregate() counts a distinct queryset over a subquery).
    counts = buildings.aggregate(total=Count("pk"), inspected=Count("pk", filter=Q(pk__in=found) | Q(pk__in=ticked)))
    return counts["inspected"], counts["total"]


def coverage(board):
    inspected, total = coverage_counts(board)
    share = f"{100 * inspected / total:.1f}%" if total else "—"
    return Table("patrol_coverage", _("Patrol coverage"), [_("Buildings inspected"), _("Buildings"), _("Coverage")],
                 [[inspected, total, share]],
                 note=_("Patrol coverage (巡查覆盖率): buildings with at least one patrol finding, or an inspection "
                        "plan ticked done, in the period ÷ all buildings of the place's active grids. The portal's "
                        "own definition."))


def tables(board):
    return [t for t in (summary(board), coverage(board), by_place(board), by_type(board)) if t is not None]


def map_points(board, limit):
    """[[lat, lon, colour], ...] of open risks at buildings with a location, most serious first."""
    rows = (open_risks(board).filter(building__latitude__isnull=False, building__longitude__isnull=False)
            .order_by("grade", "pk").values_list("building__latitude", "building__longitude", "grade")[:limit])
    return [[float(lat), float(lon), COLOURS[Grade(grade)]] for lat, lon, grade in rows]
