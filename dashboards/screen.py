"""The command screen (指挥大屏) of a street or district command centre, as plain data.

What the wall shows, refreshed every 30 s by the page from `CommandScreen.data()`:

- counters: reported today, open now, overdue now, open and supervised now; the whistles
  (吹哨报到) on open matters and the summoned organisations not yet reported in;
- the headline rates of this month beside last month, computed by
  dashboards.figures.Figures (the screen defines no rate of its own: it names
  the Figures properties in `RATES`, so it follows the definitions the
  dashboards use);
- the daily trend of the last 30 days, ending today (never a future day);
- the ranking of the child places (dashboards.page: the same minimum-volume rule
  and order as the dashboard);
- the newest matters, with nothing personal: time, category, community and
  grid names, channel and status; never the reporter, a phone, the description
  (free text may name people) or an address below the grid;
- the load of every grid (open and overdue matters), for the map; the grid
  outlines only when asked (`shapes`), since they do not change between refreshes.

Everything goes through the scoping functions: the place is one the user
manages (the view checks it), cases come from `cases_visible_to(user, managing=True)`,
grids from `areas_visible_to(user, managing=True)`.
"""

from datetime import timedelta
from functools import cached_property

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import OPEN_STATUSES, Channel, Status
from cases.models_whistle import Summons, SummonsStatus
from cases.selectors import cases_visible_to
from grid.models import AreaKind
from grid.selectors import areas_visible_to

from .figures import (ALL_MEASURES, EARLIEST_DAY, OPEN_MEASURES, TZ, Figures, Period, RollupSource, _merged, local_day,
                      open_aggregates, overdue_q, period_for, rollup_aggregates)
from .page import MAP_MAX_GRIDS, Dashboard, percent, score
from .rollups import freshness

# Places that have a command centre: the whole city (administrators), a district, a street.
SCREEN_KINDS = (None, AreaKind.DISTRICT, AreaKind.STREET)
TREND_DAYS = 30
NEWEST = 15
RANKED = 10
REFRESH_SECONDS = 30

# The four headline rates (结案率, 按期结案率, 满意率, 超期率), by their Figures property
# (dashboards/figures.py defines them all), and how they read. Each slot takes the first
# property Figures has: the share-of-ratings 满意率 and the 超期率 where the standard
# definitions provide them, else the dashboard's 1–5 satisfaction and rework rate.
_SLOTS = (
    (("closure_rate", gettext_lazy("Closure rate"), percent),),
    (("on_time_rate", gettext_lazy("On-time closure rate"), percent),),
    (("satisfaction_rate", gettext_lazy("Satisfaction rate"), percent),
     ("satisfaction", gettext_lazy("Satisfaction (1–5)"), score)),
    (("overdue_rate", gettext_lazy("Overdue rate"), percent),
     ("rework_rate", gettext_lazy("Rework rate"), percent)),
)
RATES = tuple(next(c for c in slot if isinstance(getattr(Figures, c[0], None), property)) for slot in _SLOTS)
# Rates where less is better (the arrow's colour on the wall).
LOWER_IS_BETTER = ("rework_rate", "extension_rate", "overdue_rate")


def has_screen(place):
    return place.kind in SCREEN_KINDS


class _WallSource(RollupSource):
    """The rollup source of one of the wall's periods, cut from reads the wall shares between its
    periods, so that the wall reads the rollups once and the open cases twice in all:

    - the rollups' rows by report day and child place (`rollups`), read once from last month's
      first day to today: a period's totals, days and children are sums of its rows (every rollup
      measure is a sum);
    - the clock-driven measures of the open cases, by report day and child place, read once for
      every period judged as of now (`running`: the trend, this month, the ranking's month); a
      period judged at another cutoff (last month) reads its own, as a RollupSource does.

    The same figures as RollupSource(place, period, now) gives for totals(), by_day() and
    by(child field), which is all the wall asks; other breakdowns go to a plain RollupSource.
    """

    def __init__(self, place, period, now, *, rollups, running=None):
        super().__init__(place, period, now)
        self.child = place.child_field
        self._rollups = [r for r in rollups if period.first <= r["day"] <= period.last]
        shares = (running is not None and running.cutoff == self.cutoff
                  and running.period.first <= period.first and period.last <= running.period.last)
        self._running = running if shares else None

    @cached_property
    def _open_rows(self):
        if self._running is not None:
            first, last = self.period.first, self.period.last
            return [row for row in self._running._open_rows if first <= row["day"] <= last]
        rows = self.open.values(self.child, day=TruncDate("created_at", tzinfo=TZ))
        return list(rows.annotate(**open_aggregates(self.cutoff)).order_by())

    def _folded(self, *keys):
        groups = {}
        for row in self._rollups:
            groups.setdefault(tuple(row[k] for k in keys), []).append(row)
        return [{**dict(zip(keys, key)), **{name: sum(row[name] for row in rows) for name in ALL_MEASURES}}
                for key, rows in groups.items()]

    def totals(self):
        totals = self._folded()[0] if self._rollups else dict.fromkeys(ALL_MEASURES, 0)
        totals.update(self._open()[0] if self._open_rows else dict.fromkeys(OPEN_MEASURES, 0))
        return totals

    def by_day(self):
        return sorted(_merged(self._folded("day"), self._open("day"), ("day",)), key=lambda r: r["day"])

    def by(self, field):
        if field != self.child:
            return RollupSource(self.place, self.period, self.now).by(field)
        return _merged(self._folded(field), self._open(field), (field,))


class CommandScreen:
    """The figures of one place for the wall, as of `now`, for `user`."""

    def __init__(self, user, place, now):
        self.user, self.place, self.now = user, place, now
        self.today = local_day(now)
        # Every read of the wall narrows these to the place's path first, so the few cases beyond
        # the user's places can ride in the same statements rather than be read beforehand.
        self.cases = cases_visible_to(user, managing=True, one_statement=True)
        # This month beside last month, as the dashboard compares them (Period.previous).
        self.month = period_for("month", self.today)
        self.ever = Period("custom", EARLIEST_DAY, self.today)
        self.trend_period = Period("custom", self.today - timedelta(days=TREND_DAYS - 1), self.today)
        # The running periods (the trend, this month, the ranking's month) all judge the open cases
        # as of now: one read over all their days serves the three (_WallSource).
        self._running = _WallSource(
            place, Period("custom", min(self.trend_period.first, self.month.first), self.month.last), now,
            rollups=[])

    @cached_property
    def _rollups(self):
        """The rollups by report day and child place from last month's first day to this month's
        last: one grouped read for last month, this month, the trend and the ranking."""
        days = Period("custom", min(self.month.previous().first, self.trend_period.first), self.month.last)
        rows = RollupSource(self.place, days, self.now).rows.values("day", self.place.child_field)
        return list(rows.annotate(**rollup_aggregates()).order_by())

    def _source(self, period):
        return _WallSource(self.place, period, self.now, rollups=self._rollups, running=self._running)

    def _totals(self, period):
        return Figures(self._source(period).totals())

    @cached_property
    def _open_by_grid(self):
        """Per grid, the place's open cases now: open, overdue (the map's load), supervised, and overdue
        of the whole cohort (the counter, as dashboards.figures.overdue_count counts it: CLOCKED_STATUSES
        lie within OPEN_STATUSES); one pass over the open-cases partial index for the counters and the map."""
        overdue = overdue_q(self.now)
        return list(
            self.cases.filter(self.place.case_q(), status__in=OPEN_STATUSES).values("grid_id").annotate(
                open=Count("pk"), overdue=Count("pk", filter=overdue),
                supervised=Count("pk", filter=Q(supervised_at__isnull=False)),
                overdue_cohort=Count("pk", filter=overdue & Q(created_at__gte=self.ever.start,
                                                              created_at__lt=self.ever.end)),
            ).order_by()
        )

    # --- the parts ------------------------------------------------------------------

    def counters(self):
        # Today's reports are the trend's last day (rollups); what is open now is read live from
        # the open-cases partial index, in the same pass as the map's load.
        rows = self._open_by_grid
        return [
            {"key": "reported_today", "label": _("Reported today"), "value": self._days()[-1][1]["reported"]},
            {"key": "open", "label": _("Open now"), "value": sum(r["open"] for r in rows)},
            {"key": "overdue", "label": _("Overdue now"), "value": sum(r["overdue_cohort"] for r in rows)},
            {"key": "supervised", "label": _("Supervised (督办), open"), "value": sum(r["supervised"] for r in rows)},
            *self._whistle_counters(),
        ]

    def _whistle_counters(self):
        # Whistles blown on the place's open matters, and the organisations summoned by them that
        # have not reported in yet (the street's 吹哨报到 at a glance; one query over the summonses).
        open_cases = self.cases.filter(self.place.case_q(), status__in=OPEN_STATUSES).values("pk")
        found = Summons.objects.filter(whistle__case__in=open_cases).aggregate(
            whistles=Count("whistle", distinct=True),
            waiting=Count("pk", filter=Q(status=SummonsStatus.SUMMONED)))
        return [
            {"key": "whistles_open", "label": _("Whistles open (吹哨)"), "value": found["whistles"]},
            {"key": "awaiting_report_in", "label": _("Organisations yet to report in (报到)"),
             "value": found["waiting"]},
        ]

    def rates(self):
        now_f = self._totals(self.month)
        before = self._totals(self.month.previous())
        rows = []
        for name, label, show in RATES:
            value, previous = getattr(now_f, name), getattr(before, name)
            rows.append({
                "key": name, "label": str(label), "text": show(value) or "—", "before": show(previous) or "—",
                "change": None if value is None or previous is None else round(value - previous, 4),
                "lower_is_better": name in LOWER_IS_BETTER,
            })
        return rows

    def _days(self):
        """[(day, Figures)] of the last TREND_DAYS days from the rollups, ending today; read once."""
        if not hasattr(self, "_trend_days"):
            period = self.trend_period
            first = period.first
            rows = {r["day"]: Figures(r) for r in self._source(period).by_day()}
            self._trend_days = [(d, rows.get(d, Figures({})))
                                for d in (first + timedelta(days=n) for n in range(TREND_DAYS))]
        return self._trend_days

    def trend(self):
        """Reported and closed per day of the last TREND_DAYS days; the last label is today."""
        days = self._days()
        return {
            "labels": [d.strftime("%m-%d") for d, _f in days],
            "last_day": self.today.isoformat(),
            "reported": [f["reported"] for _d, f in days],
            "closed": [f["closed"] for _d, f in days],
            "names": {"reported": _("Reported"), "closed": _("Closed")},
        }

    def ranking(self):
        board = Dashboard(self.user, self.place, self.month, self.now)
        if board.source.name == "rollup":
            board.source = self._source(self.month)  # the same figures, the open cases already read
        table = next((t for t in board.children_tables() if t.name == "ranking_places"), None)
        if table is None:
            return None
        return {"title": str(table.title), "note": str(table.note), "columns": [str(c) for c in table.columns],
                "rows": table.rows[:RANKED]}

    def newest(self):
        rows = (self.cases.filter(self.place.case_q(), created_at__lte=self.now).order_by("-created_at")
                .values("created_at", "category__name", "community__name", "grid__name", "status",
                        "channel")[:NEWEST])
        statuses, channels = dict(Status.choices), dict(Channel.choices)
        return [{
            "at": _clock(r["created_at"], self.today),
            "category": r["category__name"] or "",
            "place": " ".join(n for n in (r["community__name"], r["grid__name"]) if n),
            "channel": str(channels.get(r["channel"], "")),
            "status": str(statuses.get(r["status"], "")),
            "state": "done" if r["status"] == Status.CLOSED else "open" if r["status"] in OPEN_STATUSES else "other",
        } for r in rows]

    def _grids(self):
        grids = areas_visible_to(self.user, managing=True).filter(kind=AreaKind.GRID, is_active=True)
        if self.place.area is not None:
            a = self.place.area
            grids = grids.filter(tree_id=a.tree_id, lft__gte=a.lft, lft__lte=a.rght)
        return grids

    def too_many_grids(self):
        return self._grids().count() > MAP_MAX_GRIDS

    def load(self):
        """{grid id: [open, overdue]} for the grids with open matters."""
        # Overdue as the dashboard counts it: against the judged deadline, paused cases not overdue.
        return {str(r["grid_id"]): [r["open"], r["overdue"]] for r in self._open_by_grid if r["grid_id"]}

    def shapes(self):
        """The grid outlines as GeoJSON (id and name only), or None above MAP_MAX_GRIDS."""
        if self.too_many_grids():
            return None
        features = [
            {"type": "Feature", "id": pk, "geometry": boundary, "properties": {"name": name}}
            for pk, name, boundary in self._grids().exclude(boundary__isnull=True).values_list("id", "name", "boundary")
        ]
        return {"type": "FeatureCollection", "features": features}

    def data(self, *, shapes=False):
        fresh = freshness()
        result = {
            "today": self.today.isoformat(),
            "fresh_at": fresh.astimezone(TZ).strftime("%H:%M") if fresh else None,
            "counters": self.counters(),
            "rates": self.rates(),
            "rates_period": {"now": _("This month"), "before": _("Last month")},
            "trend": self.trend(),
            "ranking": self.ranking(),
            "newest": self.newest(),
            "load": self.load(),
            "refresh_seconds": REFRESH_SECONDS,
        }
        if shapes:
            result["map"] = {
                "grids": self.shapes(), "tiles": settings.DASHBOARD_TILE_URL,
                "attribution": settings.DASHBOARD_TILE_ATTRIBUTION,
            }
        return result


def _clock(moment, today):
    """HH:MM for today's matters, MM-DD for older ones (local time)."""
    local = moment.astimezone(TZ)
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%m-%d")
