"""The portal's own 500 page (issue #25, part 5).

Django's default answer to an unexpected error is a bare English "Server Error
(500)". Residents met it when PostgreSQL stopped for 30 s, in the middle of
sending a report, and could not tell whether the report had been kept.

This handler renders templates/500.html in Chinese first, on a phone, and
says plainly when the failed request was a resident's report or order that was
NOT saved. It must work when the thing that broke is the database: it renders
without a request context (no context processors, no session, no user, no
query), and if even that fails it answers a fixed page written here.
"""

import logging
from xml.etree import ElementTree

from django.conf import settings
from django.http import HttpResponseServerError, JsonResponse
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

# The resident's submissions whose failure must say "not saved", by URL name.
LOST_SUBMISSIONS = {
    "cases:report": "report",
    "cases:report_building": "report",
    "volunteers:order_place": "order",
    "volunteers:order_place_building": "order",
}

# The last resort: no template, no translation, no static file lookup.
FALLBACK = """<!doctype html>
<html lang="zh-hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>服务器出错 · Server error</title></head>
<body><h1>服务器出错，请稍后再试。</h1>
<p>如果您刚才在提交反映或订单，它<strong>没有</strong>保存，请过几分钟重新提交。</p>
<p lang="en">Server error. If you were sending a report or an order, it was NOT saved: please try again in a few minutes.</p>
<p><a href="/">首页 · Home</a></p></body></html>
"""


def lost_submission(request):
    """'report' or 'order' when the failed request was a resident's form being sent, else None."""
    if request.method != "POST":
        return None
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
        except Exception:  # noqa: BLE001 — the URLconf itself may be what broke
            return None
    return LOST_SUBMISSIONS.get(match.view_name)


def api_server_error(request):
    """The 500 of an API request in its API's own shape, or None for a page: Open311 clients get the
    spec's error list (XML when the path asks for it), the JSON APIs a JSON body; never the HTML page."""
    path = request.path
    if not path.startswith(("/open311/", "/api/")):
        return None
    message = _("Server error. Try again later.")
    try:
        if path.startswith("/open311/"):  # GeoReport v2's error list (the portal layer names no app)
            if path.endswith(".xml"):
                root = ElementTree.Element("errors")
                error = ElementTree.SubElement(root, "error")
                ElementTree.SubElement(error, "code").text = "500"
                ElementTree.SubElement(error, "description").text = str(message)
                body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="utf-8",
                                                                                          xml_declaration=False)
                response = HttpResponseServerError(body, content_type="text/xml; charset=utf-8")
            else:
                response = JsonResponse([{"code": 500, "description": str(message)}], safe=False, status=500,
                                        json_dumps_params={"ensure_ascii": False})
        else:
            response = JsonResponse({"error": "server_error", "detail": str(message)}, status=500,
                                    json_dumps_params={"ensure_ascii": False})
    except Exception:  # noqa: BLE001 — the error answer must not fail in turn
        log.exception("the API's 500 could not be rendered; sent the fixed one")
        response = HttpResponseServerError(b'{"error": "server_error"}', content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def server_error(request, template_name="500.html"):
    """handler500: the portal's page, never the request context (it may need the database)."""
    api = api_server_error(request)
    if api is not None:
        return api
    kind = None
    try:
        kind = lost_submission(request)
        html = loader.get_template(template_name).render({
            "lost": kind,
            "portal_name": settings.PORTAL_NAME,
            "retry_url": request.path if kind else "",
            "hotline": (getattr(settings, "NOTICE_BOARD_NUMBERS", None) or {}).get("hotline", ""),
            "title": _("Server error"),
        })
    except Exception:  # noqa: BLE001 — the error page must not fail in turn
        log.exception("the 500 page could not be rendered; sent the fixed one")
        html = FALLBACK
    response = HttpResponseServerError(html)
    response["Cache-Control"] = "no-store"
    return response


# --- 400, 403, 404 and the expired form (issue #20, part 9) -----------------------------------
# These render with the request context (the database is up: only an unknown address or a refused
# permission brought us here) and give every audience somewhere to go next: a resident with a stale
# QR code finds the report form and the tracking page, staff their start page.

def _render(request, template_name, status, **extra):
    from django.shortcuts import render

    context = {"hotline": (getattr(settings, "NOTICE_BOARD_NUMBERS", None) or {}).get("hotline", ""), **extra}
    try:
        return render(request, template_name, context, status=status)
    except Exception:  # noqa: BLE001 — fall back to Django's plain answer rather than a second error
        log.exception("the %s page could not be rendered", status)
        from django.http import HttpResponse

        return HttpResponse(status=status)


def bad_request(request, exception, template_name="400.html"):
    return _render(request, template_name, 400)


def permission_denied(request, exception, template_name="403.html"):
    from .errors import PostRefused

    # Only the portal's own refusals say why; Django's carry developers' words, never shown.
    reason = str(exception) if isinstance(exception, PostRefused) else ""
    return _render(request, template_name, 403, reason=reason)


def page_not_found(request, exception, template_name="404.html"):
    return _render(request, template_name, 404)


def csrf_failure(request, reason="", template_name="403_csrf.html"):
    """CSRF_FAILURE_VIEW: a form sent from a page open too long says so, and that nothing was saved."""
    log.info("CSRF failure on %s: %s", request.path, reason)
    return _render(request, template_name, 403)
