"""Matters by compound (小区) on a dashboard, and the compounds without property management
listed apart, as the field reports count them ("10个小区，其中8个无物业管理小区").

Cases come through the dashboard's scoped queryset (cases_visible_to, managing posts) narrowed
to the place by their stored path; compounds through compounds_visible_to. A matter counts for
the compound of the building it was reported at; matters without a building count for none.
"""

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from cases.models import FINAL_STATUSES, OPEN_STATUSES
from grid.models import AreaKind
from grid.selectors import compounds_visible_to

from .page import Table

SHOWN = 50  # the busiest compounds; the export holds the same rows
UNMANAGED_SHOWN = 500


def _compounds_in(board):
    compounds = compounds_visible_to(board.user, managing=True).filter(is_active=True)
    area = board.place.area
    if area is None:
        return compounds
    if area.kind == AreaKind.GRID:
        return compounds.filter(buildings__grid=area).distinct()
    return compounds.filter(community__tree_id=area.tree_id, community__lft__gte=area.lft,
                            community__lft__lte=area.rght)


def compound_tables(board, *, limit=SHOWN):
    """[Table]: matters per compound (busiest first), then the compounds without property management."""
    cases = board.cases.filter(board.place.case_q(), building__compound__isnull=False)
    period = board.period
    reported = dict(
        (row["building__compound"], row) for row in
        cases.filter(created_at__gte=period.start, created_at__lt=period.end)
        .values("building__compound").annotate(n=Count("pk"), closed=Count("pk", filter=Q(status__in=FINAL_STATUSES)))
        .order_by()
    )
    open_now = dict(cases.filter(status__in=OPEN_STATUSES).values("building__compound").annotate(n=Count("pk"))
                    .order_by().values_list("building__compound", "n"))
    busy = sorted(set(reported) | set(open_now),
                  key=lambda pk: (-(reported.get(pk, {}).get("n", 0)), -open_now.get(pk, 0), pk))
    shown = busy if limit is None else busy[:limit]
    compounds = {c.pk: c for c in _compounds_in(board).filter(pk__in=shown)
                 .select_related("community", "property_company")}
    columns = [_("Compound"), _("Community"), _("Property management"), _("Matters reported"), _("Closed"),
               _("Open now")]

    def management(c):
        if not c.has_property_management:
            return _("none (无物业)")
        return c.property_company.name if c.property_company else _("yes (有物业)")

    rows = []
    for pk in shown:
        c = compounds.get(pk)
        if c is None:
            continue  # a compound outside the user's managing scope (cannot happen through the path) or closed
        found = reported.get(pk, {})
        rows.append([c.name, c.community.name, management(c), found.get("n", 0), found.get("closed", 0),
                     open_now.get(pk, 0)])
    by_compound = Table("compounds", _("Matters by compound (小区)"), columns, rows,
                        note=_("The busiest %(n)d compounds of the place by matters reported in the period; a matter "
                               "counts for the compound of its building.") % {"n": limit or len(rows)})
    unmanaged = (_compounds_in(board).filter(has_property_management=False).select_related("community")
                 .annotate(buildings_n=Count("buildings", distinct=True)).order_by("community__name", "name"))
    rows = [[c.name, c.community.name, c.buildings_n, reported.get(c.pk, {}).get("n", 0), open_now.get(c.pk, 0)]
            for c in unmanaged[:UNMANAGED_SHOWN]]
    without = Table("compounds_unmanaged", _("Compounds without property management (无物业小区)"),
                    [_("Compound"), _("Community"), _("Buildings"), _("Matters reported"), _("Open now")], rows,
                    note=_("Old and open compounds with no 物业: the community and the grid carry their upkeep."))
    return [by_compound, without]
