"""Per-organisation figures for a dashboard place (issue #16 item 7): how the organisations
handled the big matters sent to them (三事分流 → 主办), beside their 吹哨报到 record.

What each figure means, in words, is dashboards/definitions.py ORGANISATION_DEFINITIONS;
this module counts it. The unit is a sending (cases.OrgAssignment, append-only): every
time the command centre sends a matter to an organisation as lead (主办), by dispatch or
by the street's ruling on a return, the organisation has received one matter. A sending
lasts until the matter's next lead sending (or for good). Within it:

- signed in (签收): the first ORG_SIGN_IN event of the matter at or after the sending,
  before the next one; on time by the sending's `sign_in_due_at` (the organisation's own
  limit, cases.OrgLimit, in working time);
- returned (退单): an ORG_RETURN event within the sending;
- its judged handling deadline: the first one it was given on signing in (kept in the
  sign-in event's data, `handle_due`), plus the approved extensions granted while it held
  the matter (cases.CaseDeadline EXTENSION lines), each by its own length from the judged
  deadline, as cases/deadlines.py does for the case. A fresh clock from rework never moves it;
- solved on time: the matter closed while this sending was current, resolved by that deadline.

The cohort is the sendings made in the period (by `assigned_at`, local days), of matters
under the page's place the user sees through a managing post, to organisations the user
sees (grid.selectors.organisations_visible_to, managing): a street official sees the
organisations seated in the street, a district official those of the whole district.
Private matters (私事) are referred, never sent: they count in no organisation's figures.

Pinned by tests/test_dashboard_org_figures.py (a hand-computed fixture).
"""

from dataclasses import dataclass, fields
from datetime import datetime

from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.fields.json import KT

from cases.models import (
    SATISFIED_MIN_RATING,
    AssignmentRole,
    Case,
    CaseDeadline,
    CaseEvent,
    CaseRating,
    DeadlineKind,
    OrgAssignment,
    Status,
)
from cases.routing_orgs import handle_deadline
from cases.selectors import cases_visible_to
from grid.selectors import organisations_visible_to
from portal.workcalendar.calendar import add_working_time

from .figures import cutoff_for

A = CaseEvent.Action


def _share(part, whole):
    return part / whole if whole else None


@dataclass
class OrgFigures:
    """Measures of one organisation's sendings, and the rates derived from them."""

    received: int = 0  # lead sendings (主办)
    co_handled: int = 0  # co-handler sendings (协办): shown, in no rate
    should_sign_in: int = 0  # signed in, or past the time to sign in by the cutoff
    signed_in: int = 0
    signed_on_time: int = 0
    returned: int = 0
    due: int = 0  # 应办结: signed in, not returned, closed under it or past its judged deadline
    closed: int = 0
    solved_on_time: int = 0
    rated: int = 0
    satisfied: int = 0
    solved_said: int = 0  # ratings where the resident says "solved" (the hotline's 解决率)
    summoned: int = 0  # 吹哨报到 (dashboards/organisations.py)
    reported_in: int = 0
    whistle_rated: int = 0
    rating_sum: int = 0

    def __add__(self, other):
        return OrgFigures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def response_rate(self):
        """响应率: signed in by the time to sign in, over the sendings that had to be signed in."""
        return _share(self.signed_on_time, self.should_sign_in)

    @property
    def on_time_rate(self):
        """按期办结率: solved on time over 应办结."""
        return _share(self.solved_on_time, self.due)

    @property
    def return_rate(self):
        """退单率: returned over received."""
        return _share(self.returned, self.received)

    @property
    def satisfaction_rate(self):
        return _share(self.satisfied, self.rated)

    @property
    def solution_rate(self):
        return _share(self.solved_said, self.rated)

    @property
    def report_in_rate(self):
        return _share(self.reported_in, self.summoned)

    @property
    def mean_rating(self):
        return self.rating_sum / self.whistle_rated if self.whistle_rated else None


def _first_event(action):
    return (CaseEvent.objects.filter(case_id=OuterRef("case_id"), action=action, at__gte=OuterRef("assigned_at"))
            .order_by("at", "pk"))


def sendings(user, place, period, *, channels=None):
    """The lead and co-handler sendings of the cohort (see the module docstring)."""
    cases = cases_visible_to(user, managing=True).filter(place.path_q())
    if channels is not None:
        cases = cases.filter(channel__in=channels)
    organisations = organisations_visible_to(user, managing=True)
    return OrgAssignment.objects.filter(case__in=cases.values("pk"), organisation__in=organisations.values("pk"),
                                        assigned_at__gte=period.start, assigned_at__lt=period.end)


def _parse(moment):
    """The `handle_due` of a sign-in event (ISO text; PostgreSQL's ->> and SQLite's ->> both give text)."""
    if not moment:
        return None
    return datetime.fromisoformat(moment) if isinstance(moment, str) else moment


def _lead_rows(leads):
    later = (OrgAssignment.objects.filter(case_id=OuterRef("case_id"), role=AssignmentRole.LEAD)
             .filter(Q(assigned_at__gt=OuterRef("assigned_at")) | Q(assigned_at=OuterRef("assigned_at"),
                                                                    pk__gt=OuterRef("pk")))
             .order_by("assigned_at", "pk"))
    sign_in = _first_event(A.ORG_SIGN_IN)
    return list(leads.annotate(
        next_at=Subquery(later.values("assigned_at")[:1]),
        signed_at=Subquery(sign_in.values("at")[:1]),
        handle_due=Subquery(sign_in.annotate(due=KT("data__handle_due")).values("due")[:1]),
        returned_at=Subquery(_first_event(A.ORG_RETURN).values("at")[:1]),
    ).values("id", "organisation_id", "case_id", "assigned_at", "sign_in_due_at", "next_at", "signed_at",
             "handle_due", "returned_at", status=F("case__status"), current=F("case__org_assignment_id"),
             resolved_at=F("case__resolved_at"), extensions=F("case__extension_count")).order_by())


def _extensions(case_ids):
    """{case id: [(at, value, unit)]} of the approved extensions of these cases."""
    lines = {}
    if case_ids:
        for case_id, moment, value, unit in (
                CaseDeadline.objects.filter(case_id__in=sorted(case_ids), kind=DeadlineKind.EXTENSION)
                .order_by("at", "pk").values_list("case_id", "at", "value", "unit")):
            lines.setdefault(case_id, []).append((moment, value, unit))
    return lines


def _judged(row, extensions):
    """The sending's judged handling deadline: the first given on signing in, plus its approved extensions."""
    due = _parse(row["handle_due"])
    if due is None:
        # A sign-in recorded before the deadline was kept in the event: the same rule, recomputed.
        case = Case.objects.select_related("category").only("category").get(pk=row["case_id"])
        due = handle_deadline(row["organisation_id"], case.category, row["signed_at"])
    for moment, value, unit in extensions.get(row["case_id"], ()):
        if row["signed_at"] <= moment and (row["next_at"] is None or moment < row["next_at"]) and value:
            due = add_working_time(due, value, unit)
    return due


def organisation_measures(user, place, period, now, *, channels=None):
    """{organisation id: OrgFigures} of the cohort's sendings (whistles are added by dashboards/organisations.py)."""
    cutoff = cutoff_for(period, now)
    base = sendings(user, place, period, channels=channels)
    result = {}
    rows = _lead_rows(base.filter(role=AssignmentRole.LEAD))
    extensions = _extensions({r["case_id"] for r in rows if r["extensions"]})
    for row in rows:
        m = result.setdefault(row["organisation_id"], OrgFigures())
        m.received += 1
        nxt = row["next_at"]
        signed = row["signed_at"] if row["signed_at"] and (nxt is None or row["signed_at"] < nxt) else None
        returned = row["returned_at"] if row["returned_at"] and (nxt is None or row["returned_at"] <= nxt) else None
        sign_in_due = row["sign_in_due_at"]
        if signed is not None or (sign_in_due is not None and sign_in_due < cutoff):
            m.should_sign_in += 1
        if signed is not None:
            m.signed_in += 1
            if sign_in_due is None or signed <= sign_in_due:
                m.signed_on_time += 1
        if returned is not None:
            m.returned += 1
            continue
        if signed is None:
            continue
        closed = row["status"] == Status.CLOSED and row["current"] == row["id"]
        judged = _judged({**row, "signed_at": signed}, extensions)
        if closed or judged < cutoff:
            m.due += 1
        if closed:
            m.closed += 1
            if row["resolved_at"] is not None and row["resolved_at"] <= judged:
                m.solved_on_time += 1
    for row in base.filter(role=AssignmentRole.CO).values("organisation_id").annotate(n=Count("pk")).order_by():
        result.setdefault(row["organisation_id"], OrgFigures()).co_handled = row["n"]
    # Ratings of the matters closed under a sending of the cohort (every rating: a reopen erases none).
    ratings = CaseRating.objects.filter(case__org_assignment__in=base.filter(role=AssignmentRole.LEAD).values("pk"),
                                        case__status=Status.CLOSED)
    for row in (ratings.values(organisation=F("case__org_assignment__organisation_id"))
                .annotate(n=Count("pk"), satisfied=Count("pk", filter=Q(rating__gte=SATISFIED_MIN_RATING)),
                          solved=Count("pk", filter=Q(solved=True))).order_by()):
        m = result.setdefault(row["organisation"], OrgFigures())
        m.rated, m.satisfied, m.solved_said = row["n"], row["satisfied"], row["solved"]
    return result
