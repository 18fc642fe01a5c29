"""Case pages for signed-in users: the grid worker's phone pages (queue, case, patrol
report) and the staff board, export, case and hotline entry. The residents' report and
tracking pages are in cases/views_public.py, photo uploads in cases/uploads.py.

Every case is read through cases.selectors (cases_visible_to and friends), so a
case outside the user's subtree answers 404 exactly like a missing one; every
write is one call into cases/services.py, whose DomainError becomes a message
or a form error, never a 500. Templates get plain rows built here.
"""

import csv
from dataclasses import dataclass
from typing import Callable

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest, HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from grid.models import KIND_LEVEL, Area, AreaKind
from grid.selectors import areas_visible_to, buildings_visible_to, get_visible_or_404, scope_of
from grid.privacy.pages import handle_reveal, reveal_items
from grid.views import place_names
from grid.views import render_page as _render
from portal.admin_paging import CappedCountPaginator
from portal.errors import DomainError
from portal.fields import files_not_kept
from portal.exports import spreadsheet_cell as _cell

from . import forms as case_forms
from . import (
    forms_whistle,
    mediation_timeline,
    oversight,
    services,
    services_report,
    views_orgs,
    views_whistle,
    whistles,
    workflow,
)
from .hotline.actions import HOTLINE_ACTIONS
from .filters import CaseFilter
from .mediation_selectors import file_cases_visible_to
from .models import (FINAL_STATUSES, CaseEvent, CaseKind, CasePhoto, Channel, ExtensionRequest, ExtensionStatus,
                     Mediation, Status)
from .selectors import (
    board_for,
    board_page,
    case_detail,
    cases_visible_to,
    org_waiting_for,
    queue_for,
    verify_queue_for,
)
from .uploads import capped_uploads, image_response, photos_of
from .workflow import HANDLING_ROLES

PAGE_SIZE = 50
# The board counts its rows up to here (20 pages), the export writes at most this many.
BOARD_COUNT_CAP = 1000
EXPORT_MAX_ROWS = 100_000


# --- plumbing ---------------------------------------------------------------------------

class PeekingPaginator(Paginator):
    """Counts a short list by reading its first page: one query instead of a count and a page.

    A grid worker's queue rarely holds more than a page; only a longer list
    pays for the count (and then the first page is read again, as before). Not
    for the board, whose lists are mostly long.
    """

    @cached_property
    def count(self):
        head = list(self.object_list[: self.per_page + 1])
        if len(head) <= self.per_page:
            self._head = head
            return len(head)
        return self._full_count()

    def _full_count(self):
        return Paginator.count.func(self)

    def page(self, number):
        number = self.validate_number(number)
        head = getattr(self, "_head", None)
        if number == 1 and head is not None:
            return self._get_page(head, number, self)
        return super().page(number)


class CappedPaginator(CappedCountPaginator):
    """Counts at most `cap` rows: a district's board holds millions of cases, and an exact
    count of them costs more than the whole page. Beyond the cap the page says "1,000+"
    and the filters narrow the list. (The count reads ids only, not the page's columns.)"""

    cap = BOARD_COUNT_CAP


def _page(request, queryset, paginator=PeekingPaginator):
    page = paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    return page


# --- grid workers and staff: one case ----------------------------------------------------------

@dataclass(frozen=True)
class Action:
    label: str
    form: type
    run: Callable
    done: str
    style: str = ""


def _pending_extension(case):
    return ExtensionRequest.objects.filter(case=case, status=ExtensionStatus.PENDING).select_related(
        "requested_by").first()


def _decide_extension(case, user, data, now):
    extension = _pending_extension(case)
    if extension is None:
        raise DomainError(_("There is no extension request waiting for a decision."), code="no_request")
    return oversight.case_decide_extension(extension=extension, acting_user=user, approve=data["approve"],
                                           note=data["note"], now=now)


def _dispatch(name):
    service = services.case_dispatch if name == "dispatch" else services.case_redispatch

    def run(case, user, data, now):
        assignee = None
        if data["assignee_id"]:
            assignee = get_user_model().objects.filter(pk=data["assignee_id"]).first()
            if assignee is None:
                raise DomainError(_("No such person."), code="bad_assignee")
        return service(case=case, acting_user=user, level=data["level"], assignee=assignee, note=data["note"],
                       now=now)

    return run


def _mark_duplicate(case, user, data, now):
    original = cases_visible_to(user).filter(number=data["original"].strip()).first()
    if original is None:
        raise DomainError(_("No case with that number is visible to you."), code="no_case")
    return services.case_mark_duplicate(case=case, duplicate_of=original, acting_user=user, note=data["note"],
                                        now=now)


F = case_forms
ACTIONS = {
    "accept": Action(gettext_lazy("Accept"), F.EmptyForm,
                     lambda c, u, d, now: services.case_accept(case=c, acting_user=u, now=now),
                     gettext_lazy("You accepted case %(number)s."), "primary"),
    "register": Action(gettext_lazy("Register and dispatch"), F.RegisterForm,
                       lambda c, u, d, now: services.case_register(case=c, acting_user=u, category=d["category"] or None,
                                                                   note=d["note"], now=now),
                       gettext_lazy("Case %(number)s registered and dispatched."), "primary"),
    "dispatch": Action(gettext_lazy("Dispatch"), F.DispatchForm, _dispatch("dispatch"), gettext_lazy("Case %(number)s dispatched."),
                       "primary"),
    "resolve": Action(gettext_lazy("Resolve"), F.ResolveForm,
                      lambda c, u, d, now: services.case_resolve(case=c, acting_user=u, note=d["note"],
                                                                 photos=photos_of(d), now=now),
                      gettext_lazy("Case %(number)s resolved; it now waits for verification."), "primary"),
    "verify": Action(gettext_lazy("Verified on site: passed"), F.VerifyForm,
                     lambda c, u, d, now: services.case_verify(case=c, acting_user=u, passed=True, note=d["note"],
                                                               photos=photos_of(d), now=now),
                     gettext_lazy("Case %(number)s verified."), "primary"),
    "verify_fail": Action(gettext_lazy("Failed: send back for rework"), F.VerifyForm,
                          lambda c, u, d, now: services.case_verify(case=c, acting_user=u, passed=False,
                                                                    note=d["note"], photos=photos_of(d), now=now),
                          gettext_lazy("Case %(number)s sent back for rework."), "danger"),
    # In context: the admin's plain "Close" (关闭) button on every read-only page is another word.
    "close": Action(pgettext_lazy("case action", "Close"), F.NoteForm,
                    lambda c, u, d, now: services.case_close(case=c, acting_user=u, note=d["note"], now=now),
                    gettext_lazy("Case %(number)s closed."), "primary"),
    "note": Action(gettext_lazy("Add progress"), F.ProgressForm,
                   lambda c, u, d, now: services.case_note(case=c, acting_user=u, note=d["note"], photos=photos_of(d),
                                                           is_public=d["is_public"], now=now),
                   gettext_lazy("Progress added to case %(number)s.")),
    "redispatch": Action(gettext_lazy("Re-dispatch"), F.DispatchForm, _dispatch("redispatch"),
                         gettext_lazy("Case %(number)s re-dispatched.")),
    "request_extension": Action(gettext_lazy("Request an extension"), F.ExtensionRequestForm,
                                lambda c, u, d, now: oversight.case_request_extension(
                                    case=c, acting_user=u, value=d["value"], unit=d["unit"], reason=d["reason"],
                                    now=now),
                                gettext_lazy("Extension requested for case %(number)s.")),
    "decide_extension": Action(gettext_lazy("Decide the extension"), F.DecideExtensionForm, _decide_extension,
                               gettext_lazy("Extension decided for case %(number)s.")),
    "supervise": Action(gettext_lazy("Supervise (督办)"), F.NoteForm,
                        lambda c, u, d, now: oversight.case_supervise(case=c, acting_user=u, note=d["note"], now=now),
                        gettext_lazy("Case %(number)s is now supervised.")),
    "carry_over": Action(gettext_lazy("Carry over (挂账)"), F.ReasonForm,
                         lambda c, u, d, now: oversight.case_carry_over(case=c, acting_user=u, reason=d["reason"],
                                                                        now=now),
                         gettext_lazy("Case %(number)s is on the carry-over list.")),
    "lift_carry_over": Action(gettext_lazy("Lift the carry-over"), F.NoteForm,
                              lambda c, u, d, now: oversight.case_lift_carry_over(case=c, acting_user=u,
                                                                                  note=d["note"], now=now),
                              gettext_lazy("Case %(number)s is off the carry-over list.")),
    "escalate": Action(gettext_lazy("Beyond my power: escalate"), F.ReasonForm,
                       lambda c, u, d, now: services.case_escalate(case=c, acting_user=u, reason=d["reason"],
                                                                   now=now),
                       gettext_lazy("Case %(number)s escalated one level up."), "danger"),
    "return": Action(gettext_lazy("Not ours: return to the dispatcher"), F.ReasonForm,
                     lambda c, u, d, now: services.case_return(case=c, acting_user=u, reason=d["reason"], now=now),
                     gettext_lazy("Case %(number)s returned to the dispatcher."), "danger"),
    "reopen": Action(gettext_lazy("Reopen"), F.ReasonForm,
                     lambda c, u, d, now: services.case_reopen(case=c, acting_user=u, reason=d["reason"], now=now),
                     gettext_lazy("Case %(number)s reopened."), "danger"),
    "mark_duplicate": Action(gettext_lazy("Mark as duplicate"), F.DuplicateForm, _mark_duplicate,
                             gettext_lazy("Case %(number)s marked as a duplicate."), "danger"),
    "reject": Action(gettext_lazy("Reject: not a matter for us"), F.ReasonForm,
                     lambda c, u, d, now: services.case_reject(case=c, acting_user=u, reason=d["reason"], now=now),
                     gettext_lazy("Case %(number)s rejected."), "danger"),
    "whistle": Action(gettext_lazy("Blow the whistle (吹哨)"), forms_whistle.WhistleForm,
                      lambda c, u, d, now: whistles.whistle_blow(
                          case=c, organisations=list(d["organisations"]), acting_user=u, reason=d["reason"],
                          situation=d["situation"], urgent=d["urgent"], minutes=d["minutes"], now=now),
                      gettext_lazy("Whistle blown on case %(number)s: the organisations are summoned.")),
}
del F
# 12345 docking: reply (回单), hand back (退单), follow-up call (回访); cases/hotline/actions.py.
ACTIONS.update({name: Action(*spec) for name, spec in HOTLINE_ACTIONS.items()})
# The organisation track's moves (and registration with its class): cases/views_orgs.py.
ACTIONS.update(views_orgs.org_actions(Action))
# The order the buttons appear in: the usual next step first.
ACTION_ORDER = ("org_sign_in", "org_reply", "org_dispatch", "org_rule") + tuple(
    name for name in ACTIONS if name not in {"org_sign_in", "org_reply", "org_dispatch", "org_rule", "org_return",
                                              "reclassify", "refer"}) + ("org_return", "reclassify", "refer")
# Moves the table allows that the page offers elsewhere (the class is chosen in the register form).
HIDDEN_IN = {"reclassify": {Status.REPORTED}}
# Folded into the verify form as its second button.
SECOND_BUTTONS = {"verify_fail": "verify"}


def _form_for(name, case, user, **kwargs):
    form_class = ACTIONS[name].form
    if form_class is case_forms.DispatchForm or getattr(form_class, "needs_case", False):
        kwargs.update(case=case, user=user)
    return form_class(**kwargs)


def _timeline(case, *, file_reader=False):
    """The staff timeline; a mediation event says what happened in the file only to who may open it
    (not to an organisation's staff whistled to the dispute)."""
    rows = []
    for event in case.events.all():
        rows.append({
            "at": event.at,
            "label": event.get_action_display(),
            "from": Status(event.from_status).label if event.from_status else "",
            "to": Status(event.to_status).label if event.to_status else "",
            "actor": str(event.actor) if event.actor_id else (
                case.get_reporter_kind_display() if event.action == CaseEvent.Action.REPORT else _("the portal")),
            "note": event.note or (mediation_timeline.describe(event.data)
                                   if file_reader and event.action == CaseEvent.Action.MEDIATION else ""),
            "internal": not event.is_public,
            "photo_urls": [reverse("cases:photo", args=[case.pk, p.pk]) for p in event.photos.all()],
        })
    return rows


@login_required
@require_GET
def detail(request, pk):
    """A case with its whole timeline and the moves the user may make now."""
    case = case_detail(cases_visible_to(request.user), pk)
    if case is None:
        raise Http404
    return _render(request, "cases/detail.html", detail_context(request, case))


# The reporter as the case page shows it: masked, each with a logged reveal (cases/privacy.py).
REPORTER_SHOWN = (("reporter_name", gettext_lazy("Reporter")), ("reporter_phone", gettext_lazy("Phone")))


def detail_context(request, case, *, reporter=None, refused=None):
    """The case page's context; `reporter` replaces the masked reporter rows (after a reveal);
    `refused` is (action name, its bound form) after a move was refused: that form is shown open,
    with what was typed and its errors, in place of an empty one."""
    user = request.user
    now = timezone.now()
    allowed = set(workflow.allowed(case, user))
    actions = []
    for name in ACTION_ORDER:
        if name not in allowed or name in SECOND_BUTTONS or case.status in HIDDEN_IN.get(name, ()):
            continue
        spec = ACTIONS[name]
        second = [other for other, host in SECOND_BUTTONS.items() if host == name and other in allowed]
        kept = refused is not None and refused[0] == name
        actions.append({
            "name": name, "label": spec.label, "style": spec.style,
            "form": refused[1] if kept else _form_for(name, case, user, prefix=name),
            "open": kept,
            "url": reverse("cases:act", args=[case.pk, name]),
            "second": [{"label": ACTIONS[o].label, "url": reverse("cases:act", args=[case.pk, o]),
                        "style": ACTIONS[o].style} for o in second],
            "tap_only": ACTIONS[name].form is case_forms.EmptyForm,
        })
    if actions and not any(action["open"] for action in actions):
        actions[0]["open"] = True  # the page as usual: its first form (also when the refused move is gone)
    kinds = workflow.actor_kinds(case, user)
    # A summoned organisation's staff see the matter, never who reported it.
    sees_reporter = bool(kinds)
    offers_file = _offers_file(case, user)
    return {
        "case": case,
        "status_label": Status(case.status).label,
        "level_label": AreaKind(case.responsible_level).label,
        "overdue": case.is_overdue(now),
        "place_names": place_names(case),
        "reporter": reporter if reporter is not None else reveal_items(user, case, REPORTER_SHOWN),
        "timeline": _timeline(case, file_reader=offers_file),
        "actions": actions,
        "extension": _pending_extension(case) if case.status == Status.HANDLING else None,
        "caller_code": _caller_code(case, user),
        "is_mediation": offers_file,
        "sees_reporter": sees_reporter,
        "whistles": views_whistle.panel(case, user, now),
        "hotline_order": getattr(case, "hotline_order", None) if case.channel == Channel.HOTLINE else None,
        **views_orgs.route_context(case, user),
    }


def _caller_code(case, user):
    """A hotline matter's tracking code, for the one who typed in the call to read out again while the
    matter is open. The code is all it takes to rate the case, so nobody else is shown it (not the staff
    whose 满意率 it counts in), nor an order from the hotline's system, whose caller never had it."""
    if case.channel != Channel.HOTLINE or not case.tracking_code or case.status in FINAL_STATUSES:
        return ""
    if user is None or case.reporter_id != user.pk:
        return ""
    order = getattr(case, "hotline_order", None)
    if order is not None and order.client_id is not None:
        return ""
    return case.tracking_code_display


def _offers_file(case, user):
    """Whether the case page offers the mediation file: a dispute whose file was opened or still may be
    (not one referred as private or rejected first), to who may open it (not a summoned organisation)."""
    if case.kind != CaseKind.MEDIATION:
        return False
    opened = Mediation.objects.filter(pk=case.pk).values_list("opened_at", flat=True).first()
    if opened is None and case.status in FINAL_STATUSES:
        return False
    return file_cases_visible_to(user).filter(pk=case.pk).exists()


@login_required
@require_POST
def reporter_reveal(request, pk):
    """Show the reporter's full name or phone for a stated reason: logged, shown on this response only."""
    case = case_detail(cases_visible_to(request.user), pk)
    if case is None:
        raise Http404
    items, status = handle_reveal(request, case, REPORTER_SHOWN)
    return _render(request, "cases/detail.html", detail_context(request, case, reporter=items), status=status)


@login_required
@capped_uploads
def act(request, pk, name):
    """POST one move on a case: one service call; a refusal becomes a message on the case page.

    A GET (a refused move's page reloaded from the address bar, or the language switch, which
    returns to the address it was on) goes to the case page."""
    spec = ACTIONS.get(name)
    if spec is None:
        raise Http404
    if request.method != "POST":
        return redirect("cases:detail", pk=pk)
    user = request.user
    case = get_visible_or_404(cases_visible_to(user).select_related("category", "assignee"), pk=pk)
    extra = {"refused_uploads": request.refused_uploads} if issubclass(spec.form, case_forms.UploadsMixin) else {}
    # A second button posts its host form (verify_fail rides on the verify form).
    form = _form_for(name, case, user, data=request.POST, files=request.FILES,
                     prefix=SECOND_BUTTONS.get(name, name), **extra)
    refused = True
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, _("%(field)s: %(error)s") % {"field": label, "error": error}
                               if label else error)
    else:
        try:
            spec.run(case, user, form.cleaned_data, timezone.now())
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, spec.done % {"number": case.number})
            refused = False
    if refused and spec.form is not case_forms.EmptyForm:
        # The page again, this form open with what was typed (a photo must be chosen again: no
        # browser refills a file input), rather than a redirect that would empty it.
        case = case_detail(cases_visible_to(user), pk)
        if case is None:
            return redirect("cases:queue")
        files_not_kept(form, request.FILES)
        context = detail_context(request, case, refused=(SECOND_BUTTONS.get(name, name), form))
        return _render(request, "cases/detail.html", context, status=400)
    if not cases_visible_to(user).filter(pk=pk).exists():
        return redirect("cases:queue")
    return redirect("cases:detail", pk=pk)


@login_required
@require_GET
def photo(request, pk, photo_id):
    """A case photo, only for users who see the case (never a public /media/ URL)."""
    case = get_visible_or_404(cases_visible_to(request.user), pk=pk)
    found = CasePhoto.objects.filter(pk=photo_id, case=case).first()
    if found is None:
        raise Http404
    return image_response(found)


# --- grid workers: queue and patrol ------------------------------------------------------------

# The checks on site (核查) listed above the queue; more wait on the case board's "resolved" filter.
VERIFY_SHOWN = 20


def queue_context(request):
    """The cases of my queue (cases/queue.html): supervised (督办) first, then the soonest due;
    overdue marked; above them the resolved cases of my grids waiting for my check on site.
    The page itself, which adds the care visits due, is hub.views.queue."""
    now = timezone.now()
    page = _page(request, queue_for(request.user))
    rows = [{"case": c, "overdue": c.is_overdue(now), "status_label": Status(c.status).label,
             "can_accept": c.status == Status.DISPATCHED and "accept" in workflow.allowed(c, request.user)}
            for c in page]
    checks = list(verify_queue_for(request.user)[:VERIFY_SHOWN + 1])
    # An organisation's staff: its matters to sign in or in hand are on the organisation's queue.
    org_waiting = org_waiting_for(request.user).count() if scope_of(request.user).organisation_ids else None
    return {"page": page, "rows": rows, "checks": checks[:VERIFY_SHOWN], "checks_more": len(checks) > VERIFY_SHOWN,
            "org_waiting": org_waiting}


def _patrol_grids(user):
    """Grids where the user patrols (grid worker or grid chief posts)."""
    ids = [s.area_id for s in scope_of(user).spans if s.kind == AreaKind.GRID and s.role in HANDLING_ROLES[s.kind]]
    return list(Area.objects.filter(pk__in=ids, is_active=True).order_by("code"))


@login_required
@capped_uploads
def patrol(request):
    """A patrol report in a few taps; it is registered and dispatched at once."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    user = request.user
    grids = _patrol_grids(user)
    buildings = list(
        buildings_visible_to(user).filter(grid__in=grids)
        .values_list("pk", "grid_id", "number", "name", "address")
    ) if grids else []
    buildings.sort(key=lambda b: (b[1], len(b[2]), b[2]))
    kwargs = {"buildings": buildings, "grids": grids}
    status = 200
    if request.method == "POST":
        form = case_forms.PatrolForm(request.POST, request.FILES, refused_uploads=request.refused_uploads, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services_report.case_report(
                    category=data["category"], description=data["description"], channel=Channel.PATROL,
                    grid=data["grid"], building=data["building"], photos=photos_of(data), acting_user=user,
                    now=timezone.now(),
                )
            except DomainError as error:
                case_forms.add_domain_error(form, error)
            else:
                messages.success(request, _("Patrol report %(number)s saved and dispatched.") % {"number": case.number})
                return redirect("cases:detail", pk=case.pk)
        files_not_kept(form, request.FILES)
        status = 400
    else:
        form = case_forms.PatrolForm(**kwargs)
    return _render(request, "cases/patrol.html", {"form": form, "grids": grids}, status=status)


# --- staff: board, export, hotline -----------------------------------------------------------------

def _filtered_board(request, now):
    return CaseFilter(request.GET or None, queryset=board_for(request.user), now=now)


@login_required
@require_GET
def board(request):
    """The case board of the user's subtree, filtered and paginated."""
    now = timezone.now()
    filterset = _filtered_board(request, now)
    page = _page(request, board_page(filterset.qs), CappedPaginator)
    rows = _board_rows(page, now)
    query = request.GET.copy()
    query.pop("page", None)
    return _render(request, "cases/board.html", {
        "filter": filterset, "page": page, "rows": rows, "query": query.urlencode(),
        "query_without_place": _without(query, "place"),
        "filtered": bool(query),
        # Arrived from a dashboard figure: the place the board is narrowed to, named (the filter is hidden).
        "place_filter": _place_filter_name(request.user, filterset),
        # Hotline entry is for staff posted on places (an organisation's staff have none to enter for).
        "enters_hotline": scope_of(request.user).unrestricted or bool(scope_of(request.user).spans),
    })


def _without(query, name):
    rest = query.copy()
    rest.pop(name, None)
    return rest.urlencode()


def _place_filter_name(user, filterset):
    place = filterset.form.cleaned_data.get("place") if filterset.form.is_valid() else None
    if place is None:
        return ""
    return areas_visible_to(user).filter(pk=place).values_list("name", flat=True).first() or _("a place you do not reach")


def _board_rows(cases, now):
    """What each row of the board shows, formatted here once rather than by template
    filters and an included partial per row (the template was half the page's time)."""
    channels, statuses, levels = dict(Channel.choices), dict(Status.choices), dict(AreaKind.choices)
    detail = reverse("cases:detail", args=[0])[:-2]  # /cases/0/ → /cases/: the case's id goes after it

    def short(dt):
        return timezone.localtime(dt).strftime("%m-%d %H:%M")

    rows = []
    for c in cases:
        head = c.description_head
        rows.append({
            "href": f"{detail}{c.pk}/", "number": c.number, "status": c.status,
            "reported": f"{short(c.created_at)} · {channels.get(c.channel, c.channel)}",
            "category": f"{c.family_name} / {c.category_name}" if c.family_name else c.category_name,
            "description": head if len(head) <= 40 else head[:39] + "…",
            "place": " › ".join(n for n in (c.community_name, c.grid_name) if n)
            + (f" › {c.building}" if c.building_id else ""),
            "status_label": statuses.get(c.status, c.status), "level_label": levels.get(c.responsible_level, ""),
            "overdue": c.is_overdue(now), "supervised": c.supervised_at is not None,
            "carried": c.carried_over_at is not None, "assignee": c.assignee_name or "",
            "due_iso": timezone.localtime(c.due_at).isoformat() if c.due_at else "", "due": short(c.due_at) if c.due_at else "",
        })
    return rows


class _Echo:
    def write(self, value):
        return value


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


@login_required
@require_GET
def export(request):
    """The board as CSV (same scope and filters; no phone numbers or reporters' names)."""
    now = timezone.now()
    filterset = _filtered_board(request, now)
    if filterset.is_bound and not filterset.is_valid():
        # Refuse before streaming: once the first row is sent, an error can only cut the file short.
        problems = "\n".join(f"{filterset.form.fields[name].label if name in filterset.form.fields else name}: "
                              f"{' '.join(errors)}" for name, errors in filterset.form.errors.items())
        return HttpResponseBadRequest(problems, content_type="text/plain; charset=utf-8")
    header = [_("Case number"), _("Reported at"), _("Channel"), _("Category"), _("Status"), _("Street"),
              _("Community"), _("Grid"), _("Building"), _("Address"), _("Description"), _("Responsible level"),
              _("Assignee"), _("Due"), _("Overdue"), _("Supervised"), _("Rework"), _("Escalations"),
              _("Satisfaction"), _("Closed at")]
    channels, statuses = dict(Channel.choices), dict(Status.choices)
    levels = dict(AreaKind.choices)
    yes, no = _("yes"), _("no")

    def rows():
        yield "\ufeff"  # a BOM, so spreadsheet programs read the Chinese text as UTF-8
        writer = csv.writer(_Echo())
        yield writer.writerow(header)
        for c in filterset.qs.select_related("street")[:EXPORT_MAX_ROWS].iterator(chunk_size=2000):
            category = f"{c.category.parent.name}/{c.category.name}" if c.category.parent_id else c.category.name
            yield writer.writerow([_cell(v) for v in (
                c.number, _local(c.created_at), channels.get(c.channel, c.channel), category,
                statuses.get(c.status, c.status), c.street.name if c.street_id else "",
                c.community.name if c.community_id else "", c.grid.name if c.grid_id else "",
                str(c.building) if c.building_id else "", c.address, c.description,
                levels.get(c.responsible_level, ""), str(c.assignee) if c.assignee_id else "", _local(c.due_at),
                yes if c.is_overdue(now) else no, yes if c.supervised_at else no, c.rework_count,
                c.escalation_count, c.rating or "", _local(c.closed_at),
            )])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cases-{timezone.localdate(now):%Y%m%d}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


def _hotline_places(user):
    """Where the cascade starts for this user: the shallowest reach of their posts."""
    scope = scope_of(user)
    if scope.unrestricted:
        return {"roots": Area.objects.all(), "start": AreaKind.STREET, "restricted": False}
    depths = [KIND_LEVEL[s.kind] for s in scope.spans]
    if not depths:
        return {"roots": Area.objects.none(), "start": AreaKind.GRID}
    start = {0: AreaKind.STREET, 1: AreaKind.STREET, 2: AreaKind.COMMUNITY, 3: AreaKind.GRID}[min(depths)]
    return {"roots": areas_visible_to(user), "start": start}


@login_required
@capped_uploads
def hotline(request):
    """12345 hotline entry by staff on a caller's behalf; the caller gets the tracking code."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    user = request.user
    places = _hotline_places(user)
    status = 200
    if request.method == "GET":
        form = case_forms.HotlineForm(**places)
    elif "_refine" in request.POST:
        form = case_forms.HotlineForm(initial=request.POST.dict(), **places)
    else:
        form = case_forms.HotlineForm(request.POST, request.FILES, refused_uploads=request.refused_uploads,
                                      **places)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services_report.case_report(
                    category=data["category"], description=data["description"], channel=Channel.HOTLINE,
                    grid=data["grid"], building=data["building"], address=data["address"],
                    reporter_name=data["reporter_name"], reporter_phone=data["reporter_phone"],
                    external_ref=data["external_ref"], photos=photos_of(data), acting_user=user, now=timezone.now(),
                )
            except DomainError as error:
                case_forms.add_domain_error(form, error)
            else:
                messages.success(request, _("Case %(number)s saved. Tell the caller the tracking code: %(code)s")
                                 % {"number": case.number, "code": case.tracking_code_display})
                if cases_visible_to(user).filter(pk=case.pk).exists():
                    return redirect("cases:detail", pk=case.pk)
                return redirect("cases:hotline")
        files_not_kept(form, request.FILES)
        status = 400
    return _render(request, "cases/hotline.html", {"form": form}, status=status)
