"""Organisations' figures for a dashboard place (issue #16 item 7): 吹哨报到.

Per organisation summoned by a whistle on a case under the place, in the period
(by when the whistle was blown):

- summoned: summonses;
- reported in: summonses with a report-in (报到), at any time; on time: by the
  report-in deadline (Pinggu's scheme: report in within 30 minutes of the
  whistle, DOMAIN.md "街乡吹哨、部门报到"); late: after it;
- no-show: nobody reported in and the deadline has passed (swept or not yet);
- report-in rate = reported in / summoned; on-time report-in rate = on time / summoned;
- rating: the mean of the whistling places' ratings (评价权, 1–5; the rating counts
  in the department's annual assessment), over the rated summonses.

Scoped like the rest of the page: the summonses of cases the user sees through a
managing post (`cases_visible_to(user, managing=True)`), under the page's place.
So a street official sees every organisation summoned on the street's matters:
those seated there and those covering it from above (a district bureau, a utility).
The ranking lists organisations with at least DASHBOARD_RANKING_MIN_CASES summonses.
Pinned by tests/test_dashboard_organisations.py (a hand-computed fixture).

`figure_tables` adds, per organisation that received the place's matters (the same
organisations as the whistles: seated there or covering it from above), how it handled them (dashboards/org_figures.py: received, 响应率, 按期办结率,
退单率, 满意率) beside these whistle figures, its ranking, and the 12345 三率 per organisation
(dashboards/hotline.py). Definitions: dashboards/definitions.py ORGANISATION_DEFINITIONS.
"""

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext as _

from cases.models import Summons
from cases.selectors import cases_visible_to
from grid.models import Organisation

from .hotline import hotline_rates_by_organisation
from .org_figures import OrgFigures, cohort, organisation_measures
from .page import Table, percent, score


def _share(part, whole):
    return part / whole if whole else None


def summons_figures(user, place, period, now):
    """[(organisation id, name, measures)] for the place and period, most summoned first."""
    cases = cases_visible_to(user, managing=True).filter(place.path_q()).values("pk")
    rows = (
        Summons.objects.filter(whistle__case__in=cases, whistle__raised_at__gte=period.start,
                               whistle__raised_at__lt=period.end)
        .values("organisation_id", "organisation__name")
        .annotate(
            summoned=Count("id"),
            reported=Count("id", filter=Q(reported_in_at__isnull=False)),
            on_time=Count("id", filter=Q(reported_in_at__isnull=False, reported_in_at__lte=F("due_at"))),
            late=Count("id", filter=Q(reported_in_at__gt=F("due_at"))),
            no_show=Count("id", filter=Q(reported_in_at__isnull=True, due_at__lt=now)),
            rated=Count("id", filter=Q(rating__isnull=False)),
            rating_sum=Sum("rating"),
        )
        .order_by("-summoned", "organisation__name")
    )
    return [(r["organisation_id"], r["organisation__name"], r) for r in rows]


def _mean(m):
    return (m["rating_sum"] or 0) / m["rated"] if m["rated"] else None



# The page lists the most summoned organisations and the top of the ranking; the exports list all.
# (A district's 物业 and 业委会 run to thousands: a table of them all is no page, and rendering
# it cost five times its query, bench/whistle_bench.py.)
PAGE_ROWS = 100
PAGE_RANKS = 50


def tables(user, place, period, now, *, limit=None):
    """The organisations table and their ranking (Table rows for the page and, with no
    `limit`, the exports)."""
    columns = [_("Organisation"), _("Summoned"), _("Reported in"), _("Report-in rate"), _("On-time report-in rate"),
               _("Late report-ins"), _("No-shows"), _("Rated"), _("Rating from the whistling places")]
    figures = summons_figures(user, place, period, now)
    table = Table("organisations", _("Organisations summoned (吹哨报到)"), columns,
                  note=_("Whistles blown in the period on matters here; report-in on time means by the deadline "
                         "the whistle set. Ratings are 1–5, by the community or street that blew the whistle."))
    if limit is not None and len(figures) > limit:
        table.note += " " + _("The %(n)d most summoned of %(total)d are shown; the export lists all.") % {
            "n": limit, "total": len(figures)}
    for _pk, name, m in figures[:limit]:
        table.rows.append([name, m["summoned"], m["reported"], percent(_share(m["reported"], m["summoned"])),
                           percent(_share(m["on_time"], m["summoned"])), m["late"], m["no_show"], m["rated"],
                           score(_mean(m))])
    minimum = settings.DASHBOARD_RANKING_MIN_CASES
    ranked = sorted(((name, m) for _pk, name, m in figures if m["summoned"] >= minimum),
                    key=lambda nm: (-(_share(nm[1]["on_time"], nm[1]["summoned"]) or 0), -(_mean(nm[1]) or 0), nm[0]))
    ranking = Table("ranking_organisations", _("Ranking of organisations"),
                    [_("Rank"), _("Organisation"), _("Summoned"), _("On-time report-in rate"),
                     _("Rating from the whistling places")],
                    note=_("By on-time report-in rate, then rating; only organisations summoned at least %(n)d "
                           "times in the period.") % {"n": minimum})
    if limit is not None and len(ranked) > PAGE_RANKS:
        ranking.note += " " + _("The first %(n)d of %(total)d are shown; the export lists all.") % {
            "n": PAGE_RANKS, "total": len(ranked)}
        ranked = ranked[:PAGE_RANKS]
    for rank, (name, m) in enumerate(ranked, start=1):
        ranking.rows.append([rank, name, m["summoned"], percent(_share(m["on_time"], m["summoned"])),
                             score(_mean(m))])
    return [table, ranking]


# --- how each organisation handled the matters sent to it (issue #16 item 7, #18 item 4) -----------

FIGURE_TABLES = ("organisation_figures", "ranking_organisation_figures", "organisation_hotline")


def _names(pks):
    return dict(Organisation.objects.filter(pk__in=sorted(pks)).values_list("pk", "name"))


def organisation_figures(user, place, period, now, *, read=None):
    """[(organisation id, name, OrgFigures)]: the sendings' figures with the whistles' beside them,
    for the organisations the user sees; most received first."""
    measures = organisation_measures(user, place, period, now, read=read)
    for pk, _name, s in summons_figures(user, place, period, now):
        m = measures.setdefault(pk, OrgFigures())
        m.summoned, m.reported_in, m.whistle_rated, m.rating_sum = (
            s["summoned"], s["reported"], s["rated"], s["rating_sum"] or 0)
    names = _names(measures)
    rows = [(pk, names[pk], m) for pk, m in measures.items() if pk in names]
    return sorted(rows, key=lambda r: (-r[2].received, -r[2].summoned, r[1], r[0]))


def _figure_cells(m):
    return [m.received, m.co_handled, percent(m.response_rate), m.returned, percent(m.return_rate), m.due,
            m.solved_on_time, percent(m.on_time_rate), percent(m.satisfaction_rate), m.summoned,
            percent(m.report_in_rate), score(m.mean_rating)]


def figure_tables(user, place, period, now, *, limit=None):
    """The organisations' figures, their ranking and their 12345 三率 (Table rows for the page and,
    with no `limit`, the exports)."""
    read = cohort(user, place, period)  # once, for the figures and the 12345 三率 alike
    figures = organisation_figures(user, place, period, now, read=read)
    columns = [_("Organisation"), _("Received"), _("Co-handled (协办)"), _("Response rate (响应率)"), _("Returned"),
               _("Return rate (退单率)"), _("Due (应办结)"), _("Solved on time"), _("On-time rate (按期办结率)"),
               _("Satisfaction rate (满意率)"), _("Summoned"), _("Report-in rate"),
               _("Rating from the whistling places")]
    table = Table("organisation_figures", _("Organisations: matters received and handled"), columns,
                  note=_("Matters under this place sent to each organisation in the period; see “How the "
                         "organisations' figures are counted” below."))
    if limit is not None and len(figures) > limit:
        table.note += " " + _("The %(n)d with the most matters of %(total)d are shown; the export lists all.") % {
            "n": limit, "total": len(figures)}
    for _pk, name, m in figures[:limit]:
        table.rows.append([name, *_figure_cells(m)])
    if figures:
        table.rows.append([_("All"), *_figure_cells(sum((m for _pk, _n, m in figures), OrgFigures()))])

    minimum = settings.DASHBOARD_RANKING_MIN_CASES
    ranked = sorted(((name, m) for _pk, name, m in figures if m.due >= minimum),
                    key=lambda nm: (-(nm[1].on_time_rate or 0), nm[1].return_rate or 0, -(nm[1].response_rate or 0),
                                    nm[0]))
    ranking = Table("ranking_organisation_figures", _("Ranking of organisations by on-time rate"),
                    [_("Rank"), _("Organisation"), _("Due (应办结)"), _("On-time rate (按期办结率)"),
                     _("Response rate (响应率)"), _("Return rate (退单率)"), _("Satisfaction rate (满意率)")],
                    note=_("By on-time rate, then the fewest returns; only organisations with at least %(n)d due "
                           "matters (应办结) in the period, as places are ranked.") % {"n": minimum})
    if limit is not None and len(ranked) > PAGE_RANKS:
        ranking.note += " " + _("The first %(n)d of %(total)d are shown; the export lists all.") % {
            "n": PAGE_RANKS, "total": len(ranked)}
        ranked = ranked[:PAGE_RANKS]
    for rank, (name, m) in enumerate(ranked, start=1):
        ranking.rows.append([rank, name, m.due, percent(m.on_time_rate), percent(m.response_rate),
                             percent(m.return_rate), percent(m.satisfaction_rate)])
    return [table, ranking, hotline_table(user, place, period, now, limit=limit, read=read)]


def hotline_table(user, place, period, now, *, limit=None, read=None):
    """接诉即办 三率 of the 12345 work orders sent to each organisation (dashboards/hotline.py)."""
    by = hotline_rates_by_organisation(user, place, period, now=now, read=read)
    names = _names(by)
    table = Table("organisation_hotline", _("12345 hotline: 三率 per organisation"),
                  [_("Organisation"), _("Work orders"), _("Response rate (响应率)"), _("Solution rate (解决率)"),
                   _("Satisfaction rate (满意率)")],
                  note=_("12345 work orders under this place sent to the organisation in the period. 响应率: signed "
                         "in within the organisation's time to sign in; 解决率 and 满意率: over every 回访 rating of "
                         "the orders closed while it held them."))
    rows = sorted(((names[pk], r) for pk, r in by.items() if pk in names), key=lambda nr: (-nr[1].orders, nr[0]))
    for name, r in rows[:limit]:
        table.rows.append([name, r.orders, percent(r.response_rate), percent(r.solution_rate),
                           percent(r.satisfaction_rate)])
    return table
