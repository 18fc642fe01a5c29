"""Figures for the officials' dashboards (数据驾驶舱): one place, one period.

What each figure means, in words and with its source, is dashboards/definitions.py;
this module counts it. Every figure is about a cohort: the cases reported at the
place in the period (Asia/Shanghai days), counted as they stand now.

Measures come in two kinds:

- Counts that change only when a case changes (a timeline event): registered
  (立案), deferred (缓办: carried over and paused), closed, on time (resolved by
  the judged deadline, Case.deadline_at, see cases/deadlines.py), resolved
  late, reworked, handled (resolved at least once), extended, first-time
  closed, ratings and satisfied ratings, handling minutes and the handling-time
  histogram (working hours). Both sources give these: `LiveSource` from the
  case table, `RollupSource` from dashboards.models.CaseRollup.
- Counts that change with the clock alone: of the open, registered, not
  deferred cases, those not yet due by the cutoff (the period's end, or now for
  the running period) and those unresolved past their deadline. No rollup can
  hold these (no event marks a deadline passing), so both sources read them
  live from the open cases (`open_aggregates`, the partial open-cases index).

Figures then derive the rates: 应结案数 (due) = registered − deferred − not yet due.
"""

from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import CLOCKED_STATUSES, OPEN_STATUSES, RESOLVED_STATUSES, Case, Status
from cases.selectors import judged_overdue_q
from grid.models import PATH_FIELDS, AreaKind

from .definitions import closure_excludes_deferred
from .models import HANDLING_BOUNDS, MEASURE_NAMES, WITHIN, CaseRollup, Grain

TZ = ZoneInfo(settings.TIME_ZONE)
INVALID_STATUSES = (Status.REJECTED, Status.DUPLICATE)
ALL_MEASURES = MEASURE_NAMES + WITHIN

_VALID = ~Q(status__in=INVALID_STATUSES)
_CLOSED = Q(status=Status.CLOSED)
# 立案: accepted as a matter. Unregistered reports count nowhere but "reported".
_REGISTERED = _VALID & Q(registered_at__isnull=False)
# 缓办/挂账: carried over and on a paused clock.
_DEFERRED = _REGISTERED & Q(status__in=CLOCKED_STATUSES, carried_over_at__isnull=False)
_LATE = Q(status__in=RESOLVED_STATUSES, resolved_at__gt=F("deadline_at"))
CONDITIONS = {
    "valid": _VALID,
    "registered": _REGISTERED,
    "deferred": _DEFERRED,
    "open": Q(status__in=OPEN_STATUSES),
    "closed": _CLOSED,
    "on_time": _CLOSED & Q(resolved_at__lte=F("deadline_at")),
    "late": _REGISTERED & _LATE,
    "reworked": _REGISTERED & Q(rework_count__gt=0),
    "handled": _REGISTERED & (Q(status__in=RESOLVED_STATUSES) | Q(rework_count__gt=0)),
    "extended": _REGISTERED & ~_DEFERRED & Q(extension_count__gt=0),
    "first_time": _CLOSED & Q(rework_count=0),
    "supervised": Q(supervised_at__isnull=False),
    "escalated": Q(escalation_count__gt=0),
    "solved_grid": _CLOSED & Q(responsible_level=AreaKind.GRID),
    "solved_community": _CLOSED & Q(responsible_level=AreaKind.COMMUNITY),
    "solved_above": _CLOSED & Q(responsible_level__in=[AreaKind.STREET, AreaKind.DISTRICT]),
    **{
        name: _CLOSED & Q(handling_minutes__lte=hours * 60)
        for name, hours in zip(WITHIN, HANDLING_BOUNDS)
    },
}
# Measures summed rather than counted.
SUMS = {
    "rated": Coalesce(Sum("rating_count"), 0),
    "satisfied": Coalesce(Sum("satisfied_count"), 0),
    "working_minutes": Coalesce(Sum("handling_minutes", filter=_CLOSED), 0),
}
# The measures that move with the clock (read live by both sources; see the module docstring).
OPEN_MEASURES = ("not_due", "not_due_extended", "not_due_late", "overdue_open")


def open_conditions(cutoff):
    """{measure: Q} of the open, registered, not deferred cases, as of `cutoff`."""
    base = _REGISTERED & Q(status__in=OPEN_STATUSES) & ~_DEFERRED
    not_due = base & (Q(deadline_at__isnull=True) | Q(deadline_at__gte=cutoff))
    return {
        "not_due": not_due,
        "not_due_extended": not_due & Q(extension_count__gt=0),
        "not_due_late": not_due & _LATE,
        "overdue_open": base & Q(resolved_at__isnull=True, deadline_at__lt=cutoff),
    }


def open_aggregates(cutoff):
    return {name: Count("pk", filter=q) for name, q in open_conditions(cutoff).items()}


def open_cases(cases):
    """The only rows the clock-driven measures need (the partial open-cases index)."""
    return cases.filter(status__in=OPEN_STATUSES, registered_at__isnull=False)


def overdue_q(now):
    """On the clock, not paused, and past the judged deadline: the case board's "past the judged
    deadline" filter, so a figure's drill-down lists the cases it counted."""
    return judged_overdue_q(now)


def case_aggregates(cutoff=None):
    """{measure: aggregate} over cases; the one definition both sources share.

    Without `cutoff` only the measures a rollup can hold; with it, the clock-driven ones too.
    """
    aggregates = {"reported": Count("pk"), **SUMS}
    aggregates.update({name: Count("pk", filter=q) for name, q in CONDITIONS.items()})
    if cutoff is not None:
        aggregates.update(open_aggregates(cutoff))
    return aggregates


def rollup_aggregates():
    return {name: Coalesce(Sum(name), 0) for name in ALL_MEASURES}


def cutoff_for(period, now):
    """Due "by the period's end": the end of a past period, now for the running one."""
    return min(period.end, now or timezone.now())


def local_day(moment):
    return moment.astimezone(TZ).date()


def day_start(day):
    return datetime.combine(day, time.min, tzinfo=TZ)


# --- periods -------------------------------------------------------------------------

PERIOD_KINDS = {
    "today": gettext_lazy("Today"),
    "week": gettext_lazy("This week"),
    "month": gettext_lazy("This month"),
    "quarter": gettext_lazy("This quarter"),
    "year": gettext_lazy("This year"),
    "custom": gettext_lazy("Custom"),
}
MAX_CUSTOM_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    """Whole local days, `first` to `last` inclusive."""

    kind: str
    first: date
    last: date

    @property
    def start(self):
        return day_start(self.first)

    @property
    def end(self):
        return day_start(self.last + timedelta(days=1))

    @property
    def days(self):
        return (self.last - self.first).days + 1

    @property
    def label(self):
        return PERIOD_KINDS[self.kind]

    def previous(self):
        """The period just before, of the same kind (last month for a month...)."""
        if self.kind == "month":
            last = self.first - timedelta(days=1)
            return Period(self.kind, last.replace(day=1), last)
        if self.kind == "quarter":
            last = self.first - timedelta(days=1)
            return Period(self.kind, date(last.year, last.month - 2, 1), last)
        if self.kind == "year":
            return Period(self.kind, date(self.first.year - 1, 1, 1), date(self.first.year - 1, 12, 31))
        return Period(self.kind, self.first - timedelta(days=self.days), self.first - timedelta(days=1))


class PeriodError(ValueError):
    pass


EARLIEST_DAY = date(2000, 1, 1)


def period_for(kind, today, *, first=None, last=None):
    """The period of `kind` containing `today`; "custom" takes `first` and `last` (dates).

    Raises PeriodError with a message for the user on a bad custom range.
    """
    if kind == "today":
        return Period(kind, today, today)
    if kind == "week":
        monday = today - timedelta(days=today.weekday())
        return Period(kind, monday, monday + timedelta(days=6))
    if kind == "month":
        following = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
        return Period(kind, today.replace(day=1), following - timedelta(days=1))
    if kind == "quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        start = date(today.year, first_month, 1)
        after = date(today.year + (first_month + 3 > 12), (first_month + 2) % 12 + 1, 1)
        return Period(kind, start, after - timedelta(days=1))
    if kind == "year":
        return Period(kind, date(today.year, 1, 1), date(today.year, 12, 31))
    if kind == "custom":
        if first is None or last is None:
            raise PeriodError(_("Give both the first and the last day."))
        if last < first:
            raise PeriodError(_("The last day is before the first day."))
        if (last - first).days + 1 > MAX_CUSTOM_DAYS:
            raise PeriodError(_("A custom period covers at most %(days)d days.") % {"days": MAX_CUSTOM_DAYS})
        latest = today + timedelta(days=366) if today else date(2199, 12, 31)
        if first < EARLIEST_DAY or last > latest:
            # Year 1 or 9999 would overflow the day arithmetic and the database's timestamps.
            raise PeriodError(_("Choose days from %(earliest)s to %(latest)s.")
                              % {"earliest": EARLIEST_DAY.isoformat(), "latest": latest.isoformat()})
        return Period(kind, first, last)
    raise PeriodError(_("Unknown period."))


# --- places --------------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """A dashboard's place: an area with its stored path, or the whole city (area None)."""

    area: object = None
    path: tuple = ()  # ((field, id), ...) from the district down to the area itself

    @classmethod
    def of(cls, area):
        if area is None:
            return cls()
        ancestors = area.get_ancestors(include_self=True).values_list("kind", "id")
        return cls(area, tuple((kind, pk) for kind, pk in ancestors))

    @property
    def kind(self):
        return self.area.kind if self.area else None

    @property
    def child_field(self):
        """The path column naming this place's children (district for the city)."""
        if self.area is None:
            return "district"
        index = PATH_FIELDS.index(self.kind)
        return PATH_FIELDS[index + 1] if index + 1 < len(PATH_FIELDS) else None

    def path_q(self, prefix=""):
        """Rows of a PlacePath model (at `prefix`) under this place: the whole stored
        prefix, so each level's query leads with the district like the indexes."""
        return Q(**{f"{prefix}{field}_id": pk for field, pk in self.path})

    def case_q(self):
        return self.path_q()

    def rollup_q(self):
        return Q(**{f"{field}_id": pk for field, pk in self.path if field != AreaKind.GRID})

    @property
    def has_rollups(self):
        return self.kind != AreaKind.GRID

    @property
    def rollup_grain(self):
        """Street rows for the city and districts (a hundred streets, not thousands of communities)."""
        return Grain.STREET if self.kind in (None, AreaKind.DISTRICT) else Grain.COMMUNITY

    @property
    def has_facet_rollups(self):
        return self.kind in (None, AreaKind.DISTRICT)


# --- the two sources -----------------------------------------------------------------

class LiveSource:
    """Figures read from the case table."""

    name = "live"

    def __init__(self, cases, place, period, now=None):
        self.cases = cases.filter(place.case_q(), created_at__gte=period.start, created_at__lt=period.end)
        self.cutoff = cutoff_for(period, now)

    def _aggregates(self):
        return case_aggregates(self.cutoff)

    def totals(self):
        return self.cases.aggregate(**self._aggregates())

    def facets(self):
        """Rows by (top category, 三事分流 class, channel)."""
        rows = self.cases.values("channel", top_category=Coalesce("category__parent_id", "category_id"),
                                 triage=F("category__triage"))
        return list(rows.annotate(**self._aggregates()).order_by())

    def handlers(self):
        """Rows by who resolved the cases (None: not resolved)."""
        return list(self.cases.values(handler=F("resolved_by_id")).annotate(**self._aggregates()).order_by())

    def by(self, field):
        return list(self.cases.values(field).annotate(**self._aggregates()).order_by())

    def by_day(self):
        rows = self.cases.annotate(day=TruncDate("created_at", tzinfo=TZ)).values("day")
        return list(rows.annotate(**self._aggregates()).order_by("day"))


def _merged(rows, extra, keys):
    """`rows` with the clock-driven measures of `extra` (same grouping `keys`) added; groups only in
    `extra` (no rollup row yet) come in as rows of their own."""
    by_key = {}
    for row in rows:
        row.update(dict.fromkeys(OPEN_MEASURES, 0))
        by_key[tuple(row[k] for k in keys)] = row
    for row in extra:
        key = tuple(row[k] for k in keys)
        target = by_key.get(key)
        if target is None:
            target = by_key[key] = {k: row[k] for k in keys}
            rows.append(target)
        for name in OPEN_MEASURES:
            target[name] = row[name]
    return rows


class RollupSource:
    """Figures summed from the rollup table (not for grids), with the clock-driven measures read live."""

    name = "rollup"

    def __init__(self, place, period, now=None, cases=None):
        self.place, self.period = place, period
        self.cutoff = cutoff_for(period, now)
        self.rows = CaseRollup.objects.filter(place.rollup_q(), grain=place.rollup_grain,
                                              day__gte=period.first, day__lte=period.last)
        # Like the rollups themselves, every case of the place, whoever asks.
        base = Case.objects.all() if cases is None else cases
        self.open = open_cases(base).filter(place.case_q(), created_at__gte=period.start,
                                            created_at__lt=period.end)

    @cached_property
    def _open_rows(self):
        """The clock-driven measures of the period's open cases, grouped finely enough for every
        breakdown the page asks for: one query (on the open-cases index) instead of one per breakdown."""
        rows = self.open.values("channel", "district", "street", "community", "grid",
                                day=TruncDate("created_at", tzinfo=TZ),
                                top_category=Coalesce("category__parent_id", "category_id"),
                                triage=F("category__triage"), handler=F("resolved_by_id"))
        return list(rows.annotate(**open_aggregates(self.cutoff)).order_by())

    def _open(self, *keys):
        folded = {}
        for row in self._open_rows:
            key = tuple(row[k] for k in keys)
            target = folded.get(key)
            if target is None:  # built once per group, not once per row
                target = folded[key] = {**dict(zip(keys, key)), **dict.fromkeys(OPEN_MEASURES, 0)}
            for name in OPEN_MEASURES:
                target[name] += row[name]
        return list(folded.values())

    def totals(self):
        """The period's sums, folded from its days (the trend reads the same rows: one query for both)."""
        totals = dict.fromkeys(ALL_MEASURES + OPEN_MEASURES, 0)
        for row in self._days:
            for name in totals:
                totals[name] += row.get(name, 0)
        return totals

    def facets(self):
        rows = CaseRollup.objects.filter(self.place.rollup_q(), grain=Grain.FACET,
                                         day__gte=self.period.first, day__lte=self.period.last)
        rows = rows.values("triage", "channel", top_category=F("category_id"))
        extra = self._open("channel", "top_category", "triage")
        return _merged(list(rows.annotate(**rollup_aggregates()).order_by()), extra,
                       ("triage", "channel", "top_category"))

    def handlers(self):
        rows = CaseRollup.objects.filter(self.place.rollup_q(), grain=Grain.HANDLER,
                                         day__gte=self.period.first, day__lte=self.period.last)
        rows = list(rows.values("handler").annotate(**rollup_aggregates()).order_by())
        return _merged(rows, self._open("handler"), ("handler",))

    def by(self, field):
        rows = list(self.rows.values(field).annotate(**rollup_aggregates()).order_by())
        return _merged(rows, self._open(field), (field,))

    @cached_property
    def _days(self):
        rows = list(self.rows.values("day").annotate(**rollup_aggregates()).order_by("day"))
        return sorted(_merged(rows, self._open("day"), ("day",)), key=lambda r: r["day"])

    def by_day(self):
        return [dict(row) for row in self._days]


# --- figures -------------------------------------------------------------------------

def _share(part, whole):
    return part / whole if whole else None


@dataclass
class Figures:
    """Measures of one cohort and the figures derived from them (dashboards/definitions.py)."""

    m: dict

    def __getitem__(self, name):
        return self.m.get(name) or 0

    # --- the denominators -------------------------------------------------------

    @property
    def due(self):
        """应结案数: registered, less deferred (缓办), less those not yet due by the cutoff."""
        return self["registered"] - self["deferred"] - self["not_due"]

    @property
    def due_for_closure(self):
        """结案率's denominator: 应结案数, with 缓办 too unless FIGURES_CLOSURE_EXCLUDES_DEFERRED is off."""
        return self.due if closure_excludes_deferred() else self.due + self["deferred"]

    @property
    def overdue(self):
        """超期案件数: due cases resolved late, or unresolved past their judged deadline."""
        return self["late"] - self["not_due_late"] + self["overdue_open"]

    # --- the rates ----------------------------------------------------------------

    @property
    def closure_rate(self):
        return _share(self["closed"], self.due_for_closure)

    @property
    def on_time_rate(self):
        return _share(self["on_time"], self.due)

    @property
    def overdue_rate(self):
        return _share(self.overdue, self.due)

    @property
    def extension_rate(self):
        return _share(self["extended"] - self["not_due_extended"], self.due)

    @property
    def rework_rate(self):
        return _share(self["reworked"], self["handled"])

    @property
    def first_time_rate(self):
        return _share(self["first_time"], self["closed"])

    @property
    def satisfaction_rate(self):
        """满意率: 满意 + 基本满意 over every rating given."""
        return _share(self["satisfied"], self["rated"])

    # Kept for callers of the old name; it is the 满意率 (a share), no longer a 1–5 mean.
    satisfaction = satisfaction_rate

    @property
    def solved_shares(self):
        closed = self["closed"]
        return {key: _share(self[f"solved_{key}"], closed) for key in ("grid", "community", "above")}

    # --- handling time (working hours) -------------------------------------------------

    @property
    def mean_hours(self):
        closed = self["closed"]
        return self["working_minutes"] / 60 / closed if closed else None

    def handling_percentile(self, fraction):
        """Working hours within which `fraction` of the closed cases closed (a histogram bound),
        or None: no closed case, or beyond the last bound."""
        closed = self["closed"]
        if not closed:
            return None
        for hours, name in zip(HANDLING_BOUNDS, WITHIN):
            if self[name] >= fraction * closed:
                return hours
        return None

    @property
    def median_hours(self):
        return self.handling_percentile(0.5)

    @property
    def p90_hours(self):
        return self.handling_percentile(0.9)

    def as_row(self):
        """The figures a table row and an export show, in order."""
        return {
            "reported": self["reported"], "registered": self["registered"], "due": self.due, "open": self["open"],
            "closed": self["closed"], "closure_rate": self.closure_rate, "on_time_rate": self.on_time_rate,
            "overdue_rate": self.overdue_rate, "rework_rate": self.rework_rate,
            "extension_rate": self.extension_rate, "satisfaction_rate": self.satisfaction_rate,
        }


def overdue_count(cases, place, period, now):
    """Cohort cases overdue now: on the clock, not paused (挂账), past the judged deadline."""
    return overdue_counts(cases, place, [period], now)[0]


def overdue_counts(cases, place, periods, now):
    """`overdue_count` of each of `periods` (cohorts by report time), in one statement."""
    counts = cases.filter(
        overdue_q(now), place.case_q(), created_at__gte=min(p.start for p in periods),
        created_at__lt=max(p.end for p in periods),
    ).aggregate(**{f"p{i}": Count("pk", filter=Q(created_at__gte=p.start, created_at__lt=p.end))
                   for i, p in enumerate(periods)})
    return [counts[f"p{i}"] for i in range(len(periods))]


@dataclass
class Table:
    name: str  # the export's slug
    title: str
    columns: list
    rows: list = field(default_factory=list)  # [cells]
    links: list = field(default_factory=list)  # a URL (or None) per row, for the first cell
    note: str = ""
    collapsed: bool = False  # long tables (the trend) start folded on the page

    @property
    def linked_rows(self):
        """Each row with its link (or None) as a last item."""
        links = self.links or [None] * len(self.rows)
        return [[*row, link] for row, link in zip(self.rows, links)]

    def body_html(self):
        """The table's rows as escaped HTML, each cell carrying its column's label for phones.

        Built in one pass here rather than by a template loop per cell (a district's page has a
        few thousand cells: the loop was a tenth of an uncached page's time, issue #24). Cells
        are localised and escaped as the template language would (`{{ cell }}`)."""
        labels = [conditional_escape(column) for column in self.columns]
        links = self.links or [None] * len(self.rows)
        rows = []
        for row, link in zip(self.rows, links):
            cells = [f'<td data-label="{label}">{conditional_escape(localize(cell))}</td>'
                     for label, cell in zip(labels, row)]
            if link and cells:
                cells[0] = f'<td data-label="{labels[0]}"><a href="{conditional_escape(link)}">' \
                           f'{conditional_escape(localize(row[0]))}</a></td>'
            rows.append(f"<tr>{''.join(cells)}</tr>")
        return mark_safe("".join(rows))  # noqa: S308 — every part escaped above
