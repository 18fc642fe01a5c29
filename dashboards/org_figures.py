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
under the page's place the user sees through a managing post, to whichever organisation
the matter went: a street official sees how every organisation handled the street's matters,
those seated in the street and those covering it from above (the district's 执法局, a
utility), as the whistle figures beside them do. That is what 吹哨报到 asks of a street: to
judge the departments that answer its calls. The matters are the user's; only the
organisation's name comes from outside the user's places.
Private matters (私事) are referred, never sent: they count in no organisation's figures.

Pinned by tests/test_dashboard_org_figures.py (a hand-computed fixture).
"""

from dataclasses import dataclass, fields
from datetime import datetime

from django.db.models import Count, F, Q
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
from grid.selectors import scope_of
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


def _covers(scope, place):
    """Whether a managing scope reaches every case under the place (then the case's stored path
    alone selects them: the same rows cases_visible_to gives, without its union of reaches)."""
    if scope.unrestricted:
        return True
    return place.area is not None and any(span.contains(place.area) for span in scope.spans)


def sendings(user, place, period):
    """The lead and co-handler sendings of the cohort (see the module docstring)."""
    rows = OrgAssignment.objects.filter(assigned_at__gte=period.start, assigned_at__lt=period.end)
    if _covers(scope_of(user).managing(), place):
        return rows.filter(place.path_q("case__"))
    return rows.filter(case__in=cases_visible_to(user, managing=True).filter(place.path_q()).values("pk"))


def _parse(moment):
    """The `handle_due` of a sign-in event (ISO text; PostgreSQL's ->> and SQLite's ->> both give text)."""
    if not moment:
        return None
    return datetime.fromisoformat(moment) if isinstance(moment, str) else moment


CHUNK = 5000  # case ids per look-up of their sendings and events (bound parameters stay few)


def _lead_rows(leads, period):
    """The cohort's lead sendings, each with `next_at` (the matter's next lead sending), its first
    sign-in at or after it (`signed_at`, with the kept `handle_due`) and its first return.

    Three plain reads (the sendings; then, per chunk of their matters, the matters' later lead
    sendings and their sign-in and return events), matched here: correlated subqueries per
    sending made PostgreSQL JIT-compile the plan, which cost more than the reads
    (bench/org_figures_bench.py)."""
    rows = list(leads.values("id", "organisation_id", "case_id", "assigned_at", "sign_in_due_at",
                             channel=F("case__channel"), status=F("case__status"),
                             current=F("case__org_assignment_id"),
                             resolved_at=F("case__resolved_at"), extensions=F("case__extension_count"))
                .order_by())
    case_ids = sorted({r["case_id"] for r in rows})
    sent, events = {}, {}
    for start in range(0, len(case_ids), CHUNK):
        chunk = case_ids[start:start + CHUNK]
        for case_id, moment, pk in (OrgAssignment.objects.filter(case_id__in=chunk, role=AssignmentRole.LEAD,
                                                                 assigned_at__gte=period.start)
                                    .values_list("case_id", "assigned_at", "pk")):
            sent.setdefault(case_id, []).append((moment, pk))
        for case_id, action, moment, due in (
                CaseEvent.objects.filter(case_id__in=chunk, action__in=(A.ORG_SIGN_IN, A.ORG_RETURN),
                                         at__gte=period.start)
                .annotate(due=KT("data__handle_due")).order_by("at", "pk")
                .values_list("case_id", "action", "at", "due")):
            events.setdefault(case_id, []).append((action, moment, due))
    for row in rows:
        here = (row["assigned_at"], row["id"])
        later = [s for s in sent.get(row["case_id"], ()) if s > here]
        row["next_at"] = min(later)[0] if later else None
        row["signed_at"] = row["handle_due"] = row["returned_at"] = None
        for action, moment, due in events.get(row["case_id"], ()):
            if moment < row["assigned_at"]:
                continue
            if action == A.ORG_SIGN_IN and row["signed_at"] is None:
                row["signed_at"], row["handle_due"] = moment, due
            elif action == A.ORG_RETURN and row["returned_at"] is None:
                row["returned_at"] = moment
    return rows


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


@dataclass
class Cohort:
    """The period's sendings as read once: lead rows (with their events and ratings matched) and
    co-handler rows; each measure pass filters them by channel in memory."""

    leads: list
    co: list  # [(organisation id, channel)]
    extensions: dict


def cohort(user, place, period):
    """Read the cohort's sendings once (sendings, their matters' later sendings and events, the
    co-handlers, the ratings of the matters closed under them, the rare extensions)."""
    base = sendings(user, place, period)
    leads = _lead_rows(base.filter(role=AssignmentRole.LEAD), period)
    co = list(base.filter(role=AssignmentRole.CO).values_list("organisation_id", "case__channel"))
    closed = sorted({r["case_id"] for r in leads if r["status"] == Status.CLOSED and r["current"] == r["id"]})
    ratings = {}
    for start in range(0, len(closed), CHUNK):
        # Every rating of the matter (a reopen erases none), by the matter closed under the sending.
        for row in (CaseRating.objects.filter(case_id__in=closed[start:start + CHUNK]).values("case_id")
                    .annotate(n=Count("pk"), satisfied=Count("pk", filter=Q(rating__gte=SATISFIED_MIN_RATING)),
                              solved=Count("pk", filter=Q(solved=True))).order_by()):
            ratings[row["case_id"]] = (row["n"], row["satisfied"], row["solved"])
    for row in leads:
        row["ratings"] = ratings.get(row["case_id"], (0, 0, 0))
    return Cohort(leads, co, _extensions({r["case_id"] for r in leads if r["extensions"]}))


def organisation_measures(user, place, period, now, *, channels=None, read=None):
    """{organisation id: OrgFigures} of the cohort's sendings from `channels` (all: None); whistles are
    added by dashboards/organisations.py. `read`: a Cohort already read for this page."""
    cutoff = cutoff_for(period, now)
    read = read or cohort(user, place, period)
    result = {}
    for row in read.leads:
        if channels is not None and row["channel"] not in channels:
            continue
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
        judged = _judged({**row, "signed_at": signed}, read.extensions)
        if closed or judged < cutoff:
            m.due += 1
        if closed:
            m.closed += 1
            if row["resolved_at"] is not None and row["resolved_at"] <= judged:
                m.solved_on_time += 1
            rated, satisfied, solved = row["ratings"]
            m.rated += rated
            m.satisfied += satisfied
            m.solved_said += solved
    for organisation_id, channel in read.co:
        if channels is None or channel in channels:
            result.setdefault(organisation_id, OrgFigures()).co_handled += 1
    return result
