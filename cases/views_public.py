"""The residents' pages, without sign-in: the report form (/report/, a building's QR
code /report/b/<id>/), its receipt, the place selects' JSON, and tracking a report by
its code (status, public timeline, photos, the rating once closed).

A report is written to the received-reports table and acknowledged at once; the
worker registers it (cases/services_intake.py), so no broker or cache outage refuses one.
"""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_POST

from grid.models import Area, AreaKind, Building
from grid.views import place_names, prefill_place, public_page
from portal.fields import files_not_kept
from portal.errors import DomainError
from portal.ratelimit import over_rate

from . import forms as case_forms
from . import services, services_intake, workflow
from .models import FINAL_STATUSES, CasePhoto, Channel, Status
from .selectors import case_by_tracking_code, intake_by_tracking_code, public_timeline
from .uploads import capped_uploads, image_response

# Public report submissions and tracking-code misses per client address and window (seconds).
DEFAULT_REPORT_RATE = (30, 600)
DEFAULT_TRACK_MISS_RATE = (60, 600)


# --- residents: report ----------------------------------------------------------------------

@capped_uploads
def report(request, building_id=None, *, channel=None):
    """The public report page (no sign-in). /report/b/<id>/ is the building's QR code;
    /report/at/<id>/ the building chosen in the location step (cases/views_location.py)."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    building = None
    if building_id is not None:
        building = Building.objects.select_related("grid").filter(pk=building_id).first()
        if building is None or not building.grid.is_active:
            return public_page(request, "cases/report_unknown_building.html", {}, status=404)
    channel = channel or (Channel.QR if building is not None else Channel.WEB)
    status = 200
    if request.method == "GET":
        initial = prefill_place(case_forms.parse_id(request.GET.get("building"))) if building is None else {}
        form = case_forms.PublicReportForm(initial=initial, building=building)
    elif "_refine" in request.POST and building is None:
        # No JavaScript: re-show the form with the next level of places to choose from.
        form = case_forms.PublicReportForm(initial=request.POST.dict(), building=None)
    else:
        form = case_forms.PublicReportForm(request.POST, request.FILES, building=building,
                                           refused_uploads=request.refused_uploads)
        if over_rate(request, "report", "CASE_REPORT_RATE", DEFAULT_REPORT_RATE):
            form.is_valid()
            form.add_error(None, _("Too many reports from this connection. Please wait a few minutes and try again."))
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            try:
                received = services_intake.intake_receive(
                    category=data["category"], description=data["description"], channel=channel,
                    grid=data["grid"], building=data["building"], community=data["community"],
                    street=data["street"], reporter_name=data["reporter_name"],
                    reporter_phone=data["reporter_phone"], photo=data.get("photo"), now=timezone.now(),
                )
            except DomainError as error:
                case_forms.add_domain_error(form, error)
            else:
                return redirect("cases:report_done", code=received.tracking_code)
        if status == 200:
            status = 400
        files_not_kept(form, request.FILES)
    return public_page(request, "cases/report.html", {
        "form": form,
        "building": building,
        "place_names": place_names(building) if building is not None else [],
        "max_mb": round(settings.CASE_PHOTO_MAX_BYTES / 1024 / 1024, 1),
    }, status=status)


@require_GET
def report_done(request, code):
    case, received = _tracked(code)
    if case is None and received is None:
        return _track_missing(request)
    found = case or received
    return public_page(request, "cases/report_done.html", {
        "code": found.tracking_code_display,
        "track_url": reverse("cases:track", args=[found.tracking_code]),
        "number": case.number if case is not None else "",
    })


def _tracked(code):
    """(case, None) for a registered report, (None, intake) for one still being registered, or (None, None).

    The worker deletes the intake row in the transaction that creates its case,
    so a report registered between the first two reads is found by the third.
    """
    case = case_by_tracking_code(code)
    if case is not None:
        return case, None
    received = intake_by_tracking_code(code)
    if received is not None:
        return None, received
    return case_by_tracking_code(code), None


@require_GET
def places(request):
    """JSON for the place selects: ?parent=<area id> → its active children; ?grid=<id> → its buildings.

    The structure of streets, communities, grids and buildings is public (it is
    on every notice board); nothing about people is here.
    """
    parent = case_forms.parse_id(request.GET.get("parent"))
    grid = case_forms.parse_id(request.GET.get("grid"))
    if grid:
        items = [{"id": pk, "name": case_forms.building_label(n, nm, a)}
                 for pk, n, nm, a in case_forms.buildings_of(grid)]
        kind = "building"
    elif parent:
        area = Area.objects.filter(pk=parent, is_active=True).values_list("kind", flat=True).first()
        if area is None or area == AreaKind.GRID:
            return JsonResponse({"error": _("Unknown place.")}, status=404)
        kind = AreaKind(area).value
        child_kind = {AreaKind.DISTRICT: AreaKind.STREET, AreaKind.STREET: AreaKind.COMMUNITY,
                      AreaKind.COMMUNITY: AreaKind.GRID}[kind]
        items = [{"id": pk, "name": name} for pk, name in Area.objects.filter(
            parent_id=parent, is_active=True, kind=child_kind).order_by("code").values_list("pk", "name")]
        kind = child_kind.value
    else:
        return JsonResponse({"error": _("Give ?parent=<place id> or ?grid=<grid id>.")}, status=400)
    response = JsonResponse({"kind": kind, "items": items})
    response["Cache-Control"] = "public, max-age=300"
    return response


# --- residents: tracking ------------------------------------------------------------------

def _track_missing(request, code=""):
    """No matter with this code: the lookup form again, holding the code as typed to correct one character."""
    if over_rate(request, "track-miss", "CASE_TRACK_MISS_RATE", DEFAULT_TRACK_MISS_RATE):
        return public_page(request, "cases/track_missing.html", {"too_many": True}, status=429)
    form = case_forms.TrackLookupForm(initial={"code": code[:40]})
    return public_page(request, "cases/track_missing.html", {"form": form}, status=404)


@require_GET
def track_lookup(request):
    """Type the tracking code; a well-formed code goes to its page."""
    form = case_forms.TrackLookupForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return redirect("cases:track", code=form.cleaned_data["code"])
    return public_page(request, "cases/track_lookup.html", {"form": form}, status=400 if form.is_bound else 200)


@require_GET
def track(request, code):
    """The reporter's view: status and the public timeline; a rating form once closed."""
    case, received = _tracked(code)
    if received is not None:
        return public_page(request, "cases/track_received.html", {
            "received": received, "code": received.tracking_code_display,
            "waiting": received.failed_at is None,
        })
    if case is None:
        return _track_missing(request, code)
    return _track_page(request, case)


def _rating_refusal(case):
    """None if the reporter may rate the case now, else why not (the workflow's guard decides:
    once per close; residents', hotline and Open311 reports only)."""
    if case.status != Status.CLOSED:
        return _("Only a closed case can be rated.")
    return workflow.TRANSITIONS["rate"].guard(case, None) or None


def _track_page(request, case, *, rating_form=None, status=200):
    """The tracked case's page; `rating_form` a refused rating, shown as typed."""
    timeline = public_timeline(case)
    for line in timeline:
        line["photo_urls"] = [reverse("cases:track_photo", args=[case.tracking_code, p.pk]) for p in line["photos"]]
    can_rate = _rating_refusal(case) is None
    return public_page(request, "cases/track.html", {
        "case": case,
        "code": case.tracking_code_display,
        "status_label": Status(case.status).label,
        "level_label": AreaKind(case.responsible_level).label,
        "timeline": timeline,
        "rating_form": (rating_form or case_forms.RatingForm()) if can_rate else None,
        "is_final": case.status in FINAL_STATUSES,
    }, status=status)


@require_POST
@csrf_protect
def track_rate(request, code):
    form = case_forms.RatingForm(request.POST)
    if not form.is_valid():
        # The page again with the form as typed and its errors beside the fields (nothing kept).
        case, _received = _tracked(code)
        if case is None:
            return _track_missing(request)
        refusal = _rating_refusal(case)
        if refusal is None:
            return _track_page(request, case, rating_form=form, status=400)
        # Nothing to rate any more (rated already, reopened): say why on the page, as a refused rating does.
        messages.error(request, refusal)
    else:
        data = form.cleaned_data
        try:
            case = services.case_rate(tracking_code=code, rating=data["rating"], comment=data["comment"],
                                      reopen=data["reopen"], solved=data["solved"], now=timezone.now())
        except DomainError as error:
            if error.code == "no_case":
                return _track_missing(request)
            messages.error(request, str(error))
        else:
            if case.status == Status.CLOSED:
                messages.success(request, _("Thank you for your rating."))
            else:
                messages.success(request, _("Thank you. The matter has been sent back to be handled again."))
    return redirect("cases:track", code=services.normalise_tracking_code(code))


@require_GET
def track_photo(request, code, photo_id):
    """A photo on the public timeline, for whoever holds the tracking code."""
    case = case_by_tracking_code(code)
    if case is None:
        raise Http404
    photo = CasePhoto.objects.filter(pk=photo_id, case=case, event__is_public=True).first()
    if photo is None:
        raise Http404
    return image_response(photo)
