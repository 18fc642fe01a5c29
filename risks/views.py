"""The risk and patrol pages: the grid worker's day at phone width, the register, a risk's page.

Every page reads through risks/selectors.py (404 for "not yours" and "missing"
alike) and makes one service call per POST, turning a DomainError into the
form's message and a 400.
"""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models.functions import Length
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grid.models import Area
from grid.selectors import buildings_visible_to, get_visible_or_404
from grid.views import render_page
from portal.errors import DomainError
from portal.fields import files_not_kept
from portal.exports import spreadsheet_cell

from . import forms, hooks, patrols, plans, selectors, services
from .grading import Grade
from .models import FindingKind, RiskStatus

DUE_AHEAD_DAYS = 3
LIST_LIMIT = 200


def _grids(user):
    return Area.objects.filter(pk__in=selectors.patrol_grids(user), is_active=True).order_by("code")


def _own_patrol(request, pk):
    return get_visible_or_404(selectors.patrols_visible_to(request.user).filter(worker=request.user)
                              .select_related("grid"), pk=pk)


def _risk(request, pk):
    return get_visible_or_404(selectors.risks_visible_to(request.user).select_related(
        "building", "unit", "grid", "community", "street", "case"), pk=pk)


# --- the grid worker's day ----------------------------------------------------------

@login_required
@require_GET
def day(request):
    """今日工作: the patrol under way (or a start), the risks due, what this patrol found."""
    user, now = request.user, timezone.now()
    grids = _grids(user)
    patrol = selectors.open_patrol(user)
    due = list(selectors.risks_due(user, today=timezone.localdate(now), within_days=DUE_AHEAD_DAYS)[:50])
    findings = list(patrol.findings.select_related("risk").order_by("at")) if patrol else []
    plans = list(selectors.plans_due(user, today=timezone.localdate(now))[:50])
    return render_page(request, "risks/day.html", {
        "patrol": patrol, "findings": findings, "due": due, "today": timezone.localdate(now), "plans": plans,
        "start_form": forms.StartForm(grids=grids) if grids.exists() and patrol is None else None,
        "end_form": forms.EndForm() if patrol else None,
    })


@login_required
@require_POST
def patrol_start(request):
    form = forms.StartForm(request.POST, grids=_grids(request.user))
    if form.is_valid():
        try:
            patrols.patrol_start(grid=form.cleaned_data["grid"], track_consent=form.cleaned_data["track"],
                                 acting_user=request.user, now=timezone.now())
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Patrol started."))
    else:
        messages.error(request, _("Choose one of your grids."))
    return redirect("risks:day")


@login_required
@require_POST
def patrol_end(request, pk):
    patrol = _own_patrol(request, pk)
    form = forms.EndForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The route points could not be read."))
        return redirect("risks:day")
    try:
        patrol = patrols.patrol_end(patrol=patrol, route=form.cleaned_data["route"], note=form.cleaned_data["note"],
                                    acting_user=request.user, now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Patrol ended: %(n)d finding(s).") % {"n": patrol.findings.count()})
    return redirect("risks:day")


@login_required
@require_http_methods(["GET", "POST"])
def patrol_fixed(request, pk):
    """即时处置: fixed on the spot, with a photo before and after; closed at once."""
    patrol = _own_patrol(request, pk)
    buildings = buildings_visible_to(request.user).filter(grid=patrol.grid)
    status = 200
    if request.method == "POST":
        form = forms.FixedForm(request.POST, request.FILES, buildings=buildings)
        if form.is_valid():
            data = form.cleaned_data
            try:
                patrols.finding_fixed(patrol=patrol, description=data["description"], building=data["building"],
                                      before=data["before"], after=data["after"], acting_user=request.user,
                                      now=timezone.now())
            except DomainError as error:
                forms.add_domain_error(form, error)
            else:
                messages.success(request, _("Fixed on the spot: recorded."))
                return redirect("risks:day")
        files_not_kept(form, request.FILES)
        status = 400
    else:
        form = forms.FixedForm(buildings=buildings)
    return render_page(request, "risks/form.html", {
        "form": form, "title": _("Fixed on the spot"), "patrol": patrol, "multipart": True}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def patrol_case(request, pk):
    """Something she cannot fix herself: a case (a patrol report, dispatched at once)."""
    patrol = _own_patrol(request, pk)
    status = 200
    if request.method == "POST":
        form = forms.CaseForm(request.POST)
        if form.is_valid():
            try:
                finding = patrols.finding_case(patrol=patrol, category=form.cleaned_data["category"],
                                               description=form.cleaned_data["description"],
                                               acting_user=request.user, now=timezone.now())
            except DomainError as error:
                forms.add_domain_error(form, error)
            else:
                messages.success(request, _("Case %(number)s opened.") % {"number": finding.case.number})
                return redirect("risks:day")
        status = 400
    else:
        form = forms.CaseForm()
    return render_page(request, "risks/form.html", {"form": form, "title": _("Report a case"), "patrol": patrol},
                       status=status)


@login_required
@require_POST
def plan_done(request, pk):
    """An inspection of the plan done on this patrol: its next one falls due after its interval."""
    plan = get_visible_or_404(selectors.plans_visible_to(request.user), pk=pk)
    try:
        plans.plan_done(plan=plan, acting_user=request.user, now=timezone.now())
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("risks:day")
    messages.success(request, _("Inspection done: “%(title)s”.") % {"title": plan.title})
    return redirect("risks:day")


# --- the register -------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def risk_new(request):
    """A new risk; on a patrol under way it is also noted in the patrol log."""
    user = request.user
    grids = list(_grids(user))
    if not grids:
        raise Http404
    # 2号楼 before 10号楼: shorter numbers first, then by text (as the patrol form lists them).
    buildings = list(buildings_visible_to(user).filter(grid__in=grids)
                     .order_by("grid_id", Length("number"), "number", "pk"))
    patrol = selectors.open_patrol(user)
    status = 200
    if request.method == "POST":
        form = forms.RiskForm(request.POST, request.FILES, grids=grids, buildings=buildings)
        if form.is_valid():
            data, now = form.cleaned_data, timezone.now()
            try:
                if patrol is not None and (data["building"] or data["grid"]) and (
                        (data["building"].grid_id if data["building"] else data["grid"].pk) == patrol.grid_id):
                    risk = patrols.finding_risk(patrol=patrol, building=data["building"], acting_user=user, now=now,
                                                **form.risk_fields()).risk
                else:
                    risk = services.risk_register(place=data["grid"], building=data["building"], acting_user=user,
                                                  now=now, **form.risk_fields())
            except DomainError as error:
                forms.add_domain_error(form, error)
            else:
                messages.success(request, _("Risk registered: %(grade)s.") % {"grade": risk.get_grade_display()})
                return redirect("risks:day" if patrol else "risks:detail", *([] if patrol else [risk.pk]))
        files_not_kept(form, request.FILES)
        status = 400
    else:
        form = forms.RiskForm(grids=grids, buildings=buildings)
    return render_page(request, "risks/form.html", {
        "form": form, "title": _("Register a risk"), "patrol": patrol, "multipart": True}, status=status)


def _filtered(request):
    risks = selectors.risks_visible_to(request.user)
    grade, status = request.GET.get("grade", ""), request.GET.get("status", RiskStatus.OPEN)
    if grade in Grade.values:
        risks = risks.filter(grade=grade)
    if status in RiskStatus.values:
        risks = risks.filter(status=status)
    if request.GET.get("overdue") == "1":
        risks = risks.filter(review_overdue_since__isnull=False)
    return risks.select_related("building", "grid", "community").order_by("grade", "review_on", "id")


@login_required
@require_GET
def risk_list(request):
    rows = list(_filtered(request)[:LIST_LIMIT + 1])
    return render_page(request, "risks/list.html", {
        "risks": rows[:LIST_LIMIT], "more": len(rows) > LIST_LIMIT, "grades": Grade.choices,
        "statuses": RiskStatus.choices, "query": request.GET.urlencode()})


EXPORT_HEADER = ("id", "type", "title", "community", "grid", "building", "grade", "score", "method",
                 "responsible", "measures", "next review", "overdue since", "status", "closed at")


@login_required
@require_GET
def risk_export(request):
    """The register as CSV (UTF-8 with BOM for Excel), through the same scope and filters as the list."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="risks.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(EXPORT_HEADER)
    for r in _filtered(request).iterator(chunk_size=2000):
        writer.writerow([spreadsheet_cell(v) for v in (
            r.pk, r.get_kind_display(), r.title, r.community.name if r.community_id else "",
            r.grid.name if r.grid_id else "", str(r.building) if r.building_id else "", r.get_grade_display(),
            r.score, r.get_method_display(), r.responsible, r.measures, r.review_on,
            r.review_overdue_since or "", r.get_status_display(), r.closed_at or "")])
    return response


@login_required
@require_GET
def risk_detail(request, pk):
    risk = _risk(request, pk)
    return render_page(request, "risks/detail.html", _detail_context(request, risk))


def _detail_context(request, risk, **forms_given):
    is_open = risk.status == RiskStatus.OPEN
    return {
        "risk": risk, "assessments": list(risk.assessments.select_related("by")),
        "photos": list(risk.photos.all()),
        "case_visible": bool(risk.case_id) and hooks.case_visible_to(request.user, risk.case),
        "reassess_form": forms_given.get("reassess_form") or (forms.ReassessForm() if is_open else None),
        "close_form": forms_given.get("close_form") or (forms.CloseForm() if is_open else None),
        "case_form": forms_given.get("case_form") or (forms.CaseForm() if is_open and not risk.case_id else None),
    }


def _risk_action(request, pk, form_class, name, call, done):
    risk = _risk(request, pk)
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            call(risk, form.cleaned_data)
        except DomainError as error:
            forms.add_domain_error(form, error)
        else:
            messages.success(request, done)
            return redirect("risks:detail", risk.pk)
    files_not_kept(form, request.FILES)
    return render_page(request, "risks/detail.html", _detail_context(request, risk, **{name: form}), status=400)


@login_required
@require_POST
def risk_reassess(request, pk):
    def call(risk, data):
        services.risk_reassess(risk=risk, note=data["note"], acting_user=request.user, now=timezone.now(),
                               **forms.scores_of(data))
    return _risk_action(request, pk, forms.ReassessForm, "reassess_form", call, _("Reassessed."))


@login_required
@require_POST
def risk_close(request, pk):
    def call(risk, data):
        services.risk_close(risk=risk, evidence=data["evidence"], photos=[data["photo"]], acting_user=request.user,
                            now=timezone.now())
    return _risk_action(request, pk, forms.CloseForm, "close_form", call, _("Risk closed (written off)."))


@login_required
@require_POST
def risk_case(request, pk):
    def call(risk, data):
        services.risk_open_case(risk=risk, category=data["category"], description=data["description"],
                                acting_user=request.user, now=timezone.now())
    return _risk_action(request, pk, forms.CaseForm, "case_form", call, _("Linked case opened."))


# --- photos -------------------------------------------------------------------------

def _image_response(field):
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    head = handle.read(12)
    handle.seek(0)
    types = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG", "image/png"), (b"GIF8", "image/gif"))
    content_type = next((t for magic, t in types if head.startswith(magic)), None)
    if content_type is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        content_type = "image/webp"
    if content_type is None:
        handle.close()
        raise Http404
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def risk_photo(request, pk, photo_id):
    risk = _risk(request, pk)
    photo = get_visible_or_404(risk.photos.all(), pk=photo_id)
    return _image_response(photo.image)


@login_required
@require_GET
def finding_photo(request, pk, which):
    finding = get_visible_or_404(selectors.findings_visible_to(request.user).filter(kind=FindingKind.FIXED), pk=pk)
    if which not in ("before", "after"):
        raise Http404
    return _image_response(getattr(finding, which))
