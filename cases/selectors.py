"""Reads of cases that depend on who asks. Every view, admin, export, API and
task reads cases through `cases_visible_to`; "not yours" answers 404 like
"does not exist" (grid.selectors.get_visible_or_404).

Scope: a post on a place reaches the cases stored under it (the path ids on
the case, one indexed equality per post). Mediation cases (矛盾纠纷调解) are
private: inside the scope only staff with a managing post see them; their
mediators and their assignee see them wherever they are posted.

Organisation staff (posts on an organisation: 职能部门, utilities, 物业...) see exactly the
matters ever sent to their organisations, as lead or co-handler, current or former (an
OrgAssignment row names the organisation): what they signed, answered or returned stays in
their history. Nothing of any place, so never residents' records, and never a mediation
file's parties: `through_organisations=False` is the reach without those matters, which the
mediation files are read through.
"""

from dataclasses import replace

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, ExpressionWrapper, Func, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf, Substr

from grid.models import Area, AreaKind
from grid.selectors import scope_of

from .models import (Case, CaseEvent, CaseKind, CasePhoto, Category, Intake, Mediation, Notification, OrgAssignment,
                     Status, Summons, Triage)
from .tracking import normalise_tracking_code
from .workflow import HANDLING_ROLES, MEDIATOR_ROLES

# The reporter's encrypted columns: pages show the masked copies; a full value is read
# only by the logged reveal (grid/privacy), so no list decrypts a page of tokens by accident.
ENCRYPTED_COLUMNS = ("reporter_name", "reporter_phone")
# What sits in a handler's queue: waiting to be accepted, or in hand.
QUEUE_STATUSES = (Status.DISPATCHED, Status.HANDLING)


def cases_visible_to(user, *, managing=False, one_statement=False, through_organisations=True):
    """The cases `user` may see; with `managing=True`, only through their managing posts
    (district official, street or community staff: what the admin offers), like
    grid.selectors' functions.

    `one_statement=True` gives the same cases without reading anything first: the few cases
    beyond the user's places (mediated, held by name, whistled to) become subqueries OR-ed
    into the statement instead of a list read beforehand. For a count narrowed by other
    indexed conditions (the navigation's badges), where the extra round trip costs more
    than the OR; not for boards, which the OR would turn into a full scan (see below).

    `through_organisations=False` leaves out the matters reached only as an organisation's staff
    (sent to it, or a whistle summoning it): a summoned 城管 squad works on a neighbours' dispute
    without reading its mediation file (the parties, their ID numbers, the agreement).
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Case.objects.none()
    scope = scope_of(user)
    if managing:
        scope = scope.managing()
    if scope.unrestricted:
        return Case.objects.defer(*ENCRYPTED_COLUMNS)
    if not through_organisations:
        scope = replace(scope, organisation_ids=frozenset())
    # Matters sent to the user's organisations: a subquery on the (organisation, case) index,
    # not a list (a district bureau holds thousands).
    sent = Q(pk__in=OrgAssignment.objects.filter(organisation_id__in=sorted(scope.organisation_ids))
             .values("case_id")) if scope.organisation_ids else None
    if sent is not None and not (scope.spans or scope.building_ids or scope.unit_ids):
        # Organisation staff only: just what was sent, what a whistle summoned them to (吹哨报到),
        # plus what they hold by name.
        summoned = Q(pk__in=Summons.objects.filter(organisation_id__in=sorted(scope.organisation_ids))
                     .values("whistle__case_id"))
        return Case.objects.filter(sent | summoned | Q(assignee=user)).defer(*ENCRYPTED_COLUMNS)
    # A mediator's post (人民调解员, 司法所, 社区律师) reaches only the files they are named on.
    # (dataclasses.replace keeps the rest of the scope: buildings, units, organisations.)
    scope = replace(scope, spans=tuple(s for s in scope.spans if s.role not in MEDIATOR_ROLES))
    in_place = scope.path_q()
    officials = scope.managing()
    if officials == scope:
        # Only managing posts: mediation cases in the places are theirs too.
        by_place = in_place
    else:
        by_place = in_place & (Q(kind=CaseKind.ORDINARY) | officials.path_q(building_field=None, unit_field=None))
    # Mediators and assignees also see their cases outside their places. Those few
    # are looked up first (one indexed query, usually finding none), so that what
    # every page runs stays a filter on the place columns the board indexes lead
    # with: OR-ed into it, they made PostgreSQL scan the whole table to count a board.
    # Two arms of a UNION, each on its own index (an OR of them is a full scan too).
    mediator_of = Mediation.mediators.through.objects.filter(user_id=user.pk).values("mediation_id")
    if one_statement:
        reach = by_place | Q(pk__in=mediator_of) | Q(assignee=user)
        if sent is not None:
            reach |= sent | Q(pk__in=Summons.objects.filter(organisation_id__in=sorted(scope.organisation_ids))
                              .values("whistle__case_id"))
        return Case.objects.filter(reach).defer(*ENCRYPTED_COLUMNS)
    mediating = Case.objects.filter(pk__in=mediator_of).exclude(by_place).order_by().values_list("pk", flat=True)
    assigned = Case.objects.filter(assignee=user).exclude(by_place).order_by().values_list("pk", flat=True)
    beyond = list(mediating.union(assigned).order_by())
    if sent is not None:
        by_place = by_place | sent
    beyond += _summoned_cases(scope, by_place)
    cases = Case.objects.filter(by_place | Q(pk__in=beyond)) if beyond else Case.objects.filter(by_place)
    return cases.defer(*ENCRYPTED_COLUMNS)


def _summoned_cases(scope, by_place):
    """吹哨报到: staff of an organisation a whistle summoned see that case (ids; no query
    for anyone who works for no organisation)."""
    if not scope.organisation_ids:
        return []
    return list(Case.objects.filter(whistles__summons__organisation_id__in=sorted(scope.organisation_ids))
                .exclude(by_place).order_by().values_list("pk", flat=True).distinct())


def public_matters(cases):
    """The cases that may be named in public, e.g. on a proposal made from recurring cases:
    never mediations (private disputes)."""
    return cases.filter(kind=CaseKind.ORDINARY, category__is_mediation=False)


def _supervised_first():
    # False sorts before True: supervised (督办) cases lead every list.
    return ExpressionWrapper(Q(supervised_at__isnull=True), output_field=BooleanField())


def queue_for(user, *, one_statement=False):
    """A handler's queue: assigned to me, or waiting unassigned where I work; 督办 first, then soonest due.
    (`one_statement`: see cases_visible_to.)"""
    scope = scope_of(user)
    pool = Q(assignee=user)
    for span in scope.spans:
        if span.role in HANDLING_ROLES.get(span.kind, ()):
            pool |= Q(assignee__isnull=True, responsible_level=span.kind, **{f"{span.kind}_id": span.area_id})
    return (
        cases_visible_to(user, one_statement=one_statement)
        .filter(pool, status__in=QUEUE_STATUSES)
        .select_related("category", "assignee", "building", "unit")
        .order_by(_supervised_first(), "due_at", "pk")
    )


def verify_queue_for(user, *, one_statement=False):
    """Resolved cases on the grids where the user works the street (grid worker, grid chief),
    waiting for the check on site (核查) by someone other than whoever resolved them, oldest
    resolution first. A department's reply says "由网格现场核查": this is where the grid sees it.
    (`one_statement`: see cases_visible_to.)"""
    grids = verify_grids(user)
    if not grids:
        return Case.objects.none()
    return (
        cases_visible_to(user, one_statement=one_statement)
        .filter(Q(status=Status.RESOLVED), grid_id__in=grids)
        .exclude(resolved_by=user)
        .select_related("category", "building", "unit")
        .order_by("resolved_at", "pk")
    )


def verify_grids(user):
    """The grids on which the user verifies on site: their grid worker and grid chief posts."""
    return sorted(s.area_id for s in scope_of(user).spans
                  if s.kind == AreaKind.GRID and s.role in HANDLING_ROLES.get(s.kind, ()))


def org_queue_for(user, *, organisation_id=None, one_statement=False):
    """An organisation's queue: its matters to sign in or in hand, as lead (主办); supervised
    (督办 by the sweep) and soonest due first. Only organisations the user works for."""
    organisation_ids = scope_of(user).organisation_ids
    if organisation_id is not None:
        organisation_ids = organisation_ids & {organisation_id}
    if not organisation_ids:
        return Case.objects.none()
    return (
        cases_visible_to(user, one_statement=one_statement)
        .filter(organisation_id__in=sorted(organisation_ids), status__in=QUEUE_STATUSES)
        .select_related("category", "organisation", "building")
        .order_by("due_at", "pk")
    )


def org_waiting_for(user, *, one_statement=False):
    """The organisations' queue less what the user holds by name (which their own queue lists)."""
    return org_queue_for(user, one_statement=one_statement).exclude(assignee=user)


# An organisation's queue card: number, class of matter, status and its badges, the start of the
# description, the building, the organisation (when the user works for several), the deadline.
ORG_QUEUE_COLUMNS = (
    "number", "status", "due_at", "supervised_at", "carried_over_at", "org_supervised_due",
    "category_id", "organisation_id",
    "building__number", "building__address", "building__name",
)


def org_queue_page(queryset):
    """An organisation's queue (org_queue_for) narrowed to what its cards show, as the case
    board is (board_page): the description's first 71 characters (the card shows 70), the
    category's name as a subquery by primary key; no organisation row per case (the page has
    the user's organisations in hand), no reporter, place or boundary columns."""
    return (
        queryset.select_related(None).select_related("building").only(*ORG_QUEUE_COLUMNS)
        .annotate(description_head=Substr("description", 1, 71),
                  category_name=_one(Category.objects.filter(pk=OuterRef("category_id")).order_by(), "name"))
    )


def command_board(street_id):
    """The street command centre's lists (the view checks the user may see the street):
    big matters awaiting dispatch, and returned ones awaiting a ruling, oldest first."""
    waiting = (
        Case.objects.filter(Q(status=Status.REGISTERED), street_id=street_id, triage_class=Triage.PUBLIC)
        .select_related("category", "community", "grid", "building")
        .order_by("due_at", "pk")
    )
    return {
        "awaiting_dispatch": waiting.filter(returned_at__isnull=True),
        "awaiting_ruling": waiting.filter(returned_at__isnull=False),
        "with_organisations": (
            Case.objects.filter(street_id=street_id, organisation__isnull=False, status__in=QUEUE_STATUSES)
            .select_related("category", "organisation").order_by("due_at", "pk")
        ),
    }


def open_whistles(street_id, *, limit=100):
    """吹哨报到 on the street's open matters, newest first, each with its summonses and their
    organisations (the command centre's "whistles open"; the view checks the user may see the street)."""
    from .models import OPEN_STATUSES, Whistle

    return list(
        Whistle.objects.filter(case__street_id=street_id, case__status__in=OPEN_STATUSES)
        .select_related("case", "place")
        .prefetch_related(Prefetch("summons", queryset=Summons.objects.select_related("organisation")
                                   .order_by("pk")))
        .order_by("-raised_at", "-pk")[:limit]
    )


def board_for(user):
    """Staff's case board over their subtree, newest first (the page adds its filters).

    Supervised cases lead the queues; on the board they are a filter
    (`supervised_at__isnull=False`), because sorting a district's millions of
    cases by a flag first cannot use the (place, created_at) indexes.
    """
    return (
        cases_visible_to(user)
        # The street is left out: the board shows community › grid › building (one
        # join fewer to plan on every page; the export asks for it).
        .select_related("category", "category__parent", "assignee", "grid", "community", "building")
        .order_by("-created_at", "-pk")
    )


# The board's columns: what its rows show and nothing else (not the places' boundaries,
# not the reporter's encrypted fields, not the case's other forty columns). The
# description is read as its first 41 characters (`description_head`), all the row shows.
BOARD_COLUMNS = (
    "number", "created_at", "channel", "status", "responsible_level", "due_at", "supervised_at", "carried_over_at",
    "category_id", "community_id", "grid_id", "assignee_id",
    "building__number", "building__address", "building__name",
)


def _one(queryset, field):
    return Subquery(queryset.values(field)[:1])


def board_page(queryset):
    """A board (board_for, filtered) narrowed to the columns the page shows.

    The names beside a case (category and its family, community, grid, assignee) are
    scalar subqueries rather than joins: PostgreSQL planned the eight-table join of
    select_related in 6–8 ms, ten times its 0.7 ms run (issue #24); each subquery is
    planned alone, by its primary key.
    """
    User = get_user_model()
    return (
        queryset.select_related(None).select_related("building").only(*BOARD_COLUMNS)
        .annotate(
            description_head=Substr("description", 1, 41),
            category_name=_one(Category.objects.filter(pk=OuterRef("category_id")), "name"),
            family_name=_one(Category.objects.filter(children=OuterRef("category_id")), "name"),
            community_name=_one(Area.objects.filter(pk=OuterRef("community_id")), "name"),
            grid_name=_one(Area.objects.filter(pk=OuterRef("grid_id")), "name"),
            assignee_name=_one(User.objects.filter(pk=OuterRef("assignee_id"))
                               .annotate(shown=Coalesce(NullIf("full_name", Value("")), "username")), "shown"),
        )
    )


def overdue_q(now):
    """Cases on the clock whose current stage is past due (what a handler must act on now); a case
    carried over (挂账) is paused, as the escalation sweep treats it (and `Case.is_overdue`)."""
    from .models import CLOCKED_STATUSES

    return Q(status__in=CLOCKED_STATUSES, carried_over_at__isnull=True, due_at__lt=now)


def judged_overdue_q(now):
    """On the clock, not paused, and past the judged deadline (or, not yet registered, past its own):
    the dashboards' 已超期, what the 超期率 is made of. A case in its first stage can be past that
    stage's due time and still inside its judged deadline, and the other way round."""
    from .models import CLOCKED_STATUSES

    return Q(status__in=CLOCKED_STATUSES, carried_over_at__isnull=True) & (
        Q(deadline_at__lt=now) | Q(deadline_at__isnull=True, due_at__lt=now))


def case_detail(queryset, pk):
    """One case with what a detail page shows, from an already scoped queryset (None if absent)."""
    return (
        queryset.select_related("category", "category__parent", "assignee", "reporter", "building", "unit", "grid",
                                "community", "street", "district", "duplicate_of", "supervised_by", "resolved_by")
        .prefetch_related(
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor").prefetch_related("photos")),
        )
        .filter(pk=pk)
        .first()
    )


def staff_timeline(case):
    return list(CaseEvent.objects.filter(case=case).select_related("actor").prefetch_related("photos"))


def case_by_tracking_code(code):
    """The case a reporter tracks (public page), or None. Only the code is checked: keep it secret."""
    code = normalise_tracking_code(code)
    if not code:
        return None
    return Case.objects.select_related("category", "category__parent").filter(tracking_code=code).first()


def intake_by_tracking_code(code):
    """A received report not yet registered as a case (see case_by_tracking_code), or None."""
    code = normalise_tracking_code(code)
    if not code:
        return None
    return Intake.objects.select_related("category", "category__parent").filter(tracking_code=code).first()


def intakes_visible_to(user, *, managing=True):
    """Received reports waiting (or left) for registration at places the user manages.

    Only managing posts count (community staff and up, who register residents'
    reports): such posts see mediation matters of their places too, as in
    `cases_visible_to`. The keyword is there for the admin's calling convention.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Intake.objects.none()
    scope = scope_of(user).managing()
    if scope.unrestricted:
        return Intake.objects.defer(*ENCRYPTED_COLUMNS)
    return Intake.objects.filter(Q(scope.areas_q("grid__")) | Q(scope.areas_q("building__grid__"))).defer(
        *ENCRYPTED_COLUMNS)


# Whose notes the reporter reads on the tracking page: what was done (the result, an organisation's
# reply), why it was refused, referred or sent back, their own comment, and progress notes staff chose
# to show. The other moves show as a status line only: a registration's or a check's notes are
# staff's working notes ("占道经营属综合执法职责，按大事交街道指挥中心").
REPORTER_NOTES = frozenset({
    CaseEvent.Action.REPORT, CaseEvent.Action.REJECT, CaseEvent.Action.RESOLVE, CaseEvent.Action.ORG_REPLY,
    CaseEvent.Action.CLOSE, CaseEvent.Action.RATE, CaseEvent.Action.REOPEN, CaseEvent.Action.MARK_DUPLICATE,
    CaseEvent.Action.REFER, CaseEvent.Action.NOTE, CaseEvent.Action.ESCALATE,
    # The 12345 reply (回单) and a hand-back's reason (退单) are written for the caller.
    CaseEvent.Action.HOTLINE_REPLY, CaseEvent.Action.HOTLINE_RETURN,
})


def public_timeline(case):
    """What the reporter may see: public events only, without who did them (no personal data), and
    only the notes written for them (REPORTER_NOTES)."""
    events = CaseEvent.objects.filter(case=case, is_public=True).prefetch_related(
        Prefetch("photos", queryset=CasePhoto.objects.order_by("uploaded_at", "id"))
    )
    return [
        {
            "at": e.at,
            "action": e.action,
            "label": e.get_action_display(),
            "status": e.to_status,
            "status_label": Status(e.to_status).label if e.to_status else "",
            "note": e.note if e.action in REPORTER_NOTES else "",
            "photos": list(e.photos.all()),
        }
        for e in events
    ]


def nav_counts_for(user):
    """(matters in the user's queue and checks on site waiting for them, unread notices): the
    navigation's two badges, which every signed-in page shows, as scalar subqueries of one
    statement (one round trip, where a count each and the queue's look-up of cases beyond the
    user's places made three)."""
    def count(queryset):
        return Subquery(queryset.order_by().values(n=Func("pk", function="COUNT")))

    waiting = count(queue_for(user, one_statement=True))
    if verify_grids(user):  # the grid's checks on site count as waiting for the user too
        waiting = waiting + count(verify_queue_for(user, one_statement=True))
    if scope_of(user).organisation_ids:  # and an organisation's matters to sign in or in hand
        waiting = waiting + count(org_waiting_for(user, one_statement=True))
    row = (get_user_model().objects.filter(pk=user.pk)
           .values_list(waiting, count(inbox_for(user, unread_only=True)))
           .first())
    return row or (0, 0)


def inbox_for(user, *, unread_only=False):
    rows = Notification.objects.filter(user=user).select_related("case")
    return rows.filter(read_at__isnull=True) if unread_only else rows
