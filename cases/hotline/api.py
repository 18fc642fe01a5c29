"""The 12345 hotline system's JSON endpoint (/api/hotline/v1/), documented in the OpenAPI
document (cases/open311/openapi.py).

A hotline system authenticates with an Open311 API key (header `X-Api-Key`)
whose client is marked as a hotline system; the key is bound to a place and
pushes and reads orders under it only. Errors are JSON
`{"error": code, "detail": message}`: 400 bad input (nothing written), 403 bad
key, 404 an order this system did not push, 405, 429 over the key's rate limit.
"""

import functools
import json

from django.http import Http404, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from cases.models import FINAL_STATUSES, Status
from cases.open311 import selectors as open311_selectors
from cases.open311.services import parse_iso
from portal.errors import DomainError
from portal.ratelimit import over_limit

from . import selectors, services

BODY_MAX = 64 * 1024
PAGE_MAX = 200


def _json(payload, status=200):
    response = JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


def _error(status, code, detail):
    return _json({"error": code, "detail": str(detail)}, status=status)


def _iso(moment):
    return moment.isoformat() if moment else None


def order_json(order):
    case = order.case
    return {
        "order_number": order.order_number,
        "case_number": case.number,
        "status": case.status,
        "status_label": str(Status(case.status).label),
        "open": case.status not in FINAL_STATUSES,
        "received_at": _iso(order.received_at),
        "return_due_at": _iso(order.return_due_at),
        "reply": {"text": order.reply_text, "at": _iso(order.replied_at)} if order.replied_at else None,
        "returned": {"reason": order.return_reason, "at": _iso(order.returned_at)} if order.returned_at else None,
        "visit": ({"result": order.visit_result, "note": order.visit_note, "at": _iso(order.visited_at)}
                  if order.visited_at else None),
    }


def endpoint(methods):
    def wrap(view):
        @csrf_exempt
        @functools.wraps(view)
        def run(request, **kwargs):
            if request.method not in methods:
                response = _error(405, "method", _("This endpoint takes %(methods)s.") % {"methods": ", ".join(methods)})
                response["Allow"] = ", ".join(methods)
                return response
            raw_key = request.headers.get("X-Api-Key", "")
            client = open311_selectors.client_by_key(raw_key)
            if client is None or not client.is_hotline:
                return _error(403, "bad_key", _("Invalid API key for the hotline endpoint (header X-Api-Key)."))
            if over_limit(bucket="hotline", ident=client.pk, limit=client.rate_limit, window=60):
                response = _error(429, "rate_limited", _("Too many requests for this key; try again in a minute."))
                response["Retry-After"] = "60"
                return response
            try:
                return view(request, client=client, **kwargs)
            except DomainError as problem:
                return _error(400, problem.code or "bad_request", problem)
            except Http404:
                return _error(404, "not_found", _("No work order with this number was pushed by this system."))

        return run

    return wrap


def _body(request):
    if len(request.body) > BODY_MAX:
        raise DomainError(_("The body is too large."), code="too_large")
    try:
        data = json.loads(request.body.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        raise DomainError(_("The body must be JSON (UTF-8)."), code="bad_json") from None
    if not isinstance(data, dict):
        raise DomainError(_("The body must be a JSON object."), code="bad_body")
    if any("\x00" in v for v in data.values() if isinstance(v, str)):
        raise DomainError(_("Values may not contain NUL characters."), code="bad_body")
    return data


def _order(client, number):
    order = selectors.order_for_client(client, number)
    if order is None:
        raise Http404
    return order


@endpoint(("POST",))
def orders(request, client):
    """Push a work order: 201 with the new order, 200 with the first one for a repeated number."""
    order, created = services.order_receive(client=client, data=_body(request), now=timezone.now())
    return _json(order_json(order), status=201 if created else 200)


@endpoint(("GET",))
def order(request, client, number):
    return _json(order_json(_order(client, number)))


@endpoint(("POST",))
def order_visit(request, client, number):
    """The hotline's follow-up call (回访) on a replied order."""
    found = _order(client, number)
    data = _body(request)
    updated = services.order_visit(case=found.case, result=data.get("result"), note=data.get("note") or "",
                                   client=client, now=timezone.now())
    return _json(order_json(updated))


@endpoint(("GET",))
def replies(request, client):
    """Orders replied to or handed back since `since` (ISO 8601 with a zone), oldest first."""
    raw = request.GET.get("since", "").strip()
    since = None
    if raw:
        since = parse_iso(raw) if "\x00" not in raw else None
        if since is None:
            raise DomainError(_("since must be an ISO 8601 date and time with a time zone."), code="bad_date")
    rows = list(selectors.replies_for(client, since=since)[:PAGE_MAX + 1])
    return _json({"results": [order_json(o) for o in rows[:PAGE_MAX]], "has_more": len(rows) > PAGE_MAX})
