"""Who may reveal a personal value on a record, and who reads the reveal log."""

from django.db.models import Q

from grid.selectors import scope_of

from .models import PersonalDataAccess

PATH_KEYS = ("district_id", "street_id", "community_id", "grid_id")


def can_reveal(user, activity, record, field_name):
    """A post of a revealing role on a place on the record's path, or the activity's own exception.

    Superusers are not special, as for residents: an administrator administers, a
    post that works with the matter calls the person.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    roles = activity.reveal_roles.get(field_name, ())
    path_ids = {v for v in activity.path(record).values() if v}
    if any(s.role in roles and s.area_id in path_ids for s in scope_of(user).spans):
        return True
    return bool(activity.also_revealed_by and activity.also_revealed_by(user, record))


def reveals_visible_to(user, *, managing=False):
    """Managing staff read the log of their subtree; everyone reads their own entries.

    Only managing posts reach other people's entries either way (`managing` is the
    admin's calling convention)."""
    scope = scope_of(user)
    if scope.unrestricted:
        return PersonalDataAccess.objects.all()
    if not user.is_authenticated:
        return PersonalDataAccess.objects.none()
    managing = scope.managing()
    return PersonalDataAccess.objects.filter(managing.path_q(building_field=None, unit_field=None) | Q(actor=user))

