"""Who may see what of party building. Pages, the admin, exports and the figures read through here.

Membership of the party, members' reports-in and the residents behind the wishes
are personal data: they reach the posts that reach residents' records
(residents.selectors.resident_scope), never the chiefs. Organisations and employer
units are not personal: they follow the places' scope.
"""

from decimal import Decimal

from django.db.models import Count, Sum

from grid.models import Area
from grid.selectors import scope_of
from portal.personal import mask_name
from residents.selectors import resident_scope

from .models import (
    EmployerUnit,
    Membership,
    PartyOrg,
    ReportIn,
    ReportStatus,
    Service,
    Wish,
    WishStatus,
)

HUNDREDTH = Decimal("0.01")


def _people_q(user):
    return resident_scope(user).path_q(building_field=None, unit_field=None)


def _places_q(user):
    return scope_of(user).path_q(building_field=None, unit_field=None)


def orgs_visible_to(user):
    return PartyOrg.objects.filter(_places_q(user))


def employer_units_visible_to(user):
    return EmployerUnit.objects.filter(_places_q(user))


def memberships_visible_to(user):
    return Membership.objects.filter(_people_q(user))


def reports_visible_to(user):
    return ReportIn.objects.filter(_people_q(user))


def wishes_visible_to(user):
    return Wish.objects.filter(_people_q(user))


def services_visible_to(user):
    return Service.objects.filter(report__in=reports_visible_to(user).values("pk"))


def masked(name):
    return mask_name(name)


# --- the member's own side ---------------------------------------------------------------

def live_report_of(user):
    """The user's own report-in that is waiting or confirmed (None if they have none)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (ReportIn.objects.filter(user=user, status__in=(ReportStatus.PENDING, ReportStatus.CONFIRMED))
            .select_related("community").first())


def open_wishes_for(report):
    """Open wishes of the member's community, oldest first (a confirmed report-in only)."""
    if report is None or report.status != ReportStatus.CONFIRMED:
        return Wish.objects.none()
    return Wish.objects.filter(community_id=report.community_id, status=WishStatus.POSTED).order_by("posted_at", "id")


def wishes_adopted_by(report):
    if report is None:
        return Wish.objects.none()
    return Wish.objects.filter(adopter=report).order_by("-adopted_at", "-id")


# --- figures --------------------------------------------------------------------------------

def figures_by_community(user, *, since=None, until=None, place=None):
    """Per community the user reaches: members reported in (confirmed, not ended), wishes adopted
    (ever adopted: adopted, fulfilled or confirmed) and fulfilled (fulfilled or confirmed), and
    hours served (confirmed services). Wishes and services count when adopted/served in the period.

    One query per measure; rows ordered by community name.
    """
    reports = reports_visible_to(user)
    wishes = wishes_visible_to(user)
    services = services_visible_to(user)
    if place is not None:
        # Narrowed to a place by the stored path (a grid narrows to its community's rows: members and
        # wishes are the community's).
        level = "community" if place.kind == "grid" else place.kind
        pk = place.parent_id if place.kind == "grid" else place.pk
        reports = reports.filter(**{f"{level}_id": pk})
        wishes = wishes.filter(**{f"{level}_id": pk})
        services = services.filter(**{f"report__{level}_id": pk})
    if since:
        wishes = wishes.filter(adopted_at__gte=since)
        services = services.filter(started_at__gte=since)
    if until:
        wishes = wishes.filter(adopted_at__lt=until)
        services = services.filter(started_at__lt=until)
    members = dict(reports.filter(status=ReportStatus.CONFIRMED).values_list("community_id")
                   .annotate(n=Count("id")).order_by())
    adopted = dict(wishes.filter(adopter__isnull=False).values_list("community_id").annotate(n=Count("id"))
                   .order_by())
    fulfilled = dict(wishes.filter(status__in=(WishStatus.FULFILLED, WishStatus.CONFIRMED))
                     .values_list("community_id").annotate(n=Count("id")).order_by())
    hours = dict(services.values_list("report__community_id").annotate(h=Sum("hours")).order_by())
    ids = set(members) | set(adopted) | set(fulfilled) | set(hours)
    names = dict(Area.objects.filter(pk__in=ids).values_list("pk", "name"))
    rows = [{"community_id": pk, "community": names.get(pk, ""), "members": members.get(pk, 0),
             "adopted": adopted.get(pk, 0), "fulfilled": fulfilled.get(pk, 0), "hours": Decimal(str(hours.get(pk) or 0)).quantize(HUNDREDTH)}
            for pk in ids]
    return sorted(rows, key=lambda row: (row["community"], row["community_id"]))

