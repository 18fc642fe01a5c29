"""Reads of the Open311 app. A client reads matters under its place only (ordinary
ones: mediation stays private); staff see the clients of places they manage."""

from django.db.models import Exists, OuterRef, Q

from cases.models import Case, CaseEvent, CaseKind, Category
from grid.selectors import areas_visible_to

from .models import ApiClient, PublicReads, hash_key


def client_by_key(raw):
    """The active client holding this key, or None."""
    if not raw or len(raw) > 200:
        return None
    return ApiClient.objects.select_related("area").filter(key_hash=hash_key(raw), revoked_at__isnull=True).first()


def clients_visible_to(user, *, managing=False):
    return ApiClient.objects.filter(area__in=areas_visible_to(user, managing=managing))


def public_reads_visible_to(user, *, managing=False):
    return PublicReads.objects.filter(district__in=areas_visible_to(user, managing=managing))


def cases_for_client(client):
    """The matters a client may read: ordinary cases stored under its place."""
    area = client.area
    return Case.objects.filter(Q(**{f"{area.kind}_id": area.pk}), kind=CaseKind.ORDINARY)


def services():
    """The categories a client may file under (what the residents' form offers, mediation
    left out): active, under an active head, with no active subcategories."""
    has_children = Category.objects.filter(parent=OuterRef("pk"), is_active=True)
    return (Category.objects.filter(Q(parent__isnull=True) | Q(parent__is_active=True), is_active=True,
                                    is_mediation=False)
            .exclude(Exists(has_children))
            .select_related("parent").order_by("sort_order", "code"))


def status_updates(client):
    """Status changes (timeline events with a new status) of the client's matters, oldest first."""
    return CaseEvent.objects.filter(case__in=cases_for_client(client)).exclude(to_status="").order_by("at", "id")
