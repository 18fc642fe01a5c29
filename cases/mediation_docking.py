"""Incoming referrals pushed by courts, police stations and petition offices
(诉调/警调/访调对接) through their API key (cases/mediation_api.py).

A referral becomes a dispute case on the "other department" channel (registered
and dispatched at once, like any staff channel) with its mediation file opened
and numbered by the committee, carrying the body's reference and the date its
written reply is due. The body and its channel come from the key's
MediationReferrer, never from the request. The same reference pushed again by
the same body answers the first file and writes nothing. Everything is checked
before anything is written; a refusal raises DomainError.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind
from grid.selectors import can_manage_area
from portal.errors import DomainError
from portal.text import clean_text

from . import services as case_services
from . import services_report
from .mediation import open_file
from .models import Category, Channel, DisputeType, Mediation, MediationReferrer
from .parties import reported_parties

REFERENCE_MAX = 64
DESCRIPTION_MAX = 4000
# Where a referral's case is filed when the body names no category: the dispute type's own.
TYPE_CATEGORY = {DisputeType.NEIGHBOUR: "E0501", DisputeType.FAMILY: "E0502", DisputeType.PROPERTY: "E0503",
                 DisputeType.LABOUR: "E0504"}
DEFAULT_CATEGORY = "E0501"


DOCKING_SOURCES = ("court", "police", "petition")


@transaction.atomic
def mediation_referrer_save(*, referrer, acting_user):
    """Let an API key push referrals as a court, police station or petition office (or change which).

    The key must be active and bound to a place the user manages; the body's name is what files show.
    """
    client = referrer.client
    if client is None or not client.is_active:
        raise DomainError(_("Choose an active API key."), code="bad_client")
    if not can_manage_area(acting_user, client.area):
        raise DomainError(_("You do not manage the place of this key."), code="forbidden")
    if referrer.source not in DOCKING_SOURCES:
        raise DomainError(_("A referring body is a court, a police station or a petition office."),
                          code="bad_source")
    referrer.body = clean_text(referrer.body, field=_("referring body"), limit=100)
    referrer.save()
    return referrer


def referrer_for(client):
    """The referring body behind an API client, or None (a key not issued to one)."""
    return MediationReferrer.objects.filter(client=client).select_related("client__area").first()


def referral_for(referrer, reference):
    """The file `referrer` pushed under `reference`, or None (another body's answers None too)."""
    if not isinstance(reference, str) or not reference or len(reference) > REFERENCE_MAX:
        return None
    return (Mediation.objects.filter(referrer=referrer, source_ref=reference)
            .select_related("case", "committee").first())


def _text(data, name, *, required=False, limit=DESCRIPTION_MAX):
    value = data.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise DomainError(_("%(name)s must be text.") % {"name": name}, code="bad_type")
    value = value.strip()
    if required and not value:
        raise DomainError(_("%(name)s is required.") % {"name": name}, code=f"no_{name}")
    if len(value) > limit:
        raise DomainError(_("%(name)s is longer than %(n)d characters.") % {"name": name, "n": limit},
                          code="too_long")
    return value


def _reference(data):
    reference = _text(data, "reference", required=True, limit=REFERENCE_MAX)
    if not reference.isprintable():
        raise DomainError(_("reference must be printable text."), code="bad_reference")
    return reference


def _place(referrer, code):
    """A community or grid under the key's place, by its code; one outside answers like an unknown one."""
    area = referrer.client.area
    found = Area.objects.filter(code=code, tree_id=area.tree_id, lft__gte=area.lft, lft__lte=area.rght,
                                kind__in=(AreaKind.GRID, AreaKind.COMMUNITY), is_active=True).first()
    if found is None:
        raise DomainError(_("No community or grid this key serves has that place_code."), code="bad_place")
    return found


def _reply_due(value, today):
    if not isinstance(value, str):
        raise DomainError(_("reply_due_on is required: the date (YYYY-MM-DD) the written reply is due."),
                          code="no_reply_due_on")
    try:
        due = datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise DomainError(_("reply_due_on must be a date (YYYY-MM-DD)."), code="bad_date") from None
    if due < today or due > today + datetime.timedelta(days=366):
        raise DomainError(_("reply_due_on must fall between today and a year from now."), code="bad_date")
    return due


def _category(data, dispute_type):
    code = _text(data, "service_code", limit=20)
    if code:
        category = Category.objects.filter(code=code, is_active=True, is_mediation=True).first()
        if category is None:
            raise DomainError(_("service_code must be an active dispute (mediation) category."),
                              code="bad_category")
        return category
    category = Category.objects.filter(code=TYPE_CATEGORY.get(dispute_type, DEFAULT_CATEGORY), is_active=True,
                                       is_mediation=True).first()
    return category or Category.objects.filter(is_active=True, is_mediation=True, parent__isnull=False) \
        .order_by("code").first()


PARTY_KEYS = ("role", "name", "id_number", "phone", "address")


def _parties(value, today):
    """The parties as given (checked here, stored by case_report): a list of objects of text values."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > 20 or not all(
            isinstance(p, dict) and all(isinstance(p.get(k), (str, type(None))) for k in PARTY_KEYS) for p in value):
        raise DomainError(_("parties must be a list of at most 20 objects with text role, name, id_number, "
                            "phone and address."), code="bad_parties")
    rows = reported_parties(value, today=today)
    indexes = [row["id_index"] for row in rows if row["id_index"]]
    if len(indexes) != len(set(indexes)):
        raise DomainError(_("The same ID number is given for two parties."), code="duplicate_party")
    return value


def referral_receive(*, referrer, data, now=None):
    """A referral pushed by a referring body. Returns (mediation, created)."""
    now = case_services._now(now)
    if not isinstance(data, dict):
        raise DomainError(_("The body must be a JSON object."), code="bad_body")
    reference = _reference(data)
    found = referral_for(referrer, reference)
    if found is not None:
        return found, False
    dispute_type = _text(data, "dispute_type", required=True, limit=12)
    if dispute_type not in DisputeType.values:
        raise DomainError(_("dispute_type must be one of: %(values)s.") % {"values": ", ".join(DisputeType.values)},
                          code="bad_type")
    description = _text(data, "description", required=True)
    claims = _text(data, "claims")
    place = _place(referrer, _text(data, "place_code", required=True, limit=64))
    reply_due_on = _reply_due(data.get("reply_due_on"), timezone.localtime(now).date())
    parties = _parties(data.get("parties"), timezone.localtime(now).date())
    category = _category(data, dispute_type)
    if category is None:
        raise DomainError(_("No dispute category is set up in the portal."), code="bad_category")
    try:
        with transaction.atomic():
            # One push at a time per body: the duplicate check and the insert cannot interleave.
            MediationReferrer.objects.select_for_update().filter(pk=referrer.pk).first()
            if referral_for(referrer, reference) is not None:
                raise IntegrityError("pushed meanwhile")
            case = services_report.case_report(
                category=category, description=description, channel=Channel.DEPARTMENT, place=place,
                reporter_name=referrer.body[:50], parties=parties, external_ref=reference, now=now, system=True,
            )
            mediation = Mediation.objects.select_for_update().get(case=case)
            mediation = open_file(case=case, mediation=mediation, actor=None, dispute_type=dispute_type,
                                  claims=claims, source=referrer.source, source_body=referrer.body,
                                  source_ref=reference, reply_due_on=reply_due_on, referrer=referrer, now=now)
    except IntegrityError:
        found = referral_for(referrer, reference)
        if found is None:
            raise
        return found, False
    return Mediation.objects.select_related("case", "committee").get(pk=mediation.pk), True
