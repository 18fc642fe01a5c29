"""Who sees which volunteers, teams, activities, orders and points. Every page,
admin and export reads through these functions.

Staff and grid workers see what hangs on the places under their posts. A
volunteer also sees their own record, sign-ups, orders and points, wherever
they are; volunteers see the open orders of their community, stations and teams
(volunteers/services.py `orders_open_to`).
"""

from decimal import Decimal

from django.db.models import F, Q, Sum

from grid.models import AreaKind, Role
from grid.selectors import scope_of

from . import hooks
from .models import (
    Account,
    Activity,
    Entry,
    Honour,
    Order,
    OrderKind,
    Redemption,
    ServiceRecord,
    Station,
    Team,
    Volunteer,
)

STAFF_ROLES = (Role.DISTRICT_OFFICIAL, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.GRID_WORKER)


def _scope(user):
    scope = scope_of(user)
    if scope.unrestricted:
        return scope
    from grid.selectors import Scope

    return Scope(unrestricted=False, spans=tuple(s for s in scope.spans if s.role in STAFF_ROLES))


def _own(user, field):
    return Q(**{field: user}) if user.is_authenticated else Q(pk__in=[])


def _or(scope_q, own_q):
    # An unrestricted scope's Q() is "everything"; Q() | x would collapse to x.
    return Q() if not scope_q else scope_q | own_q


def volunteers_visible_to(user):
    scope = _scope(user)
    return Volunteer.objects.filter(_or(scope.path_q(building_field=None, unit_field=None), _own(user, "user")))


def teams_visible_to(user):
    return Team.objects.filter(_or(_scope(user).areas_q("area__"), _own(user, "members__user"))).distinct()


def stations_visible_to(user):
    return Station.objects.filter(_scope(user).areas_q("area__"))


def activities_visible_to(user):
    """Staff see their places' activities; volunteers see those open in their community too."""
    q = _or(_scope(user).areas_q("area__"), _own(user, "signups__volunteer__user"))
    volunteer = Volunteer.objects.filter(user=user).only("community_id").first() if user.is_authenticated else None
    if q and volunteer and volunteer.community_id:
        q |= Q(area_id__in=[volunteer.community_id, volunteer.grid_id])
    return Activity.objects.filter(q).distinct()


def orders_visible_to(user):
    scope = _scope(user)
    # The contact's encrypted columns stay unread: pages show the masks, a full value
    # comes only through the logged reveal (volunteers/privacy.py).
    return Order.objects.filter(_or(scope.path_q(building_field="building_id", unit_field=None),
                                    _own(user, "claimed_by__user") | _own(user, "placed_by"))).defer(
        "contact_name", "contact_phone")


def records_visible_to(user):
    return ServiceRecord.objects.filter(volunteer__in=volunteers_visible_to(user))


def redemptions_visible_to(user):
    """A volunteer's redemptions follow the volunteer; a household's card's follow the household."""
    return Redemption.objects.filter(Q(volunteer__in=volunteers_visible_to(user))
                                     | Q(household__in=hooks.households_visible_to(user).values("pk")))


def honours_visible_to(user):
    return Honour.objects.filter(volunteer__in=volunteers_visible_to(user))


def accounts_visible_to(user):
    """People's accounts follow the people; a community's books follow the community."""
    scope = _scope(user)
    if scope.unrestricted:
        return Account.objects.all()
    return Account.objects.filter(Q(volunteer__in=volunteers_visible_to(user))
                                  | Q(volunteer__isnull=True) & scope.areas_q("community__"))


def statement(account, *, limit=50, before_id=None):
    """An account's latest entries with their transactions (newest first), one query."""
    rows = Entry.objects.filter(account=account).select_related("transaction").order_by("-at", "-id")
    if before_id:
        rows = rows.filter(id__lt=before_id)
    return list(rows[:limit])


def ranking(community, *, since, until, limit=20):
    """A place's volunteers by points earned in [since, until): awards minus their reversals.

    `community` is a community, or a street or district (all the communities inside).
    Redemptions do not lower a rank: spending points is not serving less.
    """
    if community.kind == AreaKind.COMMUNITY:
        where = Q(account__community=community)
    else:
        where = Q(account__community__tree_id=community.tree_id, account__community__lft__gte=community.lft,
                  account__community__lft__lte=community.rght)
    earned = (Entry.objects.filter(where, account__kind="member", at__gte=since, at__lt=until)
              .exclude(transaction__kind="redeem")
              .exclude(transaction__kind="reversal", transaction__reverses__kind="redeem")
              .values("account__volunteer", "account__volunteer__name")
              .annotate(points=Sum("amount")).filter(points__gt=0).order_by("-points", "account__volunteer"))
    return list(earned[:limit])


def certificate_records(volunteer, *, user, since, until):
    """志愿服务记录证明: the volunteer's confirmed, not voided records in [since, until), oldest
    first, each with who certified it, and the total hours. Read through the user's scope.

    Plain rows (a year of daily service is hundreds of records, each with three related rows).
    """
    rows = list(records_visible_to(user).filter(volunteer=volunteer, voided_at__isnull=True,
                                                started_at__gte=since, started_at__lt=until)
                .order_by("started_at", "id")
                .values("id", "started_at", "ended_at", "hours", "content", "confirmed_at", "order__kind",
                        place=F("activity__area__name"), certifier=F("confirmed_by__full_name"),
                        certifier_login=F("confirmed_by__username")))
    for row in rows:
        kind, login = row.pop("order__kind"), row.pop("certifier_login")
        row["order_kind"] = OrderKind(kind).label if kind else ""
        row["certifier"] = row["certifier"] or login
    return rows, sum((r["hours"] for r in rows), Decimal(0))
