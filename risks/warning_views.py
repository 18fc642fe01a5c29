"""The warnings panel (预警面板) for community, street and district staff, and the rules' settings page.

Every page reads through risks/selectors.py (`warnings_visible_to`: managing
posts only; 404 for "not yours" and "missing" alike) and makes one service call
per POST, turning a DomainError into the form's message and a 400.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grid.selectors import get_visible_or_404
from grid.views import render_page
from portal.errors import DomainError

from . import early_warning, forms, hooks, selectors, warning_actions
from .models import RiskStatus, WarningRule, WarningRuleKind, WarningStatus

LIST_LIMIT = 100


def _warning(request, pk):
    return get_visible_or_404(selectors.warnings_visible_to(request.user).select_related(
        "risk", "building", "grid", "community", "street", "handled_by", "assigned_case", "assigned_risk"), pk=pk)


@login_required
@require_GET
def warnings_panel(request):
    """Open warnings first (or the handled ones), newest first, each with its evidence."""
    status = request.GET.get("status", WarningStatus.OPEN)
    if status not in WarningStatus.values:
        status = WarningStatus.OPEN
    rows = list(selectors.warnings_visible_to(request.user).filter(status=status)
                .select_related("grid", "community", "building").order_by("-raised_at", "-id")[:LIST_LIMIT + 1])
    return render_page(request, "risks/warnings.html", {
        "warnings": rows[:LIST_LIMIT], "more": len(rows) > LIST_LIMIT, "status": status,
        "statuses": WarningStatus.choices,
        "rule_districts": list(selectors.warning_rule_districts(request.user).order_by("code")[:20]),
    })


def _evidence_risks(request, warning):
    ids = warning.evidence.get("risks") or []
    if not isinstance(ids, list):
        return []
    return list(selectors.risks_visible_to(request.user).filter(pk__in=[i for i in ids if isinstance(i, int)])
                .order_by("grade", "id")[:50])


def _risk_choices(request, warning):
    """The open risks a warning may be entered under: those of its evidence, else of its grid or community."""
    risks = selectors.risks_visible_to(request.user).filter(status=RiskStatus.OPEN)
    ids = [i for i in (warning.evidence.get("risks") or []) if isinstance(i, int)]
    if ids:
        risks = risks.filter(pk__in=ids)
    elif warning.grid_id:
        risks = risks.filter(grid_id=warning.grid_id)
    else:
        risks = risks.filter(community_id=warning.community_id)
    return list(risks.select_related("building").order_by("grade", "id")[:50])


def _detail(request, warning, form=None, assign_form=None, status=200):
    is_open = warning.status == WarningStatus.OPEN
    return render_page(request, "risks/warning.html", {
        "warning": warning, "evidence_risks": _evidence_risks(request, warning),
        "cases": warning.evidence.get("cases") or [], "events": list(warning.events.select_related("by")),
        "form": form or (forms.WarningNoteForm() if is_open else None),
        "assign_form": assign_form or (forms.WarningAssignForm(prefix="assign", risks=_risk_choices(request, warning))
                                       if is_open else None),
        "assigned_case_visible": bool(warning.assigned_case_id) and hooks.case_visible_to(request.user,
                                                                                         warning.assigned_case),
    }, status=status)


@login_required
@require_GET
def warning_detail(request, pk):
    return _detail(request, _warning(request, pk))


def _handle(request, pk, call, done):
    warning = _warning(request, pk)
    form = forms.WarningNoteForm(request.POST)
    if form.is_valid():
        try:
            call(warning, form.cleaned_data["note"])
        except DomainError as error:
            forms.add_domain_error(form, error)
        else:
            messages.success(request, done)
            return redirect("risks:warnings")
    return _detail(request, warning, form=form, status=400)


@login_required
@require_POST
def warning_acknowledge(request, pk):
    def call(warning, note):
        warning_actions.warning_acknowledge(warning=warning, note=note, acting_user=request.user,
                                            now=timezone.now())
    return _handle(request, pk, call, _("Warning acknowledged."))


@login_required
@require_POST
def warning_dismiss(request, pk):
    def call(warning, note):
        warning_actions.warning_dismiss(warning=warning, reason=note, acting_user=request.user, now=timezone.now())
    return _handle(request, pk, call, _("Warning dismissed."))


@login_required
@require_POST
def warning_assign(request, pk):
    warning = _warning(request, pk)
    form = forms.WarningAssignForm(request.POST, prefix="assign", risks=_risk_choices(request, warning))
    if form.is_valid():
        data = form.cleaned_data
        try:
            warning_actions.warning_assign(warning=warning, note=data["note"], category=data["category"],
                                           risk=form.risks.get(data["risk"]) if data["risk"] else None,
                                           acting_user=request.user, now=timezone.now())
        except DomainError as error:
            forms.add_domain_error(form, error)
        else:
            messages.success(request, _("Warning assigned."))
            return redirect("risks:warning", warning.pk)
    return _detail(request, warning, assign_form=form, status=400)


def _rule_rows(district, forms_given=None):
    own = {r.kind: r for r in WarningRule.objects.filter(district=district)}
    default = {r.kind: r for r in WarningRule.objects.filter(district__isnull=True)}
    rows = []
    for kind, label in WarningRuleKind.choices:
        rule = own.get(kind) or default.get(kind)
        threshold, window = (rule.threshold, rule.window_days) if rule else early_warning.DEFAULTS[kind]
        initial = {"threshold": threshold, "window_days": window,
                   "enabled": rule.enabled if rule else True}
        if kind == WarningRuleKind.REPORT_RISE:
            initial["growth_percent"] = (rule and rule.growth_percent) or early_warning.DEFAULT_GROWTH_PERCENT
        form = (forms_given or {}).get(kind) or forms.WarningRuleForm(initial=initial, prefix=kind, kind=kind)
        rows.append({"kind": kind, "label": label, "form": form, "own": kind in own})
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def warning_rules(request, district_id):
    """A district's warning thresholds (its settings): district officials of it, and administrators."""
    district = get_visible_or_404(selectors.warning_rule_districts(request.user), pk=district_id)
    status, given = 200, {}
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        if kind not in WarningRuleKind.values:
            raise Http404
        form = forms.WarningRuleForm(request.POST, prefix=kind, kind=kind)
        if form.is_valid():
            data = form.cleaned_data
            try:
                warning_actions.warning_rule_set(district=district, kind=kind, threshold=data["threshold"],
                                                 window_days=data["window_days"], enabled=data["enabled"],
                                                 growth_percent=data.get("growth_percent"),
                                                 acting_user=request.user, now=timezone.now())
            except DomainError as error:
                forms.add_domain_error(form, error)
            else:
                messages.success(request, _("Rule saved."))
                return redirect("risks:warning_rules", district.pk)
        given[kind], status = form, 400
    return render_page(request, "risks/warning_rules.html", {"district": district, "rules": _rule_rows(
        district, given)}, status=status)
