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

from django.conf import settings
from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import OPEN_STATUSES, Channel, Status
from cases.models_whistle import Summons, SummonsStatus
from cases.selectors import cases_visible_to
from grid.models import AreaKind
from grid.selectors import areas_visible_to

from .figures import (EARLIEST_DAY, TZ, Figures, Period, RollupSource, local_day, overdue_count, overdue_q,
                      period_for)
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


class CommandScreen:
    """The figures of one place for the wall, as of `now`, for `user`."""

    def __init__(self, user, place, now):
        self.user, self.place, self.now = user, place, now
        self.today = local_day(now)
        self.cases = cases_visible_to(user, managing=True)
        # This month beside last month, as the dashboard compares them (Period.previous).
        self.month = period_for("month", self.today)
        self.ever = Period("custom", EARLIEST_DAY, self.today)

    def _totals(self, period):
        return Figures(RollupSource(self.place, period).totals())

    # --- the parts ------------------------------------------------------------------

    def counters(self):
        # Today's reports are the trend's last day (rollups); what is open now is read live from
        # the open-cases partial index in one query, like the dashboard's overdue count.
        open_now = self.cases.filter(self.place.case_q(), status__in=OPEN_STATUSES).aggregate(
            open=Count("pk"), supervised=Count("pk", filter=Q(supervised_at__isnull=False)))
        return [
            {"key": "reported_today", "label": _("Reported today"), "value": self._days()[-1][1]["reported"]},
            {"key": "open", "label": _("Open now"), "value": open_now["open"]},
            {"key": "overdue", "label": _("Overdue now"),
             "value": overdue_count(self.cases, self.place, self.ever, self.now)},
            {"key": "supervised", "label": _("Supervised (督办), open"), "value": open_now["supervised"]},
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
            first = self.today - timedelta(days=TREND_DAYS - 1)
            period = Period("custom", first, self.today)
            rows = {r["day"]: Figures(r) for r in RollupSource(self.place, period).by_day()}
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
        rows = self.cases.filter(self.place.case_q(), status__in=OPEN_STATUSES).values("grid_id").annotate(
            # Overdue as the dashboard counts it: against the judged deadline, paused cases not overdue.
            open=Count("pk"), overdue=Count("pk", filter=overdue_q(self.now)),
        ).order_by()
        return {str(r["grid_id"]): [r["open"], r["overdue"]] for r in rows if r["grid_id"]}

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
