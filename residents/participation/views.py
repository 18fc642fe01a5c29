"""Staff pages of resident participation, and the public board of a community.

Every staff page reads through selectors.py (scoped by the tree); outside the
scope answers 404 like a missing record. Every button is one POST calling one
service; a DomainError becomes a message and a redirect, never a 500. The
public board needs no login and selects no personal field.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grid.selectors import get_visible_or_404
from grid.views import layout_for
from portal.fields import files_not_kept
from portal.errors import DomainError
from residents.selectors import residents_visible_to

from . import selectors, services, workflow
from .attendance import attendances_of, meeting_attend
from .forms import MeetingForm, ProgressForm, ProjectForm, ProposalForm
from .models import AgendaItem, Event, Objection, ProjectStatus, ProposalStatus, Support, Track, TrackStage

LIST_SIZE = 30
SEARCH_SIZE = 20


def _render(request, template, context, *, status=200):
    return render(request, template, {"layout": layout_for(request.user), **context}, status=status)


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _resident_search(request, row):
    """Living residents of the row's place matching ?q= (name), for the support/evaluation buttons."""
    query = (request.GET.get("q") or "").strip()[:50]
    if not query:
        return query, []
    found = (residents_visible_to(request.user, include_left=False) & selectors.residents_of(row)).filter(
        name__contains=query).select_related("household__unit__building").order_by("name", "id")[:SEARCH_SIZE]
    return query, list(found)


def _timeline(**subject):
    events = list(Event.objects.filter(**subject).select_related("actor").order_by("at", "id"))
    for event in events:
        event.label = workflow.action_label(event.action)
    return events


def _act(request, handlers, name, target):
    """Run one button: `handlers[name](post, files)` calls one service."""
    handler = handlers.get(name)
    if handler is None:
        raise Http404
    try:
        handler(request.POST, request.FILES)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Saved."))
    return redirect(target)


# --- overview -------------------------------------------------------------------------------------

@login_required
@require_GET
def index(request):
    user = request.user
    proposals = selectors.proposals_visible_to(user).select_related("grid", "community")
    status = request.GET.get("status")
    if status in ProposalStatus.values:
        proposals = proposals.filter(status=status)
    return _render(request, "participation/index.html", {
        "proposals": list(proposals.order_by("-created_at", "-id")[:LIST_SIZE]),
        "meetings": list(selectors.meetings_visible_to(user).select_related("grid", "community")
                         .order_by("-held_at", "-id")[:LIST_SIZE]),
        "tracks": list(selectors.tracks_visible_to(user).select_related("proposal", "grid", "community")
                       .order_by("-created_at", "-id")[:LIST_SIZE]),
        "projects": list(selectors.projects_visible_to(user).select_related("grid", "community")
                         .order_by("-created_at", "-id")[:LIST_SIZE]),
        "statuses": ProposalStatus.choices, "status": status,
        "communities": list(selectors.places_for_participation(user).filter(kind="community")[:LIST_SIZE]),
    })


def _create_page(request, form_class, template_title, create, *, initial=None, extra=None):
    places = selectors.places_for_participation(request.user)
    initial = {"place": request.GET.get("place"), "proposal": _int_or_none(request.GET.get("proposal")),
               **(initial or {})}
    form = form_class(request.POST or None, request.FILES or None, places=places, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            row = create(form.cleaned_data)
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            return redirect(row)
    if form.errors:
        files_not_kept(form, request.FILES)
    return _render(request, "participation/form.html", {"form": form, "title": template_title, **(extra or {})},
                   status=400 if form.errors else 200)


# --- proposals ------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def proposal_new(request):
    def create(data):
        return services.proposal_create(place=data["place"], title=data["title"], description=data["description"],
                                        threshold=data["threshold"], proposer=data.get("proposer"),
                                        acting_user=request.user)

    # On a resident's behalf: find them by name, then the form carries them (and their grid).
    living = residents_visible_to(request.user, include_left=False)
    pick = _int_or_none(request.POST.get("proposer") or request.GET.get("proposer"))
    proposer = living.filter(pk=pick).first() if pick else None
    query = (request.GET.get("q") or "").strip()[:50]
    found = list(living.filter(name__contains=query).select_related("household__unit__building")
                 .order_by("name", "id")[:SEARCH_SIZE]) if query else []
    initial = {"proposer": proposer.pk, "place": proposer.grid_id} if proposer else {}
    return _create_page(request, ProposalForm, _("New proposal"), create, initial=initial,
                        extra={"proposer_search": True, "proposer": proposer, "query": query, "found": found})


@login_required
@require_GET
def proposal_detail(request, pk):
    user = request.user
    proposal = get_visible_or_404(selectors.proposals_visible_to(user).select_related("grid", "community", "category"), pk=pk)
    query, found = _resident_search(request, proposal)
    supporters = list(Support.objects.filter(proposal=proposal, resident__in=residents_visible_to(user))
                      .select_related("resident").order_by("at", "id")[:200])
    track = Track.objects.filter(proposal=proposal).first()
    return _render(request, "participation/proposal.html", {
        "proposal": proposal, "query": query, "found": found, "supporters": supporters, "track": track,
        "allowed": workflow.allowed("proposal", proposal, user),
        "meetings": list(selectors.meetings_visible_to(user, managing=True).filter(
            closed_at__isnull=True, community_id=proposal.community_id).order_by("-held_at")[:10]),
        "items": list(AgendaItem.objects.filter(proposal=proposal).select_related("meeting")),
        "projects": list(proposal.projects.all()),
        "timeline": _timeline(proposal=proposal),
    })


@login_required
@require_POST
def proposal_act(request, pk, action):
    user = request.user
    proposal = get_visible_or_404(selectors.proposals_visible_to(user), pk=pk)
    meetings = selectors.meetings_visible_to(user)

    def add_to_meeting(post, files):
        meeting = meetings.filter(pk=_int_or_none(post.get("meeting"))).first()
        if meeting is None:
            raise DomainError(_("Choose a meeting."), code="no_meeting")
        services.meeting_add_item(meeting=meeting, proposal=proposal, acting_user=user)

    handlers = {
        "support": lambda post, files: services.proposal_support(
            proposal=proposal, resident=_int_or_none(post.get("resident")), acting_user=user),
        "deliberate": lambda post, files: services.proposal_deliberate(proposal=proposal, acting_user=user,
                                                                       note=post.get("note", "")),
        "withdraw": lambda post, files: services.proposal_withdraw(proposal=proposal, acting_user=user,
                                                                   reason=post.get("reason", "")),
        "open_track": lambda post, files: services.track_open(proposal=proposal, acting_user=user),
        "add_to_meeting": add_to_meeting,
    }
    return _act(request, handlers, action, proposal.get_absolute_url())


@login_required
@require_GET
def clusters(request):
    return _render(request, "participation/clusters.html", {
        "clusters": selectors.case_clusters(request.user, now=timezone.now()),
        "min_cases": selectors.CLUSTER_MIN_CASES,
    })


@login_required
@require_POST
def cluster_make(request):
    from grid.selectors import areas_visible_to

    grid = areas_visible_to(request.user).filter(pk=_int_or_none(request.POST.get("grid"))).first()
    category = selectors.categories().filter(pk=_int_or_none(request.POST.get("category"))).first()
    if grid is None:
        raise Http404
    try:
        made = services.proposal_from_cases(grid=grid, category=category, acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("participation:clusters")
    return redirect(made)


# --- meetings -------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request):
    def create(data):
        return services.meeting_create(place=data["place"], kind=data["kind"], title=data["title"],
                                       held_at=data["held_at"], location=data["location"], acting_user=request.user)

    return _create_page(request, MeetingForm, _("New deliberation meeting"), create)


@login_required
@require_GET
def meeting_detail(request, pk):
    user = request.user
    meeting = get_visible_or_404(selectors.meetings_visible_to(user).select_related("grid", "community"), pk=pk)
    field = "grid_id" if meeting.grid_id else "community_id"
    waiting = selectors.proposals_visible_to(user).filter(
        status=ProposalStatus.DELIBERATION, **{field: getattr(meeting, field)}).exclude(
        agenda_items__meeting=meeting).order_by("created_at")[:LIST_SIZE]
    query, found = _resident_search(request, meeting)
    return _render(request, "participation/meeting.html", {
        "meeting": meeting, "items": selectors.meeting_items(meeting), "waiting": list(waiting),
        "query": query, "found": found,
        "attendances": list(attendances_of(meeting, residents_visible_to(user))[:200]),
        "may_manage": workflow.MANAGE in workflow.actor_kinds(meeting, user),
        "timeline": _timeline(meeting=meeting),
    })


@login_required
@require_POST
def meeting_act(request, pk, action):
    user = request.user
    meeting = get_visible_or_404(selectors.meetings_visible_to(user), pk=pk)

    def add_item(post, files):
        proposal = selectors.proposals_visible_to(user).filter(pk=_int_or_none(post.get("proposal"))).first()
        if proposal is None:
            raise Http404
        services.meeting_add_item(meeting=meeting, proposal=proposal, acting_user=user)

    def vote(post, files):
        item = AgendaItem.objects.filter(meeting=meeting, pk=_int_or_none(post.get("item"))).first()
        if item is None:
            raise Http404
        services.meeting_vote(item=item, votes_for=post.get("votes_for"), votes_against=post.get("votes_against"),
                              votes_abstain=post.get("votes_abstain"), decision_text=post.get("decision_text", ""),
                              acting_user=user)

    handlers = {
        "add_item": add_item,
        "record": lambda post, files: services.meeting_record(
            meeting=meeting, participants=post.get("participants", ""), attendance=post.get("attendance"),
            minutes=post.get("minutes", ""), acting_user=user),
        "vote": vote,
        "attend": lambda post, files: meeting_attend(meeting=meeting, resident=_int_or_none(post.get("resident")),
                                                     acting_user=user),
        "close": lambda post, files: services.meeting_close(meeting=meeting, acting_user=user),
    }
    return _act(request, handlers, action, meeting.get_absolute_url())


# --- 四议两公开 ---------------------------------------------------------------------------------------

@login_required
@require_GET
def track_detail(request, pk):
    user = request.user
    track = get_visible_or_404(selectors.tracks_visible_to(user).select_related("proposal", "grid", "community"), pk=pk)
    query, found = _resident_search(request, track)
    order = TrackStage.values
    table = workflow.TABLES["track"]
    done = [(table[name].target.label, order.index(track.stage) >= order.index(table[name].target))
            for name in (*services.STEPS, "publish_decision", "publish_result")]
    return _render(request, "participation/track.html", {
        "track": track, "allowed": workflow.allowed("track", track, user), "steps": services.STEPS, "done": done,
        "objections": list(Objection.objects.filter(track=track).order_by("raised_at", "id")),
        "query": query, "found": found, "now": timezone.now(),
        "timeline": _timeline(track=track),
    })


@login_required
@require_POST
def track_act(request, pk, action):
    user = request.user
    track = get_visible_or_404(selectors.tracks_visible_to(user), pk=pk)

    def answer(post, files):
        objection = Objection.objects.filter(track=track, pk=_int_or_none(post.get("objection"))).first()
        if objection is None:
            raise Http404
        services.track_answer(objection=objection, answer=post.get("answer", ""), acting_user=user)

    def step(post, files):
        votes = (post.get("votes_for"), post.get("votes_against"), post.get("votes_abstain"))
        services.track_step(track=track, step=post.get("step"), note=post.get("note", ""), votes=votes,
                            decision_text=post.get("decision_text", ""), acting_user=user)

    handlers = {
        "step": step,
        "publish_decision": lambda post, files: services.track_publish_decision(
            track=track, days=post.get("days", 7), acting_user=user),
        "object": lambda post, files: services.track_object(
            track=track, text=post.get("text", ""), resident=_int_or_none(post.get("resident")), acting_user=user),
        "answer": answer,
        "publish_result": lambda post, files: services.track_publish_result(
            track=track, result_text=post.get("result_text", ""), acting_user=user),
    }
    return _act(request, handlers, action, track.get_absolute_url())


# --- projects -------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def project_new(request):
    def create(data):
        proposal = None
        if data.get("proposal"):
            proposal = selectors.proposals_visible_to(request.user).filter(pk=data["proposal"]).first()
            if proposal is None:
                raise DomainError(_("Only a proposal adopted in this community can become its project."))
        return services.project_apply(place=data["place"], title=data["title"], description=data["description"],
                                      applicant=data["applicant"], budget=data["budget"], proposal=proposal,
                                      acting_user=request.user)

    return _create_page(request, ProjectForm, _("New livelihood project"), create)


@login_required
@require_GET
def project_detail(request, pk):
    user = request.user
    project = get_visible_or_404(selectors.projects_visible_to(user).select_related("grid", "community", "proposal"), pk=pk)
    query, found = _resident_search(request, project)
    return _render(request, "participation/project.html", {
        "project": project, "allowed": workflow.allowed("project", project, user), "evaluate_only": {"evaluate"},
        "updates": list(project.updates.prefetch_related("photos").order_by("-at", "-id")[:LIST_SIZE]),
        "progress_form": ProgressForm(initial={"progress": project.progress}),
        "query": query, "found": found, "timeline": _timeline(project=project),
    })


@login_required
@require_POST
def project_act(request, pk, action):
    user = request.user
    project = get_visible_or_404(selectors.projects_visible_to(user), pk=pk)

    def progress(post, files):
        photo = files.get("photo")
        services.project_report_progress(project=project, note=post.get("note", ""), progress=post.get("progress"),
                                         photos=[photo] if photo else [], acting_user=user)

    def simple(service):
        return lambda post, files: service(project=project, acting_user=user, note=post.get("note", ""))

    handlers = {
        "review": simple(services.project_review),
        "approve": simple(services.project_approve),
        "reject": simple(services.project_reject),
        "start": simple(services.project_start),
        "complete": simple(services.project_complete),
        "progress": progress,
        "evaluate": lambda post, files: services.project_evaluate(
            project=project, resident=_int_or_none(post.get("resident")), rating=post.get("rating"),
            comment=post.get("comment", ""), acting_user=user),
    }
    return _act(request, handlers, action, project.get_absolute_url())


# --- the public board -----------------------------------------------------------------------------

@require_GET
def board(request, pk):
    """公开栏: no login, no personal data. Proposals, decisions, 四议两公开 and projects of a community."""
    community = selectors.public_community_or_none(pk)
    if community is None:
        raise Http404
    return render(request, "participation/board.html", {
        "layout": "layouts/public.html", "community": community, "proposal_statuses": ProposalStatus.choices,
        "track_stages": TrackStage.choices, "project_statuses": ProjectStatus.choices,
        **selectors.board_for(community, now=timezone.now()),
    })
