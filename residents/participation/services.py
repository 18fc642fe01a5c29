"""Every write of resident participation: one function per transition, each in one
transaction, each checked against workflow.py on a freshly locked row, each
appending its line to the (append-only) timeline. A refused write raises
DomainError and leaves nothing behind.

Residents do not sign in to the portal: staff (or a grid worker) enter a
resident's proposal, support, objection or evaluation on their behalf, naming
the resident, who must live in the place. One support and one evaluation per
resident are unique constraints, so a double submit is refused, never counted.
"""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind
from portal.errors import DomainError
from portal.photos import validate_photo, without_metadata
from portal.text import clean_text
from portal.workcalendar.calendar import add_working_time
from portal.workcalendar.models import TimeUnit
from residents.selectors import residents_visible_to

from . import hooks, selectors, workflow
from .models import (
    PUBLICATION_MIN,
    AgendaItem,
    Decision,
    Evaluation,
    Event,
    Meeting,
    MeetingKind,
    Objection,
    Project,
    ProjectPhoto,
    ProjectUpdate,
    Proposal,
    ProposalOrigin,
    ProposalStatus,
    Support,
    Track,
    TrackStage,
)

TITLE_MAX = 100
TEXT_MAX = 4000
THRESHOLD_MAX = 10000
VOTES_MAX = 100000
# Working days allowed for each of the four deliberations, and for publishing a decision once taken.
STEP_WORKING_DAYS = 10
PUBLISH_WORKING_DAYS = 2
# Objections raised during publication are answered within this many working days.
ANSWER_WORKING_DAYS = 3
LEVEL_ABOVE = {AreaKind.COMMUNITY: AreaKind.STREET, AreaKind.STREET: AreaKind.DISTRICT}
SWEEP_BATCH = 500
MAX_PHOTOS = 9


def _now(now):
    return now or timezone.now()


def _path(place):
    """The stored path of a community or a grid, as model fields."""
    if not isinstance(place, Area) or place.kind not in (AreaKind.COMMUNITY, AreaKind.GRID) or not place.is_active:
        raise DomainError(_("Choose a community or a grid."), code="bad_place")
    ids = dict(place.get_ancestors(include_self=True).values_list("kind", "pk"))
    return {"district_id": ids[AreaKind.DISTRICT], "street_id": ids[AreaKind.STREET],
            "community_id": ids[AreaKind.COMMUNITY], "grid_id": ids.get(AreaKind.GRID)}


def _copy_path(row):
    return {"district_id": row.district_id, "street_id": row.street_id,
            "community_id": row.community_id, "grid_id": row.grid_id}


def _require(kind, row, user):
    if kind not in workflow.actor_kinds(row, user):
        raise DomainError(_("You may not do this for this place."), code="forbidden")


def _event(*, action, actor, now, note="", data=None, **subject):
    return Event.objects.create(action=action, actor=actor, at=now, note=note, data=data or {}, **subject)


def _locked(model, pk):
    return model.objects.select_for_update().get(pk=pk)


def _move(machine, row, name, *, user, now, changes=None, note="", data=None):
    """Check the move on the locked `row`, make it with a conditional UPDATE, append its event."""
    transition = workflow.check(machine, name, row, user)
    field = workflow.STATE_FIELD[machine]
    before = getattr(row, field)
    after = transition.target_from(before)
    values = dict(changes or {})
    if transition.target is not None:
        values[field] = after
    if values and type(row).objects.filter(pk=row.pk, **{field: before}).update(**values) != 1:
        raise DomainError(_("This changed meanwhile; reload the page and try again."), code="stale")
    _event(action=f"{machine}.{name}", actor=user, now=now, note=note,
           data={"from": before, "to": after, **(data or {})}, **{machine: row})
    row.refresh_from_db()
    return row


def _resident_of(place_row, resident, user):
    """The resident, if the user may name them and they live in the row's place."""
    if resident is None:
        raise DomainError(_("Choose the resident."), code="no_resident")
    found = (residents_visible_to(user, include_left=False) & selectors.residents_of(place_row)).filter(
        pk=getattr(resident, "pk", resident)).first()
    if found is None:
        raise DomainError(_("This resident does not live in this place."), code="not_resident")
    return found


def _count(value, *, field, low=0, high=VOTES_MAX):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DomainError(_("%(field)s must be a whole number.") % {"field": field}, code="not_a_number") from None
    if not low <= number <= high:
        raise DomainError(_("%(field)s must be between %(low)d and %(high)d.")
                          % {"field": field, "low": low, "high": high}, code="out_of_range")
    return number


# --- proposals (民事民提) ------------------------------------------------------------------------

@transaction.atomic
def proposal_create(*, place, title, description, acting_user, threshold=10, proposer=None, now=None):
    """A proposal for a community or grid, by staff or entered on behalf of a resident living there."""
    now = _now(now)
    draft = Proposal(**_path(place))
    _require(workflow.ENTER, draft, acting_user)
    draft.title = clean_text(title, field=_("title"), limit=TITLE_MAX)
    draft.description = clean_text(description, field=_("description"), limit=TEXT_MAX)
    draft.threshold = _count(threshold, field=_("Supports needed"), low=1, high=THRESHOLD_MAX)
    draft.proposer = _resident_of(draft, proposer, acting_user) if proposer is not None else None
    draft.origin = ProposalOrigin.RESIDENT if draft.proposer else ProposalOrigin.STAFF
    draft.created_by, draft.created_at = acting_user, now
    draft.save()
    _event(proposal=draft, action="proposal.create", actor=acting_user, now=now, data={"origin": draft.origin})
    return draft


@transaction.atomic
def proposal_from_cases(*, grid, category, acting_user, now=None):
    """One click: a grid's recurring cases of one category become a proposal (from the clusters list)."""
    now = _now(now)
    draft = Proposal(**_path(grid))
    if grid.kind != AreaKind.GRID:
        raise DomainError(_("Choose a grid."), code="bad_place")
    _require(workflow.MANAGE, draft, acting_user)
    if not isinstance(category, Proposal._meta.get_field("category").related_model):
        raise DomainError(_("Choose a category."), code="bad_category")
    numbers = list(selectors.cluster_cases(acting_user).filter(
        grid_id=grid.pk, category_id=category.pk, created_at__gte=now - selectors.CLUSTER_WINDOW,
    ).order_by("-created_at").values_list("number", flat=True)[:200])
    if len(numbers) < selectors.CLUSTER_MIN_CASES:
        raise DomainError(_("Fewer than %(n)d recent cases of this kind here: nothing recurs yet.")
                          % {"n": selectors.CLUSTER_MIN_CASES}, code="no_cluster")
    draft.title = _("Recurring: %(category)s in %(place)s") % {"category": category.name, "place": grid.name}
    draft.title = draft.title[:TITLE_MAX]
    draft.description = _("%(n)d cases of “%(category)s” in %(place)s in the last 90 days: %(numbers)s") % {
        "n": len(numbers), "category": category.name, "place": grid.name, "numbers": "、".join(numbers[:20])}
    draft.origin, draft.category, draft.case_count = ProposalOrigin.CASES, category, len(numbers)
    draft.created_by, draft.created_at = acting_user, now
    try:
        with transaction.atomic():
            draft.save()
    except IntegrityError:
        raise DomainError(_("An open proposal was already made from these cases."), code="exists") from None
    _event(proposal=draft, action="proposal.from_cases", actor=acting_user, now=now,
           data={"cases": len(numbers), "category": category.code})
    return draft


@transaction.atomic
def proposal_support(*, proposal, resident, acting_user, now=None):
    """附议: one resident of the place backs the proposal; the threshold sends it to deliberation."""
    now = _now(now)
    proposal = _locked(Proposal, proposal.pk)
    workflow.check("proposal", "support", proposal, acting_user)
    resident = _resident_of(proposal, resident, acting_user)
    try:
        with transaction.atomic():
            support = Support.objects.create(proposal=proposal, resident=resident, recorded_by=acting_user, at=now)
    except IntegrityError:
        raise DomainError(_("This resident already supports this proposal."), code="duplicate") from None
    hooks.support_confirmed(support=support, household=resident.household, now=now)
    Proposal.objects.filter(pk=proposal.pk).update(support_count=F("support_count") + 1)
    proposal.refresh_from_db()
    _event(proposal=proposal, action="proposal.support", actor=acting_user, now=now,
           data={"supports": proposal.support_count})
    if proposal.support_count >= proposal.threshold:
        _move("proposal", proposal, "reach_threshold", user=None, now=now, changes={"deliberation_at": now},
              data={"supports": proposal.support_count})
    return proposal


@transaction.atomic
def proposal_deliberate(*, proposal, acting_user, note="", now=None):
    """Staff take a proposal to deliberation before it reached its threshold."""
    now = _now(now)
    note = clean_text(note, field=_("note"), required=False, limit=TEXT_MAX)
    return _move("proposal", _locked(Proposal, proposal.pk), "deliberate", user=acting_user, now=now,
                 changes={"deliberation_at": now}, note=note)


@transaction.atomic
def proposal_withdraw(*, proposal, acting_user, reason, now=None):
    now = _now(now)
    reason = clean_text(reason, field=_("reason"), limit=TEXT_MAX)
    return _move("proposal", _locked(Proposal, proposal.pk), "withdraw", user=acting_user, now=now, note=reason)


def _decide_proposal(proposal, decision, *, user, now, note, data):
    name = "adopt" if decision == Decision.ADOPTED else "reject"
    return _move("proposal", _locked(Proposal, proposal.pk), name, user=user, now=now,
                 changes={"decided_at": now}, note=note, data=data)


# --- deliberation meetings (民事民议) --------------------------------------------------------------

@transaction.atomic
def meeting_create(*, place, kind, title, held_at, acting_user, location="", now=None):
    now = _now(now)
    draft = Meeting(**_path(place))
    _require(workflow.MANAGE, draft, acting_user)
    if kind not in MeetingKind.values:
        raise DomainError(_("Choose the kind of meeting."), code="bad_kind")
    if held_at is None or held_at.tzinfo is None:
        raise DomainError(_("Give the date and time of the meeting."), code="bad_time")
    draft.kind, draft.held_at = kind, held_at
    draft.title = clean_text(title, field=_("title"), limit=TITLE_MAX)
    draft.location = clean_text(location, field=_("location"), required=False, limit=100)
    draft.created_by, draft.created_at = acting_user, now
    draft.save()
    _event(meeting=draft, action="meeting.create", actor=acting_user, now=now, data={"kind": kind})
    return draft


def _open_meeting(meeting, user):
    meeting = _locked(Meeting, meeting.pk)
    _require(workflow.MANAGE, meeting, user)
    if meeting.closed_at is not None:
        raise DomainError(_("The minutes of this meeting are closed."), code="closed")
    return meeting


@transaction.atomic
def meeting_add_item(*, meeting, proposal, acting_user, now=None):
    """Put a proposal in deliberation on the agenda (it must belong to the meeting's place)."""
    now = _now(now)
    meeting = _open_meeting(meeting, acting_user)
    proposal = _locked(Proposal, proposal.pk)
    field = "grid_id" if meeting.grid_id else "community_id"
    if getattr(proposal, field) != getattr(meeting, field):
        raise DomainError(_("This proposal belongs to another place."), code="other_place")
    _move("proposal", proposal, "put_on_agenda", user=acting_user, now=now, data={"meeting": meeting.pk})
    try:
        with transaction.atomic():
            item = AgendaItem.objects.create(meeting=meeting, proposal=proposal)
    except IntegrityError:
        raise DomainError(_("This proposal is already on the agenda."), code="duplicate") from None
    _event(meeting=meeting, action="meeting.add_item", actor=acting_user, now=now, data={"proposal": proposal.pk})
    return item


@transaction.atomic
def meeting_record(*, meeting, participants, attendance, minutes, acting_user, now=None):
    """Who came (by group) and the minutes; changeable until the minutes are closed."""
    now = _now(now)
    meeting = _open_meeting(meeting, acting_user)
    meeting.participants = clean_text(participants, field=_("participants"), limit=TEXT_MAX)
    meeting.attendance = _count(attendance, field=_("Attendance"), low=1)
    meeting.minutes = clean_text(minutes, field=_("minutes"), limit=TEXT_MAX * 4)
    Meeting.objects.filter(pk=meeting.pk).update(participants=meeting.participants, attendance=meeting.attendance,
                                                 minutes=meeting.minutes)
    _event(meeting=meeting, action="meeting.record", actor=acting_user, now=now,
           data={"attendance": meeting.attendance})
    return meeting


def _votes(votes_for, votes_against, votes_abstain, *, attendance=None):
    counts = (_count(votes_for, field=_("For")), _count(votes_against, field=_("Against")),
              _count(votes_abstain, field=_("Abstained")))
    if sum(counts) == 0:
        raise DomainError(_("Enter the vote counts."), code="no_votes")
    if attendance and sum(counts) > attendance:
        raise DomainError(_("More votes (%(votes)d) than people present (%(present)d).")
                          % {"votes": sum(counts), "present": attendance}, code="too_many_votes")
    # Adopted by a majority of the votes cast.
    decision = Decision.ADOPTED if counts[0] * 2 > sum(counts) else Decision.REJECTED
    return counts, decision


@transaction.atomic
def meeting_vote(*, item, votes_for, votes_against, votes_abstain, decision_text, acting_user, now=None):
    """The vote on an agenda item, with the count; a majority of the votes cast adopts the proposal."""
    now = _now(now)
    item = AgendaItem.objects.select_for_update().get(pk=item.pk)
    meeting = _open_meeting(item.meeting, acting_user)
    if item.decided_at is not None:
        raise DomainError(_("This item has already been voted on."), code="duplicate")
    counts, decision = _votes(votes_for, votes_against, votes_abstain, attendance=meeting.attendance)
    text = clean_text(decision_text, field=_("decision"), limit=TEXT_MAX)
    AgendaItem.objects.filter(pk=item.pk, decided_at__isnull=True).update(
        votes_for=counts[0], votes_against=counts[1], votes_abstain=counts[2], decision=decision,
        decision_text=text, decided_at=now)
    data = {"for": counts[0], "against": counts[1], "abstain": counts[2], "meeting": meeting.pk}
    _event(meeting=meeting, action="meeting.vote", actor=acting_user, now=now, note=text,
           data={**data, "decision": decision, "proposal": item.proposal_id})
    _decide_proposal(item.proposal, decision, user=acting_user, now=now, note=text, data=data)
    item.refresh_from_db()
    return item


@transaction.atomic
def meeting_close(*, meeting, acting_user, now=None):
    """Close the minutes: nothing on this meeting changes afterwards."""
    now = _now(now)
    meeting = _open_meeting(meeting, acting_user)
    if not meeting.minutes:
        raise DomainError(_("Record the minutes before closing them."), code="no_minutes")
    Meeting.objects.filter(pk=meeting.pk, closed_at__isnull=True).update(closed_at=now)
    _event(meeting=meeting, action="meeting.close", actor=acting_user, now=now)
    meeting.refresh_from_db()
    return meeting


# --- 四议两公开 (民事民决) ------------------------------------------------------------------------------

def _step_due(now, days=STEP_WORKING_DAYS):
    return add_working_time(now, days, TimeUnit.WORKING_DAYS)


@transaction.atomic
def track_open(*, proposal, acting_user, now=None):
    """Put a proposal in deliberation on the 四议两公开 track."""
    now = _now(now)
    proposal = _locked(Proposal, proposal.pk)
    _move("proposal", proposal, "open_track", user=acting_user, now=now)
    try:
        with transaction.atomic():
            track = Track.objects.create(proposal=proposal, created_at=now, due_at=_step_due(now),
                                         **_copy_path(proposal))
    except IntegrityError:
        raise DomainError(_("This proposal is already on the 四议两公开 track."), code="duplicate") from None
    _event(track=track, action="track.open", actor=acting_user, now=now)
    return track


# The four deliberations, in order; the table in workflow.py refuses any other order.
STEPS = ("propose", "discuss", "review", "decide")


@transaction.atomic
def track_step(*, track, step, note, acting_user, now=None, votes=None, decision_text=""):
    """Record one of the four deliberations. The fourth (the assembly) needs the vote and decides."""
    now = _now(now)
    if step not in STEPS:
        raise DomainError(_("Unknown step."), code="bad_step")
    track = _locked(Track, track.pk)
    workflow.check("track", step, track, acting_user)
    note = clean_text(note, field=_("record"), limit=TEXT_MAX)
    changes = {"due_at": _step_due(now)}
    data = {}
    if step == "decide":
        counts, decision = _votes(*(votes or (None, None, None)))
        text = clean_text(decision_text, field=_("decision"), limit=TEXT_MAX)
        changes = {"due_at": _step_due(now, PUBLISH_WORKING_DAYS), "decision": decision, "decision_text": text}
        data = {"for": counts[0], "against": counts[1], "abstain": counts[2], "decision": decision}
    track = _move("track", track, step, user=acting_user, now=now, changes=changes, note=note, data=data)
    if step == "decide":
        proposal = Proposal.objects.get(pk=track.proposal_id)
        if proposal.status == ProposalStatus.DELIBERATION:
            _decide_proposal(proposal, track.decision, user=acting_user, now=now, note=track.decision_text,
                             data=data)
    return track


@transaction.atomic
def track_publish_decision(*, track, acting_user, days=7, now=None):
    """决议公开: published for at least seven days (the database refuses less)."""
    now = _now(now)
    days = _count(days, field=_("Days published"), low=PUBLICATION_MIN.days, high=90)
    track = _locked(Track, track.pk)
    return _move("track", track, "publish_decision", user=acting_user, now=now, data={"days": days},
                 changes={"published_at": now, "publication_ends_at": now + timedelta(days=days), "due_at": None})


@transaction.atomic
def track_object(*, track, text, acting_user, resident=None, now=None):
    """An objection while the decision is published; the answer is due in three working days."""
    now = _now(now)
    track = _locked(Track, track.pk)
    workflow.check("track", "object", track, acting_user)
    if now >= track.publication_ends_at:
        raise DomainError(_("The publication period is over; objections are no longer taken."), code="closed")
    text = clean_text(text, field=_("objection"), limit=TEXT_MAX)
    if resident is not None:
        resident = _resident_of(track, resident, acting_user)
    objection = Objection.objects.create(
        track=track, resident=resident, text=text, raised_at=now, recorded_by=acting_user,
        answer_due_at=add_working_time(now, ANSWER_WORKING_DAYS, TimeUnit.WORKING_DAYS))
    _move("track", track, "object", user=acting_user, now=now, data={"objection": objection.pk})
    return objection


@transaction.atomic
def track_answer(*, objection, answer, acting_user, now=None):
    now = _now(now)
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    track = _locked(Track, objection.track_id)
    workflow.check("track", "answer", track, acting_user)
    answer = clean_text(answer, field=_("answer"), limit=TEXT_MAX)
    if Objection.objects.filter(pk=objection.pk, answered_at__isnull=True).update(answer=answer,
                                                                                   answered_at=now) != 1:
        raise DomainError(_("This objection has already been answered."), code="duplicate")
    _move("track", track, "answer", user=acting_user, now=now, note=answer,
          data={"objection": objection.pk, "late": now > objection.answer_due_at})
    objection.refresh_from_db()
    return objection


@transaction.atomic
def track_publish_result(*, track, result_text, acting_user, now=None):
    """实施结果公开: only after the publication period, with every objection answered."""
    now = _now(now)
    track = _locked(Track, track.pk)
    workflow.check("track", "publish_result", track, acting_user)
    if now < track.publication_ends_at:
        raise DomainError(_("The decision stays published until %(end)s; the result can follow after that.")
                          % {"end": timezone.localtime(track.publication_ends_at).strftime("%Y-%m-%d %H:%M")},
                          code="too_early")
    if selectors.open_objections(track).exists():
        raise DomainError(_("Answer every objection before publishing the result."), code="open_objections")
    text = clean_text(result_text, field=_("result"), limit=TEXT_MAX)
    return _move("track", track, "publish_result", user=acting_user, now=now,
                 changes={"result_text": text, "result_published_at": now, "due_at": None})


def escalate_overdue(*, now=None, batch=SWEEP_BATCH):
    """The sweep: overdue steps climb one level (community → street → district) with a fresh
    deadline; overdue objections are escalated once. Idempotent, batched, SKIP LOCKED."""
    now = _now(now)
    moved = 0
    while True:
        done, examined = _escalate_tracks(now, batch)
        moved += done
        if examined < batch:
            break
    while True:
        done, examined = _escalate_objections(now, batch)
        moved += done
        if examined < batch:
            break
    return moved


def _skip_locked(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


@transaction.atomic
def _escalate_tracks(now, batch):
    picked = list(_skip_locked(
        Track.objects.filter(due_at__lt=now, responsible_level__in=list(LEVEL_ABOVE))
        .exclude(stage=TrackStage.DONE).order_by("due_at", "pk")
    ).values_list("pk", "responsible_level", "stage")[:batch])
    due = _step_due(now)
    events = []
    for lower, upper in LEVEL_ABOVE.items():
        ids = [pk for pk, level, _stage in picked if level == lower]
        if not ids:
            continue
        changed = Track.objects.filter(pk__in=ids, responsible_level=lower, due_at__lt=now).update(
            responsible_level=upper, due_at=due, escalation_count=F("escalation_count") + 1)
        if changed != len(ids):  # moved under us: leave the batch to the next run
            transaction.set_rollback(True)
            return 0, 0
        events += [Event(track_id=pk, action="track.escalate", at=now,
                         note=_("Step overdue: escalated automatically."),
                         data={"from_level": lower, "to_level": upper, "stage": stage})
                   for pk, level, stage in picked if level == lower]
    Event.objects.bulk_create(events)
    return len(events), len(picked)


@transaction.atomic
def _escalate_objections(now, batch):
    picked = list(_skip_locked(
        Objection.objects.filter(answered_at__isnull=True, escalated_at__isnull=True, answer_due_at__lt=now)
        .order_by("answer_due_at", "pk")
    ).values_list("pk", "track_id")[:batch])
    ids = [pk for pk, _track in picked]
    if Objection.objects.filter(pk__in=ids, escalated_at__isnull=True).update(escalated_at=now) != len(ids):
        transaction.set_rollback(True)
        return 0, 0
    Event.objects.bulk_create([
        Event(track_id=track_id, action="track.objection_escalate", at=now, data={"objection": pk},
              note=_("Objection not answered within three working days: escalated automatically."))
        for pk, track_id in picked])
    return len(picked), len(picked)


# --- projects (民事民办、民事民评) ---------------------------------------------------------------------

def _budget(value):
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise DomainError(_("The budget must be an amount in yuan."), code="bad_budget") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise DomainError(_("The budget must be an amount in yuan."), code="bad_budget")
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def project_apply(*, place, title, description, applicant, acting_user, budget=None, proposal=None, now=None):
    """A compound applies for a livelihood project (民生实事), perhaps from an adopted proposal."""
    now = _now(now)
    draft = Project(**_path(place))
    _require(workflow.ENTER, draft, acting_user)
    draft.title = clean_text(title, field=_("title"), limit=TITLE_MAX)
    draft.description = clean_text(description, field=_("description"), limit=TEXT_MAX)
    draft.applicant = clean_text(applicant, field=_("applicant"), limit=100)
    draft.budget = _budget(budget)
    if proposal is not None:
        proposal = Proposal.objects.get(pk=proposal.pk)
        if proposal.status != ProposalStatus.ADOPTED or proposal.community_id != draft.community_id:
            raise DomainError(_("Only a proposal adopted in this community can become its project."),
                              code="bad_proposal")
        draft.proposal = proposal
    draft.created_by, draft.created_at = acting_user, now
    draft.save()
    _event(project=draft, action="project.apply", actor=acting_user, now=now)
    return draft


def _project_move(name, project, *, user, now, note="", changes=None):
    note = clean_text(note, field=_("note"), required=False, limit=TEXT_MAX)
    return _move("project", _locked(Project, project.pk), name, user=user, now=now, note=note, changes=changes)


@transaction.atomic
def project_review(*, project, acting_user, note="", now=None):
    """社区审核: the community passes the application on to the party committee."""
    return _project_move("review", project, user=acting_user, now=_now(now), note=note)


@transaction.atomic
def project_approve(*, project, acting_user, note="", now=None):
    """党委审批: the party committee approves."""
    return _project_move("approve", project, user=acting_user, now=_now(now), note=note)


@transaction.atomic
def project_reject(*, project, acting_user, note, now=None):
    clean_text(note, field=_("reason"), limit=TEXT_MAX)
    return _project_move("reject", project, user=acting_user, now=_now(now), note=note)


@transaction.atomic
def project_start(*, project, acting_user, note="", now=None):
    return _project_move("start", project, user=acting_user, now=_now(now), note=note)


@transaction.atomic
def project_report_progress(*, project, note, progress, acting_user, photos=(), now=None):
    """A progress update, with photos (their EXIF block, GPS included, is removed)."""
    now = _now(now)
    project = _locked(Project, project.pk)
    workflow.check("project", "report_progress", project, acting_user)
    note = clean_text(note, field=_("progress"), limit=TEXT_MAX)
    progress = _count(progress, field=_("Progress (%)"), low=project.progress, high=100)
    photos = [p for p in (photos or ()) if p]
    if len(photos) > MAX_PHOTOS:
        raise DomainError(_("At most 9 photos at a time."), code="too_many_photos")
    for photo in photos:
        validate_photo(photo)
    update = ProjectUpdate.objects.create(project=project, note=note, progress=progress, at=now, by=acting_user)
    for photo in photos:
        ProjectPhoto.objects.create(update=update, image=without_metadata(photo), uploaded_at=now)
    _move("project", project, "report_progress", user=acting_user, now=now, changes={"progress": progress},
          data={"progress": progress, "photos": len(photos)})
    return update


@transaction.atomic
def project_complete(*, project, acting_user, note="", now=None):
    now = _now(now)
    return _project_move("complete", project, user=acting_user, now=now, note=note,
                         changes={"progress": 100, "completed_at": now})


@transaction.atomic
def project_evaluate(*, project, resident, rating, acting_user, comment="", now=None):
    """民事民评: a resident of the place rates the completed project, once."""
    now = _now(now)
    project = _locked(Project, project.pk)
    workflow.check("project", "evaluate", project, acting_user)
    rating = _count(rating, field=_("Rating"), low=1, high=5)
    comment = clean_text(comment, field=_("comment"), required=False, limit=TEXT_MAX)
    resident = _resident_of(project, resident, acting_user)
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(project=project, resident=resident, rating=rating,
                                                   comment=comment, recorded_by=acting_user, at=now)
    except IntegrityError:
        raise DomainError(_("This resident has already evaluated this project."), code="duplicate") from None
    _move("project", project, "evaluate", user=acting_user, now=now, data={"rating": rating},
          changes={"rating_count": F("rating_count") + 1, "rating_total": F("rating_total") + rating})
    return evaluation
