"""Make the deadline and rating history append-only, and fill them from what existing cases kept (issue #18).

Backfill, as far as the data allows, by replaying each case's timeline with the
rule of cases/deadlines.py:
- the first deadline of each stage from the first register / dispatch (or
  re-dispatch) / accept event and the category's limit on the working calendar
  as it is now (cases without those events: registered_at / accepted_at, and
  handle_due_at as the first handling deadline);
- every approved extension from the decide_extension events and their
  ExtensionRequest rows; every carry-over pause from carry_over/lift pairs;
- every rating from the rate events (a reopen erased the case's own fields but
  not its timeline), only for residents', hotline and Open311 reports: ratings
  the portal let patrols and cameras give are left out of the counts (the
  case's own `rating` field is left as it was);
- the handling time of closed cases in working minutes.
"""

from collections import defaultdict

from django.db import migrations

from portal import append_only

TABLES = ("cases_casedeadline", "cases_caserating")
RATABLE = ("web", "qr", "hotline", "open311")
SATISFIED_MIN_RATING = 4
CHUNK = 2000
STAGE_OF_ACTION = {"register": "dispatch", "dispatch": "accept", "redispatch": "accept", "accept": "handle"}
EVENT_ACTIONS = (*STAGE_OF_ACTION, "decide_extension", "carry_over", "lift_carry_over", "rate")


def add_triggers(apps, schema_editor):
    append_only.add(schema_editor, TABLES)


def drop_triggers(apps, schema_editor):
    append_only.drop(schema_editor, TABLES)


def _replay(case, events, limits, extensions, cal):
    """(deadline rows, rating rows, case changes) of one case."""
    from portal.workcalendar.models import TimeUnit

    deadline_rows, rating_rows = [], []
    judged, stage_now, seen, since = None, "", set(), None

    def start(stage, at, due):
        nonlocal judged, stage_now
        if stage in seen:
            return
        seen.add(stage)
        met = stage_now != "missed" and (judged is None or at <= judged)
        deadline_rows.append(dict(case_id=case.pk, stage=stage, kind="first", due_at=due, at=at, previous_met=met))
        judged, stage_now = (due, stage) if met else (judged, "missed")

    for action, at, data, note in events:
        if action in STAGE_OF_ACTION:
            stage = STAGE_OF_ACTION[action]
            start(stage, at, cal.add(at, *limits[case.category_id][stage]))
        elif action == "decide_extension" and (data or {}).get("approved"):
            ext = extensions.get((data or {}).get("request"))
            if ext is None:
                continue
            moves = judged is not None and stage_now not in ("", "missed")
            if moves:
                judged = cal.add(judged, ext.value, ext.unit)
            deadline_rows.append(dict(case_id=case.pk, stage="handle", kind="extension", due_at=judged or at,
                                      extension_id=ext.pk, value=ext.value, unit=ext.unit, at=at))
        elif action == "carry_over":
            since = at
        elif action == "lift_carry_over" and since is not None:
            if judged is not None and stage_now not in ("", "missed") and since <= judged:
                minutes = round(cal.working_minutes_between(since, at))
                if minutes > 0:
                    judged = cal.add(judged, minutes / 60, TimeUnit.WORKING_HOURS)
                    deadline_rows.append(dict(case_id=case.pk, stage=stage_now, kind="pause", due_at=judged,
                                              value=minutes, at=at))
            since = None
        elif action == "rate" and case.channel in RATABLE and (data or {}).get("rating"):
            rating_rows.append(dict(case_id=case.pk, rating=int(data["rating"]), solved=data.get("solved"),
                                    comment=note, at=at))
    # Cases written without a timeline (direct loads): what their own fields say.
    if "dispatch" not in seen and case.registered_at:
        start("dispatch", case.registered_at, cal.add(case.registered_at, *limits[case.category_id]["dispatch"]))
    if "handle" not in seen and case.accepted_at:
        start("handle", case.accepted_at, case.handle_due_at
              or cal.add(case.accepted_at, *limits[case.category_id]["handle"]))
    if not rating_rows and case.rating and case.channel in RATABLE:
        rating_rows.append(dict(case_id=case.pk, rating=case.rating, comment=case.rating_comment, at=case.rated_at))
    changes = dict(
        deadline_at=judged, deadline_stage=stage_now, rating_count=len(rating_rows),
        satisfied_count=sum(r["rating"] >= SATISFIED_MIN_RATING for r in rating_rows),
        handling_minutes=round(cal.working_minutes_between(case.created_at, case.closed_at))
        if case.status == "closed" and case.closed_at else None,
    )
    return deadline_rows, rating_rows, changes


def backfill(apps, schema_editor):
    from portal.workcalendar.calendar import load

    Case = apps.get_model("cases", "Case")
    CaseEvent = apps.get_model("cases", "CaseEvent")
    CaseDeadline = apps.get_model("cases", "CaseDeadline")
    CaseRating = apps.get_model("cases", "CaseRating")
    Category = apps.get_model("cases", "Category")
    ExtensionRequest = apps.get_model("cases", "ExtensionRequest")
    if not Case.objects.exists():
        return
    cal = load()
    limits = {
        c.pk: {stage: (getattr(c, f"{stage}_limit"), getattr(c, f"{stage}_limit_unit"))
               for stage in ("dispatch", "accept", "handle")}
        for c in Category.objects.all()
    }
    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    for first in range(0, len(ids), CHUNK):
        chunk = ids[first:first + CHUNK]
        cases = list(Case.objects.filter(pk__in=chunk))
        events = defaultdict(list)
        for case_id, action, at, data, note in (
                CaseEvent.objects.filter(case_id__in=chunk, action__in=EVENT_ACTIONS).order_by("at", "pk")
                .values_list("case_id", "action", "at", "data", "note")):
            events[case_id].append((action, at, data, note))
        extensions = {e.pk: e for e in ExtensionRequest.objects.filter(case_id__in=chunk, status="approved")}
        deadline_rows, rating_rows = [], []
        for case in cases:
            rows, ratings, changes = _replay(case, events[case.pk], limits, extensions, cal)
            deadline_rows += rows
            rating_rows += ratings
            for name, value in changes.items():
                setattr(case, name, value)
        CaseDeadline.objects.bulk_create([CaseDeadline(**row) for row in deadline_rows], batch_size=CHUNK)
        CaseRating.objects.bulk_create([CaseRating(**row) for row in rating_rows], batch_size=CHUNK)
        Case.objects.bulk_update(cases, ["deadline_at", "deadline_stage", "rating_count", "satisfied_count",
                                         "handling_minutes"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0017_deadline_and_rating_history"),
        ("workcalendar", "0003_holidays_from_package"),
    ]

    operations = [
        migrations.RunPython(add_triggers, drop_triggers),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
