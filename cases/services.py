"""Every write to a case after its report, one function per transition (the report itself is
cases/services_report.py; the sweep is cases/escalation.py), and the helpers they share with it.

Each transition re-reads the case, asks cases/workflow.py whether the move is
allowed for this user now, changes the row with a conditional UPDATE keyed on
what it read (status, level, assignee, ...) and acts only if that UPDATE
changed a row; the timeline event and the notification outbox rows are written
in the same transaction and Celery is asked to deliver them on commit. A
refused write raises DomainError and leaves nothing behind.
"""

import logging
from functools import partial

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import KIND_LEVEL, AreaKind
from grid.selectors import scope_of
from portal.errors import DomainError
from portal.photos import validate_photo, without_metadata
from portal.text import clean_text
from portal.workcalendar.calendar import add_working_time

from . import deadlines, escalation_left, notifications, routing, routing_orgs, signals, workflow
from .models import (
    SATISFIED_MIN_RATING,
    Case,
    CaseEvent,
    CaseKind,
    CaseRating,
    DeadlineStage,
    CaseNumberCounter,
    CasePhoto,
    Category,
    ExtensionRequest,
    ExtensionStatus,
    Mediation,
    MediationOutcome,
    PhotoStage,
    Status,
    Triage,
)
from .selectors import cases_visible_to
from .tracking import TRACKING_ALPHABET, TRACKING_LENGTH, new_tracking_code, normalise_tracking_code  # noqa: F401

log = logging.getLogger(__name__)
A = CaseEvent.Action

DESCRIPTION_MAX = 4000
NOTE_MAX = 4000


# --- small helpers ---------------------------------------------------------------------

def _now(now):
    return now or timezone.now()


def next_case_number(now):
    """YYYYMMDD + a five-digit sequence of the day (Asia/Shanghai), e.g. 2026112300012.

    One statement creates the day's counter or counts on (PostgreSQL and SQLite
    alike); the counter row stays locked until the caller's transaction ends, so
    numbers are unique and a rolled-back report gives its number back.
    """
    day = timezone.localdate(now)
    quote = connection.ops.quote_name
    table, day_column, last_column = (quote(CaseNumberCounter._meta.db_table),
                                      quote(CaseNumberCounter._meta.get_field("day").column),
                                      quote(CaseNumberCounter._meta.get_field("last").column))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({day_column}, {last_column}) VALUES (%s, 1) "
            f"ON CONFLICT ({day_column}) DO UPDATE SET {last_column} = {table}.{last_column} + 1 "
            f"RETURNING {last_column}",
            [day],
        )
        last = cursor.fetchone()[0]
    return f"{day:%Y%m%d}{last:05d}"


def _validate_photos(photos):
    photos = [p for p in (photos or ()) if p]
    if len(photos) > 9:
        raise DomainError(_("At most 9 photos at a time."), code="too_many_photos")
    for photo in photos:
        validate_photo(photo)
    return photos


def _save_photos(case, event, photos, stage, now):
    for photo in photos:
        CasePhoto.objects.create(case=case, event=event, stage=stage, image=without_metadata(photo), uploaded_at=now)


def _fresh(case):
    return Case.objects.select_related("category", "assignee").get(pk=case.pk)


def _deadline(case_or_category, stage, now):
    category = case_or_category.category if isinstance(case_or_category, Case) else case_or_category
    value, unit = category.limit(stage)
    return add_working_time(now, value, unit)


def _handle_deadline(case, now):
    """Rework's new deadline: the organisation's own limit on an organisation's matter."""
    if case.organisation_id:
        return routing_orgs.handle_deadline(case.organisation_id, case.category, now)
    return _deadline(case, "handle", now)


def _event(case, action, *, actor, now, from_status="", to_status="", note="", is_public=False, data=None):
    return CaseEvent.objects.create(
        case=case, action=action, from_status=from_status, to_status=to_status, actor=actor, at=now,
        note=note, is_public=is_public, data=data or {},
    )


def _stale(case, name, user):
    """The conditional UPDATE changed nothing: someone else moved the case first."""
    fresh = _fresh(case)
    if name == "accept" and fresh.status == Status.HANDLING and fresh.assignee_id:
        if user is not None and fresh.assignee_id == user.pk:
            return DomainError(_("You have already accepted this case."), code="taken")
        return DomainError(_("This case was already accepted by %(name)s.") % {"name": fresh.assignee},
                           code="taken")
    return DomainError(
        _("Case %(number)s changed meanwhile (it is now “%(status)s”); reload it and try again.")
        % {"number": fresh.number, "status": Status(fresh.status).label},
        code="stale",
    )


def _apply(case, name, *, user, now, changes=None, actor=None, action=None, note="", is_public=None,
           data=None, expect=None):
    """Check the move, make it with a conditional UPDATE, write its event. Returns the event.

    `case` must be freshly read in this transaction; it is refreshed afterwards.
    """
    if name == "accept" and case.status == Status.HANDLING and case.assignee_id:
        raise _stale(case, name, user)
    transition = workflow.check(name, case, user, actor=actor)
    values = dict(changes or {})
    before = case.status
    after = transition.target_from(before)
    if transition.changes_status:
        values["status"] = after
    keys = {"pk": case.pk, "status": before, "responsible_level": case.responsible_level,
            "assignee_id": case.assignee_id}
    keys.update(expect or {})
    if values:
        if Case.objects.filter(**keys).update(**values) != 1:
            raise _stale(case, name, user)
    elif not Case.objects.filter(**keys).exists():
        raise _stale(case, name, user)
    if is_public is None:
        is_public = transition.changes_status
    event = _event(
        case, action or name, actor=user, now=now,
        from_status=before, to_status=after if transition.changes_status else "",
        note=note, is_public=is_public, data=data,
    )
    case.refresh_from_db()
    return event


def _lapse_extensions(case, now):
    ExtensionRequest.objects.filter(case=case, status=ExtensionStatus.PENDING).update(
        status=ExtensionStatus.LAPSED, decided_at=now
    )


def _case_link_text(case):
    return f"{case.number} {case.category.name}：{case.description[:60]}"


def _category(category):
    """An active category from a Category, its code or its id (a report's, or a correction at registration)."""
    if isinstance(category, Category):
        found = Category.objects.filter(pk=category.pk, is_active=True).first()
    elif category in (None, ""):
        found = None
    else:
        lookup = Q(code=str(category))
        if str(category).isascii() and str(category).isdigit():
            lookup |= Q(pk=int(category))
        found = Category.objects.filter(lookup, is_active=True).first()
    if found is None:
        raise DomainError(_("Choose a category from the list."), code="unknown_category")
    return found


# --- transitions ---------------------------------------------------------------------------

def _register(case, *, user, actor, now, note, triage=None, reason=""):
    """Register and route (三事分流): a small matter is dispatched in the residential tree as
    before (obeying the district's 准入 list); a big one waits at the street's command centre
    (cases/services_orgs.py sends it on). `triage` is the dispatcher's class where it differs
    from the proposal, with `reason`; a private matter is referred instead (case_refer)."""
    proposal = routing_orgs.propose(case)
    proposed = proposal.triage if proposal.to_command_centre or proposal.triage != Triage.PUBLIC else Triage.SMALL
    if proposed == Triage.PRIVATE and triage is None:
        # The portal cannot tell the resident where to go: staff may refer it from the community.
        proposed = Triage.SMALL
    chosen = triage or proposed
    if chosen == Triage.PRIVATE:
        raise DomainError(_("A private matter is referred, not registered: use “Refer”."), code="refer_instead")
    route = {"proposed": proposed, "rule": proposal.rule.pk if proposal.rule else None,
             "organisation": proposal.organisation.pk if proposal.organisation else None,
             "grid_excluded": proposal.grid_excluded}
    if chosen != proposed:
        reason = clean_text(reason, field=_("reason for the change of class"))
        _apply(case, "reclassify", user=user, actor=actor, now=now, note=reason,
               data={"from": proposed, "to": chosen})
    if chosen == Triage.PUBLIC:
        _to_command_centre(case, name="register", user=user, actor=actor, now=now, note=note,
                           extra={"registered_at": now}, data={**route, "triage": chosen})
        # The first deadline the matter is judged by (issue #18): dispatch, as for a small matter.
        deadlines.stage_started(case, DeadlineStage.DISPATCH, _deadline(case, "dispatch", now), now)
        return
    due = _deadline(case, "dispatch", now)
    _apply(case, "register", user=user, actor=actor, now=now, note=note,
           changes={"registered_at": now, "triage_class": chosen, "due_at": due},
           data={**route, "triage": chosen})
    deadlines.stage_started(case, DeadlineStage.DISPATCH, due, now)
    _dispatch(case, name="dispatch", user=user, actor=actor, now=now, level=None, assignee=None, note="")


def _to_command_centre(case, *, name, user, actor, now, note, extra=None, data=None):
    """A big matter waits at its street's command centre (or its district's, with no street) for
    dispatch to an organisation."""
    level = AreaKind.STREET if case.street_id else AreaKind.DISTRICT
    _apply(case, name, user=user, actor=actor, now=now, note=note, data=data,
           changes={**(extra or {}), "triage_class": Triage.PUBLIC, "responsible_level": level, "assignee": None,
                    "accepted_at": None, "due_at": _deadline(case, "dispatch", now)})
    notifications.notify(
        users=routing.responsible_staff(case, level), case=case, now=now,
        subject=_("Big matter %(number)s waits for dispatch to an organisation") % {"number": case.number},
        body=_case_link_text(case),
    )


@transaction.atomic
def case_register(*, case, acting_user, now=None, category=None, note="", triage=None, reason=""):
    """Accept a resident's report as a matter (案卷建立) and route it. Staff may correct the category
    and change the proposed class (`triage`, with a `reason` logged on the timeline)."""
    now = _now(now)
    case = _fresh(case)
    if category is not None:
        category = _category(category)
        if category.pk != case.category_id:
            workflow.check("register", case, acting_user)
            kind = CaseKind.MEDIATION if category.is_mediation else CaseKind.ORDINARY
            Case.objects.filter(pk=case.pk, status=Status.REPORTED).update(category=category, kind=kind)
            if kind == CaseKind.MEDIATION:
                Mediation.objects.get_or_create(case=case)
            case = _fresh(case)
    if triage not in (None, "", *Triage.values):
        raise DomainError(_("Choose a class from the list."), code="bad_triage")
    _register(case, user=acting_user, actor=None, now=now, note=clean_text(note, field=_("note"), required=False),
              triage=triage or None, reason=reason)
    return case


@transaction.atomic
def case_reject(*, case, acting_user, reason, now=None):
    """Not a matter for the portal (spam, private business, already solved...). Reason shown to the reporter."""
    now = _now(now)
    case = _fresh(case)
    reason = clean_text(reason, field=_("reason"))
    _apply(case, "reject", user=acting_user, now=now, note=reason, changes={"closed_at": now, "due_at": None})
    return case


def _dispatch_target(case, user, level, assignee):
    """Work out (level, assignee) for a dispatch and check the dispatcher may send it there."""
    if level is None and assignee is None:
        return routing.route(case)
    if level is None:
        posts = assignee.posts.filter(ended_at__isnull=True, area__isnull=False).values_list("area_id", "area__kind")
        matches = [kind for area_id, kind in posts if getattr(case, f"{kind}_id", None) == area_id]
        if not matches:
            raise DomainError(_("%(name)s has no post at this case's place.") % {"name": assignee}, code="bad_assignee")
        level = max(matches, key=lambda k: KIND_LEVEL[k])
    if level not in (AreaKind.GRID, AreaKind.COMMUNITY, AreaKind.STREET, AreaKind.DISTRICT) \
            or not getattr(case, f"{level}_id", None):
        raise DomainError(_("This case has no place at that level."), code="bad_level")
    if user is not None and not user.is_superuser:
        depths = [KIND_LEVEL[s.kind] for s in scope_of(user).managing().spans
                  if getattr(case, f"{s.kind}_id") == s.area_id]
        if not depths or KIND_LEVEL[level] < min(depths):
            raise DomainError(_("You can only dispatch within your own part of the tree."), code="forbidden")
    if assignee is not None:
        area_id = getattr(case, f"{level}_id")
        holds = assignee.posts.filter(area_id=area_id, role__in=workflow.HANDLING_ROLES[level],
                                      ended_at__isnull=True).exists()
        if not holds or not assignee.is_active:
            raise DomainError(_("%(name)s does not work at that place.") % {"name": assignee}, code="bad_assignee")
    return level, assignee


def _dispatch(case, *, name, user, actor, now, level, assignee, note, target=None):
    level, assignee = target or _dispatch_target(case, user, level, assignee)
    _lapse_extensions(case, now)
    due = _deadline(case, "accept", now)
    _apply(case, name, user=user, actor=actor, now=now, note=note,
           changes={"responsible_level": level, "assignee": assignee, "accepted_at": None, "due_at": due},
           data={"level": level, "assignee": assignee.pk if assignee else None})
    deadlines.stage_started(case, DeadlineStage.ACCEPT, due, now)
    recipients = [assignee] if assignee else routing.responsible_staff(case, level)
    notifications.notify(
        users=recipients, case=case, now=now,
        subject=_("Case %(number)s dispatched to you") % {"number": case.number},
        body=_case_link_text(case),
    )


@transaction.atomic
def case_dispatch(*, case, acting_user, now=None, level=None, assignee=None, note=""):
    """任务派遣: send a registered case to a level (and a person). Without both, routing decides."""
    now = _now(now)
    case = _fresh(case)
    _dispatch(case, name="dispatch", user=acting_user, actor=None, now=now, level=level, assignee=assignee,
              note=clean_text(note, field=_("note"), required=False))
    return case


@transaction.atomic
def case_redispatch(*, case, acting_user, now=None, level=None, assignee=None, note=""):
    """Send a dispatched or in-hand case to another level or person; they must accept it afresh."""
    now = _now(now)
    case = _fresh(case)
    target_level, target = _dispatch_target(case, acting_user, level, assignee)
    if (target_level, getattr(target, "pk", None)) == (case.responsible_level, case.assignee_id):
        # Sending it where it already is would only add a step to the reporter's timeline.
        raise DomainError(_("The case is already there: choose another person or level."), code="same_target")
    _dispatch(case, name="redispatch", user=acting_user, actor=None, now=now, level=level, assignee=assignee,
              note=clean_text(note, field=_("note"), required=False), target=(target_level, target))
    return case


@transaction.atomic
def case_accept(*, case, acting_user, now=None):
    """The handler takes the case (one tap). Of two at once, one wins; the other is told who."""
    now = _now(now)
    case = _fresh(case)
    due = _deadline(case, "handle", now)
    _apply(case, "accept", user=acting_user, now=now,
           changes={"assignee": acting_user, "accepted_at": now, "due_at": due, "handle_due_at": due})
    deadlines.stage_started(case, DeadlineStage.HANDLE, due, now)
    if case.kind == CaseKind.MEDIATION:
        Mediation.objects.get_or_create(case=case)[0].mediators.add(acting_user)
    return case


@transaction.atomic
def case_return(*, case, acting_user, reason, now=None):
    """"Not ours": back to the dispatcher with a reason. From a grid it goes to the community."""
    now = _now(now)
    case = _fresh(case)
    reason = clean_text(reason, field=_("reason"))
    level = AreaKind.COMMUNITY if case.responsible_level == AreaKind.GRID and case.community_id \
        else case.responsible_level
    _lapse_extensions(case, now)
    _apply(case, "return", user=acting_user, now=now, note=reason, is_public=False,
           changes={"responsible_level": level, "assignee": None, "accepted_at": None,
                    "due_at": _deadline(case, "dispatch", now)},
           data={"level": level})
    notifications.notify(
        users=routing.responsible_staff(case, level), case=case, now=now,
        subject=_("Case %(number)s returned: %(reason)s") % {"number": case.number, "reason": reason[:60]},
        body=_case_link_text(case),
    )
    return case


@transaction.atomic
def case_note(*, case, acting_user, note, photos=(), is_public=False, now=None):
    """A progress line (no change of state), optionally with photos and shown to the reporter."""
    now = _now(now)
    case = _fresh(case)
    note = clean_text(note, field=_("note"))
    photos = _validate_photos(photos)
    event = _apply(case, "note", user=acting_user, now=now, note=note, is_public=bool(is_public))
    _save_photos(case, event, photos, PhotoStage.PROGRESS, now)
    return case


@transaction.atomic
def case_resolve(*, case, acting_user, note, photos=(), now=None):
    """处理反馈: the handler reports it solved, with a photo (a mediation needs its outcome instead)."""
    now = _now(now)
    case = _fresh(case)
    note = clean_text(note, field=_("note"))
    photos = _validate_photos(photos)
    if case.kind == CaseKind.MEDIATION:
        mediation = Mediation.objects.filter(case=case).first()
        if mediation is None or mediation.outcome == MediationOutcome.PENDING:
            raise DomainError(_("Record the outcome of the mediation before resolving it."), code="no_outcome")
    elif not photos:
        raise DomainError(_("Add a photo of the result."), code="no_photo")
    _lapse_extensions(case, now)
    event = _apply(case, "resolve", user=acting_user, now=now, note=note,
                   changes={"resolved_at": now, "resolved_by": acting_user, "due_at": None})
    _save_photos(case, event, photos, PhotoStage.RESOLVE, now)
    notifications.notify(
        users=routing.responsible_staff(case, AreaKind.COMMUNITY) if case.community_id else [],
        case=case, now=now,
        subject=_("Case %(number)s resolved: please verify") % {"number": case.number}, body=note,
    )
    return case


@transaction.atomic
def case_verify(*, case, acting_user, passed, note="", photos=(), now=None):
    """核查: on site, by someone other than the handler. Failing sends it back as rework."""
    now = _now(now)
    case = _fresh(case)
    photos = _validate_photos(photos)
    if passed:
        note = clean_text(note, field=_("note"), required=False)
        event = _apply(case, "verify", user=acting_user, now=now, note=note, action=A.VERIFY)
    else:
        note = clean_text(note, field=_("reason"))
        due = _handle_deadline(case, now)
        event = _apply(case, "verify_fail", user=acting_user, now=now, note=note, is_public=False,
                       action=A.VERIFY_FAIL,
                       changes={"resolved_at": None, "resolved_by": None, "due_at": due, "handle_due_at": due,
                                "rework_count": F("rework_count") + 1})
        notifications.notify(
            users=[case.assignee], case=case, now=now,
            subject=_("Case %(number)s failed verification: rework") % {"number": case.number}, body=note,
        )
    _save_photos(case, event, photos, PhotoStage.VERIFY, now)
    return case


@transaction.atomic
def case_close(*, case, acting_user, note="", now=None):
    """核查结案: close a verified case; the reporter may now rate it."""
    now = _now(now)
    case = _fresh(case)
    _apply(case, "close", user=acting_user, now=now, note=clean_text(note, field=_("note"), required=False),
           changes={"closed_at": now, "handling_minutes": deadlines.handling_minutes(case, now)})
    # Whoever reacts hears of it once the close committed (the volunteers' points: hub/points.py).
    transaction.on_commit(partial(signals.case_closed.send, sender=Case, case_id=case.pk))
    return case


def _reopen(case, *, user, actor, now, reason):
    due = _handle_deadline(case, now)
    # The ratings stay (CaseRating rows, and Case.rating as the latest); the judged deadline stays too.
    _apply(case, "reopen", user=user, actor=actor, now=now, note=reason,
           changes={"closed_at": None, "resolved_at": None, "resolved_by": None, "handling_minutes": None,
                    "due_at": due, "handle_due_at": due, "rework_count": F("rework_count") + 1})
    notifications.notify(
        users=[case.assignee] if case.assignee_id else routing.responsible_staff(case), case=case, now=now,
        subject=_("Case %(number)s reopened: the reporter is not satisfied") % {"number": case.number},
        body=reason,
    )


@transaction.atomic
def case_reopen(*, case, acting_user, reason, now=None):
    """Reopen a closed case because the reporter is not satisfied (counted as rework)."""
    now = _now(now)
    case = _fresh(case)
    _reopen(case, user=acting_user, actor=None, now=now, reason=clean_text(reason, field=_("reason")))
    return case


@transaction.atomic
def case_mark_duplicate(*, case, duplicate_of, acting_user, note="", now=None):
    """Close a case as a duplicate of another (the original is followed to its own original)."""
    now = _now(now)
    case = _fresh(case)
    original = Case.objects.filter(pk=getattr(duplicate_of, "pk", duplicate_of)).first()
    if original is not None and original.duplicate_of_id:
        original = Case.objects.get(pk=original.duplicate_of_id)
    if original is None:
        raise DomainError(_("No such case."), code="no_case")
    if original.pk == case.pk:
        raise DomainError(_("A case cannot be a duplicate of itself."), code="self")
    if acting_user is not None and not acting_user.is_superuser:
        if not cases_visible_to(acting_user).filter(pk=original.pk).exists():
            raise DomainError(_("No such case."), code="no_case")
    _lapse_extensions(case, now)
    _apply(case, "mark_duplicate", user=acting_user, now=now,
           note=clean_text(note, field=_("note"), required=False),
           changes={"duplicate_of": original, "closed_at": now, "due_at": None},
           data={"original": original.number})
    return case


def _escalation_changes(case, now):
    upper = workflow.level_above(case.responsible_level)
    stage = "dispatch" if case.status in (Status.REPORTED, Status.REGISTERED) else "accept"
    return upper, {"responsible_level": upper, "assignee": None, "accepted_at": None,
                   "due_at": _deadline(case, stage, now), "escalation_count": F("escalation_count") + 1}


def _notify_escalation(case, level, now, reason, recipients=None):
    notifications.notify(
        users=recipients if recipients is not None else routing.responsible_staff(case, level), case=case, now=now,
        subject=_("Case %(number)s escalated to you (%(level)s)")
        % {"number": case.number, "level": AreaKind(level).label},
        body=f"{reason}\n{_case_link_text(case)}", chat=True,
    )


@transaction.atomic
def case_escalate(*, case, acting_user, reason, now=None):
    """"Beyond my power": move the case one level up by hand, with a reason."""
    now = _now(now)
    case = _fresh(case)
    reason = clean_text(reason, field=_("reason"))
    workflow.check("escalate", case, acting_user)
    upper, changes = _escalation_changes(case, now)
    _lapse_extensions(case, now)
    _apply(case, "escalate", user=acting_user, now=now, note=reason, changes=changes, is_public=True,
           data={"from_level": case.responsible_level, "to_level": upper, "by_hand": True})
    _notify_escalation(case, upper, now, reason)
    escalation_left.notify_left_by_hand(case=case, upper=upper, now=now, reason=reason, acting_user=acting_user)
    return case


# The highest rating that may send a closed case back (要求重新办理): "not satisfied" or worse.
REOPEN_MAX_RATING = 2


@transaction.atomic
def case_rate(*, tracking_code, rating, comment="", reopen=False, solved=None, now=None):
    """综合评价: the reporter rates a closed case by its tracking code (1–5), once per close.

    Only reports from residents, the hotline and Open311 can be rated (the
    workflow's guard). Every rating is kept as a CaseRating row; Case.rating
    holds the latest. `solved` is the 回访 question "was it solved?" (None:
    not answered). With `reopen` (only with a rating of 2 or less, and not
    answered as solved: refused otherwise, nothing kept) the case goes back to
    its handler as rework; the rating stays.
    """
    now = _now(now)
    code = normalise_tracking_code(tracking_code)
    case = Case.objects.select_related("category", "assignee").filter(tracking_code=code).first() if code else None
    if case is None:
        raise DomainError(_("No case has this tracking code."), code="no_case")
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise DomainError(_("Rate from 1 to 5."), code="bad_rating")
    comment = clean_text(comment, field=_("comment"), required=False, limit=1000)
    solved = None if solved in (None, "") else solved in (True, "1", "true", "yes", 1)
    if reopen and (rating > REOPEN_MAX_RATING or solved is True):
        # Refused before anything is kept: a rating whose request to reopen would be dropped unsaid.
        raise DomainError(_("Asking for it to be handled again goes with a rating of 1 or 2 and a matter "
                            "not solved."), code="reopen_rating")
    satisfied = int(rating >= SATISFIED_MIN_RATING)
    _apply(case, "rate", user=None, actor=workflow.REPORTER, now=now, note=comment, is_public=True,
           changes={"rating": rating, "rating_comment": comment, "rated_at": now,
                    "rating_count": F("rating_count") + 1, "satisfied_count": F("satisfied_count") + satisfied},
           expect={"rated_at": case.rated_at}, data={"rating": rating, "solved": solved})
    CaseRating.objects.create(case=case, rating=rating, solved=solved, comment=comment, at=now)
    if reopen:
        _reopen(case, user=None, actor=workflow.REPORTER, now=now,
                reason=comment or _("The reporter is not satisfied."))
    return case
