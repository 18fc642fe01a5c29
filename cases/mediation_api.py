"""The docking endpoint for courts, police stations and petition offices (诉调/警调/访调对接):
/api/mediation/v1/, documented in the OpenAPI document (cases/open311/openapi.py).

A referring body authenticates with an Open311 API key (header `X-Api-Key`)
issued to a MediationReferrer; the key is bound to a place and refers disputes
under it only. POST /referrals/ pushes a referral and answers with the file's
number; GET /referrals/<reference>/ reads its outcome and the written reply.
Errors are JSON `{"error": code, "detail": message}`: 400 bad input (nothing
written), 403 bad key, 404 a reference this body did not push, 405, 429 over
the key's rate limit.
"""

import functools
import json

from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from portal.errors import DomainError
from portal.ratelimit import over_limit

from .mediation_docking import referral_for, referral_receive, referrer_for
from .models import MediationOutcome, Status
from .open311 import selectors as open311_selectors

BODY_MAX = 64 * 1024


def _json(payload, status=200):
    response = JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


def _error(status, code, detail):
    return _json({"error": code, "detail": str(detail)}, status=status)


def _iso(value):
    return value.isoformat() if value else None


def referral_json(mediation):
    case = mediation.case
    return {
        "reference": mediation.source_ref,
        "file_number": mediation.number,
        "case_number": case.number,
        "channel": mediation.source,
        "referring_body": mediation.source_body,
        "dispute_type": mediation.dispute_type,
        "received_at": _iso(mediation.opened_at),
        "reply_due_on": _iso(mediation.reply_due_on),
        "status": case.status,
        "status_label": str(Status(case.status).label),
        "outcome": mediation.outcome,
        "outcome_label": str(MediationOutcome(mediation.outcome).label),
        "concluded_at": _iso(mediation.concluded_at),
        "referral": mediation.referral or None,
        "reply": {"text": mediation.reply_text, "at": _iso(mediation.replied_at)} if mediation.replied_at else None,
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
            client = open311_selectors.client_by_key(request.headers.get("X-Api-Key", ""))
            referrer = referrer_for(client) if client is not None else None
            if referrer is None:
                return _error(403, "bad_key", _("Invalid API key for the mediation referral endpoint "
                                                "(header X-Api-Key)."))
            if over_limit(bucket="mediation", ident=client.pk, limit=client.rate_limit, window=60):
                response = _error(429, "rate_limited", _("Too many requests for this key; try again in a minute."))
                response["Retry-After"] = "60"
                return response
            try:
                return view(request, referrer=referrer, **kwargs)
            except DomainError as problem:
                return _error(400, problem.code or "bad_request", problem)

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


@endpoint(("POST",))
def referrals(request, referrer):
    """Push a referral: 201 with the new file's number, 200 with the first file for a repeated reference."""
    mediation, created = referral_receive(referrer=referrer, data=_body(request), now=timezone.now())
    return _json(referral_json(mediation), status=201 if created else 200)


@endpoint(("GET",))
def referral(request, referrer, reference):
    """The outcome of a referral this body pushed, with the committee's written reply once sent."""
    found = referral_for(referrer, reference)
    if found is None:
        return _error(404, "not_found", _("No referral with this reference was pushed with this key."))
    return _json(referral_json(found))
