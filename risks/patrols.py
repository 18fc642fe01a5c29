"""The grid worker's patrol log (巡查日志): start, findings, end. Writes only.

A finding is nothing more than what she saw: a new risk (entered in the
register), a risk reviewed (a reassessment), a case (opened through the hook
as a patrol report), or a problem she fixed herself on the spot (即时处置).
The last is closed the moment it is written, with a photo before and after,
and never becomes a case: there is nothing to dispatch, sign for (签收) or
verify, and the figures count it apart (FindingKind.FIXED).

Location is kept only when she consents for this patrol; points far outside
her grid are kept but flag the patrol.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from grid.geo import contains
from grid.models import Area, AreaKind, Building
from portal.errors import DomainError
from portal.text import clean_text

from . import hooks, services
from .models import Finding, FindingKind, Patrol
from .selectors import patrol_grids

MAX_ROUTE_POINTS = 2000
# How far outside the grid a point may lie before it flags the patrol (degrees, ~0.5 km):
# phones drift, and a street's far pavement is still the grid's.
ROUTE_MARGIN = 0.005


def _own_open(patrol, user):
    fresh = Patrol.objects.select_for_update().filter(pk=patrol.pk).select_related("grid").first()
    if fresh is None or user is None or fresh.worker_id != user.pk:
        raise DomainError(_("This is not your patrol."), code="forbidden")
    if fresh.ended_at is not None:
        raise DomainError(_("This patrol has ended."), code="ended")
    return fresh


@transaction.atomic
def patrol_start(*, grid, track_consent=False, acting_user, now=None):
    now = services._now(now)
    grid = Area.objects.filter(pk=getattr(grid, "pk", grid), kind=AreaKind.GRID, is_active=True).first()
    if grid is None or grid.pk not in patrol_grids(acting_user):
        raise DomainError(_("You patrol only the grids you are posted to."), code="forbidden")
    try:
        with transaction.atomic():
            return Patrol.objects.create(worker=acting_user, grid=grid, started_at=now,
                                         track_consent=bool(track_consent))
    except IntegrityError:
        raise DomainError(_("You already have a patrol under way; end it first."), code="open_patrol") from None


def _clean_route(route):
    if route in (None, "", []):
        return []
    if not isinstance(route, list) or len(route) > MAX_ROUTE_POINTS:
        raise DomainError(_("The route points could not be read."), code="bad_route")
    points = []
    for point in route:
        try:
            lat, lon = float(point[0]), float(point[1])
        except (TypeError, ValueError, IndexError, KeyError):
            raise DomainError(_("The route points could not be read."), code="bad_route") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise DomainError(_("The route points could not be read."), code="bad_route")
        points.append([round(lat, 6), round(lon, 6)])
    return points


def _outside(grid, points):
    """Whether any point lies well outside the grid (its outline, else its buildings' spread)."""
    if grid.boundary:
        near = [(dlat, dlon) for dlat in (-ROUTE_MARGIN, 0, ROUTE_MARGIN) for dlon in (-ROUTE_MARGIN, 0, ROUTE_MARGIN)]
        return any(not any(contains(grid.boundary, lon + dlon, lat + dlat) for dlat, dlon in near)
                   for lat, lon in points)
    spots = list(Building.objects.filter(grid=grid, latitude__isnull=False, longitude__isnull=False)
                 .values_list("latitude", "longitude"))
    if not spots:
        return False
    lats, lons = [float(s[0]) for s in spots], [float(s[1]) for s in spots]
    return any(not (min(lats) - ROUTE_MARGIN <= lat <= max(lats) + ROUTE_MARGIN
                    and min(lons) - ROUTE_MARGIN <= lon <= max(lons) + ROUTE_MARGIN) for lat, lon in points)


@transaction.atomic
def patrol_end(*, patrol, route=None, note="", acting_user, now=None):
    """End the patrol; route points only if she consented when starting it."""
    now = services._now(now)
    patrol = _own_open(patrol, acting_user)
    if now < patrol.started_at:
        raise DomainError(_("A patrol cannot end before it started."), code="ends_before_start")
    note = clean_text(note, field=_("note"), required=False)
    points = _clean_route(route)
    if points and not patrol.track_consent:
        raise DomainError(_("Location was not switched on for this patrol; no route is kept."), code="no_consent")
    Patrol.objects.filter(pk=patrol.pk, ended_at__isnull=True).update(
        ended_at=now, note=note, route=points, route_flagged=bool(points) and _outside(patrol.grid, points))
    patrol.refresh_from_db()
    return patrol


def _building_in(patrol, building):
    if building is None:
        return None
    found = Building.objects.filter(pk=getattr(building, "pk", building), grid_id=patrol.grid_id).first()
    if found is None:
        raise DomainError(_("Choose a building of the patrol's grid."), code="bad_building")
    return found


@transaction.atomic
def finding_fixed(*, patrol, description, before, after, building=None, acting_user, now=None):
    """即时处置: a problem she fixed herself, closed as it is written, with a photo before and after."""
    now = services._now(now)
    description = clean_text(description, field=_("description"), limit=1000)
    if not before or not after:
        raise DomainError(_("A problem fixed on the spot needs a photo before and a photo after."),
                          code="no_photos")
    before, after = services._clean_photos([before, after])
    patrol = _own_open(patrol, acting_user)
    building = _building_in(patrol, building)
    finding = Finding(patrol=patrol, kind=FindingKind.FIXED, at=now, building=building, description=description)
    finding.before.save(getattr(before, "name", "") or "before.jpg", before, save=False)
    finding.after.save(getattr(after, "name", "") or "after.jpg", after, save=False)
    finding.save()
    return finding


@transaction.atomic
def finding_risk(*, patrol, building=None, acting_user, now=None, **risk_fields):
    """A new risk found on the round: entered in the register and noted in the log."""
    now = services._now(now)
    patrol = _own_open(patrol, acting_user)
    building = _building_in(patrol, building)
    risk = services.risk_register(place=patrol.grid if building is None else None, building=building,
                                  acting_user=acting_user, now=now, **risk_fields)
    return Finding.objects.create(patrol=patrol, kind=FindingKind.RISK_NEW, at=now, building=building,
                                  description=risk.title, risk=risk)


@transaction.atomic
def finding_review(*, patrol, risk, acting_user, now=None, **scores):
    """A risk looked at again on the round: a reassessment, noted in the log."""
    now = services._now(now)
    patrol = _own_open(patrol, acting_user)
    if risk.grid_id != patrol.grid_id:
        raise DomainError(_("That risk is not in the patrol's grid."), code="bad_risk")
    risk = services.risk_reassess(risk=risk, acting_user=acting_user, now=now, **scores)
    return Finding.objects.create(patrol=patrol, kind=FindingKind.RISK_REVIEWED, at=now, building=risk.building,
                                  description=risk.title, risk=risk)


@transaction.atomic
def finding_case(*, patrol, category, description, building=None, acting_user, now=None):
    """Something she cannot fix herself: a case, registered and dispatched at once (a patrol report)."""
    now = services._now(now)
    description = clean_text(description, field=_("description"), limit=1000)
    patrol = _own_open(patrol, acting_user)
    building = _building_in(patrol, building)
    case = hooks.open_case(category=category, description=description, grid=patrol.grid if building is None else None,
                           building=building, unit=None, acting_user=acting_user, now=now)
    return Finding.objects.create(patrol=patrol, kind=FindingKind.CASE, at=now, building=building,
                                  description=description, case=case)
