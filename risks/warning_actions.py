"""What staff do with warnings: acknowledge with a note, assign to a new case or to a risk, dismiss with
a reason (each logged), and set a district's rule thresholds. Writes only, `warning_<verb>(*, ..., acting_user, now)`, one transaction each."""

from django.db import transaction
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind
from grid.selectors import can_manage_area, scope_of
from portal.errors import DomainError
from portal.text import clean_text

from . import hooks
from .models import EarlyWarning, RiskStatus, WarningEvent, WarningRule, WarningRuleKind, WarningStatus
from .selectors import risks_visible_to
from .services import _now

MAX_THRESHOLD = 1000
MAX_WINDOW_DAYS = 366
MAX_GROWTH_PERCENT = 10000


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


@transaction.atomic
def warning_assign(*, warning, note, risk=None, category="", acting_user, now=None):
    """Put the warning in hand as work: open a case for it (through the hook, at its building or grid), or
    enter it under an open risk the user may see. Exactly one of `risk` and `category`."""
    now = _now(now)
    note = clean_text(note, field=_("note"), limit=2000)
    if not may_handle(acting_user, warning):
        raise DomainError(_("You may not handle warnings of this place."), code="forbidden")
    if (risk is None) == (not category):
        raise DomainError(_("Assign the warning either to a new case or to a risk."), code="assign_one")
    fresh = (EarlyWarning.objects.select_for_update(of=("self",)).filter(pk=warning.pk)
             .select_related("grid", "building").first())
    if fresh is None or fresh.status != WarningStatus.OPEN:
        raise DomainError(_("This warning has already been handled."), code="handled")
    case = None
    if risk is not None:
        risk = risks_visible_to(acting_user).filter(pk=risk.pk, status=RiskStatus.OPEN).first()
        if risk is None:
            raise DomainError(_("Choose an open risk of a place under your posts."), code="bad_risk")
    else:
        if fresh.building_id is None and fresh.grid_id is None:
            raise DomainError(_("A case needs a grid or a building; this warning has neither."), code="bad_place")
        case = hooks.open_case(category=category, description=f"{fresh.title}\n{note}"[:2000],
                               grid=fresh.grid if fresh.building_id is None else None, building=fresh.building,
                               unit=None, acting_user=acting_user, now=now)
    EarlyWarning.objects.filter(pk=fresh.pk, status=WarningStatus.OPEN).update(
        status=WarningStatus.ASSIGNED, handled_by=acting_user, handled_at=now, note=note, assigned_case=case,
        assigned_risk=risk)
    WarningEvent.objects.create(warning_id=fresh.pk, at=now, by=acting_user, action=WarningStatus.ASSIGNED, note=note)
    warning.refresh_from_db()
    return warning


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
def warning_rule_set(*, district, kind, threshold, window_days, growth_percent=None, enabled=True, acting_user,
                     now=None):
    """Set one rule's threshold and window for a district (None: the city's default, administrators only);
    report_rise also takes how much more than last year, in percent (1 or more; none: the default)."""
    now = _now(now)
    if kind not in WarningRuleKind.values:
        raise DomainError(_("Choose a rule."), code="bad_rule")
    threshold = _whole(threshold, _("threshold"), MAX_THRESHOLD)
    window_days = _whole(window_days, _("within days"), MAX_WINDOW_DAYS)
    if kind != WarningRuleKind.REPORT_RISE:
        growth_percent = None
    elif growth_percent not in (None, ""):
        growth_percent = _whole(growth_percent, _("growth over last year (%)"), MAX_GROWTH_PERCENT)
    else:
        growth_percent = None
    if district is None:
        allowed = scope_of(acting_user).unrestricted
    else:
        district = Area.objects.filter(pk=district.pk, kind=AreaKind.DISTRICT, is_active=True).first()
        allowed = district is not None and acting_user is not None and can_manage_area(acting_user, district)
    if not allowed:
        raise DomainError(_("Only the district's officials set its warning rules."), code="forbidden")
    rule, _created = WarningRule.objects.update_or_create(
        district=district, kind=kind,
        defaults={"threshold": threshold, "window_days": window_days, "growth_percent": growth_percent,
                  "enabled": bool(enabled),
                  "changed_by": acting_user, "changed_at": now})
    return rule
