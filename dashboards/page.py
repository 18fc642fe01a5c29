"""What one dashboard page shows, as plain data: KPIs, tables, chart and map data.

Every table is a `Table`: the page renders it and the exports write it, so an
export holds exactly what the page shows, in the same scope. Everything is
read through the scoping functions: the place is one the user manages
(`areas_visible_to(user, managing=True)`), cases come from
`cases_visible_to(user, managing=True)`, residents and volunteers from their
apps' selectors.
"""

import json
from urllib.parse import urlencode
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import BooleanField, Count, DecimalField, ExpressionWrapper, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from cases.models import OPEN_STATUSES, Category, Channel, Triage
from cases.selectors import cases_visible_to
from grid.models import AreaKind
from grid.selectors import areas_visible_to
from residents.selectors import residents_visible_to
from volunteers.models import Entry, TransactionKind
from volunteers.selectors import accounts_visible_to, records_visible_to

from . import risk_figures
from .figures import (
    ALL_MEASURES,
    OPEN_MEASURES,
    Figures,
    LiveSource,
    RollupSource,
    Table,
    local_day,
    overdue_counts,
    overdue_q,
)
from .hotline import HotlineRates, hotline_rates, hotline_rates_by
from .rollups import freshness
from .shapes import MAP_MAX_GRIDS, grids_on_map, shapes_text

MAP_MAX_POINTS = 500
# What json_script escapes, so the map's JSON can sit in a <script> element.
_SCRIPT_ESCAPES = ((">", "\\u003E"), ("<", "\\u003C"), ("&", "\\u0026"))


def _script_safe(text):
    for char, escaped in _SCRIPT_ESCAPES:
        text = text.replace(char, escaped)
    return mark_safe(text)  # noqa: S308 — escaped as json_script escapes
# Longer periods chart weekly points.
DAILY_UP_TO_DAYS = 62

FIGURE_COLUMNS = (
    gettext_lazy("Reported"), gettext_lazy("Registered (立案)"), gettext_lazy("Due (应结案)"), gettext_lazy("Open"),
    gettext_lazy("Closed"), gettext_lazy("Closure rate"), gettext_lazy("On-time closure rate"),
    gettext_lazy("Overdue rate"), gettext_lazy("Rework rate"), gettext_lazy("Extension rate"),
    gettext_lazy("Satisfaction rate"),
)


def percent(value):
    return "" if value is None else f"{value * 100:.1f}%"


def score(value):
    return "" if value is None else f"{value:.2f}"


def figure_cells(f):
    return [f["reported"], f["registered"], f.due, f["open"], f["closed"], percent(f.closure_rate),
            percent(f.on_time_rate), percent(f.overdue_rate), percent(f.rework_rate), percent(f.extension_rate),
            percent(f.satisfaction_rate)]


def _add(total, row):
    """Fold a source row into `total`: the rollup measures and the clock-driven ones alike."""
    for name in ALL_MEASURES + OPEN_MEASURES:
        total[name] = total.get(name, 0) + (row.get(name) or 0)


_SENTINEL = 987654321


def dashboard_urls(query):
    """area_id → its dashboard URL with `query`; one reverse() for all (a district map links a thousand grids)."""
    pattern = reverse("cases:dashboard_place", args=[_SENTINEL]).replace(str(_SENTINEL), "{}")
    suffix = f"?{query}" if query else ""
    return lambda area_id: pattern.format(area_id) + suffix


@dataclass
class Dashboard:
    """The figures of one place and period, for one user."""

    user: object
    place: object
    period: object
    now: object
    source_name: str = "rollup"
    query: str = ""  # the period's query string, carried into links

    def __post_init__(self):
        self.cases = cases_visible_to(self.user, managing=True)
        self.live = LiveSource(self.cases, self.place, self.period, self.now)
        use_rollup = self.source_name == "rollup" and self.place.has_rollups
        self.source = RollupSource(self.place, self.period, self.now) if use_rollup else self.live
        self.source_name = self.source.name

    @cached_property
    def url_for(self):
        return dashboard_urls(self.query)

    def _source(self, period):
        if self.source.name == "rollup":
            return RollupSource(self.place, period, self.now)
        return LiveSource(self.cases, self.place, period, self.now)

    # --- KPIs ------------------------------------------------------------------

    @cached_property
    def figures(self):
        return Figures(self.source.totals())

    def kpis(self):
        now_f = self.figures
        previous = self.period.previous()
        before = Figures(self._source(previous).totals())
        overdue, overdue_before = overdue_counts(self.cases, self.place, [self.period, previous], self.now)

        def hours(value):
            return "" if value is None else _("≤ %(hours)d working h") % {"hours": value}

        def mean(value):
            return "" if value is None else _("%(hours).1f working h") % {"hours": value}

        overdue_label, closed_label = _("Overdue"), _("Closed")
        rows = [
            (_("Reported"), now_f["reported"], before["reported"]),
            (_("Registered (立案)"), now_f["registered"], before["registered"]),
            (_("Due (应结案)"), now_f.due, before.due),
            (_("Deferred (缓办)"), now_f["deferred"], before["deferred"]),
            (_("Open"), now_f["open"], before["open"]),
            (overdue_label, overdue, overdue_before),
            (pgettext("dashboard count", "Supervised"), now_f["supervised"], before["supervised"]),
            (_("Escalated"), now_f["escalated"], before["escalated"]),
            (closed_label, now_f["closed"], before["closed"]),
            (_("Closure rate"), percent(now_f.closure_rate), percent(before.closure_rate)),
            (_("On-time closure rate"), percent(now_f.on_time_rate), percent(before.on_time_rate)),
            (_("Overdue rate"), percent(now_f.overdue_rate), percent(before.overdue_rate)),
            (_("Rework rate"), percent(now_f.rework_rate), percent(before.rework_rate)),
            (_("Extension rate"), percent(now_f.extension_rate), percent(before.extension_rate)),
            (_("First-time resolution rate"), percent(now_f.first_time_rate), percent(before.first_time_rate)),
            (_("Satisfaction rate"), percent(now_f.satisfaction_rate), percent(before.satisfaction_rate)),
            (_("Mean handling time"), mean(now_f.mean_hours), mean(before.mean_hours)),
            (_("90th percentile handling time"), hours(now_f.p90_hours), hours(before.p90_hours)),
        ]
        table = Table("kpis", _("Key figures"), [_("Figure"), _("This period"), _("Previous period")],
                      [list(r) for r in rows])
        # The counts an official checks case by case open the board with the same cases: reported in the
        # period, in the place, by the same definition (the judged deadline for 已超期).
        board = self.board_url
        links = {overdue_label: board(overdue="judged"), closed_label: board(status="closed")}
        table.links = [links.get(r[0]) for r in rows]
        return table

    def board_url(self, **filters):
        """The case board of this place, the cases reported in this period, narrowed by `filters`."""
        query = {"reported_from": self.period.first.isoformat(), "reported_to": self.period.last.isoformat(),
                 **({"place": self.place.area.pk} if self.place.area is not None else {}), **filters}
        return f"{reverse('cases:board')}?{urlencode(query)}"

    def levels(self):
        f = self.figures
        shares = f.solved_shares
        rows = [
            [_("In the grid"), f["solved_grid"], percent(shares["grid"])],
            [_("In the community"), f["solved_community"], percent(shares["community"])],
            [_("Above the community"), f["solved_above"], percent(shares["above"])],
        ]
        return Table("levels", _("Where matters were solved"), [_("Level"), _("Closed"), _("Share")], rows,
                     note=_("小事不出网格, 大事不出社区: the level responsible when the case was closed."))

    # --- breakdowns --------------------------------------------------------------

    def _children(self):
        """[(area, Figures)] for the next level down (places the user manages only)."""
        child_field = self.place.child_field
        if child_field is None:
            return []
        source = self.source if child_field != AreaKind.GRID else self.live
        by_id = {row.pop(f"{child_field}"): row for row in source.by(child_field) if row.get(child_field)}
        return [(area, Figures(by_id.get(area.pk, {}))) for area in self.child_areas]

    @cached_property
    def child_areas(self):
        """The active places one level down that the user manages, by code (id, name and code only)."""
        child_field = self.place.child_field
        if child_field is None:
            return []
        areas = areas_visible_to(self.user, managing=True).filter(is_active=True, kind=child_field)
        if self.place.area is not None:
            areas = areas.filter(parent=self.place.area)
        else:
            areas = areas.filter(level=0)
        return list(areas.order_by("code").only("id", "name", "code"))

    def children_tables(self):
        children = self._children()
        if not children:
            return []
        table = Table("children", _("By place"), [_("Place"), *FIGURE_COLUMNS])
        for area, f in children:
            table.rows.append([area.name, *figure_cells(f)])
            table.links.append(self.url_for(area.pk))
        minimum = settings.DASHBOARD_RANKING_MIN_CASES
        ranked = sorted(
            ((a, f) for a, f in children if f.due >= minimum),
            key=lambda af: (-(af[1].on_time_rate or 0), af[1].rework_rate or 0, af[0].code),
        )
        ranking = Table(
            "ranking_places", _("Ranking of places"),
            [_("Rank"), _("Place"), _("Due (应结案)"), _("On-time closure rate"), _("Closure rate"),
             _("Rework rate"), _("Satisfaction rate")],
            note=_("By on-time closure rate; only places with at least %(n)d due cases in the period.")
            % {"n": minimum},
        )
        for rank, (area, f) in enumerate(ranked, start=1):
            ranking.rows.append([rank, area.name, f.due, percent(f.on_time_rate), percent(f.closure_rate),
                                 percent(f.rework_rate), percent(f.satisfaction_rate)])
        return [table, ranking]

    def facet_tables(self):
        """By category (top level), by 三事分流 class and by channel: one grouped query, folded here."""
        top, triage, channel = defaultdict(dict), defaultdict(dict), defaultdict(dict)
        source = self.source if self.place.has_facet_rollups else self.live
        for row in source.facets():
            _add(top[row["top_category"]], row)
            _add(triage[row["triage"]], row)
            _add(channel[row["channel"]], row)
        names = dict(Category.objects.filter(pk__in=list(top)).values_list("pk", "name"))

        def table(name, title, first, groups, label):
            t = Table(name, title, [first, *FIGURE_COLUMNS])
            ordered = sorted(groups.items(), key=lambda kv: (-kv[1]["reported"], str(kv[0])))
            t.rows = [[label(key), *figure_cells(Figures(m))] for key, m in ordered]
            return t

        return [
            table("categories", _("By category"), _("Category"), top, lambda pk: names.get(pk, "")),
            table("triage", _("By 三事分流 class"), _("Class"), triage,
                  lambda k: Triage(k).label if k in Triage.values else k),
            table("channels", _("By channel"), _("Channel"), channel,
                  lambda k: Channel(k).label if k in Channel.values else k),
        ]

    def worker_ranking(self):
        minimum = settings.DASHBOARD_RANKING_MIN_CASES
        source = self.source if self.place.has_facet_rollups else self.live
        rows = [(r["handler"], Figures(r)) for r in source.handlers() if r["handler"] and Figures(r).due >= minimum]
        ranked = sorted(rows, key=lambda hf: (-(hf[1].on_time_rate or 0), hf[1].rework_rate or 0, hf[0]))
        names = {pk: full_name or username for pk, full_name, username in
                 get_user_model().objects.filter(pk__in=[pk for pk, _f in ranked])
                 .values_list("pk", "full_name", "username")}
        table = Table("ranking_workers", _("Ranking of handlers"),
                      [_("Rank"), _("Handler"), _("Due (应结案)"), _("On-time closure rate"), _("Rework rate"),
                       _("Satisfaction rate")],
                      note=_("Who resolved the cases; only handlers with at least %(n)d due cases in the period.")
                      % {"n": minimum})
        for rank, (pk, f) in enumerate(ranked, start=1):
            table.rows.append([rank, names.get(pk, ""), f.due, percent(f.on_time_rate), percent(f.rework_rate),
                               percent(f.satisfaction_rate)])
        return table

    def hotline_table(self):
        """接诉即办 三率 of the 12345 matters, per child place and in all (dashboards/hotline.py)."""
        child = self.place.child_field
        if child:
            # One grouped pass; the place's total is the sum of its groups (cases with no child included).
            by = hotline_rates_by(self.cases, self.place, self.period, by=child, now=self.now)
            total = sum(by.values(), HotlineRates())
        else:
            by, total = {}, hotline_rates(self.cases, self.place, self.period, now=self.now)
        names = dict(areas_visible_to(self.user, managing=True).filter(pk__in=[k for k in by if k])
                     .values_list("pk", "name"))
        table = Table("hotline", _("12345 hotline: 三率"),
                      [_("Place"), _("Work orders"), _("Response rate (响应率)"), _("Solution rate (解决率)"),
                       _("Satisfaction rate (满意率)")],
                      note=_("响应率: signed in by the first acceptance deadline; 解决率 and 满意率: over every "
                             "回访 rating."))

        def row(label, r):
            return [label, r.orders, percent(r.response_rate), percent(r.solution_rate),
                    percent(r.satisfaction_rate)]

        for key, rates in sorted(by.items(), key=lambda kv: names.get(kv[0], "")):
            if key in names:
                table.rows.append(row(names[key], rates))
        table.rows.append(row(_("All"), total))
        return table

    # --- people and volunteers -----------------------------------------------------

    def people(self):
        path = self.place.path_q
        today = local_day(self.now)
        living = residents_visible_to(self.user, include_left=False).filter(path())
        by_tag = list(living.filter(tags__isnull=False).values("tags__name").annotate(n=Count("id"))
                      .order_by("-n", "tags__name"))
        overdue_visits = living.filter(visit_due_on__lt=today).count()
        start, end = self.period.start, self.period.end
        hours = records_visible_to(self.user).filter(
            path("volunteer__"), voided_at__isnull=True, started_at__gte=start, started_at__lt=end,
        ).aggregate(h=Coalesce(Sum("hours"), 0, output_field=_decimal()))["h"]
        entries = Entry.objects.filter(
            account__in=accounts_visible_to(self.user).filter(path("volunteer__"), kind="member"),
            at__gte=start, at__lt=end,
        ).aggregate(
            issued=Coalesce(Sum("amount", filter=~Q(transaction__kind__in=[TransactionKind.REDEEM,
                                                                           TransactionKind.REVERSAL])), 0),
            redeemed=Coalesce(Sum("amount", filter=Q(transaction__kind=TransactionKind.REDEEM)), 0),
        )
        rows = [[_("Residents tagged “%(tag)s”") % {"tag": r["tags__name"]}, r["n"]] for r in by_tag]
        rows += [
            [_("Care visits overdue (today)"), overdue_visits],
            [_("Volunteer hours confirmed"), f"{hours:.1f}"],
            [_("Points issued"), entries["issued"]],
            [_("Points redeemed"), -entries["redeemed"]],
        ]
        return Table("people", _("People and volunteers"), [_("Figure"), _("Value")], rows,
                     note=_("Residents and visits as of today; hours and points in the period."))

    # --- charts and map ------------------------------------------------------------

    def trend(self):
        """(table, chart series), computed once per page."""
        if not hasattr(self, "_trend"):
            self._trend = self._compute_trend()
        return self._trend

    def _compute_trend(self):
        rows = self.source.by_day()
        weekly = self.period.days > DAILY_UP_TO_DAYS
        buckets = {}
        day = self.period.first
        # Days after today are not drawn: as zeros they would read as reporting collapsing.
        last = min(self.period.last, local_day(self.now))
        while day <= last:
            key = day - timedelta(days=day.weekday()) if weekly else day
            buckets.setdefault(key, {})
            day += timedelta(days=1)
        for row in rows:
            d = row["day"]
            if d > last:
                continue
            key = d - timedelta(days=d.weekday()) if weekly else d
            _add(buckets.setdefault(key, {}), row)
        labels = sorted(buckets)
        figures = [Figures(buckets[k]) for k in labels]
        rate = [None if f.on_time_rate is None else round(f.on_time_rate * 100, 1) for f in figures]
        table = Table("trend", _("Trend (by week)") if weekly else _("Trend (by day)"),
                      [_("Week of") if weekly else _("Day"), _("Reported"), _("Closed"), _("On-time closure rate")],
                      collapsed=True)
        table.rows = [[k.isoformat(), f["reported"], f["closed"], percent(f.on_time_rate)]
                      for k, f in zip(labels, figures)]
        chart = {
            "labels": [k.isoformat() for k in labels],
            "reported": [f["reported"] for f in figures],
            "closed": [f["closed"] for f in figures],
            "on_time_rate": rate,
            "names": {"reported": _("Reported"), "closed": _("Closed"), "on_time_rate": _("On-time closure rate")},
        }
        return table, chart

    def _map_layers(self):
        """The map's layers besides the outlines: open and overdue cases per grid, the located
        open cases, the open risks; None if the place has too many grids for one map."""
        if grids_on_map(self.user, self.place).count() > MAP_MAX_GRIDS:
            return None
        open_cases = self.cases.filter(self.place.case_q(), status__in=OPEN_STATUSES)
        counts = {
            grid_id: [n_open, n_overdue] for grid_id, n_open, n_overdue in open_cases.values("grid_id").annotate(
                open=Count("pk"), overdue=Count("pk", filter=overdue_q(self.now)),
            ).order_by().values_list("grid_id", "open", "overdue") if grid_id is not None
        }
        located = open_cases.annotate(
            lat=Coalesce("latitude", "building__latitude"), lon=Coalesce("longitude", "building__longitude"),
            late=ExpressionWrapper(overdue_q(self.now), BooleanField()),
        ).filter(lat__isnull=False, lon__isnull=False)
        points = [[float(lat), float(lon), bool(late)]
                  for lat, lon, late in located.values_list("lat", "lon", "late")[:MAP_MAX_POINTS]]
        return {
            "counts": counts,
            "points": points,
            "tiles": settings.DASHBOARD_TILE_URL,
            "attribution": settings.DASHBOARD_TILE_ATTRIBUTION,
            "labels": {"open": _("Open"), "overdue": _("Overdue")},
            # Open risks by colour (no title, no person): most serious first.
            "risks": risk_figures.map_points(self, MAP_MAX_POINTS),
        }

    def map_data(self):
        """The map's layers as data (the chart endpoint's JSON): the grids' outlines with their
        open and overdue cases and links, the located open cases, the open risks."""
        layers = self._map_layers()
        if layers is None:
            return {"too_many": True}
        counts = layers.pop("counts")
        grids = json.loads(shapes_text(grids_on_map(self.user, self.place)))
        for feature in grids["features"]:
            n_open, n_overdue = counts.get(feature["id"], (0, 0))
            feature["properties"].update(open=n_open, overdue=n_overdue, url=self.url_for(feature["id"]))
        return {"grids": grids, **layers}

    def map_json(self):
        """The page's map as JSON text for its <script type="application/json"> (escaped as
        json_script escapes), or None if the place has too many grids for one map.

        The grids' outlines are not in it: they are most of a district's page (~1,000 polygons,
        ~660 KB) and change only with the place tree, so the browser fetches them from `shapes`
        (dashboards/shapes.py: cached, with an ETag) and colours them from `counts` (grid id →
        [open, overdue]); `link` is a grid's dashboard URL with `{}` for its id (issue #24).
        """
        layers = self._map_layers()
        if layers is None:
            return None
        area = self.place.area
        layers["shapes"] = (reverse("cases:dashboard_place_shapes", args=[area.pk]) if area
                            else reverse("cases:dashboard_shapes"))
        layers["link"] = self.url_for("{}")
        return _script_safe(json.dumps(layers, ensure_ascii=False))

    def tables(self):
        """Every table of the page, in page order. The people panel and the hotline's 三率 are left
        out: they read whole districts of residents and the hotline orders' history live, so the page
        loads them on their own URLs after it (`people()`, `hotline_table()`)."""
        return [self.kpis(), self.levels(), *self.children_tables(), *self.facet_tables(), self.worker_ranking(),
                self.trend()[0], *risk_figures.tables(self)]

    def table(self, name):
        """One table by its export name (None if there is none), computing only its group."""
        groups = {
            "kpis": lambda: [self.kpis()], "levels": lambda: [self.levels()],
            "children": self.children_tables, "ranking_places": self.children_tables,
            "categories": self.facet_tables, "triage": self.facet_tables, "channels": self.facet_tables,
            "ranking_workers": lambda: [self.worker_ranking()], "trend": lambda: [self.trend()[0]],
            "hotline": lambda: [self.hotline_table()],
            "people": lambda: [self.people()],
            "risks": lambda: risk_figures.tables(self), "risks_places": lambda: risk_figures.tables(self),
            "risks_types": lambda: risk_figures.tables(self),
            "patrol_coverage": lambda: [risk_figures.coverage(self)],
        }
        if name not in groups:
            return None
        return next((t for t in groups[name]() if t.name == name), None)

    def freshness(self):
        return freshness() if self.source_name == "rollup" else self.now


def _decimal():
    return DecimalField(max_digits=12, decimal_places=2)


