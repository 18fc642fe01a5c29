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

from django.utils import timezone
from django.utils.translation import gettext as _

from .keyed_api import error as _error
from .keyed_api import iso as _iso
from .keyed_api import json_body as _body
from .keyed_api import json_response as _json
from .keyed_api import keyed_endpoint
from .mediation_docking import referral_for, referral_receive, referrer_for
from .models import MediationOutcome, Status


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


endpoint = keyed_endpoint(
    bucket="mediation",
    principal=referrer_for,
    bad_key=lambda: _("Invalid API key for the mediation referral endpoint (header X-Api-Key)."),
)


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
