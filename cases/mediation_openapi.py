"""The mediation docking endpoint's part of the OpenAPI document (cases/open311/openapi.py
merges it): paths and schemas of /api/mediation/v1/ (cases/mediation_api.py)."""

from .models import DisputeType, MediationOutcome, Referral, Status

TEXT = {"type": "string"}
NULLABLE_TEXT = {"type": "string", "nullable": True}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


SCHEMAS = {
    "MediationError": {"type": "object", "properties": {"error": TEXT, "detail": TEXT}, "required": ["error", "detail"]},
    "MediationReferralIn": {
        "type": "object",
        "properties": {
            "reference": {"type": "string", "minLength": 1, "maxLength": 64,
                          "description": "The referring body's own reference (案号/警情号/信访件号); pushing it "
                                         "again answers the first file"},
            "dispute_type": {"type": "string", "enum": list(DisputeType.values)},
            "description": {"type": "string", "minLength": 1, "maxLength": 4000},
            "claims": {"type": "string", "maxLength": 4000, "description": "What the applicant asks (申请事项)"},
            "place_code": {"type": "string", "minLength": 1, "maxLength": 64,
                           "description": "Code of a community or grid under the key's place"},
            "reply_due_on": {**DATE, "description": "The date the written reply on the outcome is due"},
            "service_code": {"type": "string", "maxLength": 20,
                             "description": "A dispute category code (default: the dispute type's)"},
            "parties": {"type": "array", "maxItems": 20, "items": {"type": "object", "properties": {
                "role": {"type": "string", "enum": ["applicant", "respondent", "third_party"]},
                "name": {"type": "string", "maxLength": 50}, "id_number": TEXT, "phone": TEXT,
                "address": {"type": "string", "maxLength": 200}}}},
        },
        "required": ["reference", "dispute_type", "description", "place_code", "reply_due_on"],
    },
    "MediationReferral": {
        "type": "object",
        "properties": {
            "reference": TEXT, "file_number": {**TEXT, "description": "（年）某社区调字第N号"},
            "case_number": TEXT, "channel": {"type": "string", "enum": ["court", "police", "petition"]},
            "referring_body": TEXT, "dispute_type": {"type": "string", "enum": list(DisputeType.values)},
            "received_at": DATETIME, "reply_due_on": {**DATE, "nullable": True},
            "status": {"type": "string", "enum": list(Status.values)}, "status_label": TEXT,
            "outcome": {"type": "string", "enum": list(MediationOutcome.values)}, "outcome_label": TEXT,
            "concluded_at": {**DATETIME, "nullable": True},
            "referral": {"type": "string", "enum": list(Referral.values), "nullable": True},
            "reply": {"type": "object", "nullable": True, "properties": {"text": TEXT, "at": DATETIME},
                      "required": ["text", "at"]},
        },
        "required": ["reference", "file_number", "case_number", "channel", "referring_body", "dispute_type",
                     "received_at", "reply_due_on", "status", "status_label", "outcome", "outcome_label",
                     "concluded_at", "referral", "reply"],
    },
}

ERROR = _json(_ref("MediationError"), "Refused")


def _operation(summary, ok, *, body=None, params=(), created=None, not_found=False):
    responses = {"200": ok, "400": ERROR, "403": ERROR, "429": ERROR}
    if created:
        responses["201"] = created
    if not_found:
        responses["404"] = ERROR
    operation = {"summary": summary, "tags": ["mediation docking (诉调/警调/访调对接)"],
                 "security": [{"mediation_key": []}], "parameters": list(params), "responses": responses}
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    return operation


def paths():
    referral = _json(_ref("MediationReferral"), "The referral's file")
    reference = {"name": "reference", "in": "path", "required": True,
                 "description": "The reference the body pushed (URL-encoded)",
                 "schema": {"type": "string", "pattern": "^[A-Za-z0-9_()（）\\-\u4e00-\u9fa5]{1,64}$"}}
    return {
        "/api/mediation/v1/referrals/": {"post": _operation(
            "Refer a dispute for people's mediation (a repeated reference answers the first file, 200)", referral,
            body="MediationReferralIn", created=_json(_ref("MediationReferral"), "Received: the new file's number"))},
        "/api/mediation/v1/referrals/{reference}/": {"get": _operation(
            "The outcome of a referral and the committee's written reply", referral, params=[reference],
            not_found=True)},
    }


SECURITY_SCHEMES = {"mediation_key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}
