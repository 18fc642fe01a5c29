"""Who may see and change residents' records. Every view, admin, export, import
and task reads residents through these functions.

Personal data reaches fewer posts than places do. The three chiefs are
volunteers: they hold a post on a grid, building or unit for cases and notice
boards, but no access to residents' records (PIPL: the minimum necessary).
Grid workers, community, street and district staff reach the residents of
their subtree; only posts that work with the person may reveal a full value.
"""

from django.db.models import Q

from grid.models import MANAGING_ROLES, Area, Role
from grid.selectors import Scope, scope_of

from .models import AccessField, AccessLog, CareVisit, Household, ImportJob, Resident, ResidentStatus, Tag

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


def households_visible_to(user):
    return Household.objects.filter(_path_q(resident_scope(user)))


def residents_visible_to(user, *, include_left=True):
    """Residents of the households the user reaches; those who left stay visible as history."""
    qs = Resident.objects.filter(_path_q(resident_scope(user)))
    return qs if include_left else qs.filter(status=ResidentStatus.LIVING)


def visits_visible_to(user):
    return CareVisit.objects.filter(resident__in=residents_visible_to(user))


def access_log_visible_to(user):
    """Staff above read the log of their subtree; everyone reads their own entries."""
    scope = resident_scope(user, roles=MANAGING_ROLES)
    if scope.unrestricted:
        return AccessLog.objects.all()
    return AccessLog.objects.filter(_path_q(scope) | Q(actor=user)) if user.is_authenticated else AccessLog.objects.none()


def import_jobs_visible_to(user):
    if not user.is_authenticated:
        return ImportJob.objects.none()
    if user.is_superuser:
        return ImportJob.objects.all()
    return ImportJob.objects.filter(created_by=user)


def tags_visible_to(user):
    """Sensitive tags (community correction...) only for staff, never for grid chiefs or residents."""
    return Tag.objects.all() if resident_scope(user).spans or user.is_superuser else Tag.objects.filter(sensitive=False)


def _contains(scope, area):
    return scope.unrestricted or any(s.contains(area) for s in scope.spans)


def can_edit_residents(user, place):
    """May `user` add or change households and residents under `place` (a grid or above)?"""
    if user is None or not user.is_authenticated:
        return False
    if isinstance(place, Area):
        area = place
    else:
        area = Area.objects.only("tree_id", "lft", "rght").get(pk=place.grid_id)
    return _contains(resident_scope(user), area)


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
    path_ids = {resident.district_id, resident.street_id, resident.community_id, resident.grid_id}
    return any(s.area_id in path_ids for s in spans)


def can_export_unmasked(user):
    scope = scope_of(user)
    return any(s.role in UNMASKED_EXPORT_ROLES for s in scope.spans)


def visits_due(user, *, on):
    """Living residents whose care visit is due on or before `on`, soonest first."""
    return residents_visible_to(user, include_left=False).filter(visit_due_on__lte=on).order_by("visit_due_on", "id")

