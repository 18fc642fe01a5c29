"""What staff do with warnings: acknowledge with a note, dismiss with a reason (each logged), and set
a district's rule thresholds. Writes only, `warning_<verb>(*, ..., acting_user, now)`, one transaction each."""

from django.db import transaction
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind
from grid.selectors import can_manage_area, scope_of
from portal.errors import DomainError
from portal.text import clean_text

from .models import EarlyWarning, WarningEvent, WarningRule, WarningRuleKind, WarningStatus
from .services import _now

MAX_THRESHOLD = 1000
MAX_WINDOW_DAYS = 366


def may_handle(user, warning):
    """A managing post (community, street, district staff) on a place over the warning."""
    scope = scope_of(user).managing()
    if scope.unrestricted:
        return True
    return any(getattr(warning, f"{s.kind}_id") == s.area_id for s in scope.spans)


def _handle(*, warning, status, note, field, acting_user, now):
    now = _now(now)
    note = clean_text(note, field=field, limit=2000)
    if not may_handle(acting_user, warning):
        raise DomainError(_("You may not handle warnings of this place."), code="forbidden")
    changed = EarlyWarning.objects.filter(pk=warning.pk, status=WarningStatus.OPEN).update(
        status=status, handled_by=acting_user, handled_at=now, note=note)
    if not changed:
        raise DomainError(_("This warning has already been handled."), code="handled")
    WarningEvent.objects.create(warning_id=warning.pk, at=now, by=acting_user, action=status, note=note)
    warning.refresh_from_db()
    return warning


@transaction.atomic
def warning_acknowledge(*, warning, note, acting_user, now=None):
    """签收: the warning is seen and taken in hand; the note says what will be done."""
    return _handle(warning=warning, status=WarningStatus.ACKNOWLEDGED, note=note, field=_("note"),
                   acting_user=acting_user, now=now)


@transaction.atomic
def warning_dismiss(*, warning, reason, acting_user, now=None):
    """Not a real concern: dismissed, with the reason kept."""
    return _handle(warning=warning, status=WarningStatus.DISMISSED, note=reason, field=_("reason"),
                   acting_user=acting_user, now=now)


def _whole(value, name, upper):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(_("%(name)s must be a whole number.") % {"name": name}, code="bad_number") from None
    if number < 1:
        raise DomainError(_("%(name)s must be at least 1: a rule with zero would warn of everything.")
                          % {"name": name}, code="zero_threshold")
    if number > upper:
        raise DomainError(_("%(name)s must be at most %(n)d.") % {"name": name, "n": upper}, code="bad_number")
    return number


@transaction.atomic
def warning_rule_set(*, district, kind, threshold, window_days, enabled=True, acting_user, now=None):
    """Set one rule's threshold and window for a district (None: the city's default, administrators only)."""
    now = _now(now)
    if kind not in WarningRuleKind.values:
        raise DomainError(_("Choose a rule."), code="bad_rule")
    threshold = _whole(threshold, _("threshold"), MAX_THRESHOLD)
    window_days = _whole(window_days, _("within days"), MAX_WINDOW_DAYS)
    if district is None:
        allowed = scope_of(acting_user).unrestricted
    else:
        district = Area.objects.filter(pk=district.pk, kind=AreaKind.DISTRICT, is_active=True).first()
        allowed = district is not None and acting_user is not None and can_manage_area(acting_user, district)
    if not allowed:
        raise DomainError(_("Only the district's officials set its warning rules."), code="forbidden")
    rule, _created = WarningRule.objects.update_or_create(
        district=district, kind=kind,
        defaults={"threshold": threshold, "window_days": window_days, "enabled": bool(enabled),
                  "changed_by": acting_user, "changed_at": now})
    return rule
