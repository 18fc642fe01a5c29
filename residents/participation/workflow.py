"""The state machines of participation, each ONE explicit transition table.

    proposal: collecting → deliberation → adopted | not adopted (or withdrawn)
    四议两公开: opened → proposed (党支部提议) → discussed (两委会商议) → reviewed
        (党员大会审议) → decided (村民会议决议) → published (决议公开, ≥ 7 days,
        objections answered within 3 working days) → done (实施结果公开)
    project: applied → reviewed (社区审核) → approved (党委审批) → implementing
        → completed (then residents evaluate)

services.py has one function per transition; each calls `check()` on a freshly
read row before its conditional UPDATE. Nothing else assigns these statuses.
Transitions with `target=None` leave the status alone (a support, an
objection, a progress update) but are still checked here.

Actors: ENTER, anyone posted on the row's place or above (a grid worker enters
a resident's proposal or support); MANAGE, staff with a managing post there
(community staff and above); SYSTEM, the portal itself (threshold, sweep).
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grid.models import MANAGING_ROLES
from grid.selectors import scope_of
from portal.errors import DomainError

from .models import ProjectStatus, ProposalStatus, TrackStage

ENTER = "enter"
MANAGE = "manage"
SYSTEM = "system"

P, G, J = ProposalStatus, TrackStage, ProjectStatus


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset
    target: object  # a status, or None: the status stays
    actors: frozenset

    def target_from(self, status):
        return status if self.target is None else self.target


def T(name, label, sources, target, actors):
    return Transition(name, label, frozenset(sources), target, frozenset(actors))


PROPOSAL_TABLE = (
    T("support", gettext_lazy("record a support"), {P.COLLECTING}, None, {ENTER}),
    T("reach_threshold", gettext_lazy("take it to deliberation"), {P.COLLECTING}, P.DELIBERATION, {SYSTEM}),
    T("deliberate", gettext_lazy("take it to deliberation"), {P.COLLECTING}, P.DELIBERATION, {MANAGE}),
    T("put_on_agenda", gettext_lazy("put it on an agenda"), {P.DELIBERATION}, None, {MANAGE}),
    T("open_track", gettext_lazy("open the 四议两公开 track"), {P.DELIBERATION}, None, {MANAGE}),
    T("adopt", gettext_lazy("adopt"), {P.DELIBERATION}, P.ADOPTED, {MANAGE}),
    T("reject", gettext_lazy("not adopt"), {P.DELIBERATION}, P.REJECTED, {MANAGE}),
    T("withdraw", gettext_lazy("withdraw"), {P.COLLECTING, P.DELIBERATION}, P.WITHDRAWN, {MANAGE}),
)

TRACK_TABLE = (
    T("propose", gettext_lazy("record the party branch's proposal"), {G.OPENED}, G.PROPOSED, {MANAGE}),
    T("discuss", gettext_lazy("record the two committees' discussion"), {G.PROPOSED}, G.DISCUSSED, {MANAGE}),
    T("review", gettext_lazy("record the party members' review"), {G.DISCUSSED}, G.REVIEWED, {MANAGE}),
    T("decide", gettext_lazy("record the assembly's decision"), {G.REVIEWED}, G.DECIDED, {MANAGE}),
    T("publish_decision", gettext_lazy("publish the decision"), {G.DECIDED}, G.PUBLISHED, {MANAGE}),
    T("object", gettext_lazy("record an objection"), {G.PUBLISHED}, None, {ENTER}),
    T("answer", gettext_lazy("answer an objection"), {G.PUBLISHED}, None, {MANAGE}),
    T("publish_result", gettext_lazy("publish the result"), {G.PUBLISHED}, G.DONE, {MANAGE}),
    T("escalate", gettext_lazy("escalate"), {G.OPENED, G.PROPOSED, G.DISCUSSED, G.REVIEWED, G.DECIDED,
                                             G.PUBLISHED}, None, {SYSTEM}),
)

PROJECT_TABLE = (
    T("review", gettext_lazy("pass the community review"), {J.APPLIED}, J.REVIEWED, {MANAGE}),
    T("approve", gettext_lazy("approve (party committee)"), {J.REVIEWED}, J.APPROVED, {MANAGE}),
    T("reject", gettext_lazy("turn down"), {J.APPLIED, J.REVIEWED}, J.REJECTED, {MANAGE}),
    T("start", gettext_lazy("start the work"), {J.APPROVED}, J.IMPLEMENTING, {MANAGE}),
    T("report_progress", gettext_lazy("report progress"), {J.IMPLEMENTING}, None, {ENTER}),
    T("complete", gettext_lazy("mark completed"), {J.IMPLEMENTING}, J.COMPLETED, {MANAGE}),
    T("evaluate", gettext_lazy("record an evaluation"), {J.COMPLETED}, None, {ENTER}),
)

TABLES = {
    "proposal": {t.name: t for t in PROPOSAL_TABLE},
    "track": {t.name: t for t in TRACK_TABLE},
    "project": {t.name: t for t in PROJECT_TABLE},
}
STATE_FIELD = {"proposal": "status", "track": "stage", "project": "status"}
STATE_LABELS = {"proposal": ProposalStatus, "track": TrackStage, "project": ProjectStatus}


def actor_kinds(obj, user):
    """ENTER and MANAGE for `user` on a placed row (empty for strangers)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    scope = scope_of(user)
    if scope.unrestricted:
        return frozenset({ENTER, MANAGE})
    kinds = set()
    for span in scope.spans:
        # A post reaches the row when its place is on the row's stored path.
        if getattr(obj, f"{span.kind}_id") == span.area_id:
            kinds.add(ENTER)
            if span.role in MANAGING_ROLES:
                kinds.add(MANAGE)
    return frozenset(kinds)


def check(machine, name, obj, user):
    """Raise DomainError unless `user` (None: the system) may take `name` on `obj` now."""
    transition = TABLES[machine][name]
    state = getattr(obj, STATE_FIELD[machine])
    if state not in transition.sources:
        raise DomainError(
            _("This is “%(state)s”; you cannot %(action)s now.")
            % {"state": STATE_LABELS[machine](state).label, "action": transition.label},
            code="bad_state",
        )
    kinds = frozenset({SYSTEM}) if user is None else actor_kinds(obj, user)
    if not kinds & transition.actors:
        raise DomainError(_("You may not %(action)s here.") % {"action": transition.label}, code="forbidden")
    return transition


def allowed(machine, obj, user):
    """Names of the transitions `user` may take on `obj` now (for buttons)."""
    kinds = actor_kinds(obj, user)
    state = getattr(obj, STATE_FIELD[machine])
    return {t.name for t in TABLES[machine].values() if state in t.sources and kinds & t.actors}


# Timeline lines that are not transitions of a table.
OTHER_ACTIONS = {
    "proposal.create": gettext_lazy("proposal entered"),
    "proposal.from_cases": gettext_lazy("proposal made from recurring cases"),
    "meeting.create": gettext_lazy("meeting scheduled"),
    "meeting.add_item": gettext_lazy("put on the agenda"),
    "meeting.record": gettext_lazy("participants and minutes recorded"),
    "meeting.vote": gettext_lazy("vote recorded"),
    "meeting.close": gettext_lazy("minutes closed"),
    "meeting.attend": gettext_lazy("attendance of a resident recorded"),
    "track.open": gettext_lazy("四议两公开 track opened"),
    "track.objection_escalate": gettext_lazy("objection escalated"),
    "project.apply": gettext_lazy("project applied for"),
}


def action_label(action):
    """The words for a timeline line's action ("track.propose" → its transition's label)."""
    machine, _sep, name = action.partition(".")
    transition = TABLES.get(machine, {}).get(name)
    return transition.label if transition else OTHER_ACTIONS.get(action, action)
