"""The case workflow: ONE explicit transition table, and who may take each move.

    report → register → dispatch → accept → resolve → verify → close → rate
    (信息收集 → 案卷建立 → 任务派遣 → 任务处理 → 处理反馈 → 核查结案 → 综合评价)

cases/services.py has one function per transition; each calls `check()` on a
freshly read case before its conditional UPDATE. Nothing else assigns
`Case.status`. Transitions with `target=None` change flags or add a line to the
timeline but leave the status alone.

Who acts is a small set of actor kinds, worked out from the user's posts
without a query (the scope is cached on the user):

- HANDLER: the assignee; or, while nobody holds the case, anyone posted on the
  responsible place in the role that works at that level (grid worker/grid
  chief on a grid, community staff on a community, ...).
- DISPATCHER: staff with a managing post on the responsible place or above it.
- ABOVE: staff with a managing post strictly above the responsible place (the
  level that approves extensions); at district level, the district officials.
- OFFICIAL: staff with a managing post over the case's place (督办).
- VERIFIER: anyone posted over the case's place, but not the one who resolved it.
- REPORTER: the reporter, through the tracking code (no login).
- SYSTEM: the portal itself (the escalation sweep, automatic registration).
"""

from dataclasses import dataclass, field
from typing import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grid.models import KIND_LEVEL, MANAGING_ROLES, AreaKind, Role
from grid.selectors import scope_of
from portal.errors import DomainError

from .models import CLOCKED_STATUSES, LEVELS, OPEN_STATUSES, RATABLE_CHANNELS, Channel, Status

S = Status

HANDLER = "handler"
DISPATCHER = "dispatcher"
ABOVE = "above"
OFFICIAL = "official"
VERIFIER = "verifier"
REPORTER = "reporter"
SYSTEM = "system"
# Actors that are not a signed-in user.
ANONYMOUS_ACTORS = frozenset({REPORTER, SYSTEM})

# The roles that work a case at each level.
HANDLING_ROLES = {
    AreaKind.GRID: (Role.GRID_WORKER, Role.GRID_CHIEF),
    AreaKind.COMMUNITY: (Role.COMMUNITY_STAFF,),
    AreaKind.STREET: (Role.STREET_STAFF,),
    AreaKind.DISTRICT: (Role.DISTRICT_OFFICIAL,),
}

# Posts that mediate disputes without managing a place (人民调解员, 司法所, 社区律师).
# They see and work on the mediation files they are named on, nothing else of
# their place's cases: they are not verifiers, and cases_visible_to leaves them out.
MEDIATOR_ROLES = (Role.PEOPLES_MEDIATOR, Role.JUSTICE_OFFICE_STAFF, Role.COMMUNITY_LAWYER)
# Who may be named a file's mediator: those posts and the staff of the community or street.
MEDIATOR_CANDIDATE_ROLES = MEDIATOR_ROLES + (Role.COMMUNITY_STAFF, Role.STREET_STAFF)


def level_above(level):
    """The next level up, or None at the district."""
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


# --- guards: extra conditions beyond "from this state, by this actor" ----------------

def _not_supervised(case, user):
    if case.supervised_at is not None:
        return _("This case is already supervised.")


def _not_carried_over(case, user):
    if case.carried_over_at is not None:
        return _("This case is already on the carry-over list.")


def _carried_over(case, user):
    if case.carried_over_at is None:
        return _("This case is not on the carry-over list.")


def _can_climb(case, user):
    if level_above(case.responsible_level) is None:
        return _("This case is already at district level; it cannot be escalated further.")
    if case.carried_over_at is not None:
        return _("This case is on the carry-over list; lift the carry-over before escalating it.")


def _ratable(case, user):
    if case.channel not in RATABLE_CHANNELS:
        return _("Only reports from residents, the 12345 hotline and Open311 can be rated; "
                 "this one came from “%(channel)s”.") % {"channel": Channel(case.channel).label}
    # Once per close: a reopened case can be rated again after it is closed again.
    if case.rated_at is not None and (case.closed_at is None or case.rated_at >= case.closed_at):
        return _("This case has already been rated.")


def _not_resolver(case, user):
    if user is not None and case.resolved_by_id == user.pk:
        return _("Someone other than the handler who resolved it must verify it on site.")


def _accept_guard(case, user):
    if case.assignee_id and user is not None and case.assignee_id != user.pk:
        return _("This case is assigned to %(name)s.") % {"name": case.assignee}


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset
    # A status, a {source: target} mapping, or None (the status stays).
    target: object
    actors: frozenset
    guard: Callable | None = field(default=None, compare=False)

    def target_from(self, status):
        if self.target is None:
            return status
        if isinstance(self.target, dict):
            return self.target[status]
        return self.target

    @property
    def changes_status(self):
        return self.target is not None


def T(name, label, sources, target, actors, guard=None):
    return Transition(name, label, frozenset(sources), target, frozenset(actors), guard)


CLOCKED = frozenset(CLOCKED_STATUSES)
OPEN = frozenset(OPEN_STATUSES)

TABLE = (
    T("register", gettext_lazy("register"), {S.REPORTED}, S.REGISTERED, {DISPATCHER, SYSTEM}),
    T("reject", gettext_lazy("reject"), {S.REPORTED}, S.REJECTED, {DISPATCHER}),
    T("dispatch", gettext_lazy("dispatch"), {S.REGISTERED}, S.DISPATCHED, {DISPATCHER, SYSTEM}),
    T("redispatch", gettext_lazy("re-dispatch"), {S.DISPATCHED, S.HANDLING}, S.DISPATCHED, {DISPATCHER}),
    T("accept", gettext_lazy("accept"), {S.DISPATCHED}, S.HANDLING, {HANDLER}, _accept_guard),
    T("return", gettext_lazy("return to the dispatcher"), {S.DISPATCHED, S.HANDLING}, S.REGISTERED, {HANDLER}),
    T("note", gettext_lazy("add progress"), OPEN, None, {HANDLER, DISPATCHER}),
    T("request_extension", gettext_lazy("request an extension"), {S.HANDLING}, None, {HANDLER}),
    T("decide_extension", gettext_lazy("decide an extension"), {S.HANDLING}, None, {ABOVE}),
    T("resolve", gettext_lazy("resolve"), {S.HANDLING}, S.RESOLVED, {HANDLER}),
    T("verify", gettext_lazy("verify"), {S.RESOLVED}, S.VERIFIED, {VERIFIER}, _not_resolver),
    T("verify_fail", gettext_lazy("send back for rework"), {S.RESOLVED}, S.HANDLING, {VERIFIER}, _not_resolver),
    T("close", gettext_lazy("close"), {S.VERIFIED}, S.CLOSED, {DISPATCHER}),
    T("reopen", gettext_lazy("reopen"), {S.CLOSED}, S.HANDLING, {REPORTER, DISPATCHER}),
    T("mark_duplicate", gettext_lazy("mark as duplicate"), {S.REPORTED, S.REGISTERED, S.DISPATCHED, S.HANDLING},
      S.DUPLICATE, {DISPATCHER}),
    T("supervise", gettext_lazy("supervise"), OPEN, None, {OFFICIAL}, _not_supervised),
    T("carry_over", gettext_lazy("carry over"), CLOCKED, None, {DISPATCHER}, _not_carried_over),
    T("lift_carry_over", gettext_lazy("lift the carry-over"), CLOCKED, None, {DISPATCHER}, _carried_over),
    # Whoever takes it over at the level above must accept it afresh.
    T("escalate", gettext_lazy("escalate"), CLOCKED,
      {S.REPORTED: S.REPORTED, S.REGISTERED: S.REGISTERED, S.DISPATCHED: S.DISPATCHED, S.HANDLING: S.DISPATCHED},
      {HANDLER, DISPATCHER, SYSTEM}, _can_climb),
    T("rate", gettext_lazy("rate"), {S.CLOSED}, None, {REPORTER}, _ratable),
)
TRANSITIONS = {t.name: t for t in TABLE}


# --- who is acting --------------------------------------------------------------------

def actor_kinds(case, user):
    """The actor kinds `user` counts as on `case` (empty for strangers)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset({HANDLER, DISPATCHER, ABOVE, OFFICIAL, VERIFIER})
    scope = scope_of(user)
    level = case.responsible_level
    level_depth = KIND_LEVEL[level]
    responsible_id = case.responsible_area_id
    kinds = set()
    if case.assignee_id == user.pk:
        kinds.add(HANDLER)
    for span in scope.spans:
        # A post reaches the case when its place is on the case's stored path.
        if getattr(case, f"{span.kind}_id") != span.area_id or span.role in MEDIATOR_ROLES:
            continue
        kinds.add(VERIFIER)
        depth = KIND_LEVEL[span.kind]
        if span.role in MANAGING_ROLES:
            kinds.add(OFFICIAL)
            if depth <= level_depth:
                kinds.add(DISPATCHER)
            if depth < level_depth or (depth == 0 and level == AreaKind.DISTRICT):
                kinds.add(ABOVE)
        if (case.assignee_id is None and span.area_id == responsible_id
                and span.role in HANDLING_ROLES[level]):
            kinds.add(HANDLER)
    if case.building_id in scope.building_ids or case.unit_id in scope.unit_ids:
        kinds.add(VERIFIER)
    return frozenset(kinds)


def check(name, case, user, *, actor=None):
    """Raise DomainError unless `user` (or the anonymous `actor`) may take `name` now.

    Returns the Transition. `actor` names REPORTER or SYSTEM when no user acts.
    """
    transition = TRANSITIONS[name]
    if case.status not in transition.sources:
        raise DomainError(
            _("This case is “%(status)s”; it cannot %(action)s now.")
            % {"status": Status(case.status).label, "action": transition.label},
            code="bad_state",
        )
    if user is None:
        if actor not in ANONYMOUS_ACTORS or actor not in transition.actors:
            raise DomainError(_("You may not %(action)s this case.") % {"action": transition.label},
                              code="forbidden")
    else:
        kinds = actor_kinds(case, user)
        if not kinds & transition.actors:
            if name == "accept" and case.assignee_id and case.assignee_id != user.pk:
                raise DomainError(_accept_guard(case, user), code="taken")
            raise DomainError(_("You may not %(action)s this case.") % {"action": transition.label},
                              code="forbidden")
    if transition.guard is not None:
        message = transition.guard(case, user)
        if message:
            raise DomainError(message, code="refused")
    return transition


def allowed(case, user):
    """Names of the transitions `user` may take on `case` now (for buttons)."""
    names = []
    kinds = actor_kinds(case, user)
    for t in TABLE:
        if case.status in t.sources and kinds & t.actors:
            if t.guard is None or not t.guard(case, user):
                names.append(t.name)
    return names
