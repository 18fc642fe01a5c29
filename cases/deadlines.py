"""The deadline a matter is judged by (考核时限), kept as history (cases.models_history.CaseDeadline).

The field judges a matter against the deadline it was FIRST given, extended only
by approved extensions (数字城管 evaluation practice; DOMAIN.md "Field
practice"), never against the fresh clock of a level it was escalated to, sent
back to (rework, reopen) or re-dispatched to. The rule, applied by the
transitions in cases/services.py and cases/oversight.py in their own
transaction:

1. When a stage starts for the first time (dispatch stage at registration 立案,
   accept stage at the first dispatch, handle stage at the first acceptance),
   its deadline is written as the stage's FIRST line. If the previous stage met
   its judged deadline, the new one becomes the judged deadline; if not, the
   matter is late for good and the judged deadline stays the one it missed.
2. An approved extension moves the judged deadline out by its own length
   (EXTENSION line), from the judged deadline, not from now.
3. Lifting a carry-over (挂账) moves it out by the working time the case was
   paused (PAUSE line), if it was carried over before its deadline passed.
4. Nothing else moves it: escalation (by hand or by the sweep), return,
   re-dispatch, rework and reopen reset `due_at`/`handle_due_at` for the
   people working the case, and leave `deadline_at` alone. The escalation
   sweep (cases/escalation.py) therefore writes no deadline line.

Each function is called right after the transition's conditional UPDATE
succeeded (so it holds the case's row lock, and two racing transitions never
both write a first line), inside the transition's transaction: a transition
refused later still leaves no line behind. `case` is the row as read before
that UPDATE; the function writes its line and updates the judged deadline.
"""

from portal.workcalendar.calendar import add_working_time, working_minutes_between
from portal.workcalendar.models import TimeUnit

from .models import Case
from .models_history import CaseDeadline, DeadlineKind, DeadlineStage

STAGE_ORDER = (DeadlineStage.DISPATCH, DeadlineStage.ACCEPT, DeadlineStage.HANDLE)
# Case.deadline_stage once a stage missed its judged deadline: frozen.
MISSED = "missed"


def _set(case, changes):
    if changes:
        Case.objects.filter(pk=case.pk).update(**changes)
        for name, value in changes.items():
            setattr(case, name, value)
    return changes


def stage_started(case, stage, due, now):
    """Rule 1: when `stage` starts with the deadline `due`; nothing unless it is the stage's first start."""
    if CaseDeadline.objects.filter(case_id=case.pk, stage=stage, kind=DeadlineKind.FIRST).exists():
        return {}
    met = case.deadline_stage != MISSED and (case.deadline_at is None or now <= case.deadline_at)
    CaseDeadline.objects.create(case_id=case.pk, stage=stage, kind=DeadlineKind.FIRST, due_at=due, at=now,
                                previous_met=met)
    return _set(case, {"deadline_at": due, "deadline_stage": stage} if met else {"deadline_stage": MISSED})


def extension_approved(case, extension, now):
    """Rule 2: the judged deadline moves out by the approved extension (only while it can still be met)."""
    judged = case.deadline_at
    moves = judged is not None and case.deadline_stage not in ("", MISSED)
    new = add_working_time(judged, extension.value, extension.unit) if moves else judged
    CaseDeadline.objects.create(case_id=case.pk, stage=DeadlineStage.HANDLE, kind=DeadlineKind.EXTENSION,
                                due_at=new or now, extension=extension, value=extension.value,
                                unit=extension.unit, at=now)
    return _set(case, {"deadline_at": new} if moves else {})


def carry_over_lifted(case, now):
    """Rule 3: a pause (挂账) that began before the deadline passed adds its working time to it."""
    judged, since = case.deadline_at, case.carried_over_at
    if judged is None or since is None or case.deadline_stage in ("", MISSED) or since > judged:
        return {}
    minutes = max(0, round(working_minutes_between(since, now)))
    if not minutes:
        return {}
    new = add_working_time(judged, minutes / 60, TimeUnit.WORKING_HOURS)
    # `value` of a pause line: the working minutes paused (no unit: TimeUnit.MINUTES runs round the clock).
    CaseDeadline.objects.create(case_id=case.pk, stage=case.deadline_stage, kind=DeadlineKind.PAUSE, due_at=new,
                                value=minutes, at=now)
    return _set(case, {"deadline_at": new})


def handling_minutes(case, closed_at):
    """Working minutes from the report to the close (the figures' handling time)."""
    return max(0, round(working_minutes_between(case.created_at, closed_at)))
