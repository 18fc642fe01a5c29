"""Writes to 包片 assignments: district and street leaders looking after a street or community.

A district leader may look after a street or a community of the district, a street leader a
community of the street. The managing staff above the place assign and end them.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import DomainError

from .models import Area, AreaKind, Liaison, LiaisonLevel
from .selectors import can_manage_area, forget_scope

# Which places each level looks after.
LEVEL_PLACES = {
    LiaisonLevel.DISTRICT: (AreaKind.STREET, AreaKind.COMMUNITY),
    LiaisonLevel.STREET: (AreaKind.COMMUNITY,),
}


def _require_manage(acting_user, area):
    if acting_user is not None:
        forget_scope(acting_user)
    if not can_manage_area(acting_user, area):
        raise DomainError(_("You do not manage “%(place)s”.") % {"place": area.name}, code="forbidden")


@transaction.atomic
def liaison_assign(*, user, level, area, acting_user, now=None):
    """Assign `user` (a leader of `level`) to look after `area` (包片)."""
    now = now or timezone.now()
    area = Area.objects.get(pk=area.pk)
    if level not in LiaisonLevel.values:
        raise DomainError(_("Unknown level: %(level)s.") % {"level": level}, code="bad_level")
    if area.kind not in LEVEL_PLACES[level]:
        raise DomainError(_("A %(level)s looks after a street or a community of their own area, not “%(place)s”.")
                          % {"level": LiaisonLevel(level).label, "place": area.name}, code="bad_place")
    _require_manage(acting_user, area)
    if not user.is_active:
        raise DomainError(_("“%(user)s” is not an active account.") % {"user": user}, code="inactive")
    try:
        with transaction.atomic():
            return Liaison.objects.create(user=user, level=level, area=area, started_at=now)
    except IntegrityError:
        raise DomainError(_("“%(user)s” already looks after “%(place)s”.") % {"user": user, "place": area.name},
                          code="duplicate") from None


@transaction.atomic
def liaison_end(*, liaison, acting_user, now=None):
    now = now or timezone.now()
    liaison = Liaison.objects.select_related("area").get(pk=liaison.pk)
    _require_manage(acting_user, liaison.area)
    Liaison.objects.filter(pk=liaison.pk, ended_at__isnull=True).update(ended_at=now)
    liaison.refresh_from_db()
    return liaison
