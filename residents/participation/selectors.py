"""Who sees which participation records, and the reads pages need.

Everything hangs on a place (PlacePath), so scope is one filter on the stored
path: a post reaches the rows of its subtree. Building and unit chiefs reach
nothing here (their posts are not on a place path). The public board has its
own reads (`board_for`), which never select a personal field.
"""

from datetime import timedelta

from django.db.models import Count

from grid.models import Area, AreaKind
from grid.selectors import scope_of
from residents.models import Resident, ResidentStatus

from . import hooks
from .models import (
    OPEN_PROPOSAL_STATUSES,
    AgendaItem,
    Meeting,
    Objection,
    Project,
    ProjectPhoto,
    ProjectStatus,
    ProjectUpdate,
    Proposal,
    ProposalStatus,
    Track,
    TrackStage,
)

# Recurring cases: this many of one category in one grid within the window make a cluster.
CLUSTER_MIN_CASES = 3
CLUSTER_WINDOW = timedelta(days=90)
CLUSTER_LIMIT = 50


def _placed(model, user, *, managing=False):
    scope = scope_of(user)
    if managing:
        scope = scope.managing()
    return model.objects.filter(scope.path_q(building_field=None, unit_field=None))


def proposals_visible_to(user, *, managing=False):
    return _placed(Proposal, user, managing=managing)


def meetings_visible_to(user, *, managing=False):
    return _placed(Meeting, user, managing=managing)


def tracks_visible_to(user, *, managing=False):
    return _placed(Track, user, managing=managing)


def projects_visible_to(user, *, managing=False):
    return _placed(Project, user, managing=managing)


def places_for_participation(user):
    """Communities and grids the user reaches, for the place pickers."""
    scope = scope_of(user)
    return Area.objects.filter(scope.areas_q(), kind__in=[AreaKind.COMMUNITY, AreaKind.GRID],
                               is_active=True).order_by("tree_id", "lft")


def residents_of(place):
    """Living residents of a community or grid (who may support or evaluate its matters)."""
    field = "grid_id" if place.grid_id else "community_id"
    return Resident.objects.filter(**{field: getattr(place, field)}, status=ResidentStatus.LIVING)


def categories():
    """Case categories, as a proposal's `category` names them: participation reads them through its
    own foreign key and imports no other domain app."""
    return Proposal._meta.get_field("category").related_model.objects


def cluster_cases(user):
    """The cases `user` sees that a proposal may be made from (hooks.cases_for_proposals: no mediations)."""
    return hooks.cases_for_proposals(user)


def case_clusters(user, *, now):
    """Recurring cases (same category, same grid, last 90 days) in the user's scope, most first.

    Each row: grid, category, n, and the open proposal already made from it (if any).
    """
    rows = list(
        cluster_cases(user).filter(created_at__gte=now - CLUSTER_WINDOW, grid__isnull=False)
        .values("grid_id", "category_id").annotate(n=Count("id")).filter(n__gte=CLUSTER_MIN_CASES)
        .order_by("-n", "grid_id", "category_id")[:CLUSTER_LIMIT]
    )
    grids = Area.objects.in_bulk({r["grid_id"] for r in rows})
    by_pk = categories().select_related("parent").in_bulk({r["category_id"] for r in rows})
    made = dict(
        ((p.grid_id, p.category_id), p) for p in Proposal.objects.filter(
            origin="cases", status__in=OPEN_PROPOSAL_STATUSES,
            grid_id__in=list(grids), category_id__in=list(by_pk))
    )
    return [{"grid": grids[r["grid_id"]], "category": by_pk[r["category_id"]], "n": r["n"],
             "proposal": made.get((r["grid_id"], r["category_id"]))} for r in rows]


def open_objections(track):
    return Objection.objects.filter(track=track, answered_at__isnull=True)


# --- the public board: no personal field is ever selected ------------------------------------

PUBLIC_PROPOSAL_FIELDS = ("pk", "title", "description", "status", "support_count", "threshold", "created_at",
                          "grid__name", "decided_at")


def board_for(community, *, now, limit=30):
    """What a community shows the public: proposals, decisions, 四议两公开, projects and progress."""
    on_path = {"community_id": community.pk}
    proposals = list(
        Proposal.objects.filter(**on_path).exclude(status=ProposalStatus.WITHDRAWN)
        .order_by("-created_at", "-id").values(*PUBLIC_PROPOSAL_FIELDS)[:limit]
    )
    decisions = list(
        AgendaItem.objects.filter(meeting__community_id=community.pk, decided_at__isnull=False)
        .order_by("-decided_at", "-id")
        .values("proposal__title", "meeting__kind", "meeting__held_at", "decision", "decision_text",
                "votes_for", "votes_against", "votes_abstain")[:limit]
    )
    tracks = list(
        Track.objects.filter(**on_path).exclude(stage=TrackStage.OPENED).order_by("-created_at", "-id")
        .values("pk", "proposal__title", "stage", "decision", "decision_text", "published_at",
                "publication_ends_at", "result_text", "result_published_at")[:limit]
    )
    projects = list(
        Project.objects.filter(**on_path).exclude(status=ProjectStatus.REJECTED).order_by("-created_at", "-id")
        .values("pk", "title", "description", "applicant", "status", "progress", "budget", "rating_count",
                "rating_total", "completed_at")[:limit]
    )
    latest = {}
    for update in (ProjectUpdate.objects.filter(project_id__in=[p["pk"] for p in projects])
                   .order_by("project_id", "-at", "-id").values("project_id", "note", "at", "pk")):
        latest.setdefault(update["project_id"], update)
    photos = {}
    for photo in ProjectPhoto.objects.filter(update_id__in=[u["pk"] for u in latest.values()]).only("image",
                                                                                                     "update_id"):
        photos.setdefault(photo.update_id, []).append(photo.image.url)
    for project in projects:
        update = latest.get(project["pk"])
        project["latest"] = update
        project["photos"] = photos.get(update["pk"], []) if update else []
        project["average"] = (round(project["rating_total"] / project["rating_count"], 1)
                              if project["rating_count"] else None)
    for track in tracks:
        track["in_publication"] = bool(track["published_at"] and track["publication_ends_at"] > now
                                       and not track["result_published_at"])
    return {"proposals": proposals, "decisions": decisions, "tracks": tracks, "projects": projects}


def public_community_or_none(pk):
    return Area.objects.filter(pk=pk, kind=AreaKind.COMMUNITY, is_active=True).first()


def meeting_items(meeting):
    return list(AgendaItem.objects.filter(meeting=meeting).select_related("proposal").order_by("id"))
