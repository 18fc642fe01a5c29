"""What the JSON endpoints behind an Open311 API key share (the 12345 hotline's
docking, cases/hotline/api.py, and the mediation referrals, cases/mediation_api.py):
JSON answers that are never cached, `{"error": code, "detail": message}` errors,
the key check with its per-key rate limit, and a bounded JSON object body.
"""

import functools
import json

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from portal.errors import DomainError
from portal.ratelimit import over_limit

from .open311 import selectors as open311_selectors

BODY_MAX = 64 * 1024


def json_response(payload, status=200):
    response = JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


def error(status, code, detail):
    return json_response({"error": code, "detail": str(detail)}, status=status)


def iso(moment):
    return moment.isoformat() if moment else None


def keyed_endpoint(*, bucket, principal, bad_key, errors=()):
    """A view decorator factory for one API: `principal(client)` turns the key's Open311
    client into what the view is called with (None refuses the key with `bad_key`);
    `errors` maps exception classes to (status, code, message) answers."""

    def endpoint(methods):
        def wrap(view):
            @csrf_exempt
            @functools.wraps(view)
            def run(request, **kwargs):
                if request.method not in methods:
                    response = error(405, "method",
                                     _("This endpoint takes %(methods)s.") % {"methods": ", ".join(methods)})
                    response["Allow"] = ", ".join(methods)
                    return response
                client = open311_selectors.client_by_key(request.headers.get("X-Api-Key", ""))
                who = principal(client) if client is not None else None
                if who is None:
                    return error(403, "bad_key", bad_key())
                if over_limit(bucket=bucket, ident=client.pk, limit=client.rate_limit, window=60):
                    response = error(429, "rate_limited", _("Too many requests for this key; try again in a minute."))
                    response["Retry-After"] = "60"
                    return response
                try:
                    return view(request, who, **kwargs)
                except DomainError as problem:
                    return error(400, problem.code or "bad_request", problem)
                except tuple(errors) as problem:
                    status, code, message = next(answer for kind, answer in errors.items()
                                                 if isinstance(problem, kind))
                    return error(status, code, message())

            return run

        return wrap

    return endpoint


def json_body(request):
    """The request's JSON object, or a DomainError saying what is wrong with it."""
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
