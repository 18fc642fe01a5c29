"""GeoReport v2 answers in JSON or XML (UTF-8, with the XML declaration), and the
spec's error shape: [{"code": 400, "description": "…"}] / <errors><error>…</error></errors>."""

import json
import re
from datetime import datetime
from xml.etree import ElementTree

from django.http import HttpResponse
from django.utils import timezone

# The element each list's items get in XML.
ITEM_TAGS = {
    "service_requests": "request",
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
    "service_requests_updates": "request_update",
}
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# Characters XML 1.0 cannot carry at all.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def iso(value):
    """ISO 8601 with the offset, local time (e.g. 2026-11-23T09:00:00+08:00)."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _plain(value):
    if isinstance(value, datetime):
        return iso(value)
    return value


def _xml_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(_plain(value)))


def _element(parent, tag, value):
    node = ElementTree.SubElement(parent, tag)
    _fill(node, tag, value)


def _fill(node, tag, value):
    if isinstance(value, dict):
        for key, child in value.items():
            _element(node, key, child)
    elif isinstance(value, list):
        for child in value:
            _element(node, ITEM_TAGS[tag], child)
    else:
        node.text = _xml_text(value)


def _json_ready(value):
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return _plain(value)


def respond(fmt, root, payload, status=200):
    """`payload` is a list (rendered under `root`) or a dict (the root's children)."""
    if fmt == "xml":
        node = ElementTree.Element(root)
        _fill(node, root, payload)
        text = ElementTree.tostring(node, encoding="unicode")
        # A parser turns a literal CR (CRLF) into LF; written as a character reference it survives.
        # Tags never hold one, so every CR here is in a value.
        text = text.replace("\r", "&#13;")
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + text.encode()
    else:
        body = json.dumps(_json_ready(payload), ensure_ascii=False).encode("utf-8")
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error(fmt, status, description):
    return respond(fmt, "errors", [{"code": status, "description": str(description)}], status=status)
