"""Party building's pages: the reported-in member's phone page (report in, adopt, fulfil) and the
community staff's page (confirm reports-in, post, withdraw and confirm wishes).

Staff pages read through selectors.py (residents' scope); outside it answers 404 like a missing
row. Every button is one POST calling one service; a DomainError becomes a message and a
redirect, or the form again with the message, never a 500.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grid.selectors import active_posts, get_visible_or_404
from grid.views import render_page
from portal.errors import DomainError
from residents.selectors import resident_scope, residents_visible_to

from . import selectors, services
from .forms import FulfilForm, HoursForm, ReportInForm, ServiceForm, WishForm
from .models import ReportStatus, ServicePost, Wish, WishStatus

LIST_SIZE = 50
SEARCH_SIZE = 30


def _member_page(request, template, context, *, status=200):
    # A member without posts sees the member's menu only (no worker's tab bar).
    only_member = not active_posts(request.user).exists() and not request.user.is_superuser
    return render_page(request, template, {"only_volunteer": only_member, "only_member": only_member,
                                           **context}, status=status)


# --- the member's phone page -----------------------------------------------------------------

@login_required
@require_GET
def me(request):
    report = selectors.live_report_of(request.user)
    context = {"report": report}
    if report is None:
        context["form"] = ReportInForm(initial={"name": request.user.full_name})
    else:
        context["open_wishes"] = list(selectors.open_wishes_for(report).select_related("resident")[:LIST_SIZE])
        context["adopted"] = list(selectors.wishes_adopted_by(report)[:LIST_SIZE])
        context["fulfil_form"] = FulfilForm()
    for wish in context.get("open_wishes", ()):
        wish.who = selectors.masked(wish.resident.name)
    return _member_page(request, "party/me.html", context)


@login_required
@require_POST
def report_in(request):
    form = ReportInForm(request.POST)
    if form.is_valid():
        try:
            services.report_in(community=form.cleaned_data["community"], name=form.cleaned_data["name"],
                               employer_name=form.cleaned_data["employer_name"], posts=form.cleaned_data["posts"],
                               user=request.user, acting_user=request.user)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("You have reported in. The community will confirm it."))
            return redirect("party:me")
    return _member_page(request, "party/me.html", {"report": None, "form": form}, status=400)


@login_required
@require_POST
def report_end(request):
    """The member ends their own report-in (moved away, or no longer serving here)."""
    report = selectors.live_report_of(request.user)
    if report is None:
        raise Http404
    try:
        services.report_end(report=report, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your report-in has ended. You can report in again where you live now."))
    return redirect("party:me")


@login_required
@require_POST
def wish_adopt(request, pk):
    wish = Wish.objects.filter(pk=pk).first()
    if wish is None:
        raise Http404
    try:
        services.wish_adopt(wish=wish, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You adopted “%(title)s”.") % {"title": wish.title})
    return redirect("party:me")


@login_required
@require_POST
def wish_fulfil(request, pk):
    wish = Wish.objects.filter(pk=pk, adopter__user=request.user).first()
    if wish is None:
        raise Http404
    form = FulfilForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(_("Say how the wish was fulfilled."), code="blank")
        services.wish_fulfil(wish=wish, note=form.cleaned_data["note"], acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you: the community will confirm it."))
    return redirect("party:me")


# --- the community staff's page --------------------------------------------------------------

def _require_staff(user):
    scope = resident_scope(user)
    if not (scope.unrestricted or scope.spans):
        raise Http404


@login_required
@require_GET
def staff(request):
    user = request.user
    _require_staff(user)
    status = request.GET.get("status") or ""
    wishes = selectors.wishes_visible_to(user).select_related("community", "resident", "adopter")
    if status in WishStatus.values:
        wishes = wishes.filter(status=status)
    wishes = list(wishes[:LIST_SIZE])
    for wish in wishes:
        wish.who = selectors.masked(wish.resident.name)
        wish.adopter_who = selectors.masked(wish.adopter.name) if wish.adopter else ""
    pending = list(selectors.reports_visible_to(user).filter(status=ReportStatus.PENDING)
                   .select_related("community").order_by("registered_at", "id")[:LIST_SIZE])
    for report in pending:
        report.who = selectors.masked(report.name)
    services_done = list(selectors.services_visible_to(user).select_related("report__community")
                         .exclude(post=ServicePost.WISH).order_by("-confirmed_at", "-id")[:20])
    for service in services_done:
        service.who = selectors.masked(service.report.name)
    return render_page(request, "party/staff.html", {
        "wishes": wishes, "pending": pending, "statuses": WishStatus.choices, "status": status,
        "hours_form": HoursForm(initial={"hours": 2}), "services": services_done,
    })


def _residents_for(request):
    query = (request.GET.get("q") or request.POST.get("q") or "").strip()[:50]
    found = residents_visible_to(request.user, include_left=False).select_related("household__unit__building")
    if query:
        found = found.filter(name__contains=query)
    return query, list(found.order_by("name", "id")[:SEARCH_SIZE])


@login_required
@require_http_methods(["GET", "POST"])
def wish_new(request):
    _require_staff(request.user)
    query, residents = _residents_for(request)
    form = WishForm(request.POST or None, residents=residents)
    if request.method == "POST" and form.is_valid():
        resident = services.resident_for_wish(request.user, form.cleaned_data["resident"])
        try:
            if resident is None:
                raise DomainError(_("This resident is outside your places."), code="forbidden")
            services.wish_post(resident=resident, title=form.cleaned_data["title"],
                               category=form.cleaned_data["category"], budget_cap=form.cleaned_data["budget_cap"],
                               acting_user=request.user)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The wish is posted for the reported-in members."))
            return redirect("party:staff")
    status = 400 if request.method == "POST" else 200
    return render_page(request, "party/wish_form.html", {"form": form, "q": query}, status=status)


def _staff_act(request, call):
    try:
        call()
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Saved."))
    return redirect("party:staff")


@login_required
@require_POST
def wish_confirm(request, pk):
    wish = get_visible_or_404(selectors.wishes_visible_to(request.user), pk=pk)
    return _staff_act(request, lambda: services.wish_confirm(wish=wish, hours=request.POST.get("hours"),
                                                            acting_user=request.user))


@login_required
@require_POST
def wish_withdraw(request, pk):
    wish = get_visible_or_404(selectors.wishes_visible_to(request.user), pk=pk)
    return _staff_act(request, lambda: services.wish_withdraw(wish=wish, acting_user=request.user))


@login_required
@require_POST
def report_confirm(request, pk):
    report = get_visible_or_404(selectors.reports_visible_to(request.user), pk=pk)
    return _staff_act(request, lambda: services.report_confirm(report=report, acting_user=request.user))


def _serving_reports(user):
    """Confirmed members of the staff member's places who chose a post other than wishes."""
    reports = list(selectors.reports_visible_to(user).filter(status=ReportStatus.CONFIRMED)
                   .filter(Q(post_building_helper=True) | Q(post_volunteer=True))
                   .select_related("community").order_by("name", "id")[:LIST_SIZE * 4])
    for report in reports:
        report.who = selectors.masked(report.name)
    return reports


@login_required
@require_http_methods(["GET", "POST"])
def service_new(request):
    """Record and confirm a member's service on a post (楼栋长助手, 志愿服务): the hours go to the
    volunteers' records and pay points, as a wish's do."""
    _require_staff(request.user)
    reports = _serving_reports(request.user)
    form = ServiceForm(request.POST or None, reports=reports)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        report = selectors.reports_visible_to(request.user).filter(pk=data["report"]).first()
        try:
            if report is None:
                raise DomainError(_("Choose a member of your places."), code="forbidden")
            services.service_confirm(report=report, post=data["post"], content=data["content"],
                                     started_at=data["started_at"], hours=data["hours"], acting_user=request.user)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The service is recorded; its hours count as volunteer service."))
            return redirect("party:staff")
    status = 400 if request.method == "POST" else 200
    return render_page(request, "party/service_form.html", {"form": form, "has_members": bool(reports)},
                       status=status)
