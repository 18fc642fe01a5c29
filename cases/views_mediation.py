"""The mediation file's pages (调解卷宗): the mediators' list, one file with its
forms, a party's logged reveal, the evidence files and the printed documents.

Every file is reached through its case in file_cases_visible_to (the cases the
user sees, less those reached only as an organisation's staff), so "not yours"
answers 404 like "missing"; every write is one call into cases/mediation.py or
cases/mediation_files.py, whose refusal goes back onto the form it came from
(status 400, nothing written). Pages with parties' data are never cached.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grid.selectors import get_visible_or_404
from grid.views import render_page
from portal.fields import files_not_kept
from portal.errors import DomainError, PostRefused

from . import mediation as services
from . import mediation_files, mediation_followup
from .forms_mediation import (
    ConfirmationForm,
    FileForm,
    FollowUpForm,
    MediatorForm,
    OpenForm,
    OutcomeForm,
    PartyCorrectForm,
    PartyForm,
    PartyRemoveForm,
    PrintIdentitiesForm,
    PartyRevealForm,
    ReferralReceiptForm,
    ReopenForm,
    ReplyForm,
    SessionForm,
    SessionHeldForm,
    add_error_for,
)
from .mediation_selectors import (
    file_cases_visible_to,
    file_detail,
    follow_ups_due,
    may_appoint,
    may_reveal,
    may_work_on,
    mediator_candidates,
    my_files,
    replies_due,
    rooms_for,
    sessions_on,
)
from .models import (
    MediationFile,
    MediationOutcome,
    MediationParty,
    MediationPartyAccess,
    MediationSource,
    PartyField,
    SessionState,
)
from .uploads import capped_uploads

LIST_LIMIT = 200


def no_store(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapper


def _case_or_404(user, pk):
    return get_visible_or_404(
        file_cases_visible_to(user)
        .select_related("category", "category__parent", "assignee", "community", "street", "grid", "building"),
        pk=pk,
    )


def _file_or_404(user, pk):
    case = _case_or_404(user, pk)
    mediation = file_detail(case.pk)
    if mediation is None:
        raise Http404
    return case, mediation


# --- the list ------------------------------------------------------------------------------

@login_required
@require_GET
def files(request):
    """My files (a mediator's, at phone width), today's sessions, and all files I see for staff."""
    user = request.user
    source = request.GET.get("source") if request.GET.get("source") in MediationSource.values else ""
    outcome = request.GET.get("outcome") if request.GET.get("outcome") in MediationOutcome.values else ""
    mine_only = request.GET.get("mine") == "1"
    rows = list(my_files(user, source=source, outcome=outcome, mine_only=mine_only)[:LIST_LIMIT])
    today = timezone.localdate()
    return render_page(request, "cases/mediation/list.html", {
        "rows": rows,
        "today_sessions": list(sessions_on(user, today)),
        "follow_ups_due": list(follow_ups_due(user, on=today)),
        "replies_due": list(replies_due(user)),
        "sources": MediationSource.choices,
        "outcomes": MediationOutcome.choices,
        "source": source,
        "outcome": outcome,
        "mine_only": mine_only,
        "limit": LIST_LIMIT,
    })


# --- one file ------------------------------------------------------------------------------

def _context(request, case, mediation, *, bound=None, reveal=None, revealed=None):
    user = request.user
    bound = bound or {}
    working = may_work_on(case, mediation, user)
    pending = mediation.outcome == MediationOutcome.PENDING
    rooms = list(rooms_for(case)) if working else []
    forms = {}
    if working and pending:
        if not mediation.is_open:
            forms["open"] = bound.get("open") or OpenForm(prefix="open", rooms=rooms)
        else:
            forms["party"] = bound.get("party") or PartyForm(prefix="party")
            forms["session"] = bound.get("session") or SessionForm(prefix="session", rooms=rooms)
            forms["outcome"] = bound.get("outcome") or OutcomeForm(prefix="outcome")
    if working:
        forms["file"] = bound.get("file") or FileForm(prefix="file")
        for name in _after_forms(mediation):
            forms[name] = bound.get(name) or ACTS[name][0](prefix=name)
    if may_appoint(case, user):
        present = {m.pk for m in mediation.mediators.all()}
        candidates = [u for u in mediator_candidates(case) if u.pk not in present]
        if candidates or "mediator" in bound:
            forms["mediator"] = bound.get("mediator") or MediatorForm(prefix="mediator", candidates=candidates)
    revealing = may_reveal(case, mediation, user)
    parties, removed = [], []
    changing = working and pending and mediation.is_open
    for party in mediation.parties.all():
        if party.removed_at is not None:
            removed.append(party)
            continue
        items = []
        for field, masked, label in ((PartyField.ID_NUMBER, party.id_masked, _("ID number")),
                                     (PartyField.PHONE, party.phone_masked, _("Phone"))):
            value = (revealed or {}).get((party.pk, field), "")
            form = None
            if masked and revealing and not value:
                prefix = f"p{party.pk}-{field}"
                form = reveal if reveal is not None and reveal.prefix == prefix else \
                    PartyRevealForm(prefix=prefix, initial={"field": field})
            items.append({"field": field, "label": label, "masked": masked, "value": value, "form": form})
        change_forms = {}
        if changing:
            for act, form_class in PARTY_ACTS.items():
                prefix = f"p{party.pk}-{act}"
                change_forms[act] = bound.get(prefix) or form_class(prefix=prefix, party=party)
        parties.append({"party": party, "items": items, "change": change_forms})
    sessions = []
    for session in mediation.sessions.all():
        held_form = None
        if working and pending and session.state == SessionState.SCHEDULED:
            held_form = bound.get(f"held-{session.pk}") or SessionHeldForm(prefix=f"held-{session.pk}")
        sessions.append({"session": session, "held_form": held_form})
    return {
        "case": case,
        "mediation": mediation,
        "parties": parties,
        "removed_parties": removed,
        "sessions": sessions,
        "files": list(mediation.files.all()),
        "mediators": list(mediation.mediators.all()),
        "forms": forms,
        "working": working,
        "open_bound": {name for name in bound},
        # Staff over the place read who saw the parties' full values (the reveal log).
        "access_log": list(MediationPartyAccess.objects.filter(party__mediation=mediation)
                           .select_related("actor", "party")[:50]) if may_appoint(case, user) else None,
    }


def _file_page(request, case, mediation, *, status=200, **kwargs):
    return render_page(request, "cases/mediation/file.html", _context(request, case, mediation, **kwargs),
                       status=status)


@login_required
@require_GET
@no_store
def file_page(request, pk):
    case, mediation = _file_or_404(request.user, pk)
    return _file_page(request, case, mediation)


def _run_open(case, user, data, now):
    return services.mediation_open(case=case, acting_user=user, now=now, **data)


def _run_party(case, user, data, now):
    return services.mediation_add_party(case=case, acting_user=user, now=now, **data)


def _run_mediator(case, user, data, now):
    return services.mediation_add_mediator(case=case, mediator=data["mediator"], acting_user=user, now=now)


def _run_session(case, user, data, now):
    return services.mediation_record_session(case=case, acting_user=user, now=now, **data)


def _run_outcome(case, user, data, now):
    data = {name: value for name, value in data.items() if name != "final"}  # the form's own confirmation
    return services.mediation_conclude(case=case, acting_user=user, now=now, **data)


def _run_file(case, user, data, now):
    return mediation_files.mediation_attach_file(case=case, acting_user=user, upload=data["file"], kind=data["kind"],
                                                 description=data["description"], now=now)


def _after_forms(mediation):
    """The forms that follow an outcome, in the order the page shows them."""
    names = []
    if mediation.has_agreement and mediation.followed_up_at is None:
        names.append("follow_up")
    if mediation.has_agreement and mediation.performance in ("partly", "not_performed"):
        names.append("reopen")
        if mediation.confirmation_applied_on is None:
            names.append("confirmation")
    if mediation.outcome == MediationOutcome.FAILED and mediation.referral and not mediation.referral_receipt:
        names.append("referral_receipt")
    if mediation.is_referral and mediation.outcome != MediationOutcome.PENDING and mediation.replied_at is None:
        names.append("reply")
    return names


def _run_follow_up(case, user, data, now):
    return mediation_followup.mediation_follow_up(case=case, acting_user=user, now=now, **data)


def _run_confirmation(case, user, data, now):
    return mediation_followup.mediation_judicial_confirmation(case=case, acting_user=user, now=now, **data)


def _run_reopen(case, user, data, now):
    return mediation_followup.mediation_reopen(case=case, acting_user=user, now=now, **data)


def _run_referral_receipt(case, user, data, now):
    return mediation_followup.mediation_referral_receipt(case=case, acting_user=user, now=now, **data)


def _run_reply(case, user, data, now):
    return mediation_followup.mediation_reply(case=case, acting_user=user, now=now, **data)


# name → (form class, extra form kwargs from (case, mediation), service call, done message, anchor)
ACTS = {
    "open": (OpenForm, lambda c, m: {"rooms": list(rooms_for(c))}, _run_open,
             _("The mediation file is open."), "file"),
    "party": (PartyForm, lambda c, m: {}, _run_party, _("Party added."), "parties"),
    "mediator": (MediatorForm, lambda c, m: {"candidates": list(mediator_candidates(c))}, _run_mediator,
                 _("Mediator added."), "mediators"),
    "session": (SessionForm, lambda c, m: {"rooms": list(rooms_for(c))}, _run_session,
                _("Session recorded."), "sessions"),
    "outcome": (OutcomeForm, lambda c, m: {}, _run_outcome, _("Outcome recorded."), "outcome"),
    "file": (FileForm, lambda c, m: {}, _run_file, _("File attached."), "files"),
    "follow_up": (FollowUpForm, lambda c, m: {}, _run_follow_up, _("Follow-up recorded."), "follow-up"),
    "confirmation": (ConfirmationForm, lambda c, m: {}, _run_confirmation,
                     _("Judicial confirmation recorded."), "follow-up"),
    "reopen": (ReopenForm, lambda c, m: {}, _run_reopen, _("The file is open for mediation again."), "outcome"),
    "referral_receipt": (ReferralReceiptForm, lambda c, m: {}, _run_referral_receipt,
                         _("Receipt recorded."), "outcome"),
    "reply": (ReplyForm, lambda c, m: {}, _run_reply, _("Reply recorded."), "reply"),
}


@login_required
@capped_uploads(setting="MEDIATION_FILE_MAX_BYTES")
@no_store
def act(request, pk, name):
    """POST one form of the file: one service call; a refusal re-renders the page with the form's errors."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if name not in ACTS:
        raise Http404
    user = request.user
    case, mediation = _file_or_404(user, pk)
    form_class, extra, run, done, anchor = ACTS[name]
    form = form_class(request.POST, request.FILES, prefix=name, **extra(case, mediation))
    if name == "file":
        for refused in request.refused_uploads:
            form.add_error(None, _("“%(name)s” is too large (at most %(mb)s MB).")
                           % {"name": refused, "mb": round(mediation_files.max_bytes() / 1024 / 1024, 1)})
    if form.is_valid():
        try:
            run(case, user, form.cleaned_data, timezone.now())
        except DomainError as error:
            add_error_for(form, error)
        else:
            messages.success(request, done)
            return redirect(reverse("cases:mediation", args=[case.pk]) + f"#{anchor}")
    files_not_kept(form, request.FILES)
    case, mediation = _file_or_404(user, pk)
    return _file_page(request, case, mediation, status=400, bound={name: form})


@login_required
@require_POST
@no_store
def session_held(request, pk, session_id):
    user = request.user
    case, mediation = _file_or_404(user, pk)
    session = next((s for s in mediation.sessions.all() if s.pk == session_id), None)
    if session is None:
        raise Http404
    prefix = f"held-{session.pk}"
    form = SessionHeldForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            services.mediation_session_held(session=session, acting_user=user, notes=form.cleaned_data["notes"],
                                            attendees=form.cleaned_data["attendees"], now=timezone.now())
        except DomainError as error:
            add_error_for(form, error)
        else:
            messages.success(request, _("Session recorded."))
            return redirect(reverse("cases:mediation", args=[case.pk]) + "#sessions")
    case, mediation = _file_or_404(user, pk)
    return _file_page(request, case, mediation, status=400, bound={prefix: form})


@login_required
@require_POST
@no_store
def party_reveal(request, pk, party_id):
    """Show one full value of a party for a stated reason: logged by the service, on this response only."""
    user = request.user
    case, mediation = _file_or_404(user, pk)
    party = next((p for p in mediation.parties.all() if p.pk == party_id and p.removed_at is None), None)
    if party is None:
        raise Http404
    field = next((f for f in PartyField.values if f"p{party.pk}-{f}-field" in request.POST), None)
    form = PartyRevealForm(request.POST, prefix=f"p{party.pk}-{field}")
    revealed, status = {}, 200
    if field is not None and form.is_valid() and form.cleaned_data["field"] == field:
        try:
            revealed[(party.pk, field)] = services.mediation_party_reveal(
                party=party, field=field, reason=form.cleaned_data["reason"], acting_user=user, now=timezone.now())
        except DomainError as error:
            add_error_for(form, error)
            status = 403 if error.code == "forbidden" else 400
    else:
        status = 400
    return _file_page(request, case, mediation, status=status, reveal=form, revealed=revealed)


# A party's own forms: name → form class (the page's prefix is p<party>-<name>).
PARTY_ACTS = {"correct": PartyCorrectForm, "remove": PartyRemoveForm}


@login_required
@no_store
def party_change(request, pk, party_id, name):
    """更正 or remove one party: one service call; a refusal re-renders the page with that party's form."""
    if name not in PARTY_ACTS:
        raise Http404
    if request.method != "POST":
        return redirect(reverse("cases:mediation", args=[pk]) + "#parties")
    user = request.user
    case, mediation = _file_or_404(user, pk)
    party = next((p for p in mediation.parties.all() if p.pk == party_id and p.removed_at is None), None)
    if party is None:
        raise Http404
    prefix = f"p{party.pk}-{name}"
    form = PARTY_ACTS[name](request.POST, prefix=prefix, party=party)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if name == "correct":
                services.mediation_correct_party(party=party, acting_user=user, now=timezone.now(), **data)
                done = _("“%(name)s” corrected.") % {"name": data["name"]}
            else:
                services.mediation_remove_party(party=party, acting_user=user, reason=data["reason"],
                                                now=timezone.now())
                done = _("“%(name)s” removed from the file.") % {"name": party.name}
        except DomainError as error:
            add_error_for(form, error)
            if error.code in ("concluded", "forbidden", "bad_state", "removed"):
                # The page may no longer draw this party's form (the outcome was recorded meanwhile).
                messages.error(request, str(error))
        else:
            messages.success(request, done)
            return redirect(reverse("cases:mediation", args=[case.pk]) + "#parties")
    case, mediation = _file_or_404(user, pk)
    return _file_page(request, case, mediation, status=400, bound={prefix: form})


@login_required
@require_GET
def file_download(request, pk, file_id):
    case, mediation = _file_or_404(request.user, pk)
    stored = MediationFile.objects.filter(pk=file_id, mediation=mediation).first()
    if stored is None:
        raise Http404
    try:
        handle = stored.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type=stored.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- printed documents ----------------------------------------------------------------------

DOCUMENTS = {
    "application": ("cases/mediation/print_application.html", lambda m: m.is_open),
    "agreement": ("cases/mediation/print_agreement.html", lambda m: m.has_agreement),
}


@login_required
@require_http_methods(["GET", "POST"])
@no_store
def print_document(request, pk, doc):
    """调解申请书 or 调解协议书, a print-ready A4 page; parties' numbers masked. Who may reveal them may
    POST a reason to print this page once with the full ID numbers, each logged (never kept: no-store)."""
    if doc not in DOCUMENTS:
        raise Http404
    user = request.user
    case, mediation = _file_or_404(user, pk)
    template, ready = DOCUMENTS[doc]
    if not ready(mediation):
        raise Http404
    form, full, status = None, {}, 200
    if may_reveal(case, mediation, user):
        form = PrintIdentitiesForm(request.POST if request.method == "POST" else None, prefix="print")
    elif request.method == "POST":
        raise PostRefused(_("Your post may not see this value in full."))
    if form is not None and form.is_bound:
        status = 400
        if form.is_valid():
            try:
                full = services.mediation_print_identities(mediation=mediation, reason=form.cleaned_data["reason"],
                                                           acting_user=user, now=timezone.now())
                status = 200
            except DomainError as error:
                add_error_for(form, error)
    parties = list(MediationParty.objects.filter(mediation=mediation, removed_at__isnull=True)
                   .defer("id_number", "phone").order_by("id"))
    for party in parties:
        party.full_id = full.get(party.pk, "")
    held = [s for s in mediation.sessions.all() if s.state == SessionState.HELD]
    return render_page(request, template, {
        "print_form": form,
        "printed_in_full": bool(full),
        "case": case,
        "mediation": mediation,
        "applicants": [p for p in parties if p.role == "applicant"],
        "respondents": [p for p in parties if p.role == "respondent"],
        "third_parties": [p for p in parties if p.role == "third_party"],
        "parties": parties,
        "mediators": list(mediation.mediators.all()),
        "last_session": held[-1] if held else None,
        "printed_on": timezone.localdate(),
    }, status=status)
