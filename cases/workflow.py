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
- WHISTLER: community or street staff posted on the case's community or street
  (吹哨: they summon organisations, and rate them once the case is closed).
- SUMMONED: staff of an organisation a whistle summoned to the case. Their posts
  are on the organisation, not on places, so this kind needs the summons row:
  cases/whistles.py looks it up and passes it to `check(..., kinds=)`.

Transitions of a summons (吹哨报到) change the summons row, not the case's
status: their `summons` column says from which summons states to which.

A mediation case closes at its follow-up (回访) when the agreement was found
performed (follow_up_close, by the portal once the mediator's follow-up is
recorded): the follow-up is its check on site, so it skips verify.

- ORG: staff of the organisation currently holding the matter as lead (主办). On an
  organisation's matter nobody is HANDLER: the residential moves (accept, return,
  resolve, escalate) give way to the organisation's own (sign in, reply, return).

Big matters (三事分流 class "public", Case.triage_class) go to the street's command centre,
which sends them to organisations (org_dispatch) and rules on their returns
(org_rule); they are supervised when late, never escalated (cases/escalation.py).
"""

from dataclasses import dataclass, field
from typing import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grid.models import KIND_LEVEL, MANAGING_ROLES, AreaKind, Role
from grid.selectors import scope_of
from portal.errors import DomainError

from .models import (CLOCKED_STATUSES, LEVELS, OPEN_STATUSES, RATABLE_CHANNELS, AssignmentKind, CaseKind, Channel,
                     Status, SummonsStatus, Triage)

S = Status
SS = SummonsStatus

HANDLER = "handler"
DISPATCHER = "dispatcher"
ABOVE = "above"
OFFICIAL = "official"
VERIFIER = "verifier"
REPORTER = "reporter"
SYSTEM = "system"
WHISTLER = "whistler"
SUMMONED = "summoned"
ORG = "org"
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


# Who blows the whistle (街乡吹哨; later schemes let the community blow it too).
WHISTLING_ROLES = {AreaKind.STREET: (Role.STREET_STAFF,), AreaKind.COMMUNITY: (Role.COMMUNITY_STAFF,)}


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
    if case.triage_class == Triage.PUBLIC:
        return _("Big matters are supervised by the street, not escalated.")
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


def _residential(case, user):
    if case.triage_class == Triage.PUBLIC:
        return _("This is a big matter: the command centre sends it to an organisation.")


def _command_centre(case, user):
    """Only the street's command centre (street staff) or the district sends matters to organisations."""
    if case.triage_class != Triage.PUBLIC:
        return _("Only big matters go to organisations; change the class first.")
    if user is None or user.is_superuser:
        return None
    if not any(s.kind in (AreaKind.STREET, AreaKind.DISTRICT) and getattr(case, f"{s.kind}_id") == s.area_id
               for s in scope_of(user).managing().spans):
        return _("Only the street's command centre sends matters to organisations.")


def _org_dispatch_guard(case, user):
    if case.returned_at is not None:
        return _("An organisation returned this matter: the street rules on it first.")
    if case.status != Status.REGISTERED and case.organisation_id is None:
        return _("This matter is not with an organisation.")
    return _command_centre(case, user)


def _ruling_guard(case, user):
    if case.returned_at is None:
        return _("No organisation has returned this matter.")
    return _command_centre(case, user)


def _return_guard(case, user):
    assignment = case.org_assignment if case.org_assignment_id else None
    if assignment is not None and assignment.kind == AssignmentKind.RULING:
        return _("The street ruled that your organisation takes this matter; the ruling is binding.")


def _mediation_case(case, user):
    if case.kind != CaseKind.MEDIATION:
        return _("Only a mediation closes at the follow-up of its agreement.")


def _accept_guard(case, user):
    if case.assignee_id and user is not None and case.assignee_id != user.pk:
        return _("This case is assigned to %(name)s.") % {"name": case.assignee}


def _hotline_order(case, user):
    if case.channel != Channel.HOTLINE or not case.external_ref:
        return _("This is not a 12345 work order (no work-order number).")


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset
    # A status, a {source: target} mapping, or None (the status stays).
    target: object
    actors: frozenset
    guard: Callable | None = field(default=None, compare=False)
    # 吹哨报到 moves: (summons states it leaves, summons state it makes), or None.
    summons: tuple | None = None

    def target_from(self, status):
        if self.target is None:
            return status
        if isinstance(self.target, dict):
            return self.target[status]
        return self.target

    @property
    def changes_status(self):
        return self.target is not None


def T(name, label, sources, target, actors, guard=None, summons=None):
    if summons is not None:
        summons = (frozenset(summons[0]), summons[1])
    return Transition(name, label, frozenset(sources), target, frozenset(actors), guard, summons)


CLOCKED = frozenset(CLOCKED_STATUSES)
OPEN = frozenset(OPEN_STATUSES)

TABLE = (
    T("register", gettext_lazy("register"), {S.REPORTED}, S.REGISTERED, {DISPATCHER, SYSTEM}),
    T("reject", gettext_lazy("reject"), {S.REPORTED}, S.REJECTED, {DISPATCHER}),
    # 三事分流: change the class (a reason on the timeline); a private matter is referred, final.
    T("reclassify", gettext_lazy("change the class"), {S.REPORTED, S.REGISTERED}, None, {DISPATCHER}),
    T("refer", gettext_lazy("refer"), {S.REPORTED, S.REGISTERED}, S.REFERRED, {DISPATCHER}),
    T("dispatch", gettext_lazy("dispatch"), {S.REGISTERED}, S.DISPATCHED, {DISPATCHER, SYSTEM}, _residential),
    T("redispatch", gettext_lazy("re-dispatch"), {S.DISPATCHED, S.HANDLING}, S.DISPATCHED, {DISPATCHER},
      _residential),
    # Organisations (职能部门): the command centre sends (or re-sends: the handler is cleared),
    # the organisation signs in (签收), replies with the result, or returns it (退单) for the
    # street's binding ruling. Verification on site stays with the grid or community.
    T("org_dispatch", gettext_lazy("send to an organisation"), {S.REGISTERED, S.DISPATCHED, S.HANDLING},
      S.DISPATCHED, {DISPATCHER}, _org_dispatch_guard),
    T("org_rule", gettext_lazy("rule on the return"), {S.REGISTERED}, S.DISPATCHED, {DISPATCHER}, _ruling_guard),
    T("org_sign_in", gettext_lazy("sign in"), {S.DISPATCHED}, S.HANDLING, {ORG}),
    T("org_reply", gettext_lazy("reply with the result"), {S.HANDLING}, S.RESOLVED, {ORG}),
    T("org_return", gettext_lazy("return to the street"), {S.DISPATCHED, S.HANDLING}, S.REGISTERED, {ORG},
      _return_guard),
    T("accept", gettext_lazy("accept"), {S.DISPATCHED}, S.HANDLING, {HANDLER}, _accept_guard),
    T("return", gettext_lazy("return to the dispatcher"), {S.DISPATCHED, S.HANDLING}, S.REGISTERED, {HANDLER}),
    T("note", gettext_lazy("add progress"), OPEN, None, {HANDLER, DISPATCHER, ORG}),
    T("request_extension", gettext_lazy("request an extension"), {S.HANDLING}, None, {HANDLER}),
    T("decide_extension", gettext_lazy("decide an extension"), {S.HANDLING}, None, {ABOVE}),
    T("resolve", gettext_lazy("resolve"), {S.HANDLING}, S.RESOLVED, {HANDLER}),
    T("verify", gettext_lazy("verify"), {S.RESOLVED}, S.VERIFIED, {VERIFIER}, _not_resolver),
    T("verify_fail", gettext_lazy("send back for rework"), {S.RESOLVED}, S.HANDLING, {VERIFIER}, _not_resolver),
    T("close", gettext_lazy("close"), {S.VERIFIED}, S.CLOSED, {DISPATCHER}),
    T("reopen", gettext_lazy("reopen"), {S.CLOSED}, S.HANDLING, {REPORTER, DISPATCHER}),
    # 回访 (cases/mediation_followup.py): an agreement found performed closes its mediation case.
    T("follow_up_close", gettext_lazy("close at the follow-up (回访)"), {S.RESOLVED, S.VERIFIED}, S.CLOSED,
      {SYSTEM}, _mediation_case),
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
    # 吹哨报到 (cases/whistles.py): the case's status stays; the summons rows move.
    T("whistle", gettext_lazy("blow the whistle (吹哨)"), CLOCKED | {S.RESOLVED}, None, {WHISTLER},
      summons=((), SS.SUMMONED)),
    # A no-show may still report in, late; once the case is closed nobody reports in.
    T("report_in", gettext_lazy("report in (报到)"), OPEN, None, {SUMMONED},
      summons=({SS.SUMMONED, SS.NO_SHOW}, SS.REPORTED_IN)),
    T("no_show", gettext_lazy("mark a no-show"), OPEN, None, {SYSTEM}, summons=({SS.SUMMONED}, SS.NO_SHOW)),
    T("rate_summons", gettext_lazy("rate the summoned organisations (评价)"), {S.CLOSED}, None, {WHISTLER}),
    # 12345 docking (cases/hotline/): the reply sent back, a hand-back within its window, the follow-up call.
    T("hotline_reply", gettext_lazy("reply to the hotline (回单)"), {S.RESOLVED, S.VERIFIED, S.CLOSED}, None,
      {HANDLER, DISPATCHER}, _hotline_order),
    T("hotline_return", gettext_lazy("hand back to the hotline (退单)"), {S.REGISTERED, S.DISPATCHED, S.HANDLING},
      S.REJECTED, {DISPATCHER}, _hotline_order),
    T("hotline_visit", gettext_lazy("record the follow-up call (回访)"), {S.RESOLVED, S.VERIFIED, S.CLOSED}, None,
      {DISPATCHER, SYSTEM}, _hotline_order),
)
TRANSITIONS = {t.name: t for t in TABLE}


# --- who is acting --------------------------------------------------------------------

def actor_kinds(case, user):
    """The actor kinds `user` counts as on `case` (empty for strangers)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    # On an organisation's matter (or a big one at the command centre) nobody is the residential handler.
    residential = case.triage_class != Triage.PUBLIC
    if user.is_superuser:
        return frozenset({HANDLER, DISPATCHER, ABOVE, OFFICIAL, VERIFIER, WHISTLER} if residential
                         else {DISPATCHER, ABOVE, OFFICIAL, VERIFIER, WHISTLER})
    scope = scope_of(user)
    level = case.responsible_level
    level_depth = KIND_LEVEL[level]
    responsible_id = case.responsible_area_id
    kinds = set()
    if case.organisation_id is not None and case.organisation_id in scope.organisation_ids:
        kinds.add(ORG)
    if case.assignee_id == user.pk and residential:
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
        if (residential and case.assignee_id is None and span.area_id == responsible_id
                and span.role in HANDLING_ROLES[level]):
            kinds.add(HANDLER)
        if span.role in WHISTLING_ROLES.get(span.kind, ()):
            kinds.add(WHISTLER)
    if case.building_id in scope.building_ids or case.unit_id in scope.unit_ids:
        kinds.add(VERIFIER)
    return frozenset(kinds)


def check(name, case, user, *, actor=None, kinds=frozenset()):
    """Raise DomainError unless `user` (or the anonymous `actor`) may take `name` now.

    Returns the Transition. `actor` names REPORTER or SYSTEM when no user acts;
    `kinds` adds actor kinds the caller established from rows (SUMMONED).
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
        kinds = actor_kinds(case, user) | kinds
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
