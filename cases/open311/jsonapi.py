"""The portal's JSON API under /api/v1/ for signed-in users (session), read-only.

Scoped exactly like the pages: cases through cases.selectors.cases_visible_to,
places through grid.selectors.areas_visible_to; "not yours" answers 404 like
"does not exist". Reporters' names and phones are never included. The
OpenAPI 3 document (openapi.py) describes these endpoints and Open311's JSON.
"""

import functools

from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _

from cases.models import Category, Status
from cases.selectors import cases_visible_to, staff_timeline
from grid.models import AreaKind
from grid.selectors import areas_visible_to

from . import openapi as openapi_document
from .render import iso
from .services import parse_iso

PAGE_SIZE = 50
PAGE_SIZE_MAX = 200


class BadParameter(Exception):
    pass


def _json(payload, status=200):
    return JsonResponse(payload, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def api_view(*, signed_in=True):
    def wrap(view):
        @functools.wraps(view)
        def run(request, **kwargs):
            if request.method not in ("GET", "HEAD"):
                response = _json({"detail": _("This endpoint is read-only (GET).")}, status=405)
                response["Allow"] = "GET, HEAD"
                return response
            if signed_in and not (request.user.is_authenticated and request.user.is_active):
                return _json({"detail": _("Sign in first.")}, status=401)
            try:
                return view(request, **kwargs)
            except BadParameter as problem:
                return _json({"detail": str(problem)}, status=400)
            except Http404:
                return _json({"detail": _("Not found.")}, status=404)

        return run

    return wrap


def _param(request, name):
    value = request.GET.get(name, "").strip()
    if "\x00" in value:
        raise BadParameter(_("%(name)s is not valid.") % {"name": name})
    return value


def _int(request, name, *, default=None, low=1, high=2**31 - 1):
    raw = _param(request, name)
    if not raw:
        return default
    # isascii: str.isdigit() also takes '²', which int() refuses.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or not low <= int(raw) <= high:
        raise BadParameter(_("%(name)s must be a whole number from %(low)d to %(high)d.")
                           % {"name": name, "low": low, "high": high})
    return int(raw)


def _paged(request, queryset, row):
    size = _int(request, "page_size", default=PAGE_SIZE, high=PAGE_SIZE_MAX)
    number = _int(request, "page", default=1, high=10**6)
    chunk = list(queryset[(number - 1) * size:number * size + 1])
    return _json({"page": number, "page_size": size, "has_next": len(chunk) > size,
                  "results": [row(obj) for obj in chunk[:size]]})


# --- rows ------------------------------------------------------------------------------------

def case_row(case):
    return {
        "id": case.pk,
        "number": case.number,
        "status": case.status,
        "status_label": str(case.get_status_display()),
        "is_open": case.is_open,
        "category": case.category.code,
        "category_name": case.category.name,
        "channel": case.channel,
        "description": case.description,
        "address": case.address,
        "district": case.district_id,
        "street": case.street_id,
        "community": case.community_id,
        "grid": case.grid_id,
        "building": case.building_id,
        "latitude": float(case.latitude) if case.latitude is not None else None,
        "longitude": float(case.longitude) if case.longitude is not None else None,
        "responsible_level": case.responsible_level,
        "assignee": case.assignee_id,
        "due_at": iso(case.due_at),
        "created_at": iso(case.created_at),
        "closed_at": iso(case.closed_at),
    }


def _event_row(event):
    return {
        "id": event.pk,
        "action": event.action,
        "action_label": str(event.get_action_display()),
        "from_status": event.from_status,
        "to_status": event.to_status,
        "at": iso(event.at),
        "actor": str(event.actor) if event.actor_id else None,
        "note": event.note,
        "is_public": event.is_public,
    }


def category_row(category):
    return {
        "code": category.code,
        "name": category.name,
        "parent": category.parent.code if category.parent_id else None,
        "family": category.family,
        "triage": category.triage,
        "is_mediation": category.is_mediation,
        "is_active": category.is_active,
    }


def place_row(area):
    return {"id": area.pk, "code": area.code, "name": area.name, "kind": area.kind,
            "parent": area.parent_id, "is_active": area.is_active}


# --- endpoints -------------------------------------------------------------------------------

@api_view()
def case_list(request):
    rows = cases_visible_to(request.user).select_related("category").order_by("-created_at", "-pk")
    status = _param(request, "status")
    if status:
        if status not in Status.values:
            raise BadParameter(_("Unknown status."))
        rows = rows.filter(status=status)
    category = _param(request, "category")
    if category:
        rows = rows.filter(category__code=category)
    for name, lookup in (("created_after", "created_at__gte"), ("created_before", "created_at__lt")):
        raw = _param(request, name)
        if raw:
            value = parse_iso(raw)
            if value is None:
                raise BadParameter(_("%(name)s must be an ISO 8601 date and time with a time zone.")
                                   % {"name": name})
            rows = rows.filter(**{lookup: value})
    place = _int(request, "place")
    if place is not None:
        area = areas_visible_to(request.user).filter(pk=place).first()
        if area is None:
            raise Http404
        rows = rows.filter(**{f"{area.kind}_id": area.pk})
    return _paged(request, rows, case_row)


@api_view()
def case_detail(request, pk):
    case = cases_visible_to(request.user).select_related("category").filter(pk=pk).first()
    if case is None:
        raise Http404
    return _json({**case_row(case), "timeline": [_event_row(e) for e in staff_timeline(case)]})


@api_view()
def category_list(request):
    rows = Category.objects.select_related("parent").order_by("sort_order", "code")
    active = _param(request, "active").lower()
    # A boolean (OpenAPI): false lists inactive ones too; "all" is its older spelling.
    if active not in ("", "true", "false", "all"):
        raise BadParameter(_("active is true or false."))
    if active in ("", "true"):
        rows = rows.filter(is_active=True)
    return _json([category_row(c) for c in rows])


@api_view()
def place_list(request):
    rows = areas_visible_to(request.user).order_by("tree_id", "lft")
    kind = _param(request, "kind")
    if kind:
        if kind not in AreaKind.values:
            raise BadParameter(_("Unknown kind of place."))
        rows = rows.filter(kind=kind)
    parent = _int(request, "parent")
    if parent is not None:
        rows = rows.filter(parent_id=parent)
    return _paged(request, rows, place_row)


@api_view()
def place_detail(request, pk):
    area = areas_visible_to(request.user).filter(pk=pk).first()
    if area is None:
        raise Http404
    return _json(place_row(area))


@api_view(signed_in=False)
def unknown(request, rest):
    """Whatever else is asked under /api/v1/ (`cases/null,null/`): the API's JSON 404, not the site's page."""
    raise Http404


@api_view(signed_in=False)
def openapi(request):
    return _json(openapi_document.document(request))
