"""Who may see what. Every view, admin, export, API endpoint and task reads
places through these functions; nothing else decides scope.

A post on a place reaches that place's whole subtree (one range condition on
the nested-set columns per post). Outside the scope answers 404, the same as a
thing that does not exist (see `get_visible_or_404`).
"""

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q
from django.http import Http404

from .models import (
    MANAGING_ROLES,
    Area,
    AreaEvent,
    AreaKind,
    Building,
    Compound,
    Liaison,
    Organisation,
    Post,
    Role,
    Unit,
    User,
)

NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class Span:
    """A subtree: the place a post is held on, with its nested-set bounds."""

    area_id: int
    kind: str
    tree_id: int
    lft: int
    rght: int
    role: str

    def contains(self, area):
        return area.tree_id == self.tree_id and self.lft <= area.lft <= self.rght


@dataclass(frozen=True)
class Scope:
    unrestricted: bool
    spans: tuple[Span, ...] = ()
    building_ids: frozenset[int] = frozenset()
    unit_ids: frozenset[int] = frozenset()
    # Organisations the user works for (posts on an organisation). They reach the
    # matters sent to those organisations, never places or their residents.
    organisation_ids: frozenset[int] = frozenset()

    @property
    def is_empty(self):
        return not (self.unrestricted or self.spans or self.building_ids or self.unit_ids
                    or self.organisation_ids)

    def areas_q(self, prefix=""):
        """Rows whose `prefix` area lies in a subtree of the scope."""
        if self.unrestricted:
            return Q()
        terms = [
            Q(**{f"{prefix}tree_id": s.tree_id, f"{prefix}lft__gte": s.lft, f"{prefix}lft__lte": s.rght})
            for s in self.spans
        ]
        return reduce(or_, terms, NOTHING)

    def path_q(self, *, building_field="building_id", unit_field="unit_id"):
        """Rows of a PlacePath model (stored district/street/community/grid ids)."""
        if self.unrestricted:
            return Q()
        terms = [Q(**{f"{s.kind}_id": s.area_id}) for s in self.spans]
        if self.building_ids and building_field:
            terms.append(Q(**{f"{building_field}__in": sorted(self.building_ids)}))
        if self.unit_ids and unit_field:
            terms.append(Q(**{f"{unit_field}__in": sorted(self.unit_ids)}))
        return reduce(or_, terms, NOTHING)

    def managing(self):
        """The part of the scope in which the user may change places and posts."""
        if self.unrestricted:
            return self
        return Scope(unrestricted=False, spans=tuple(s for s in self.spans if s.role in MANAGING_ROLES))


def active_posts(user):
    return Post.objects.filter(user=user, ended_at__isnull=True)


def scope_of(user) -> Scope:
    """The places `user` reaches, computed once per request and cached on the user."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope(unrestricted=False)
    cached = getattr(user, "_portal_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(unrestricted=True)
    else:
        rows = active_posts(user).values_list(
            "role", "area_id", "area__kind", "area__tree_id", "area__lft", "area__rght",
            "building_id", "unit_id", "organisation_id", "organisation__is_active",
        )
        spans, buildings, units, organisations = [], set(), set(), set()
        for role, area_id, kind, tree_id, lft, rght, building_id, unit_id, org_id, org_active in rows:
            if area_id:
                spans.append(Span(area_id, kind, tree_id, lft, rght, role))
            elif building_id:
                buildings.add(building_id)
            elif unit_id:
                units.add(unit_id)
            elif org_id and org_active:
                # A deactivated organisation's staff keep their posts as history but reach nothing.
                organisations.add(org_id)
        scope = Scope(False, tuple(spans), frozenset(buildings), frozenset(units), frozenset(organisations))
    user._portal_scope = scope
    return scope


def forget_scope(user):
    """Drop the cached scope after the user's posts changed."""
    user.__dict__.pop("_portal_scope", None)


# --- one function per resource ----------------------------------------------
# Each takes `managing`: False for everything the user reaches, True for the
# part reached through managing posts only (district official, street staff,
# community staff), which is what the admin shows and lets them change. A grid
# worker's post elsewhere widens what someone sees, not what they manage.

def _scope(user, managing):
    scope = scope_of(user)
    return scope.managing() if managing else scope


def areas_visible_to(user, *, managing=False):
    return Area.objects.filter(_scope(user, managing).areas_q())


def buildings_visible_to(user, *, managing=False):
    scope = _scope(user, managing)
    q = scope.areas_q("grid__")
    if not scope.unrestricted:
        if scope.building_ids:
            q |= Q(pk__in=sorted(scope.building_ids))
        if scope.unit_ids:
            q |= Q(units__pk__in=sorted(scope.unit_ids))
    return Building.objects.filter(q).distinct() if scope.unit_ids else Building.objects.filter(q)


def compounds_visible_to(user, *, managing=False):
    """Compounds (小区) of the communities the user reaches; a post on a building or unit shows
    its building's compound."""
    scope = _scope(user, managing)
    q = scope.areas_q("community__")
    if not scope.unrestricted and (scope.building_ids or scope.unit_ids):
        q |= Q(buildings__in=buildings_visible_to(user, managing=managing))
        return Compound.objects.filter(q).distinct()
    return Compound.objects.filter(q)


def units_visible_to(user, *, managing=False):
    scope = _scope(user, managing)
    q = scope.areas_q("building__grid__")
    if not scope.unrestricted:
        if scope.building_ids:
            q |= Q(building_id__in=sorted(scope.building_ids))
        if scope.unit_ids:
            q |= Q(pk__in=sorted(scope.unit_ids))
    return Unit.objects.filter(q)


def posts_visible_to(user, *, managing=False):
    """Posts held on places the user reaches (their own included)."""
    scope = _scope(user, managing)
    if scope.unrestricted:
        return Post.objects.all()
    q = Q(user=user) | Q(scope.areas_q("area__"))
    q |= Q(building__in=buildings_visible_to(user, managing=managing))
    q |= Q(unit__in=units_visible_to(user, managing=managing))
    # Posts on an organisation seated in the user's places (its staff list).
    q |= Q(organisation__isnull=False) & Q(scope.areas_q("organisation__seat__"))
    return Post.objects.filter(q)


def organisations_visible_to(user, *, managing=False):
    """Organisations seated in a place the user reaches, plus (unless `managing`) those they work for.

    Managing staff of a district, street or community administer the organisations seated
    there; an organisation's own staff see their organisation but manage nothing.
    """
    scope = _scope(user, managing)
    if scope.unrestricted:
        return Organisation.objects.all()
    q = scope.areas_q("seat__")
    if not managing and scope.organisation_ids:
        q |= Q(pk__in=sorted(scope.organisation_ids))
    return Organisation.objects.filter(q)


def organisations_covering(*, area=None, building=None):
    """Active organisations whose jurisdiction covers a place (or a building): a jurisdiction on
    the place itself or on any place above it, or on the building.

    One query; used by routing to find, say, the police station of a case's community.
    """
    terms = NOTHING
    if building is not None:
        terms |= Q(jurisdiction__building=building)
        area = area or building.grid
    if area is not None:
        ancestors = area.get_ancestors(include_self=True)
        terms |= Q(jurisdiction__area__in=ancestors)
    return Organisation.objects.filter(terms, is_active=True).distinct()


def users_visible_to(user, *, managing=False):
    """People holding a post (current or past) on a place the user reaches."""
    if _scope(user, managing).unrestricted:
        return User.objects.all()
    return User.objects.filter(Q(pk=user.pk) | Q(posts__in=posts_visible_to(user, managing=managing))).distinct()


def area_events_visible_to(user, *, managing=False):
    """Place history (AreaEvent) through the places the user reaches.

    An event of a deleted place has no place left to scope it by; only the
    unrestricted (administrators) see those.
    """
    if _scope(user, managing).unrestricted:
        return AreaEvent.objects.all()
    return AreaEvent.objects.filter(area__in=areas_visible_to(user, managing=managing))


def areas_managed_by(user):
    return areas_visible_to(user, managing=True)


def is_manager(user):
    """May `user` work in the admin at all: a superuser, or someone holding a managing post."""
    scope = scope_of(user)
    return scope.unrestricted or bool(scope.managing().spans)


def can_manage_area(user, area):
    """May `user` change `area` or add things under it (None = the system itself)?"""
    if user is None:
        return True
    scope = scope_of(user)
    if scope.unrestricted:
        return True
    return any(s.contains(area) for s in scope.managing().spans)


def get_visible_or_404(queryset, **lookup):
    """Fetch one row from a scoped queryset; "not yours" and "missing" both 404."""
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404
    return obj


# --- helpers for pages ------------------------------------------------------

def reach_summary(user):
    """Counts of what the user reaches, by kind of place (for the home page)."""
    from django.db.models import Count

    counts = dict(
        areas_visible_to(user).filter(is_active=True).values_list("kind").annotate(n=Count("id")).order_by()
    )
    summary = [(kind, counts.get(kind.value, 0)) for kind in AreaKind]
    return summary, buildings_visible_to(user).count(), units_visible_to(user).count()


def top_places(user):
    """The places at the top of the user's scope, shallowest first."""
    scope = scope_of(user)
    if scope.unrestricted:
        return list(Area.objects.filter(level=0, is_active=True).order_by("code"))
    ids = [s.area_id for s in scope.spans]
    places = list(Area.objects.filter(pk__in=ids).order_by("level", "code"))
    # Drop places already inside another top place.
    return [a for a in places if not any(b.pk != a.pk and b.is_ancestor_of(a) for b in places)]


def primary_audience(user):
    """Which layout suits the user: official, staff or worker (phone)."""
    if user.is_superuser:
        return "staff"
    # The roles that choose a layout are all posts on places: the scope's spans hold them
    # (read once per request, so the layout costs no query of its own).
    roles = {s.role for s in scope_of(user).spans}
    if Role.DISTRICT_OFFICIAL in roles:
        return "official"
    if roles & {Role.STREET_STAFF, Role.COMMUNITY_STAFF}:
        return "staff"
    # Organisation staff work from a phone in the field, like grid workers.
    return "worker"



# --- 包片 officials -----------------------------------------------------------

def liaisons_visible_to(user, *, managing=False):
    """包片 assignments on places the user reaches."""
    return Liaison.objects.filter(_scope(user, managing).areas_q("area__"))


def liaisons_over(area_ids):
    """Active 包片 assignments on any of `area_ids` (a case's street and community, say), leaders first."""
    ids = [pk for pk in area_ids if pk]
    return (Liaison.objects.filter(area_id__in=ids, ended_at__isnull=True).select_related("user", "area")
            .order_by("level", "area__level", "id"))
