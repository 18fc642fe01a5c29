"""Oversight of a case's clock: extensions (延期), supervision (督办), carry-over (挂账).

These actions change no status: they move the deadline out, flag the case to
the top of every queue, or pause escalation. Each is a transition of
cases/workflow.py all the same, applied through the shared `_apply` of
cases/services.py, from which they were cut unchanged; services never imports
this module.
"""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from grid.selectors import liaisons_over
from portal.errors import DomainError
from portal.text import clean_text
from portal.workcalendar.calendar import add_working_time

from . import deadlines, notifications, routing, workflow
from .models import ExtensionRequest, ExtensionStatus, Status, TimeUnit
from .services import _apply, _case_link_text, _deadline, _fresh, _now


def _check_limit(value, unit):
    try:
        value = int(value)
    except (TypeError, ValueError):
        value = 0
    if value <= 0 or unit not in TimeUnit.values:
        raise DomainError(_("Give the extra time as a positive number of hours or days."), code="bad_extension")
    return value


@transaction.atomic
def case_request_extension(*, case, acting_user, value, unit, reason, now=None):
    """延期申请: the handler asks the level above for more time."""
    now = _now(now)
    case = _fresh(case)
    value = _check_limit(value, unit)
    reason = clean_text(reason, field=_("reason"))
    if ExtensionRequest.objects.filter(case=case, status=ExtensionStatus.PENDING).exists():
        raise DomainError(_("An extension request for this case is already waiting for a decision."),
                          code="pending")
    _apply(case, "request_extension", user=acting_user, now=now, note=reason, data={"value": value, "unit": unit})
    try:
        with transaction.atomic():
            request = ExtensionRequest.objects.create(case=case, requested_by=acting_user, requested_at=now,
                                                      value=value, unit=unit, reason=reason)
    except IntegrityError:
        raise DomainError(_("An extension request for this case is already waiting for a decision."),
                          code="pending") from None
    above = workflow.level_above(case.responsible_level) or case.responsible_level
    notifications.notify(
        users=routing.responsible_staff(case, above), case=case, now=now,
        subject=_("Extension requested for case %(number)s") % {"number": case.number}, body=reason,
    )
    return request


@transaction.atomic
def case_decide_extension(*, extension, acting_user, approve, note="", now=None):
    """The level above approves (the deadline moves out) or rejects an extension request."""
    now = _now(now)
    extension = ExtensionRequest.objects.select_for_update().get(pk=extension.pk)
    case = _fresh(extension.case)
    if extension.status != ExtensionStatus.PENDING:
        raise DomainError(_("This extension request was already decided."), code="decided")
    if extension.requested_by_id == acting_user.pk:
        raise DomainError(_("You cannot decide your own extension request."), code="forbidden")
    note = clean_text(note, field=_("note"), required=False)
    changes = {}
    if approve:
        base = max(case.due_at or now, now)
        due = add_working_time(base, extension.value, extension.unit)
        changes = {"due_at": due, "handle_due_at": due, "extension_count": F("extension_count") + 1}
    _apply(case, "decide_extension", user=acting_user, now=now, note=note, changes=changes,
           data={"approved": bool(approve), "request": extension.pk})
    if approve:
        # The judged deadline (考核时限) moves by the extension's own length, in the same transaction.
        deadlines.extension_approved(case, extension, now)
    ExtensionRequest.objects.filter(pk=extension.pk, status=ExtensionStatus.PENDING).update(
        status=ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED,
        decided_by=acting_user, decided_at=now, decision_note=note,
    )
    notifications.notify(
        users=[extension.requested_by], case=case, now=now,
        subject=(_("Extension approved for case %(number)s") if approve
                 else _("Extension rejected for case %(number)s")) % {"number": case.number},
        body=note or _case_link_text(case),
    )
    extension.refresh_from_db()
    return extension


@transaction.atomic
def case_supervise(*, case, acting_user, note="", now=None):
    """督办: an official flags the case; it goes to the top of every queue."""
    now = _now(now)
    case = _fresh(case)
    _apply(case, "supervise", user=acting_user, now=now, note=clean_text(note, field=_("note"), required=False),
           changes={"supervised_at": now, "supervised_by": acting_user}, expect={"supervised_at": None})
    notifications.notify(
        users=[case.assignee] if case.assignee_id else routing.responsible_staff(case), case=case, now=now,
        subject=_("Case %(number)s is supervised (督办)") % {"number": case.number},
        body=note or _case_link_text(case), chat=True,
    )
    # The 包片 leaders of the case's street and community hear of it too (no chat: said above).
    liaisons = [liaison.user for liaison in liaisons_over([case.street_id, case.community_id])]
    if liaisons:
        notifications.notify(
            users=liaisons, case=case, now=now,
            subject=_("Case %(number)s in your area is supervised (督办)") % {"number": case.number},
            body=note or _case_link_text(case),
        )
    return case


@transaction.atomic
def case_carry_over(*, case, acting_user, reason, now=None):
    """挂账: a matter that cannot be solved within its limits; escalation pauses."""
    now = _now(now)
    case = _fresh(case)
    reason = clean_text(reason, field=_("reason"), limit=200)
    _apply(case, "carry_over", user=acting_user, now=now, note=reason,
           changes={"carried_over_at": now, "carried_over_reason": reason}, expect={"carried_over_at": None})
    return case


@transaction.atomic
def case_lift_carry_over(*, case, acting_user, note="", now=None):
    """Take a case off the carry-over list; the current stage's clock starts afresh."""
    now = _now(now)
    case = _fresh(case)
    paused = (case.carried_over_at, case.deadline_at, case.deadline_stage)
    stage = {Status.HANDLING: "handle", Status.DISPATCHED: "accept"}.get(case.status, "dispatch")
    due = _deadline(case, stage, now)
    changes = {"carried_over_at": None, "carried_over_reason": "", "due_at": due}
    if stage == "handle":
        changes["handle_due_at"] = due
    _apply(case, "lift_carry_over", user=acting_user, now=now,
           note=clean_text(note, field=_("note"), required=False), changes=changes,
           expect={"carried_over_at": case.carried_over_at})
    # The pause does not count against the judged deadline (_apply re-read the case: use what was paused).
    case.carried_over_at, case.deadline_at, case.deadline_stage = paused
    deadlines.carry_over_lifted(case, now)
    case.refresh_from_db()
    return case
