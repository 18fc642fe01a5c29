"""The 12345 hotline system's JSON endpoint (/api/hotline/v1/), documented in the OpenAPI
document (cases/open311/openapi.py).

A hotline system authenticates with an Open311 API key (header `X-Api-Key`)
whose client is marked as a hotline system; the key is bound to a place and
pushes and reads orders under it only. Errors are JSON
`{"error": code, "detail": message}`: 400 bad input (nothing written), 403 bad
key, 404 an order this system did not push, 405, 429 over the key's rate limit.
"""

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.keyed_api import iso as _iso
from cases.keyed_api import json_body as _body
from cases.keyed_api import json_response as _json
from cases.keyed_api import keyed_endpoint
from cases.models import FINAL_STATUSES, Status
from cases.open311.services import parse_iso
from portal.errors import DomainError

from . import selectors, services

PAGE_MAX = 200


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


endpoint = keyed_endpoint(
    bucket="hotline",
    principal=lambda client: client if client.is_hotline else None,
    bad_key=lambda: _("Invalid API key for the hotline endpoint (header X-Api-Key)."),
    errors={Http404: (404, "not_found", lambda: _("No work order with this number was pushed by this system."))},
)


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
