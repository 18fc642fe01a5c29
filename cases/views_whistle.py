"""吹哨报到 pages: the whistle panel of the case page, the organisation staff's report-in
(phone width) and the whistling place's rating after the case is closed.

The whistle itself is blown from the case page (an action in cases/views.py,
form cases/forms_whistle.WhistleForm). Summonses reach staff through their
organisation posts, whistles through the cases the user sees: anything else
answers 404. Each write is one call into cases/whistles.py.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from grid.selectors import get_visible_or_404, scope_of
from grid.views import render_page as _render
from portal.errors import DomainError

from . import whistles, workflow
from .forms_whistle import RatingForm, ReportInForm
from .models import Status, SummonsStatus
from .selectors import cases_visible_to
from .selectors_whistle import open_summonses_for_staff, summons_for_staff_or_404, whistles_of


def panel(case, user, now):
    """The whistles of a case for its page: each summons with what `user` may do about it."""
    rows = whistles_of(case)
    if not rows:
        return []
    org_ids = scope_of(user).organisation_ids
    is_open = case.status not in (Status.CLOSED, Status.REJECTED, Status.DUPLICATE)
    panel_rows = []
    for whistle in rows:
        summonses = list(whistle.summons.all())
        may_rate = (case.status == Status.CLOSED and any(s.rated_at is None for s in summonses)
                    and whistles._may_rate(whistle, user))
        panel_rows.append({
            "whistle": whistle,
            "may_rate": may_rate,
            "summonses": [{
                "summons": s,
                "late": s.is_late or (s.reported_in_at is None and s.due_at < now),
                "may_report_in": is_open and s.organisation_id in org_ids and s.status != SummonsStatus.REPORTED_IN,
            } for s in summonses],
        })
    return panel_rows


@login_required
@require_GET
def staff_summonses(request):
    """报到: the summonses of my organisations on open matters, soonest due first (phone width)."""
    if not scope_of(request.user).organisation_ids:
        raise Http404
    now = timezone.now()
    # A form per row with its own ids: with one shared form every label pointed at the first row's field.
    rows = [{"summons": s, "overdue": s.reported_in_at is None and s.due_at < now,
             "form": ReportInForm(auto_id=f"id_summons{s.pk}_%s")}
            for s in open_summonses_for_staff(request.user)[:200]]
    return _render(request, "cases/whistle_summonses.html", {"rows": rows})


@login_required
@require_POST
def report_in(request, pk):
    summons = summons_for_staff_or_404(request.user, pk)
    form = ReportInForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        try:
            whistles.summons_report_in(summons=summons, acting_user=request.user, note=form.cleaned_data["note"],
                                       now=timezone.now())
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("%(org)s reported in on case %(number)s.")
                             % {"org": summons.organisation.name, "number": summons.whistle.case.number})
    if request.POST.get("next") == "case":
        return redirect("cases:detail", pk=summons.whistle.case_id)
    return redirect("cases:summonses")


@login_required
def rate(request, pk, whistle_id):
    """评价: the whistling place rates each summoned organisation once the case is closed."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    case = get_visible_or_404(cases_visible_to(request.user).select_related("category"), pk=pk)
    found = [w for w in whistles_of(case) if w.pk == whistle_id]
    if not found:
        raise Http404
    whistle = found[0]
    if case.status != Status.CLOSED or not whistles._may_rate(whistle, request.user) \
            or not workflow.actor_kinds(case, request.user) & {workflow.WHISTLER}:
        raise Http404
    summonses = list(whistle.summons.all())
    status = 200
    if request.method == "POST":
        form = RatingForm(request.POST, summonses=summonses)
        if not form.rows:
            form.add_error(None, _("Every organisation of this whistle is already rated."))
        elif form.is_valid():
            try:
                whistles.whistle_rate(whistle=whistle, ratings=form.ratings(), acting_user=request.user,
                                      now=timezone.now())
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Your ratings of the response are saved."))
                return redirect("cases:detail", pk=case.pk)
        status = 400
    else:
        form = RatingForm(summonses=summonses)
    return _render(request, "cases/whistle_rate.html", {
        "case": case, "whistle": whistle, "form": form, "summonses": summonses,
    }, status=status)
