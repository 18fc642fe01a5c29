"""The OpenAPI 3 document of the JSON API (/api/v1/) and Open311's JSON endpoints.

Written by hand: the endpoints are plain Django views (Open311 also speaks
XML, which schema generators for DRF or Ninja do not model), so a generator
would mean a second framework. tests/test_api_openapi.py fuzzes every
operation here against the app with schemathesis, so the document cannot
drift from what the server answers.
"""

from cases import mediation_openapi
from cases.models import Status

CODE = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"}
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_DATETIME = {**DATETIME, "nullable": True}
NULLABLE_ID = {"type": "integer", "nullable": True}
NULLABLE_NUMBER = {"type": "number", "nullable": True}
TEXT = {"type": "string"}
# What a query parameter may hold: Open311 refuses control characters, the JSON API NUL (400).
PLAIN = {"type": "string", "pattern": "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]*$"}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties, required=None):
    return {"type": "object", "properties": properties, "required": list(required or properties)}


def _json(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _param(name, where="query", schema=None, description="", required=False, empty_is_absent=False):
    param = {"name": name, "in": where, "required": required or where == "path", "description": description,
             "schema": schema or PLAIN}
    if empty_is_absent:
        # `created_before=` is taken as no filter at all, and said so (issue #22 item 9).
        param["allowEmptyValue"] = True
        param["description"] = (description + " " if description else "") + "An empty value counts as absent."
    return param


API_ERROR = _json(_ref("ApiError"), "Refused")
OPEN311_ERROR = _json(_ref("Open311Errors"), "Refused (the spec's error list)")
PAGE_PARAMS = [_param("page", schema={"type": "integer", "minimum": 1, "maximum": 10**6}),
               _param("page_size", schema={"type": "integer", "minimum": 1, "maximum": 200})]
OPEN311_PAGE = [_param("page", schema={"type": "integer", "minimum": 1, "maximum": 10**6},
                       description="Page (extension), 1 first"),
                _param("page_size", schema={"type": "integer", "minimum": 1, "maximum": 1000},
                       description="Rows a page (extension), at most 1000")]
API_KEY = _param("api_key", description="The client's key. Without one, reads answer only when the portal "
                                        "runs with OPEN311_PUBLIC_READS and the matter's district opened "
                                        "them, with public fields only (else 403)", required=False)
WINDOW = [_param("start_date", schema=DATETIME, description="ISO 8601 with time zone"),
          _param("end_date", schema=DATETIME, description="ISO 8601 with time zone; at most 90 days after start")]


def _list_schema(item):
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}}


def _page_of(item):
    return _object({"page": {"type": "integer"}, "page_size": {"type": "integer"}, "has_next": {"type": "boolean"},
                    "results": {"type": "array", "items": _ref(item)}})


SCHEMAS = {
    "ApiError": _object({"detail": TEXT}),
    "Case": _object({
        "id": {"type": "integer"}, "number": TEXT, "status": TEXT, "status_label": TEXT, "is_open": {"type": "boolean"},
        "category": TEXT, "category_name": TEXT, "channel": TEXT, "description": TEXT, "address": TEXT,
        "district": {"type": "integer"}, "street": NULLABLE_ID, "community": NULLABLE_ID, "grid": NULLABLE_ID,
        "building": NULLABLE_ID, "latitude": NULLABLE_NUMBER, "longitude": NULLABLE_NUMBER,
        "responsible_level": TEXT, "assignee": NULLABLE_ID, "due_at": NULLABLE_DATETIME, "created_at": DATETIME,
        "closed_at": NULLABLE_DATETIME,
    }),
    "TimelineEvent": _object({
        "id": {"type": "integer"}, "action": TEXT, "action_label": TEXT, "from_status": TEXT, "to_status": TEXT,
        "at": DATETIME, "actor": {"type": "string", "nullable": True}, "note": TEXT, "is_public": {"type": "boolean"},
    }),
    "CaseDetail": {"allOf": [_ref("Case"), _object({"timeline": {"type": "array", "items": _ref("TimelineEvent")}})]},
    "CasePage": _page_of("Case"),
    "Category": _object({"code": TEXT, "name": TEXT, "parent": {"type": "string", "nullable": True}, "family": TEXT,
                         "triage": TEXT, "is_mediation": {"type": "boolean"}, "is_active": {"type": "boolean"}}),
    "Place": _object({"id": {"type": "integer"}, "code": TEXT, "name": TEXT,
                      "kind": {"type": "string", "enum": ["district", "street", "community", "grid"]},
                      "parent": NULLABLE_ID, "is_active": {"type": "boolean"}}),
    "PlacePage": _page_of("Place"),
    "Open311Errors": {"type": "array", "items": _object({"code": {"type": "integer"}, "description": TEXT})},
    "Discovery": _object({
        "changeset": DATETIME, "contact": TEXT, "key_service": TEXT,
        "endpoints": {"type": "array", "items": _object({
            "specification": TEXT, "url": TEXT, "changeset": DATETIME, "type": TEXT,
            "formats": {"type": "array", "items": TEXT}})},
    }),
    "Service": _object({"service_code": TEXT, "service_name": TEXT, "description": TEXT,
                        "metadata": {"type": "boolean"}, "type": {"type": "string", "enum": ["realtime", "batch",
                                                                                             "blackbox"]},
                        "keywords": TEXT, "group": TEXT}),
    "ServiceDefinition": _object({"service_code": TEXT, "description_required": {
        "type": "boolean", "description": "Whether a filing needs a description: not when a required attribute "
                                          "carries the substance (the case is described from the answers)"},
        "attributes": {"type": "array", "items": _object({
        "variable": {"type": "boolean"}, "code": TEXT,
        "datatype": {"type": "string", "enum": ["string", "number", "datetime", "text", "singlevaluelist",
                                                "multivaluelist"]},
        "required": {"type": "boolean"}, "datatype_description": TEXT, "order": {"type": "integer"},
        "description": TEXT, "values": {"type": "array", "items": _object({"key": TEXT, "name": TEXT})}})}}),
    "ServiceRequest": _object({
        "service_request_id": TEXT, "status": {"type": "string", "enum": ["open", "closed"]}, "status_notes": TEXT,
        "service_name": TEXT, "service_code": TEXT, "description": TEXT, "agency_responsible": TEXT,
        "service_notice": TEXT, "requested_datetime": DATETIME, "updated_datetime": DATETIME,
        "expected_datetime": NULLABLE_DATETIME, "address": TEXT, "address_id": TEXT, "zipcode": TEXT,
        "lat": NULLABLE_NUMBER, "long": NULLABLE_NUMBER, "media_url": TEXT,
    }),
    # A filing waits as a received report: the token at once, the id once registered (GeoReport v2).
    "Filed": _object({"service_request_id": TEXT, "token": TEXT, "service_notice": TEXT, "account_id": TEXT},
                     required=["token", "service_notice", "account_id"]),
    "Token": _object({"service_request_id": TEXT, "token": TEXT}, required=["token"]),
    "HotlineError": _object({"error": TEXT, "detail": TEXT}),
    "HotlineOrderIn": {
        "type": "object",
        "properties": {
            "order_number": {"type": "string", "minLength": 1, "maxLength": 64,
                             "description": "The hotline's work-order number; pushing it again answers the first"},
            "service_code": {**TEXT, "description": "A category code (/open311/v2/services.json)"},
            "description": {"type": "string", "maxLength": 4000},
            "place_code": {**TEXT, "description": "Code of a grid or community under the key's place"},
            "address_id": {**TEXT, "description": "A building id under the key's place"},
            "lat": {"type": "number"}, "long": {"type": "number"},
            "address_string": {"type": "string", "maxLength": 200},
            "caller_name": {"type": "string", "maxLength": 50}, "caller_phone": {"type": "string", "maxLength": 20},
            "received_at": {**DATETIME, "description": "When the hotline took the call (default: now)"},
            "return_window_hours": {"type": "integer", "minimum": 1, "maximum": 720,
                                    "description": "Hours after receipt during which the portal may hand the "
                                                   "order back (退单); default set by the portal"},
        },
        "required": ["order_number", "service_code", "description"],
    },
    "HotlineOrder": _object({
        "order_number": TEXT, "case_number": TEXT, "status": {"type": "string", "enum": list(Status.values)},
        "status_label": TEXT, "open": {"type": "boolean"}, "received_at": DATETIME, "return_due_at": DATETIME,
        "reply": {**_object({"text": TEXT, "at": DATETIME}), "nullable": True},
        "returned": {**_object({"reason": TEXT, "at": DATETIME}), "nullable": True},
        "visit": {**_object({"result": {"type": "string", "enum": ["satisfied", "basically", "unsatisfied",
                                                                    "unreached"]},
                             "note": TEXT, "at": DATETIME}), "nullable": True},
    }),
    "HotlineReplies": _object({"results": _list_schema("HotlineOrder"), "has_more": {"type": "boolean"}}),
    "HotlineVisitIn": {"type": "object", "properties": {
        "result": {"type": "string", "enum": ["satisfied", "basically", "unsatisfied", "unreached"]},
        "note": {"type": "string", "maxLength": 4000}}, "required": ["result"]},
    "RequestUpdate": _object({"update_id": TEXT, "service_request_id": TEXT,
                              "status": {"type": "string", "enum": ["open", "closed"]},
                              "updated_datetime": DATETIME, "description": TEXT, "media_url": TEXT}),
}


def _list(item):
    return {"type": "array", "items": _ref(item)}


def _api(summary, ok, params=(), not_found=False):
    responses = {"200": ok, "400": API_ERROR, "401": API_ERROR}
    if not_found:
        responses["404"] = API_ERROR
    return {"get": {"summary": summary, "tags": ["portal"], "security": [{"session": []}],
                    "parameters": list(params), "responses": responses}}


def _open311(summary, ok, params=(), keyed=True, not_found=False):
    responses = {"200": ok, "400": OPEN311_ERROR}
    if keyed:
        responses.update({"403": OPEN311_ERROR, "429": OPEN311_ERROR})
        params = [API_KEY, *params]
    if not_found:
        responses["404"] = OPEN311_ERROR
    return {"summary": summary, "tags": ["open311"], "parameters": list(params), "responses": responses}


HOTLINE_ERROR = _json(_ref("HotlineError"), "Refused")


def _hotline(summary, ok, *, body=None, params=(), created=None, not_found=False):
    """A hotline operation: key in the X-Api-Key header (a client marked as a hotline system)."""
    responses = {"200": ok, "400": HOTLINE_ERROR, "403": HOTLINE_ERROR, "429": HOTLINE_ERROR}
    if created:
        responses["201"] = created
    if not_found:
        responses["404"] = HOTLINE_ERROR
    operation = {"summary": summary, "tags": ["12345 hotline"], "security": [{"hotline_key": []}],
                 "parameters": list(params), "responses": responses}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    return operation


def _hotline_paths():
    number = _param("number", "path", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                    description="The work-order number")
    order = _json(_ref("HotlineOrder"), "The order")
    return {
        "/api/hotline/v1/orders/": {"post": _hotline(
            "Push a 12345 work order (a repeated order_number answers the first order, 200)", order,
            body="HotlineOrderIn", created=_json(_ref("HotlineOrder"), "Received: the new order"))},
        "/api/hotline/v1/orders/{number}/": {"get": _hotline(
            "One order: status, reply (回单), hand-back (退单), follow-up (回访)", order, params=[number],
            not_found=True)},
        "/api/hotline/v1/orders/{number}/visit/": {"post": _hotline(
            "Record the follow-up call (回访) on a replied order", order, body="HotlineVisitIn", params=[number],
            not_found=True)},
        "/api/hotline/v1/replies/": {"get": _hotline(
            "Orders replied to or handed back since a moment, oldest first (at most 200)",
            _json(_ref("HotlineReplies"), "Replies"),
            params=[_param("since", schema=DATETIME, description="ISO 8601 with time zone")])},
    }


def _paths():
    pk = _param("pk", "path", ID)
    return {
        **_hotline_paths(),
        **mediation_openapi.paths(),
        "/api/v1/cases/": _api("Cases you can see, newest first", _json(_ref("CasePage"), "A page of cases"), [
            _param("status", schema={"type": "string", "enum": list(Status.values)}, description="A case status"),
            _param("category", description="A category code"),
            _param("place", schema=ID, description="Only cases under this place (id)"),
            _param("created_after", schema=DATETIME, empty_is_absent=True),
            _param("created_before", schema=DATETIME, empty_is_absent=True), *PAGE_PARAMS,
        ], not_found=True),
        "/api/v1/cases/{pk}/": _api("One case with its staff timeline", _json(_ref("CaseDetail"), "The case"),
                                    [pk], not_found=True),
        "/api/v1/categories/": _api("Categories of matters", _json(_list("Category"), "Categories"), [
            _param("active", schema={"type": "boolean"},
                   description="true (the default): active categories only; false: inactive ones too")]),
        "/api/v1/places/": _api("Places you can see, tree order", _json(_ref("PlacePage"), "A page of places"), [
            _param("kind", schema={"type": "string", "enum": ["district", "street", "community", "grid"]}),
            _param("parent", schema=ID), *PAGE_PARAMS]),
        "/api/v1/places/{pk}/": _api("One place", _json(_ref("Place"), "The place"), [pk], not_found=True),
        "/open311/discovery.json": {"get": _open311("Service discovery", _json(_ref("Discovery"), "Discovery"),
                                                    keyed=False)},
        "/open311/v2/services.json": {"get": _open311("Services (categories)", _json(_list("Service"), "Services"),
                                                      keyed=False)},
        "/open311/v2/services/{service_code}.json": {"get": _open311(
            "Service definition (attributes)", _json(_ref("ServiceDefinition"), "Definition"),
            [_param("service_code", "path", CODE)], keyed=False, not_found=True)},
        "/open311/v2/requests.json": {
            "get": _open311("Service requests under the key's place", _json(_list("ServiceRequest"), "Requests"), [
                _param("service_request_id", description="Comma-separated; the other filters are then ignored"),
                _param("service_code", description="Comma-separated"), *WINDOW,
                _param("status", schema={"type": "string", "enum": ["open", "closed", "open,closed"]},
                       description="open, closed or both, comma-separated"), *OPEN311_PAGE]),
            # 404: an unknown service_code (GeoReport v2).
            "post": {**_open311("File a service request", _json(_list("Filed"), "Filed (or the earlier identical "
                                                                                  "filing)"), not_found=True),
                     "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
                         "schema": {"type": "object", "properties": {
                             "api_key": PLAIN, "service_code": CODE, "lat": {"type": "number"},
                             "long": {"type": "number"}, "address_string": PLAIN, "address_id": PLAIN,
                             "first_name": PLAIN, "last_name": PLAIN, "phone": PLAIN, "email": PLAIN,
                             "account_id": PLAIN, "device_id": PLAIN, "description": {
                                 **PLAIN, "maxLength": 4000,
                                 "description": "Required unless the service definition says "
                                                "description_required: false"}},
                             "required": ["service_code"]}}}}},
        },
        "/open311/v2/requests/{service_request_id}.json": {"get": _open311(
            "One service request", _json(_list("ServiceRequest"), "The request"),
            [_param("service_request_id", "path", CODE)], not_found=True)},
        "/open311/v2/tokens/{token}.json": {"get": _open311(
            "The request id behind a token", _json(_list("Token"), "The request"),
            [_param("token", "path", CODE)], not_found=True)},
        "/open311/v2/servicerequestupdates.json": {"get": _open311(
            "Status changes (servicerequestupdates extension)", _json(_list("RequestUpdate"), "Updates"),
            [*WINDOW, *OPEN311_PAGE])},
    }


def document(request=None):
    server = request.build_absolute_uri("/").rstrip("/") if request is not None else ""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Grid-governance portal API",
            "version": "1.0.0",
            "description": "The portal's JSON API (session sign-in, scoped like the pages) and Open311 GeoReport v2 "
                           "(JSON shown; every Open311 path also answers as .xml), and the 12345 hotline system's "
                           "endpoint (/api/hotline/v1/, key in the X-Api-Key header), and the mediation docking endpoint for "
                           "courts, police stations and petition offices (/api/mediation/v1/, key in X-Api-Key).",
        },
        "servers": [{"url": server or "/"}],
        "paths": _paths(),
        "components": {"schemas": {**SCHEMAS, **mediation_openapi.SCHEMAS}, "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            "hotline_key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            **mediation_openapi.SECURITY_SCHEMES}},
    }
