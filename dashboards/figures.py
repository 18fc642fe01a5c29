"""Figures for the officials' dashboards (数据驾驶舱): one place, one period.

Every figure is about a cohort: the cases reported at the place in the period
(Asia/Shanghai days), counted as they stand now. The four evaluation rates are
shares of the cohort's *valid* cases (有效案件: everything but rejected reports
and duplicates):

- closure rate (结案率): closed / valid;
- on-time closure rate (按期结案率): closed, resolved by the handling deadline
  (approved extensions included) / valid;
- rework rate (返工率): reworked at least once (failed verification or
  reopened) / valid;
- extension rate (延期率): extended at least once / valid.

Handling time runs from the report to the close; its median and 90th percentile
are read from a histogram (closed within 2 h, 8 h, 1, 2, 3, 5, 7, 15 days), so the
rollups give exactly what the live query gives.

The same measures are read two ways: `LiveSource` from the case table through
the stored ancestor ids (the (place, created_at) indexes), `RollupSource` from
dashboards.models.CaseRollup. Both answer {measure: number} dictionaries.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import CLOCKED_STATUSES, OPEN_STATUSES, Status
from grid.models import PATH_FIELDS, AreaKind

from .models import HANDLING_BOUNDS, MEASURE_NAMES, WITHIN, CaseRollup, Grain

TZ = ZoneInfo(settings.TIME_ZONE)
INVALID_STATUSES = (Status.REJECTED, Status.DUPLICATE)
ALL_MEASURES = MEASURE_NAMES + WITHIN

_VALID = ~Q(status__in=INVALID_STATUSES)
_CLOSED = Q(status=Status.CLOSED)
CONDITIONS = {
    "valid": _VALID,
    "open": Q(status__in=OPEN_STATUSES),
    "closed": _CLOSED,
    "on_time": _CLOSED & (Q(handle_due_at__isnull=True) | Q(resolved_at__lte=F("handle_due_at"))),
    "reworked": _VALID & Q(rework_count__gt=0),
    "extended": _VALID & Q(extension_count__gt=0),
    "supervised": Q(supervised_at__isnull=False),
    "escalated": Q(escalation_count__gt=0),
    "rated": Q(rating__isnull=False),
    "solved_grid": _CLOSED & Q(responsible_level=AreaKind.GRID),
    "solved_community": _CLOSED & Q(responsible_level=AreaKind.COMMUNITY),
    "solved_above": _CLOSED & Q(responsible_level__in=[AreaKind.STREET, AreaKind.DISTRICT]),
    **{
        name: _CLOSED & Q(closed_at__lte=F("created_at") + timedelta(hours=hours))
        for name, hours in zip(WITHIN, HANDLING_BOUNDS)
    },
}


def case_aggregates():
    """{measure: aggregate} over cases; the one definition both sources share."""
    aggregates = {"reported": Count("pk"), "rating_sum": Coalesce(Sum("rating"), 0)}
    aggregates.update({name: Count("pk", filter=q) for name, q in CONDITIONS.items()})
    return aggregates


def rollup_aggregates():
    return {name: Coalesce(Sum(name), 0) for name in ALL_MEASURES}


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

    def __init__(self, cases, place, period):
        self.cases = cases.filter(place.case_q(), created_at__gte=period.start, created_at__lt=period.end)

    def totals(self):
        return self.cases.aggregate(**case_aggregates())

    def facets(self):
        """Rows by (top category, 三事分流 class, channel)."""
        rows = self.cases.values("channel", top_category=Coalesce("category__parent_id", "category_id"),
                                 triage=F("category__triage"))
        return list(rows.annotate(**case_aggregates()).order_by())

    def handlers(self):
        """Rows by who resolved the cases (None: not resolved)."""
        return list(self.cases.values(handler=F("resolved_by_id")).annotate(**case_aggregates()).order_by())

    def by(self, field):
        return list(self.cases.values(field).annotate(**case_aggregates()).order_by())

    def by_day(self):
        rows = self.cases.annotate(day=TruncDate("created_at", tzinfo=TZ)).values("day")
        return list(rows.annotate(**case_aggregates()).order_by("day"))


class RollupSource:
    """Figures summed from the rollup table (not for grids)."""

    name = "rollup"

    def __init__(self, place, period):
        self.place, self.period = place, period
        self.rows = CaseRollup.objects.filter(place.rollup_q(), grain=place.rollup_grain,
                                              day__gte=period.first, day__lte=period.last)

    def totals(self):
        return self.rows.aggregate(**rollup_aggregates())

    def facets(self):
        rows = CaseRollup.objects.filter(self.place.rollup_q(), grain=Grain.FACET,
                                         day__gte=self.period.first, day__lte=self.period.last)
        rows = rows.values("triage", "channel", top_category=F("category_id"))
        return list(rows.annotate(**rollup_aggregates()).order_by())

    def handlers(self):
        rows = CaseRollup.objects.filter(self.place.rollup_q(), grain=Grain.HANDLER,
                                         day__gte=self.period.first, day__lte=self.period.last)
        return list(rows.values("handler").annotate(**rollup_aggregates()).order_by())

    def by(self, field):
        return list(self.rows.values(field).annotate(**rollup_aggregates()).order_by())

    def by_day(self):
        return list(self.rows.values("day").annotate(**rollup_aggregates()).order_by("day"))


# --- figures -------------------------------------------------------------------------

def _share(part, whole):
    return part / whole if whole else None


@dataclass
class Figures:
    """Measures of one cohort and the rates derived from them."""

    m: dict

    def __getitem__(self, name):
        return self.m.get(name) or 0

    @property
    def closure_rate(self):
        return _share(self["closed"], self["valid"])

    @property
    def on_time_rate(self):
        return _share(self["on_time"], self["valid"])

    @property
    def rework_rate(self):
        return _share(self["reworked"], self["valid"])

    @property
    def extension_rate(self):
        return _share(self["extended"], self["valid"])

    @property
    def satisfaction(self):
        return self["rating_sum"] / self["rated"] if self["rated"] else None

    @property
    def solved_shares(self):
        closed = self["closed"]
        return {key: _share(self[f"solved_{key}"], closed) for key in ("grid", "community", "above")}

    def handling_percentile(self, fraction):
        """Hours within which `fraction` of the closed cases closed (a histogram bound),
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
            "reported": self["reported"], "valid": self["valid"], "open": self["open"],
            "closed": self["closed"], "closure_rate": self.closure_rate, "on_time_rate": self.on_time_rate,
            "rework_rate": self.rework_rate, "extension_rate": self.extension_rate,
            "satisfaction": self.satisfaction,
        }


def overdue_count(cases, place, period, now):
    """Cohort cases on the clock and past due now (the open-cases index)."""
    return cases.filter(
        place.case_q(), status__in=CLOCKED_STATUSES, due_at__lt=now,
        created_at__gte=period.start, created_at__lt=period.end,
    ).count()


@dataclass
class Table:
    name: str  # the export's slug
    title: str
    columns: list
    rows: list = field(default_factory=list)  # [cells]
    links: list = field(default_factory=list)  # a URL (or None) per row, for the first cell
    note: str = ""
    collapsed: bool = False  # long tables (the trend) start folded on the page

    def labelled_rows(self):
        """[([(column, cell), ...], link)] for the template (cells carry their labels on phones)."""
        links = self.links or [None] * len(self.rows)
        return [(list(zip(self.columns, row)), link) for row, link in zip(self.rows, links)]
