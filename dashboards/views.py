"""The officials' dashboards (数据驾驶舱): a page per place, its exports and chart data.

Who: staff with a managing post (district official, street or community staff)
see the places under their posts; administrators also see the whole city.
Any other place answers 404, like a place that does not exist.
"""

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET

from grid.selectors import areas_visible_to, get_visible_or_404, liaisons_over, scope_of, top_places
from grid.views import render_page as _render
from portal import fields
from portal.exports import spreadsheet_cell as _cell

from .definitions import (COHORT, DEFINITIONS, DUE_NOTE, ORGANISATION_COHORT, ORGANISATION_DEFINITIONS,
                          OVERDUE_NOTE)
from .figures import PERIOD_KINDS, PeriodError, Place, local_day, period_for
from .mediation import mediation_tables
from .compounds import compound_tables
from .party import party_tables
from . import organisations
from .cache import page_figures
from .page import Dashboard, dashboard_urls
from .screen import CommandScreen, has_screen
from .shapes import grid_shapes

FORMATS = ("csv", "xlsx")


class PeriodForm(forms.Form):
    period = forms.ChoiceField(label=pgettext_lazy("reporting period", "Period"), choices=list(PERIOD_KINDS.items()), required=False)
    first = fields.DateField(label=gettext_lazy("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    last = fields.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.ChoiceField(choices=[("rollup", "rollup"), ("live", "live")], required=False,
                               widget=forms.HiddenInput)

    def __init__(self, data, *, today):
        super().__init__(data)
        self.today = today

    def clean(self):
        data = super().clean()
        try:
            data["the_period"] = period_for(data.get("period") or "month", self.today,
                                            first=data.get("first"), last=data.get("last"))
        except PeriodError as error:
            raise forms.ValidationError(str(error)) from None
        return data


def _period(request, now):
    """(period, form, query string) from the query; a bad one falls back to this month, with the error shown."""
    today = local_day(now)
    form = PeriodForm(request.GET or None, today=today)
    if form.is_bound and form.is_valid():
        period = form.cleaned_data["the_period"]
        source = form.cleaned_data.get("source") or "rollup"
    else:
        period, source = period_for("month", today), "rollup"
    query = {"period": period.kind}
    if period.kind == "custom":
        query.update(first=period.first.isoformat(), last=period.last.isoformat())
    if source == "live":
        query["source"] = "live"
    return period, form, source, urlencode(query)


def _managing(user):
    scope = scope_of(user).managing()
    if scope.is_empty:
        raise Http404
    return scope


def _place(request, area_id):
    """The dashboard's place; None is the whole city (administrators only)."""
    scope = _managing(request.user)
    if area_id is None:
        if not scope.unrestricted:
            raise Http404
        return Place.of(None)
    return Place.of(get_visible_or_404(areas_visible_to(request.user, managing=True), pk=area_id, is_active=True))


def _dashboard(request, area_id):
    now = timezone.now()
    place = _place(request, area_id)
    period, form, source, query = _period(request, now)
    return Dashboard(request.user, place, period, now, source_name=source, query=query), form


def _crumbs(user, place, query):
    if place.area is None:
        return []
    managed = set(areas_visible_to(user, managing=True).filter(pk__in=[pk for _, pk in place.path])
                  .values_list("pk", flat=True))
    names = dict(place.area.get_ancestors(include_self=True).values_list("pk", "name"))
    url_for = dashboard_urls(query)
    return [(names[pk], url_for(pk) if pk in managed else None) for _, pk in place.path]


def _to_top(request, url_name):
    """For anyone but an administrator (the whole city), a redirect to the page `url_name` of the top
    of their posts, the query kept; None for an administrator."""
    scope = _managing(request.user)
    if scope.unrestricted:
        return None
    managed = {s.area_id for s in scope.spans}
    tops = [a for a in top_places(request.user) if a.pk in managed]
    if not tops:
        raise Http404
    target = redirect(url_name, tops[0].pk)
    if request.GET:
        target["Location"] += "?" + request.GET.urlencode()
    return target


@login_required
@require_GET
def dashboard(request):
    """The whole city for administrators; anyone else starts at the top of their posts."""
    return _to_top(request, "cases:dashboard_place") or _page(request, None)


@login_required
@require_GET
def dashboard_place(request, area_id):
    return _page(request, area_id)


def _page(request, area_id):
    board, form = _dashboard(request, area_id)
    fresh_at = board.freshness()
    figures = page_figures(board, fresh_at if board.source_name == "rollup" else None, formats=FORMATS)
    tables = figures["tables"]
    others = []
    if not scope_of(request.user).unrestricted:
        managed = {s.area_id for s in scope_of(request.user).managing().spans}
        others = [a for a in top_places(request.user) if a.pk in managed]
    context = {
        "board": board,
        "place": board.place,
        "title": board.place.area.name if board.place.area else _("Whole city"),
        "crumbs": _crumbs(request.user, board.place, board.query),
        "form": form,
        "period": board.period,
        "previous": board.period.previous(),
        "kpis": tables[0],
        "tables": tables[1:],
        "tables_html": figures["tables_html"],
        "chart": figures["chart"],
        "map_json": figures["map_json"],
        "too_many_grids": figures["map_json"] is None,
        "fresh_at": fresh_at,
        "tops": others if len(others) > 1 else [],
        "area_id": area_id,
        "query": board.query,
        "formats": FORMATS,
        "screen_url": _screen_url(board.place) if has_screen(board.place) else None,
        "definitions": DEFINITIONS,
        "cohort_note": COHORT,
        "due_note": DUE_NOTE,
        "overdue_note": OVERDUE_NOTE,
    }
    return _render(request, "dashboards/dashboard.html", context)


def _screen_url(place):
    if place.area is None:
        return reverse("cases:command_screen")
    return reverse("cases:command_screen_place", args=[place.area.pk])


@login_required
@require_GET
def dashboard_export(request, table, fmt, area_id=None):
    """One table of the page as CSV or XLSX, same place, period and scope."""
    if fmt not in FORMATS:
        raise Http404
    board, _form = _dashboard(request, area_id)
    found = board.table(table)
    if found is None and table.startswith("mediation"):
        found = next((t for t in mediation_tables(board) if t.name == table), None)
    if found is None and table in ("party", "liaisons"):
        found = next((t for t in party_tables(board) if t.name == table), None)
    if found is None and table in ("compounds", "compounds_unmanaged"):
        found = next(t for t in compound_tables(board, limit=None) if t.name == table)
    if found is None and table in ("organisations", "ranking_organisations", *organisations.FIGURE_TABLES):
        found = next(t for t in _organisation_tables(board, limit=None) if t.name == table)
    if found is None:
        raise Http404
    import tablib  # imported on an export only: web workers' memory (#24)

    dataset = tablib.Dataset(headers=[str(c) for c in found.columns], title=str(found.title)[:31])
    for row in found.rows:
        dataset.append([_cell(v) if isinstance(v, str) else v for v in row])
    place = board.place.area.code if board.place.area else "city"
    name = f"dashboard-{table}-{place}-{board.period.first:%Y%m%d}-{board.period.last:%Y%m%d}.{fmt}"
    if fmt == "csv":
        # A BOM, so spreadsheet programs read the Chinese text as UTF-8.
        response = HttpResponse("\ufeff" + dataset.export("csv"), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            dataset.export("xlsx"), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def dashboard_people(request, area_id=None):
    """The people-and-volunteers panel: on its own, since it counts whole districts of
    residents. The page fetches it (`?fragment=1`: the table alone); without script it is a link here."""
    board, _form = _dashboard(request, area_id)
    context = {"table": board.people(), "area_id": area_id, "query": board.query, "formats": FORMATS,
               "place": board.place, "period": board.period,
               "title": board.place.area.name if board.place.area else _("Whole city")}
    if request.GET.get("fragment"):
        return render(request, "dashboards/_table.html#table", context)
    return _render(request, "dashboards/people.html", context)


def _organisation_tables(board, *, limit=organisations.PAGE_ROWS):
    """The whistles' tables (吹哨报到), then the per-organisation figures, their ranking and 12345 三率."""
    args = (board.user, board.place, board.period, board.now)
    return organisations.tables(*args, limit=limit) + organisations.figure_tables(*args, limit=limit)


@login_required
@require_GET
def dashboard_organisations(request, area_id=None):
    """Per organisation: the matters sent to it (received, 响应率, 按期办结率, 退单率, 满意率) and its
    12345 三率, then the whistles on the place's matters (吹哨报到): report-in and ratings.
    `?fragment=1`: the tables alone, which the place's page loads after itself."""
    if area_id is None and (top := _to_top(request, "cases:dashboard_place_organisations")):
        return top
    board, form = _dashboard(request, area_id)
    context = {"tables": _organisation_tables(board), "area_id": area_id, "query": board.query, "formats": FORMATS,
               "place": board.place, "period": board.period, "form": form,
               "definitions": ORGANISATION_DEFINITIONS, "cohort_note": ORGANISATION_COHORT,
               "title": board.place.area.name if board.place.area else _("Whole city")}
    if request.GET.get("fragment"):
        # The place's page fetches the tables after itself (a live read of the whistles).
        return render(request, "dashboards/_tables.html", context)
    return _render(request, "dashboards/organisations.html", context)


@login_required
@require_GET
def dashboard_mediation(request, area_id=None):
    """The mediation panel (矛盾纠纷调解): received, success rate, solved in the community, referred,
    performed at follow-up; by type, channel and mediator. Its own page, like the people panel."""
    if area_id is None and (top := _to_top(request, "cases:dashboard_place_mediation")):
        return top
    board, form = _dashboard(request, area_id)
    context = {"tables": mediation_tables(board), "area_id": area_id, "query": board.query, "formats": FORMATS,
               "place": board.place, "period": board.period, "form": form,
               "title": board.place.area.name if board.place.area else _("Whole city")}
    return _render(request, "dashboards/mediation.html", context)


@login_required
@require_GET
def dashboard_hotline(request, area_id=None):
    """The 12345 hotline's 三率 panel (read live from the orders' history): loaded after the page, like
    the people panel (`?fragment=1`: the table alone); without script it is a link here."""
    board, _form = _dashboard(request, area_id)
    context = {"table": board.hotline_table(), "area_id": area_id, "query": board.query, "formats": FORMATS,
               "place": board.place, "period": board.period, "heading": _("12345 hotline: 三率"),
               "title": board.place.area.name if board.place.area else _("Whole city")}
    if request.GET.get("fragment"):
        return render(request, "dashboards/_table.html#table", context)
    return _render(request, "dashboards/people.html", context)


@login_required
@require_GET
def dashboard_chart(request, area_id=None):
    """The trend series and the map layers of a page, as JSON (same scope as the page)."""
    board, _form = _dashboard(request, area_id)
    _table, chart = board.trend()
    response = JsonResponse({"trend": chart, "map": board.map_data()}, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def dashboard_shapes(request, area_id=None):
    """The outlines of the grids on a page's map, as GeoJSON (same scope as the page; 404 where
    the page has no map). Cached on the server; the browser revalidates them with their ETag on
    each view and gets a 304 while they are unchanged (dashboards/shapes.py)."""
    shapes = grid_shapes(request.user, _place(request, area_id))
    if shapes is None:
        raise Http404
    response = get_conditional_response(request, etag=shapes.etag)
    if response is None:
        response = HttpResponse(shapes.text, content_type="application/geo+json")
    response["ETag"] = shapes.etag
    # Kept by the browser, asked again on each view (a tree change is a new ETag); never shared.
    response["Cache-Control"] = "private, no-cache"
    return response


def _screen(request, area_id):
    """The command screen of a place the user manages: the city (administrators), a district or a street."""
    place = _place(request, area_id)
    if not has_screen(place):
        raise Http404
    return CommandScreen(request.user, place, timezone.now())


@login_required
@require_GET
def command_screen(request, area_id=None):
    """The command screen (指挥大屏): a 1920×1080 wall page that refreshes itself from `command_screen_data`."""
    screen = _screen(request, area_id)
    area = screen.place.area
    context = {
        "title": area.name if area else _("Whole city"),
        "kind": area.get_kind_display() if area else "",
        "screen": screen.data(shapes=True),
        # 包片: the leaders who look after the place (or the places above it).
        "liaisons": list(liaisons_over(area.get_ancestors(include_self=True).values_list("pk", flat=True)))
        if area else [],
        "data_url": reverse("cases:command_screen_place_data", args=[area.pk]) if area
        else reverse("cases:command_screen_data"),
    }
    response = render(request, "dashboards/screen.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def command_screen_data(request, area_id=None):
    """The command screen's figures as JSON, same scope as the page; `?shapes=1` adds the grid outlines."""
    screen = _screen(request, area_id)
    response = JsonResponse(screen.data(shapes=request.GET.get("shapes") == "1"),
                            json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def dashboard_compounds(request, area_id=None):
    """Matters by compound (小区), and the compounds without property management listed apart."""
    board, form = _dashboard(request, area_id)
    context = {"tables": compound_tables(board), "area_id": area_id, "query": board.query, "formats": FORMATS,
               "place": board.place, "period": board.period, "form": form, "heading": _("Compounds (小区)"),
               "title": board.place.area.name if board.place.area else _("Whole city")}
    return _render(request, "dashboards/compounds.html", context)


@login_required
@require_GET
def dashboard_party(request, area_id=None):
    """Party building (党建引领): members reported in, small wishes adopted and fulfilled, hours served,
    per community; and the 包片 leaders of the place."""
    board, form = _dashboard(request, area_id)
    context = {"tables": party_tables(board), "area_id": area_id, "query": board.query, "formats": FORMATS,
               "place": board.place, "period": board.period, "form": form, "heading": _("Party building (党建引领)"),
               "title": board.place.area.name if board.place.area else _("Whole city")}
    return _render(request, "dashboards/compounds.html", context)
