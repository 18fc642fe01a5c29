"""Writes of the Open311 app: issuing and revoking client keys, filing a matter.

Filing takes the received-report path of the public report page
(cases.services_intake.intake_receive, channel Open311): one row kept at once,
the client answered with a token, and a worker registers it as a case through
cases.services_report.case_report moments later, so an Open311 matter is triaged,
dispatched and clocked like any resident's report and a broker outage loses
nothing. `request_registered` then links the request to its case (in the
registering transaction), and `GET tokens/<token>` answers the case number.
Refusals raise DomainError with a code the views turn into the spec's 400 answer.
"""

import hashlib
import json
import secrets
from datetime import timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from cases import services as case_services
from cases import services_intake
from cases.models import Case, Channel
from grid import geo
from grid.models import AreaKind, Building
from grid.selectors import can_manage_area
from portal.errors import DomainError

from . import selectors
from .models import LIST_DATATYPES, ApiClient, Datatype, PublicReads, ServiceAttribute, ServiceRequest, hash_key
from .places import point_in_place

KEY_PREFIX = "o311_"
# The same submission from the same client within this window answers the first filing.
REPLAY_WINDOW = timedelta(minutes=10)
# How far (metres) a point may lie from the building it is filed at.
NEAREST_BUILDING_M = geo.NEAREST_BUILDING_M
ATTRIBUTE_MAX = 1000


# --- keys -----------------------------------------------------------------------------

@transaction.atomic
def client_issue(*, name, area, acting_user, rate_limit=60, contact="", is_hotline=False, now=None):
    """Register a client system bound to `area`; returns (client, key). The key is shown once.
    `is_hotline`: a 12345 hotline system, which may also push work orders (cases/hotline/)."""
    now = now or timezone.now()
    name = case_services.clean_text(name, field=_("client system"), limit=100)
    contact = case_services.clean_text(contact, field=_("contact"), required=False, limit=200)
    if area is None or not area.is_active:
        raise DomainError(_("Choose a place that is in use."), code="bad_place")
    if not can_manage_area(acting_user, area):
        raise DomainError(_("You may not issue keys for this place."), code="forbidden")
    if not isinstance(rate_limit, int) or not 0 < rate_limit <= 10_000:
        raise DomainError(_("The rate limit is between 1 and 10000 requests a minute."), code="bad_rate_limit")
    if ApiClient.objects.filter(name=name).exists():
        raise DomainError(_("A client system with this name exists."), code="clash")
    secret = secrets.token_urlsafe(32)
    key = f"{KEY_PREFIX}{secret}"
    client = ApiClient.objects.create(
        name=name, contact=contact, area=area, key_prefix=key[:12], key_hash=hash_key(key), rate_limit=rate_limit,
        created_at=now, created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        is_hotline=bool(is_hotline),
    )
    return client, key


def client_revoke(*, client, acting_user, now=None):
    """Revoke a key for good; a second revoke changes nothing. Returns whether this call revoked it."""
    now = now or timezone.now()
    if not can_manage_area(acting_user, client.area):
        raise DomainError(_("You may not revoke keys for this place."), code="forbidden")
    changed = ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=acting_user if getattr(acting_user, "is_authenticated", False) else None)
    return bool(changed)


# --- public reads and the service list ---------------------------------------------------

@transaction.atomic
def public_reads_set(*, district, enabled, acting_user, now=None):
    """Open or close a district's matters to Open311 reads without a key; returns its PublicReads row."""
    if district is None or district.kind != AreaKind.DISTRICT:
        raise DomainError(_("Choose a district."), code="bad_place")
    if not can_manage_area(acting_user, district):
        raise DomainError(_("You may not change this district's public reads."), code="forbidden")
    row, _created = PublicReads.objects.update_or_create(district=district, defaults={"enabled": bool(enabled)})
    return row


def services_touched(*, category_ids):
    """Move the categories' change time (discovery's changeset) when a question of theirs is deleted:
    a deleted row leaves no time behind to take the latest of."""
    from cases.models import Category

    return Category.objects.filter(pk__in=list(category_ids)).update(updated_at=timezone.now())


# --- filing -------------------------------------------------------------------------------

def service_category(code):
    """The active category behind a service_code (mediation stays private: not a service)."""
    code = (code or "").strip()
    if not code:
        raise DomainError(_("Give a service_code."), code="no_service")
    found = selectors.services().filter(code=code).first()
    if found is None:
        raise DomainError(_("No service has this service_code."), code="unknown_service")
    return found


def _number(value):
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def clean_attributes(category, given):
    """Check answers against the category's questions; returns {code: value-or-list}."""
    questions = {a.code: a for a in ServiceAttribute.objects.filter(category=category)}
    unknown = sorted(set(given) - set(questions))
    if unknown:
        raise DomainError(_("This service has no attribute %(code)s.") % {"code": unknown[0]}, code="bad_attribute")
    cleaned = {}
    for code, question in questions.items():
        values = [v.strip() for v in given.get(code, []) if v.strip()]
        if not values:
            if question.required:
                raise DomainError(_("The attribute %(code)s is required.") % {"code": code}, code="bad_attribute")
            continue
        if question.datatype != Datatype.MULTI and len(values) > 1:
            raise DomainError(_("The attribute %(code)s takes one value.") % {"code": code}, code="bad_attribute")
        if any(len(v) > ATTRIBUTE_MAX for v in values):
            raise DomainError(_("The attribute %(code)s is too long.") % {"code": code}, code="bad_attribute")
        cleaned[code] = _attribute_value(question, values)
    return cleaned


def _attribute_value(question, values):
    code, kind = question.code, question.datatype
    if kind == Datatype.NUMBER:
        if _number(values[0]) is None:
            raise DomainError(_("The attribute %(code)s must be a number.") % {"code": code}, code="bad_attribute")
        return values[0]
    if kind == Datatype.DATETIME:
        parsed = parse_iso(values[0])
        if parsed is None:
            raise DomainError(_("The attribute %(code)s must be an ISO 8601 date and time with a time zone.")
                              % {"code": code}, code="bad_attribute")
        return values[0]
    if kind in LIST_DATATYPES:
        keys = {str(v.get("key")) for v in question.values}
        if any(v not in keys for v in values):
            raise DomainError(_("The attribute %(code)s has no such choice.") % {"code": code}, code="bad_attribute")
        return values if kind == Datatype.MULTI else values[0]
    return values[0]


def parse_iso(value):
    """An ISO 8601 date-time with a time zone, in UTC, or None (the spec requires the zone).

    In UTC because PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 allows;
    None too for instants that fall off the calendar once converted.
    """
    try:
        parsed = parse_datetime((value or "").strip())
        if parsed is None or timezone.is_naive(parsed):
            return None
        return parsed.astimezone(dt_timezone.utc)
    except (ValueError, OverflowError):
        return None


def _in_subtree(area):
    return Q(grid__tree_id=area.tree_id, grid__lft__gte=area.lft, grid__lft__lte=area.rght)


def _nearest_building(area, lat, lon):
    """The building under `area` nearest to the point, within NEAREST_BUILDING_M (or None)."""
    found = geo.nearest_buildings(Building.objects.filter(_in_subtree(area)), lat, lon, within_m=NEAREST_BUILDING_M)
    return found[0] if found else None


def locate(client, *, lat, long, address_id, address_string):
    """Where the matter is: {"building": …} or {"grid": …}, under the client's place.

    address_id is one of our building ids; a point is filed at the nearest
    building under the client's place; an address alone is filed at the
    client's own place when that is a grid or a community. Outside the place
    answers like an unknown place, so a key learns nothing beyond its subtree.
    """
    area = client.area
    nowhere = DomainError(_("No place this key serves is at that location."), code="bad_location")
    if address_id:
        building = None
        if address_id.isascii() and address_id.isdigit() and len(address_id) < 19:
            building = Building.objects.filter(_in_subtree(area), pk=int(address_id)).first()
        if building is None:
            raise nowhere
        return {"building": building}
    if lat is not None:
        if not point_in_place(area, lat, long):
            raise nowhere
        building = _nearest_building(area, lat, long)
        if building is not None:
            return {"building": building}
    if (lat is not None or address_string) and area.kind in (AreaKind.GRID, AreaKind.COMMUNITY):
        return {"grid": area}
    if lat is not None or address_string:
        raise nowhere
    raise DomainError(_("Give a location: lat and long, address_string or address_id."), code="no_location")


def _coordinates(lat, long):
    if lat in (None, "") and long in (None, ""):
        return None, None
    if lat in (None, "") or long in (None, ""):
        raise DomainError(_("Give both lat and long."), code="bad_location")
    lat_n, long_n = _number(lat), _number(long)
    if lat_n is None or long_n is None or not (-90 <= lat_n <= 90 and -180 <= long_n <= 180):
        raise DomainError(_("lat and long must be decimal degrees (WGS84)."), code="bad_location")
    quantum = Decimal("0.000001")
    return lat_n.quantize(quantum), long_n.quantize(quantum)


def description_required(category):
    """Whether a filing of this service needs a `description` (GeoReport v2 makes it optional).

    Our rule: a service with at least one required attribute takes a filing
    without a description, since the answers carry the substance (the case's
    description is then written from them, `_described`); any other service
    needs one. The service definition says which (`description_required`).
    """
    return not ServiceAttribute.objects.filter(category=category, required=True).exists()


def _described(category, answers):
    """A case description from the answers: "question：answer" lines, in the questions' order."""
    lines = []
    for question in ServiceAttribute.objects.filter(category=category, code__in=list(answers)).order_by(
            "order", "code"):
        given = answers[question.code]
        given = given if isinstance(given, list) else [given]
        if question.datatype in LIST_DATATYPES:
            names = {str(v.get("key")): str(v.get("name")) for v in question.values}
            given = [names.get(v, v) for v in given]
        lines.append(f"{question.description}：{'、'.join(given)}")
    return "\n".join(lines)[:case_services.DESCRIPTION_MAX]


@transaction.atomic
def request_file(*, client, service_code, description="", lat=None, long=None, address_string="", address_id="",
                 first_name="", last_name="", phone="", account_id="", attributes=None, now=None):
    """File a matter for `client` as a received report; returns (ServiceRequest, created).

    The request has its token and no case yet (the worker registers it). The
    same submission again within REPLAY_WINDOW answers the first filing
    (created=False): a client retrying after a timeout files nothing twice.
    """
    now = now or timezone.now()
    category = service_category(service_code)
    answers = clean_attributes(category, attributes or {})
    description = case_services.clean_text(description, field=_("description"), required=False,
                                            limit=case_services.DESCRIPTION_MAX)
    if not description:
        if description_required(category):
            raise DomainError(_("Give a description: this service has no required attributes to describe the "
                                "matter."), code="no_description")
        description = _described(category, answers)
    latitude, longitude = _coordinates(lat, long)
    address_string = case_services.clean_text(address_string, field=_("address"), required=False, limit=200)
    account_id = case_services.clean_text(account_id, field="account_id", required=False, limit=64)
    place = locate(client, lat=latitude, long=longitude, address_id=(address_id or "").strip(),
                   address_string=address_string)
    fingerprint = hashlib.sha256(json.dumps(
        [category.code, description, str(latitude), str(longitude), address_string, (address_id or "").strip(),
         answers], sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    # One filing at a time per client: the replay check and the insert cannot interleave.
    ApiClient.objects.select_for_update().filter(pk=client.pk).first()
    earlier = ServiceRequest.objects.filter(client=client, fingerprint=fingerprint,
                                            created_at__gte=now - REPLAY_WINDOW).select_related("case").first()
    if earlier is not None:
        return earlier, False
    token = secrets.token_hex(16)
    name = " ".join(p for p in ((first_name or "").strip(), (last_name or "").strip()) if p)
    received = services_intake.intake_receive(
        category=category, description=description, channel=Channel.OPEN311, address=address_string,
        latitude=latitude, longitude=longitude, reporter_name=name[:50], reporter_phone=(phone or "").strip(),
        external_ref=token, now=now, **place,
    )
    request = ServiceRequest.objects.create(tracking_code=received.tracking_code, client=client, token=token,
                                            fingerprint=fingerprint, attributes=answers, account_id=account_id,
                                            created_at=now)
    return request, True


def request_registered(*, case):
    """A filing became `case` (called by the intake worker in its transaction): link the two.

    Idempotent: a request linked already is left as it is.
    """
    return ServiceRequest.objects.filter(tracking_code=case.tracking_code, case__isnull=True).update(case=case)


def requests_registered(*, cases):
    """`request_registered` for a batch of the intake worker's cases, in one statement."""
    by_code = {case.tracking_code: case.pk for case in cases}
    if not by_code:
        return 0
    # A tracking code is on one case at most (a unique constraint).
    return ServiceRequest.objects.filter(tracking_code__in=by_code, case__isnull=True).update(
        case=Subquery(Case.objects.filter(tracking_code=OuterRef("tracking_code")).values("pk")[:1]))
