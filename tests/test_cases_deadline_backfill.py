"""cases 0013 backfills the deadline and rating history by replaying each case's timeline with the
rule of cases/deadlines.py. Replayed over the golden fixture (every path a case takes, written by
the services), it must give exactly what the services wrote as they went."""

import importlib
from collections import defaultdict

from cases.models import Case, CaseDeadline, CaseEvent, CaseRating, Category, ExtensionRequest
from portal.workcalendar.calendar import load

from .cases_factories import people  # noqa: F401
from .golden_factories import golden  # noqa: F401

step = importlib.import_module("cases.migrations.0018_backfill_deadline_and_rating_history")
FIELDS = ("deadline_at", "deadline_stage", "rating_count", "satisfied_count", "handling_minutes")


def test_replaying_the_timeline_gives_what_the_services_wrote(golden):
    cal = load()
    limits = {c.pk: {stage: c.limit(stage) for stage in ("dispatch", "accept", "handle")}
              for c in Category.objects.all()}
    extensions = {e.pk: e for e in ExtensionRequest.objects.filter(status="approved")}
    events = defaultdict(list)
    for case_id, action, at, data, note in CaseEvent.objects.filter(action__in=step.EVENT_ACTIONS).order_by(
            "at", "pk").values_list("case_id", "action", "at", "data", "note"):
        events[case_id].append((action, at, data, note))
    assert len(golden) == 33
    for name, case in golden.items():
        case = Case.objects.get(pk=case.pk)
        rows, ratings, changes = step._replay(case, events[case.pk], limits, extensions, cal)
        assert changes == {f: getattr(case, f) for f in FIELDS}, name
        written = list(CaseDeadline.objects.filter(case=case).order_by("at", "pk")
                       .values_list("stage", "kind", "due_at", "previous_met"))
        assert [(r["stage"], r["kind"], r["due_at"], r.get("previous_met", True)) for r in rows] == written, name
        assert [(r["rating"], r["solved"]) for r in ratings] == list(
            CaseRating.objects.filter(case=case).values_list("rating", "solved")), name
