"""Reads of cases that depend on who asks. Every view, admin, export, API and
task reads cases through `cases_visible_to`; "not yours" answers 404 like
"does not exist" (grid.selectors.get_visible_or_404).

Scope: a post on a place reaches the cases stored under it (the path ids on
the case, one indexed equality per post). Mediation cases (矛盾纠纷调解) are
private: inside the scope only staff with a managing post see them; their
mediators and their assignee see them wherever they are posted.
"""

from django.contrib.auth import get_user_model
from django.db.models import BooleanField, ExpressionWrapper, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf, Substr

from grid.models import Area
from grid.selectors import scope_of

from .models import Case, CaseEvent, CaseKind, CasePhoto, Category, Intake, Mediation, Notification, Status
from .tracking import normalise_tracking_code
from .workflow import HANDLING_ROLES

# What sits in a handler's queue: waiting to be accepted, or in hand.
QUEUE_STATUSES = (Status.DISPATCHED, Status.HANDLING)


def cases_visible_to(user, *, managing=False):
    """The cases `user` may see; with `managing=True`, only through their managing posts
    (district official, street or community staff: what the admin offers), like
    grid.selectors' functions."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Case.objects.none()
    scope = scope_of(user)
    if managing:
        scope = scope.managing()
    if scope.unrestricted:
        return Case.objects.all()
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
    mediating = Case.objects.filter(pk__in=mediator_of).exclude(by_place).order_by().values_list("pk", flat=True)
    assigned = Case.objects.filter(assignee=user).exclude(by_place).order_by().values_list("pk", flat=True)
    beyond = list(mediating.union(assigned).order_by())
    return Case.objects.filter(by_place | Q(pk__in=beyond)) if beyond else Case.objects.filter(by_place)


def public_matters(cases):
    """The cases that may be named in public, e.g. on a proposal made from recurring cases:
    never mediations (private disputes)."""
    return cases.filter(kind=CaseKind.ORDINARY, category__is_mediation=False)


def _supervised_first():
    # False sorts before True: supervised (督办) cases lead every list.
    return ExpressionWrapper(Q(supervised_at__isnull=True), output_field=BooleanField())


def queue_for(user):
    """A handler's queue: assigned to me, or waiting unassigned where I work; 督办 first, then soonest due."""
    scope = scope_of(user)
    pool = Q(assignee=user)
    for span in scope.spans:
        if span.role in HANDLING_ROLES.get(span.kind, ()):
            pool |= Q(assignee__isnull=True, responsible_level=span.kind, **{f"{span.kind}_id": span.area_id})
    return (
        cases_visible_to(user)
        .filter(pool, status__in=QUEUE_STATUSES)
        .select_related("category", "assignee", "building", "unit")
        .order_by(_supervised_first(), "due_at", "pk")
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
    """Cases on the clock whose current stage is past due."""
    from .models import CLOCKED_STATUSES

    return Q(status__in=CLOCKED_STATUSES, due_at__lt=now)


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
        return Intake.objects.all()
    return Intake.objects.filter(Q(scope.areas_q("grid__")) | Q(scope.areas_q("building__grid__")))


def public_timeline(case):
    """What the reporter may see: public events only, without who did them (no personal data)."""
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
            "note": e.note,
            "photos": list(e.photos.all()),
        }
        for e in events
    ]


def inbox_for(user, *, unread_only=False):
    rows = Notification.objects.filter(user=user).select_related("case")
    return rows.filter(read_at__isnull=True) if unread_only else rows
