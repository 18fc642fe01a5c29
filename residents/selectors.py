"""Who may see and change residents' records. Every view, admin, export, import
and task reads residents through these functions.

Personal data reaches fewer posts than places do. The three chiefs are
volunteers: they hold a post on a grid, building or unit for cases and notice
boards, but no access to residents' records (PIPL: the minimum necessary).
Grid workers, community, street and district staff reach the residents of
their subtree; only posts that work with the person may reveal a full value.
"""

from django.db.models import Q

from grid.models import MANAGING_ROLES, PATH_FIELDS, Area, Building, Role, Unit
from grid.selectors import Scope, forget_scope, scope_of

from .models import (
    AccessField,
    AccessLog,
    CareVisit,
    Household,
    ImportJob,
    Resident,
    ResidentEvent,
    ResidentStatus,
    Tag,
)

# Posts that work with residents' records (基础信息采集 and care).
RESIDENT_ROLES = (Role.DISTRICT_OFFICIAL, Role.STREET_STAFF, Role.COMMUNITY_STAFF, Role.GRID_WORKER)
# Who may reveal a full value, per field: those who must call or identify the person.
REVEAL_ROLES = {
    AccessField.ID_NUMBER: (Role.COMMUNITY_STAFF,),
    AccessField.PHONE: (Role.COMMUNITY_STAFF, Role.GRID_WORKER),
}
# Who may export without masks (for a handover to a department, say).
UNMASKED_EXPORT_ROLES = (Role.COMMUNITY_STAFF, Role.STREET_STAFF)


def resident_scope(user, *, roles=RESIDENT_ROLES) -> Scope:
    """The part of the user's scope held through posts of `roles` (places only)."""
    scope = scope_of(user)
    if scope.unrestricted:
        return scope
    return Scope(unrestricted=False, spans=tuple(s for s in scope.spans if s.role in roles))


def _path_q(scope):
    return scope.path_q(building_field=None, unit_field=None)


# Encrypted columns a list never needs: lists, searches and exports show the
# masked columns. Deferred by default so a page cannot decrypt a city by accident.
ENCRYPTED_COLUMNS = ("id_number", "phone")


def households_visible_to(user):
    return Household.objects.filter(_path_q(resident_scope(user)))


def residents_visible_to(user, *, include_left=True, roles=RESIDENT_ROLES):
    """Residents of the households the user reaches; those who left stay visible as history.

    The encrypted ID number and phone are deferred (touching them on a row
    costs a query per row): read them with `.values(...)` where a full value
    is allowed (an unmasked export), or through `resident_reveal`. `roles`
    narrows the scope to posts of those roles (the unmasked export's part).
    """
    qs = Resident.objects.filter(_path_q(resident_scope(user, roles=roles))).defer(*ENCRYPTED_COLUMNS)
    return qs if include_left else qs.filter(status=ResidentStatus.LIVING)


def residents_exportable_unmasked(user):
    """The residents `user` may export without masks: only through UNMASKED_EXPORT_ROLES posts.

    A community staff member who is also a grid worker elsewhere exports their
    community unmasked, not the other grid. Superusers are not special here.
    """
    if not can_export_unmasked(user):
        return Resident.objects.none()
    return residents_visible_to(user, roles=UNMASKED_EXPORT_ROLES)


def resident_events_visible_to(user):
    """History rows of the residents `user` reaches (the residents selector, one level down)."""
    return ResidentEvent.objects.filter(resident__in=residents_visible_to(user).values("pk"))


def visits_visible_to(user):
    return CareVisit.objects.filter(resident__in=residents_visible_to(user))


def access_log_visible_to(user):
    """Staff above read the log of their subtree; everyone reads their own entries."""
    scope = resident_scope(user, roles=MANAGING_ROLES)
    if scope.unrestricted:
        return AccessLog.objects.all()
    if not user.is_authenticated:
        return AccessLog.objects.none()
    return AccessLog.objects.filter(_path_q(scope) | Q(actor=user))


def import_jobs_visible_to(user):
    if not user.is_authenticated:
        return ImportJob.objects.none()
    if user.is_superuser:
        return ImportJob.objects.all()
    return ImportJob.objects.filter(created_by=user)


def tags_visible_to(user):
    """Sensitive tags (community correction...) only for staff, never for grid chiefs or residents."""
    return Tag.objects.all() if resident_scope(user).spans or user.is_superuser else Tag.objects.filter(sensitive=False)


def place_path_ids(place):
    """The ids of the places above and at `place`: an Area, a Building, a Unit or a PlacePath row.

    Compared by id, not by nested-set bounds: ids do not shift when the tree
    changes, so neither a stale copy of the place nor a scope cached before a
    tree write earlier in the request can widen or narrow access.
    """
    if isinstance(place, Unit):
        place = Building.objects.only("grid_id").get(pk=place.building_id)
    if isinstance(place, Building):
        place = Area(pk=place.grid_id)
    if isinstance(place, Area):
        node = Area.objects.only("tree_id", "lft", "rght").get(pk=place.pk)
        return set(Area.objects.filter(tree_id=node.tree_id, lft__lte=node.lft, rght__gte=node.rght)
                   .values_list("pk", flat=True))
    return {getattr(place, f"{f}_id") for f in PATH_FIELDS} - {None}


def _reaches(spans, place):
    ids = place_path_ids(place)
    return any(s.area_id in ids for s in spans)


def can_edit_residents(user, place):
    """May `user` add or change households and residents under `place`?

    `place` is an Area (a grid or above), a Building, a Unit, or a household or
    resident (their stored path is used).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    scope = resident_scope(user)
    if scope.unrestricted:
        return True
    return bool(scope.spans) and _reaches(scope.spans, place)


def reveal_roles_for(field):
    return REVEAL_ROLES.get(field, ())


def can_reveal(user, resident, field):
    """Posts that work with the person, on a place above their household; superusers are not special."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    scope = scope_of(user)
    spans = [s for s in scope.spans if s.role in reveal_roles_for(field)]
    if not spans:
        return False
    return _reaches(spans, resident)


def can_export_unmasked(user):
    """Holds a post that may export without masks (see `residents_exportable_unmasked` for where)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return any(s.role in UNMASKED_EXPORT_ROLES for s in scope_of(user).spans)


def fresh_scope(user):
    """Forget the scope cached on `user` (posts may have ended since): for writes and reveals."""
    if user is not None:
        forget_scope(user)
    return user


def common_place_of(user, *, roles=RESIDENT_ROLES):
    """The deepest place above every place the user reaches through `roles` (None if none is common).

    An export's access-log entry hangs there, so the staff above the exporter's
    whole scope read it.
    """
    scope = resident_scope(user, roles=roles)
    if scope.unrestricted or not scope.spans:
        return None
    paths = [place_path_ids(Area(pk=s.area_id)) for s in scope.spans]
    common = set.intersection(*paths)
    if not common:
        return None
    return Area.objects.filter(pk__in=common).order_by("-level").first()


def visits_due(user, *, on):
    """Living residents whose care visit is due on or before `on`, soonest first."""
    return residents_visible_to(user, include_left=False).filter(visit_due_on__lte=on).order_by("visit_due_on", "id")

