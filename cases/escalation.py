"""The escalation sweep (超时自动上报): every minute, each overdue case moves one level up.

Big matters (Case.triage_class "public": at the command centre, with an organisation, or returned
and awaiting the street's ruling) never climb the residential tree: the same beat puts them
under supervision (督办) instead (`supervise_overdue_org_matters`).

Cut out of cases/services.py unchanged. It uses the transitions' shared helpers
(`_now`, `_deadline`) from there; services never imports this module, so the
imports inside the app run one way. The hand escalation (`case_escalate`) is a
transition and stays in services.
"""

import logging
from functools import partial

from django.db import connection, transaction
from django.db.models import Case as SqlCase
from django.db.models import DateTimeField, F, Q, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grid.models import AreaKind
from portal.celery import send_by_name

from . import escalation_left, notifications, routing, workflow
from .models import (
    CLOCKED_STATUSES,
    LEVELS,
    Case,
    CaseEvent,
    Category,
    EscalationNotice,
    ExtensionRequest,
    ExtensionStatus,
    Status,
    Triage,
)
from .services import _deadline, _now
from .services_orgs import organisation_staff

log = logging.getLogger(__name__)
A = CaseEvent.Action


class _SweepConflict(Exception):
    """A batch UPDATE changed fewer rows than were read: roll the batch back, retry next run."""


# Cases per batch: each batch is one transaction (its row locks, one UPDATE per
# (status, level), one insert of its timeline rows, one of its outbox rows, one
# enqueue on commit). Big enough that per-statement costs vanish, small enough
# that a batch holds its locks for a fraction of a second.
SWEEP_BATCH = 2000
# What the sweep reads of each case: enough to move it and to word its notifications.
_SWEEP_COLUMNS = ("pk", "status", "responsible_level", "category_id", "number", "description",
                  "community_id", "street_id", "district_id", "due_at")
_EVENT_FIELDS = ("case_id", "action", "from_status", "to_status", "actor_id", "at", "note", "is_public", "data")


def escalate_overdue(*, now=None, batch=SWEEP_BATCH):
    """The sweep (every minute): move each overdue case one level up. Returns how many moved.

    Set-based, batch by batch, each batch in its own transaction: it locks its
    candidates (SKIP LOCKED: a concurrent sweep takes other rows; on SQLite the
    write lock is taken at BEGIN), re-checks that each is still overdue, on the
    clock and below the district, and moves it with its timeline row, so running
    it twice or concurrently escalates nothing twice. Outbox rows are written in
    bulk in the same transaction. Carried-over cases and cases already at
    district level stay put.
    """
    now = _now(now)
    # Read once per run, not per batch: each category's new deadlines (same now)
    # and each place's staff (a place's cases come up in many batches).
    memo = {"deadlines": {}, "recipients": {}}
    if connection.vendor == "postgresql":
        return _escalate_in_id_order(now, batch, memo)
    moved = 0
    after = None
    while True:
        try:
            examined, done, after = _escalate_batch(now, batch, after, memo)
        except _SweepConflict:
            log.warning("escalation sweep: cases changed under a batch; it was rolled back and will be retried")
            return moved
        moved += done
        if examined < batch:
            return moved


def _overdue(now):
    return Case.objects.filter(
        status__in=CLOCKED_STATUSES, carried_over_at__isnull=True, due_at__lt=now,
    ).exclude(responsible_level=AreaKind.DISTRICT).exclude(triage_class=Triage.PUBLIC)


def _escalate_in_id_order(now, batch, memo):
    """PostgreSQL: every overdue case's id (one read of the sweep's partial index), then
    batches of consecutive ids, each moved by one statement (`_escalate_chunk`).

    Batches in id order, not due order: consecutive ids lie together in the table
    and in its number, tracking-code and date indexes, so a batch dirties far fewer
    pages. Measured on 108,000 overdue cases of the large city: 11.9 s in id order
    against 15.4 s in due order, and 11.8 s for one UPDATE of them all.
    """
    ids = sorted(_overdue(now).values_list("pk", flat=True))
    moved = 0
    for start in range(0, len(ids), batch):
        moved += _escalate_chunk(now, ids[start:start + batch], memo)
    return moved


@transaction.atomic
def _escalate_batch(now, batch, after, memo):
    """Other databases: one batch, in its own transaction. `after` is the (due_at, pk) the
    previous batch ended at: walking the index onwards, instead of from its start, never
    rereads what was just moved. Returns (examined, moved, where it ended)."""
    reason = _("Past its deadline: escalated automatically.")
    examined, moved, last = _escalate_batch_step_by_step(now, batch, after, memo, reason)
    _notify_moved(moved, now, reason, memo)
    return examined, len(moved), last


@transaction.atomic
def _escalate_chunk(now, ids, memo):
    reason = _("Past its deadline: escalated automatically.")
    moved = _escalate_in_one_statement(now, ids, memo, reason)
    _notify_moved(moved, now, reason, memo)
    return len(moved)


def _notify_moved(moved, now, reason, memo):
    """One EscalationNotice row for the batch; the notifications are worded after the commit."""
    if not moved:
        return
    EscalationNotice.objects.create(
        created_at=now, reason=reason, moved=[[row[0], upper, row[_PATH_COLUMN[upper]]] for row, upper in moved],
    )
    transaction.on_commit(partial(_enqueue_notices, len(moved)))


def _enqueue_notices(count):
    # By name: cases.tasks imports this module.
    notifications.try_enqueue(lambda: send_by_name("cases.tasks.expand_escalation_notices", retry=False), count,
                              what="escalation notification(s)")


def escalation_notices_expand(*, limit=1000):
    """Word the notifications of escalations the sweep recorded (EscalationNotice rows), oldest
    first, each notice in its own transaction with its deletion; returns how many cases' worth.

    Idempotent and safe to run concurrently: a notice is claimed with SKIP LOCKED
    and gone once worded.
    """
    known = {}
    worded = 0
    for _step in range(limit):
        with transaction.atomic():
            claim = EscalationNotice.objects.order_by("pk")
            if connection.features.has_select_for_update_skip_locked:
                claim = claim.select_for_update(skip_locked=True)
            notice = claim.first()
            if notice is None:
                break
            cases = {pk: rest for pk, *rest in Case.objects.filter(pk__in=[m[0] for m in notice.moved])
                     .values_list("pk", "number", "category_id", "description")}
            moved = [(pk, upper, place, *cases[pk]) for pk, upper, place in notice.moved if pk in cases]
            # The level each case left hears of it in the same outbox write (one enqueue).
            left = escalation_left.left_rows_for_sweep(notice.moved, now=notice.created_at, reason=notice.reason)
            _notify_sweep(moved, notice.created_at, notice.reason, known, extra_rows=left)
            EscalationNotice.objects.filter(pk=notice.pk).delete()
            worded += len(moved)
    return worded


def _sweep_deadlines(now, memo, category_ids):
    """{(category id, stage): new deadline} for these categories (memoised for the run)."""
    deadlines = memo["deadlines"]
    missing = {pk for pk in category_ids if (pk, "dispatch") not in deadlines}
    for category in Category.objects.filter(pk__in=missing):
        for stage in ("dispatch", "accept"):
            deadlines[category.pk, stage] = _deadline(category, stage, now)
    return deadlines


def _escalate_plan():
    """(status, level) read → (new status, new level, stage whose deadline applies), for every
    clocked status below the district."""
    escalate = workflow.TRANSITIONS["escalate"]
    return {
        (before, lower): (escalate.target_from(before), workflow.level_above(lower),
                          "dispatch" if before in (Status.REPORTED, Status.REGISTERED) else "accept")
        for before in CLOCKED_STATUSES for lower in LEVELS[:-1]
    }


# A batch in one round trip (PostgreSQL): lock those of the given cases that are
# still overdue (SKIP LOCKED: another sweep has the rest), move each up by the plan
# and its category's new deadline, write their timeline rows, lapse their pending
# extensions, and return what moved for the notifications.
_ESCALATE_SQL = """
WITH picked AS (
    SELECT id, status, responsible_level, due_at, category_id FROM cases_case
    WHERE id = ANY(%(ids)s) AND status IN ({clocked}) AND carried_over_at IS NULL AND due_at < %(now)s
      AND responsible_level <> %(top)s AND triage_class <> %(public)s
    FOR UPDATE SKIP LOCKED
), plan (before, lower, target, upper, stage) AS (
    VALUES {plan}
), deadline (category_id, stage, due) AS (
    VALUES {deadlines}
), moved AS (
    UPDATE cases_case c SET status = plan.target, responsible_level = plan.upper, assignee_id = NULL,
        accepted_at = NULL, due_at = deadline.due, escalation_count = c.escalation_count + 1
    FROM picked, plan, deadline
    WHERE c.id = picked.id AND plan.before = picked.status AND plan.lower = picked.responsible_level
      AND deadline.category_id = picked.category_id AND deadline.stage = plan.stage
    RETURNING c.id, picked.status, picked.responsible_level, c.category_id, c.number, c.description,
        c.community_id, c.street_id, c.district_id, picked.due_at, plan.upper, plan.target
), timeline AS (
    INSERT INTO cases_caseevent (case_id, action, from_status, to_status, actor_id, at, note, is_public, data)
    SELECT id, %(action)s, status, target, NULL, %(now)s, %(reason)s, TRUE,
        jsonb_build_object('from_level', responsible_level, 'to_level', upper, 'by_hand', FALSE)
    FROM moved
), lapsed AS (
    UPDATE cases_extensionrequest SET status = %(lapsed)s, decided_at = %(now)s
    WHERE status = %(pending)s AND case_id IN (SELECT id FROM moved)
)
SELECT * FROM moved
"""


def _escalate_in_one_statement(now, ids, memo, reason):
    """Move the given cases that are still overdue; returns [(case row, new level)]."""
    plan = _escalate_plan()
    # Every category, withdrawn ones too: a case whose category had no row would be
    # locked and left, and found again by every run.
    if "categories" not in memo:
        memo["categories"] = list(Category.objects.values_list("pk", flat=True))
    deadlines = _sweep_deadlines(now, memo, memo["categories"])
    clocked = {f"c{n}": status for n, status in enumerate(CLOCKED_STATUSES)}
    params = {**clocked, "ids": ids, "now": now, "top": AreaKind.DISTRICT, "public": Triage.PUBLIC,
              "action": A.ESCALATE,
              "reason": reason, "lapsed": ExtensionStatus.LAPSED, "pending": ExtensionStatus.PENDING}
    plan_rows, deadline_rows = [], []
    for n, ((before, lower), (target, upper, stage)) in enumerate(plan.items()):
        plan_rows.append(f"(%(pb{n})s, %(pl{n})s, %(pt{n})s, %(pu{n})s, %(ps{n})s)")
        params.update({f"pb{n}": before, f"pl{n}": lower, f"pt{n}": target, f"pu{n}": upper, f"ps{n}": stage})
    for n, ((category_id, stage), due) in enumerate(sorted(deadlines.items())):
        # The first row's types decide the columns'.
        deadline_rows.append(f"(%(dc{n})s::bigint, %(ds{n})s, %(dd{n})s::timestamptz)" if n == 0
                             else f"(%(dc{n})s, %(ds{n})s, %(dd{n})s)")
        params.update({f"dc{n}": category_id, f"ds{n}": stage, f"dd{n}": due})
    sql = _ESCALATE_SQL.format(clocked=", ".join(f"%({name})s" for name in clocked),
                               plan=", ".join(plan_rows), deadlines=", ".join(deadline_rows))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[:10], row[10]) for row in cursor.fetchall()]


def _escalate_batch_step_by_step(now, batch, after, memo, reason):
    """The same on other databases (SQLite, a single writer): read the batch, one
    conditional UPDATE per (status, level), then the timeline rows."""
    from grid.seeding import write_rows

    rows = _overdue(now).order_by("due_at", "pk")
    if after is not None:
        rows = rows.filter(due_at__gte=after[0]).exclude(due_at=after[0], pk__lte=after[1])
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    picked = list(rows.values_list(*_SWEEP_COLUMNS)[:batch])
    if not picked:
        return 0, [], after
    last = (picked[-1][-1], picked[-1][0])
    deadlines = _sweep_deadlines(now, memo, {row[3] for row in picked})
    plan = _escalate_plan()
    groups = {}
    for row in picked:
        groups.setdefault((row[1], row[2]), []).append(row)
    moved = []  # (case row, new level)
    events = []
    for (before, lower), members in groups.items():
        target, upper, stage = plan[before, lower]
        # The new deadline depends on the category only (same now, same stage): one
        # UPDATE per (status, level) with the deadline chosen per category in SQL.
        member_categories = sorted({row[3] for row in members})
        new_due = SqlCase(*[When(category_id=pk, then=Value(deadlines[pk, stage])) for pk in member_categories],
                          output_field=DateTimeField())
        ids = [row[0] for row in members]
        changed = Case.objects.filter(
            pk__in=ids, status=before, responsible_level=lower, due_at__lt=now, carried_over_at__isnull=True,
        ).exclude(triage_class=Triage.PUBLIC).update(status=target, responsible_level=upper, assignee=None, accepted_at=None, due_at=new_due,
                 escalation_count=F("escalation_count") + 1)
        if changed != len(ids):
            raise _SweepConflict
        data = {"from_level": lower, "to_level": upper, "by_hand": False}
        events += [(pk, A.ESCALATE, before, target, None, now, reason, True, data) for pk in ids]
        moved += [(row, upper) for row in members]
    write_rows(model=CaseEvent, fields=_EVENT_FIELDS, rows=events)
    ExtensionRequest.objects.filter(case_id__in=[row[0] for row in picked], status=ExtensionStatus.PENDING).update(
        status=ExtensionStatus.LAPSED, decided_at=now
    )
    return len(picked), moved, last


_PATH_COLUMN = {AreaKind.COMMUNITY: 6, AreaKind.STREET: 7, AreaKind.DISTRICT: 8}  # in _SWEEP_COLUMNS


# A digest lists this many matters; the rest are counted and on the recipient's board.
DIGEST_LINES = 50


def _notify_sweep(moved, now, reason, known=None, extra_rows=()):
    """Each new level's staff hear about the cases that rose to them; the chat group gets one line per place.

    One message per recipient for the whole batch (a digest listing the matters), not one per
    case: after a sweep of 20,000 the staff read a handful of messages instead of thousands,
    and the outbox drains in seconds (issue #25). A recipient with a single case gets the
    per-case message, linked to the case.

    `moved` holds (case id, new level, place id at that level, number, category id,
    description); `known` keeps the staff of places already looked up in this run.
    """
    places = {(upper, place) for _pk, upper, place, *_rest in moved}
    staff = {} if known is None else known
    staff.update(routing.recipients_by_area(places - staff.keys()))
    names = dict(Category.objects.filter(pk__in={m[4] for m in moved}).values_list("pk", "name"))
    labels = {level: AreaKind(level).label for level in {m[1] for m in moved}}
    per_place = {}
    per_user = {}  # user id -> (email, [matters]), in the order the batch moved them
    for pk, upper, place_id, number, category_id, description in moved:
        per_place.setdefault((upper, place_id), []).append(number)
        line = (pk, upper, number, f"{number} {names.get(category_id, '')}：{description[:60]}")
        for user_id, email in staff.get((upper, place_id), ()):
            per_user.setdefault(user_id, (email, []))[1].append(line)
    rows = []
    build = notifications.build_rows
    for user_id, (email, lines) in per_user.items():
        recipient = [(user_id, email)]
        if len(lines) == 1:
            pk, upper, number, text = lines[0]
            rows += build(recipients=recipient, case_id=pk, now=now, body=f"{reason}\n{text}",
                          subject=_("Case %(number)s escalated to you (%(level)s)")
                          % {"number": number, "level": labels[upper]})
            continue
        shown = [text for _pk, _upper, _number, text in lines[:DIGEST_LINES]]
        if len(lines) > DIGEST_LINES:
            shown.append(_("…and %(n)d more on your case board.") % {"n": len(lines) - DIGEST_LINES})
        rows += build(
            recipients=recipient, case_id=None, now=now, body="\n".join([reason, *shown]),
            subject=ngettext("%(n)d case escalated to you", "%(n)d cases escalated to you", len(lines))
            % {"n": len(lines)},
        )
    # The chat group is one robot, which takes about 20 messages a minute: one message per batch,
    # a line per level.
    per_level = {}
    for (level, _area_id), numbers in per_place.items():
        per_level.setdefault(level, []).extend(numbers)
    if per_level:
        lines = []
        for level in LEVELS:
            numbers = per_level.get(level)
            if numbers:
                shown = "、".join(numbers[:20]) + ("…" if len(numbers) > 20 else "")
                lines.append(ngettext("%(n)d case escalated to %(level)s level: %(numbers)s",
                                      "%(n)d cases escalated to %(level)s level: %(numbers)s", len(numbers))
                             % {"n": len(numbers), "level": AreaKind(level).label, "numbers": shown})
        rows += build(now=now, chat=True, body="\n".join(lines),
                      subject=ngettext("%(n)d case escalated", "%(n)d cases escalated", len(moved))
                      % {"n": len(moved)})
    notifications.save_rows(rows + list(extra_rows))


# --- big matters: supervised (督办), not escalated ------------------------------------------------

def _org_overdue(now):
    return (
        Case.objects.filter(triage_class=Triage.PUBLIC, status__in=CLOCKED_STATUSES, carried_over_at__isnull=True,
                            due_at__lt=now)
        .filter(Q(org_supervised_due__isnull=True) | ~Q(org_supervised_due=F("due_at")))
    )


def supervise_overdue_org_matters(*, now=None, batch=500):
    """Put each overdue big matter under the street's supervision (督办) once per missed deadline:
    a big matter not dispatched by the command centre, not signed in or not answered by its
    organisation in time, or a return not ruled on. Returns how many.

    Idempotent and concurrent-safe: a conditional UPDATE (the deadline it read, not yet marked)
    claims each matter, and only the claim that changed a row writes the timeline line and the
    notices. The street's staff hear of it, and the organisation's staff when it holds the matter.
    """
    now = _now(now)
    reason = _("Past its deadline: supervised by the street (督办).")
    done = 0
    while True:
        with transaction.atomic():
            rows = list(_org_overdue(now).order_by("due_at", "pk")
                        .values_list("pk", "due_at", "status", "organisation_id", "number")[:batch])
            marked = []
            for pk, due_at, status, organisation_id, number in rows:
                claimed = Case.objects.filter(pk=pk, status=status, due_at=due_at).filter(
                    Q(org_supervised_due__isnull=True) | ~Q(org_supervised_due=due_at)
                ).update(org_supervised_due=due_at)
                if claimed:
                    marked.append((pk, due_at, status, organisation_id, number))
            CaseEvent.objects.bulk_create([
                CaseEvent(case_id=pk, action=A.ORG_SUPERVISE, actor=None, at=now, note=reason, is_public=False,
                          data={"organisation": organisation_id, "missed": due_at.isoformat(), "status": status})
                for pk, due_at, status, organisation_id, _number in marked
            ])
            for pk, _due, _status, organisation_id, number in marked:
                case = Case.objects.select_related("category").get(pk=pk)
                level = AreaKind.STREET if case.street_id else AreaKind.DISTRICT
                users = routing.responsible_staff(case, level)
                if organisation_id:
                    users += organisation_staff([organisation_id])
                notifications.notify(users=users, case=case, now=now, chat=True, body=reason,
                                     subject=_("Matter %(number)s is overdue: supervised") % {"number": number})
        done += len(marked)
        if len(rows) < batch:
            return done
