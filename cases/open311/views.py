"""Open311 GeoReport v2 endpoints (wiki.open311.org/GeoReport_v2), each in .json and .xml.

Discovery, services and service definitions are public. Everything about
matters needs an api_key: a key is bound to a place and reads and files under
it only (a matter elsewhere answers 404, as if it did not exist). Reads without
a key answer only when OPEN311_PUBLIC_READS is on, only public fields of the
matters of districts that opened them (cases/open311/public.py); filing always
needs a key. Errors take
the spec's shape and status codes (400 bad input, 403 bad key, 404 unknown);
429 when a key goes over its rate limit. An empty parameter counts as absent.
"""

import functools
from datetime import timedelta

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http.multipartparser import MultiPartParserError
from django.db.models import Case as SqlCase
from django.db.models import CharField, Exists, F, Max, OuterRef, Subquery, When
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from cases.models import FINAL_STATUSES, CaseEvent, Category, EventAction, Status
from cases.selectors import REPORTER_NOTES
from grid.models import PATH_FIELDS
from portal.errors import DomainError
from portal.ratelimit import over_limit, over_rate

from . import public, selectors, services
from .models import ServiceAttribute, ServiceRequest
from .render import error, respond

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Before any service or attribute carries its change time (an empty table).
CHANGESET_FLOOR = "2026-11-24T00:00:00+08:00"
WINDOW = timedelta(days=90)
PAGE_SIZE_MAX = 1000
IDS_MAX = 100
CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\r"}


class BadRequest(Exception):
    pass


def open_or_closed(status):
    return "closed" if status in FINAL_STATUSES else "open"


# --- the frame every endpoint runs in ------------------------------------------------------

def _params(request):
    """Query (and form) parameters, empty ones dropped; lists kept for attribute[...].

    Parameters we do not read are ignored whatever they hold (a name with a control
    character is none of ours); those we read refuse control characters (`_values`).
    """
    merged = {}
    for source in (request.GET, request.POST) if request.method == "POST" else (request.GET,):
        for key, values in source.lists():
            kept = [v for v in values if v.strip()]
            if kept and not any(ch in CONTROL for ch in key):
                merged[key] = kept
    return merged


def _values(params, name):
    values = params.get(name, [])
    if any(ch in CONTROL for v in values for ch in v):
        raise BadRequest(_("Parameters may not contain control characters."))
    return values


def _first(params, name):
    return (_values(params, name) or [""])[0].strip()


def _rate_limited(client):
    """Requests a minute per api_key (the key's own limit); fails open when the cache is down."""
    return over_limit(bucket="open311", ident=client.pk, limit=client.rate_limit, window=60)


def endpoint(*, methods=("GET",), keyed=True, public_read=False):
    """`public_read`: a GET without api_key is served (client=None) when public reads are on."""
    def wrap(view):
        @csrf_exempt
        @functools.wraps(view)
        def run(request, fmt, **kwargs):
            if request.method == "HEAD" and "GET" in methods:
                # HEAD answers as GET, headers and status alike, without the body (RFC 9110 §9.3.2).
                request.method = "GET"
                response = run(request, fmt, **kwargs)
                request.method = "HEAD"
                response["Content-Length"] = str(len(response.content))
                response.content = b""
                return response
            if request.method not in methods:
                response = error(fmt, 405, _("This endpoint takes %(methods)s.") % {"methods": ", ".join(methods)})
                response["Allow"] = ", ".join(methods)
                return response
            try:
                params = _params(request)
                # Path parts too: PostgreSQL refuses NUL in a string it is asked to compare.
                if any(ch in CONTROL for value in kwargs.values() for ch in str(value)):
                    raise BadRequest(_("Parameters may not contain control characters."))
                api_key = _first(params, "api_key")
            except (RequestDataTooBig, TooManyFieldsSent):
                return error(fmt, 400, _("The request is too large."))
            except MultiPartParserError:
                return error(fmt, 400, _("The request body is malformed."))
            except BadRequest as problem:
                return error(fmt, 400, problem)
            client = None
            anonymous = public_read and request.method == "GET" and not api_key and public.enabled()
            if anonymous and over_rate(request, "open311-public", "OPEN311_PUBLIC_RATE", (60, 60)):
                response = error(fmt, 429, _("Too many requests; try again in a minute."))
                response["Retry-After"] = "60"
                return response
            if keyed and not anonymous:
                client = selectors.client_by_key(api_key)
                if client is None:
                    return error(fmt, 403, _("Invalid api_key."))
                if _rate_limited(client):
                    response = error(fmt, 429, _("Too many requests for this api_key; try again in a minute."))
                    response["Retry-After"] = "60"
                    return response
            try:
                return view(request, fmt, params=params, client=client, **kwargs)
            except BadRequest as problem:
                return error(fmt, 400, problem)
            except DomainError as problem:
                # GeoReport v2: an unknown service_code is 404, like an unknown request id.
                return error(fmt, 404 if problem.code == "unknown_service" else 400, problem)
            except Http404:
                return error(fmt, 404, _("Not found."))

        return run

    return wrap


# --- parameters ------------------------------------------------------------------------------

def _date(params, name):
    raw = _first(params, name)
    if not raw:
        return None
    value = services.parse_iso(raw)
    if value is None:
        raise BadRequest(_("%(name)s must be an ISO 8601 date and time with a time zone, "
                           "e.g. 2026-11-23T09:00:00+08:00.") % {"name": name})
    return value


def window(params, now):
    """(start, end) of start_date/end_date: at most 90 days, the last 90 days by default."""
    start, end = _date(params, "start_date"), _date(params, "end_date")
    if start is None and end is None:
        end = now
    try:
        if start is None:
            start = end - WINDOW
        if end is None:
            end = start + WINDOW
    except OverflowError:
        raise BadRequest(_("The dates are out of range.")) from None
    if end < start:
        raise BadRequest(_("end_date is before start_date."))
    if end - start > WINDOW:
        raise BadRequest(_("The date range is at most 90 days."))
    return start, end


def _positive(params, name, default, limit):
    raw = _first(params, name)
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or not 0 < int(raw) <= limit:
        raise BadRequest(_("%(name)s must be a whole number from 1 to %(limit)d.") % {"name": name, "limit": limit})
    return int(raw)


def page(params, rows):
    """The page/page_size extension (page 1 first; at most 1000 a page, the spec's cap)."""
    size = _positive(params, "page_size", PAGE_SIZE_MAX, PAGE_SIZE_MAX)
    number = _positive(params, "page", 1, 10**6)
    return rows[(number - 1) * size:number * size]


def _codes(params, name):
    return [c.strip() for v in _values(params, name) for c in v.split(",") if c.strip()]


# --- the answers ------------------------------------------------------------------------------

def _service_row(category):
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": str(category),
        "metadata": category.has_attributes,
        "type": "realtime",
        "keywords": category.get_family_display(),
        "group": category.parent.name if category.parent_id else category.name,
    }


def _request_row(row):
    lat = row["latitude"] if row["latitude"] is not None else row["building__latitude"]
    lon = row["longitude"] if row["longitude"] is not None else row["building__longitude"]
    return {
        "service_request_id": row["number"],
        "status": open_or_closed(row["status"]),
        "status_notes": row["last_public_note"] or str(Status(row["status"]).label),
        "service_name": row["category__name"],
        "service_code": row["category__code"],
        "description": row["description"],
        "agency_responsible": row["agency"],
        "service_notice": "",
        "requested_datetime": row["created_at"],
        "updated_datetime": row["updated_at"] or row["created_at"],
        "expected_datetime": row["handle_due_at"] or row["due_at"],
        "address": row["address"],
        "address_id": str(row["building_id"]) if row["building_id"] else "",
        "zipcode": "",
        "lat": float(lat) if lat is not None else None,
        "long": float(lon) if lon is not None else None,
        "media_url": "",
    }


def _public_row(row):
    """A matter as anyone may read it: service, status, public notes, building, dates (public.py)."""
    return {
        "service_request_id": row["number"],
        "status": open_or_closed(row["status"]),
        "status_notes": row["last_public_note"] or str(Status(row["status"]).label),
        "service_name": row["category__name"],
        "service_code": row["category__code"],
        "description": "",
        "agency_responsible": "",
        "service_notice": "",
        "requested_datetime": row["created_at"],
        "updated_datetime": row["updated_at"] or row["created_at"],
        "expected_datetime": row["handle_due_at"] or row["due_at"],
        "address": row["building__address"] or row["building__number"] or "",
        "address_id": str(row["building_id"]) if row["building_id"] else "",
        "zipcode": "",
        "lat": float(row["building__latitude"]) if row["building__latitude"] is not None else None,
        "long": float(row["building__longitude"]) if row["building__longitude"] is not None else None,
        "media_url": "",
    }


REQUEST_COLUMNS = ("number", "status", "description", "created_at", "handle_due_at", "due_at", "address",
                   "building_id", "latitude", "longitude", "building__latitude", "building__longitude",
                   "category__name", "category__code")


def _requests(client):
    """The client's matters as plain rows (a page of 1000 is too many model instances to build);
    without a client, the public matters with their public columns only."""
    events = CaseEvent.objects.filter(case=OuterRef("pk")).order_by("-at", "-id")
    # The notes written for the reporter (the tracking page's rule), never staff's working notes.
    reporter_notes = events.filter(is_public=True, action__in=REPORTER_NOTES).exclude(note="")
    if client is None:
        return (public.public_cases()
                .annotate(updated_at=Subquery(events.values("at")[:1]),
                          last_public_note=Subquery(reporter_notes.values("note")[:1]))
                .values(*public.PUBLIC_COLUMNS, "updated_at", "last_public_note"))
    # The responsible place's name, read in the same query (LEFT JOINs), whatever its level.
    agency = SqlCase(*(When(responsible_level=level, then=F(f"{level}__name")) for level in PATH_FIELDS),
                     output_field=CharField())
    return (selectors.cases_for_client(client)
            .annotate(updated_at=Subquery(events.values("at")[:1]),
                      last_public_note=Subquery(reporter_notes.values("note")[:1]),
                      agency=agency)
            .values(*REQUEST_COLUMNS, "updated_at", "last_public_note", "agency"))


# --- endpoints -------------------------------------------------------------------------------

def changeset():
    """When the services last changed: the latest change of any category or attribute (GeoReport v2
    clients cache the service list until it moves). Retiring a category saves it, so that moves it too."""
    latest = [Category.objects.aggregate(at=Max("updated_at"))["at"],
              ServiceAttribute.objects.aggregate(at=Max("updated_at"))["at"]]
    latest = [at for at in latest if at is not None]
    return max(latest) if latest else CHANGESET_FLOOR


@endpoint(keyed=False)
def discovery(request, fmt, *, params, client):
    stamp = changeset()
    base = request.build_absolute_uri(reverse("open311:services", kwargs={"fmt": fmt})).rsplit("/", 1)[0] + "/"
    return respond(fmt, "discovery", {
        "changeset": stamp,
        "contact": _("Ask the district's grid-governance office for an API key."),
        "key_service": request.build_absolute_uri(reverse("admin:open311_apiclient_changelist")),
        "endpoints": [{"specification": SPECIFICATION, "url": base, "changeset": stamp,
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    })


def _with_metadata(queryset):
    return queryset.annotate(has_attributes=Exists(ServiceAttribute.objects.filter(category=OuterRef("pk"))))


@endpoint(keyed=False)
def service_list(request, fmt, *, params, client):
    return respond(fmt, "services", [_service_row(c) for c in _with_metadata(selectors.services())])


@endpoint(keyed=False)
def service_definition(request, fmt, *, params, client, code):
    category = selectors.services().filter(code=code).first()
    if category is None:
        raise Http404
    attributes = [{
        "variable": True,
        "code": a.code,
        "datatype": a.datatype,
        "required": a.required,
        "datatype_description": a.datatype_description,
        "order": a.order,
        "description": a.description,
        "values": [{"key": str(v.get("key")), "name": str(v.get("name"))} for v in a.values or []],
    } for a in ServiceAttribute.objects.filter(category=category).order_by("order", "code")]
    # An extension the spec leaves room for: whether a filing needs a description
    # (services.description_required: not when a required attribute carries the substance).
    return respond(fmt, "service_definition", {"service_code": category.code,
                                               "description_required": services.description_required(category),
                                               "attributes": attributes})


def _row(client):
    return _request_row if client is not None else _public_row


@endpoint(methods=("GET", "POST"), public_read=True)
def requests(request, fmt, *, params, client):
    if request.method == "POST":
        return _file(fmt, params, client)
    ids = _codes(params, "service_request_id")
    rows = _requests(client).order_by("-created_at", "-id")
    if ids:
        if len(ids) > IDS_MAX:
            raise BadRequest(_("At most %(n)d service_request_id values.") % {"n": IDS_MAX})
        rows = rows.filter(number__in=ids)
    else:
        start, end = window(params, timezone.now())
        rows = rows.filter(created_at__gte=start, created_at__lte=end)
        codes = _codes(params, "service_code")
        if codes:
            rows = rows.filter(category__code__in=codes)
        statuses = {s.lower() for s in _codes(params, "status")}
        if statuses - {"open", "closed"}:
            raise BadRequest(_("status is open, closed or both (comma-separated)."))
        if statuses == {"open"}:
            rows = rows.exclude(status__in=FINAL_STATUSES)
        elif statuses == {"closed"}:
            rows = rows.filter(status__in=FINAL_STATUSES)
    return respond(fmt, "service_requests", [_row(client)(c) for c in page(params, rows)])


def _file(fmt, params, client):
    # attribute[code]=value; a multivaluelist as attribute[code][]=a&attribute[code][]=b.
    attributes = {}
    for key in params:
        if key.startswith("attribute[") and key.endswith("]"):
            attributes.setdefault(key[len("attribute["):-1].removesuffix("]["), []).extend(_values(params, key))
    filed, _created = services.request_file(
        client=client, service_code=_first(params, "service_code"), description=_first(params, "description"),
        lat=_first(params, "lat") or None, long=_first(params, "long") or None,
        address_string=_first(params, "address_string"), address_id=_first(params, "address_id"),
        first_name=_first(params, "first_name"), last_name=_first(params, "last_name"),
        phone=_first(params, "phone"), account_id=_first(params, "account_id"), attributes=attributes,
    )
    # GeoReport v2: the id when the request exists at once, else a token to poll (GET tokens/<token>).
    # A filing waits as a received report until a worker registers it, so the answer is the token;
    # a replayed submission registered meanwhile answers its id.
    answer = {"token": filed.token}
    if filed.case_id is not None:
        answer = {"service_request_id": filed.case.number, **answer}
    return respond(fmt, "service_requests", [{
        **answer,
        "service_notice": _("Received. Community staff register it, then it goes to the grid worker."),
        "account_id": filed.account_id,
    }])


@endpoint(public_read=True)
def request_detail(request, fmt, *, params, client, request_id):
    case = _requests(client).filter(number=request_id).first()
    if case is None:
        raise Http404
    return respond(fmt, "service_requests", [_row(client)(case)])


@endpoint(public_read=True)
def token(request, fmt, *, params, client, token):
    """The case number of a filing once registered; until then the token alone."""
    if client is None:
        number = public.public_filing(token)
        if number is False:
            raise Http404
    else:
        filed = ServiceRequest.objects.filter(client=client, token=token).select_related("case").first()
        if filed is None:
            raise Http404
        number = filed.case.number if filed.case_id is not None else None
    answer = {"token": token}
    if number is not None:
        answer = {"service_request_id": number, **answer}
    return respond(fmt, "service_requests", [answer])


@endpoint(public_read=True)
def request_updates(request, fmt, *, params, client):
    """The servicerequestupdates extension: status changes in a window, oldest first."""
    start, end = window(params, timezone.now())
    updates = selectors.status_updates(client) if client is not None else public.public_status_updates()
    events = updates.filter(at__gte=start, at__lte=end).values_list(
        "pk", "case__number", "to_status", "at", "note", "is_public", "action")
    rows = [{
        "update_id": str(pk),
        "service_request_id": number,
        "status": open_or_closed(to_status),
        "updated_datetime": at,
        "description": note if is_public and note and action in REPORTER_NOTES else str(EventAction(action).label),
        "media_url": "",
    } for pk, number, to_status, at, note, is_public, action in page(params, events)]
    return respond(fmt, "service_requests_updates", rows)


@csrf_exempt
def unknown(request, rest=""):
    """Anything else under /open311/ (a .csv, a missing format, a mistyped endpoint): the spec's
    error shape, in XML when the path asks for it, else JSON; never Django's HTML page."""
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return error(fmt, 404, _("Not found. Endpoints end in .json or .xml."))
