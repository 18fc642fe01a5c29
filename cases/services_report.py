"""Taking a report (收件): `case_report` from any channel, and `case_report_alarm` for alarms.

Cut out of cases/services.py, which keeps every later write to a case (the
transitions) and the helpers both halves share; this module calls them there
(`services.X`, so a test patching cases.services reaches both) and services.py
never imports this one. Residents' reports received by the public page are
registered in batches by cases/services_intake.py, which writes what
`case_report` writes and hands it whatever the batch cannot take as it is.

Staff channels register and dispatch at once (services._register); residents'
reports wait for the community's staff. The place is read under a shared lock
on its district tree (`_place`), so a tree move or merge cannot slip between
reading the place's path and committing the case that stores it.
"""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import PATH_FIELDS, Area, AreaKind, Building, Unit
from grid.selectors import scope_of
from portal.errors import DomainError
from portal.identity import check_callback_phone
from portal.text import clean_text

from . import notifications, routing, services, workflow
from .models import (
    OPEN_STATUSES,
    STAFF_CHANNELS,
    Case,
    CaseEvent,
    CaseKind,
    CasePhoto,
    Channel,
    Mediation,
    MediationParty,
    PhotoStage,
    ReporterKind,
    Status,
)
from .parties import reported_parties
from .privacy import reporter_columns
from .tracking import new_tracking_code

A = CaseEvent.Action

ALARM_WINDOW = timedelta(minutes=30)
check_reporter_phone = check_callback_phone

REPORTER_BY_CHANNEL = {
    Channel.WEB: ReporterKind.RESIDENT,
    Channel.QR: ReporterKind.RESIDENT,
    Channel.OPEN311: ReporterKind.RESIDENT,
    Channel.HOTLINE: ReporterKind.HOTLINE_OPERATOR,
    Channel.PATROL: ReporterKind.GRID_WORKER,
    Channel.ALARM: ReporterKind.ALARM_SYSTEM,
    Channel.DEPARTMENT: ReporterKind.DEPARTMENT,
}


# A grid's parent chain up to its district (grid → community → street → district),
# read with the place in one query: the path stored on the case.
_CHAIN = "parent__parent__parent"


def _place(*, place=None, grid=None, building=None, unit=None):
    """(area, building, unit, path) from whatever the caller knows, checked for consistency.

    Read under a shared lock on the place's district tree (see _lock_tree_shared),
    so a move or merge of the tree cannot slip between reading the place's path
    and committing the case that stores it. `path` is {district_id, street_id,
    community_id, grid_id}.
    """
    if isinstance(place, Unit):
        unit = unit or place
    elif isinstance(place, Building):
        building = building or place
    elif isinstance(place, Area):
        grid = grid or place
    if unit is None and building is None and grid is None:
        raise DomainError(_("Choose where the matter is: a building, or at least the grid."), code="no_place")
    # Lock the tree the caller's copy says first, then check it under the lock;
    # should the place have moved to another district meanwhile, lock that one too.
    locked = set()
    guess = _cached_tree_id(unit=unit, building=building, grid=grid)
    if guess is not None and _lock_tree_shared(guess):
        locked.add(guess)
    while True:
        area, fresh_building, fresh_unit = _read_place(grid=grid, building=building, unit=unit)
        if area.tree_id in locked or not _lock_tree_shared(area.tree_id):
            break
        locked.add(area.tree_id)
    if area.kind not in (AreaKind.GRID, AreaKind.COMMUNITY):
        raise DomainError(_("Choose a grid or a community, not a whole street or district."), code="bad_place")
    if not area.is_active:
        raise DomainError(_("“%(place)s” was merged into another place; choose the new one.") % {"place": area.name},
                          code="bad_place")
    path = dict.fromkeys((f"{f}_id" for f in PATH_FIELDS), None)
    node = area
    while node is not None:
        path[f"{node.kind}_id"] = node.pk
        node = node.parent if node.parent_id else None
    return area, fresh_building, fresh_unit, path


def _read_place(*, grid, building, unit):
    """The place as it is now, with its area's parent chain; consistency of what the caller gave."""
    if unit is not None:
        unit = Unit.objects.select_related(f"building__grid__{_CHAIN}").get(pk=unit.pk)
        if building is not None and building.pk != unit.building_id:
            raise DomainError(_("That unit is not in the chosen building."), code="bad_place")
        building = unit.building
    elif building is not None:
        building = Building.objects.select_related(f"grid__{_CHAIN}").get(pk=building.pk)
    if building is not None:
        if grid is not None and grid.pk != building.grid_id:
            raise DomainError(_("That building is not in the chosen grid."), code="bad_place")
        return building.grid, building, unit
    return Area.objects.select_related(_CHAIN).get(pk=grid.pk), None, None


def _cached_tree_id(*, unit, building, grid):
    """The district tree the caller's instances say the place is in, without a query (or None)."""
    if unit is not None:
        building = unit.building if Unit.building.is_cached(unit) else None
    if building is not None:
        grid = building.grid if Building.grid.is_cached(building) else None
    return getattr(grid, "tree_id", None) if grid is not None else None


def _lock_tree_shared(tree_id):
    """Hold the district tree's lock in shared mode until the transaction ends. Returns whether it did.

    Tree writes (grid.services: moves, merges) take the same lock exclusively:
    they wait for reports in flight and reports wait for them, while reports do
    not wait for one another. No-op on SQLite, which serialises writes anyway.
    """
    from grid.services import lock_trees

    return lock_trees(tree_id, shared=True)


def _coordinate(value, low, high, label):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise DomainError(_("The %(what)s is not a number.") % {"what": label}, code="bad_coordinate") from None
    if not (low <= number <= high):
        raise DomainError(_("The %(what)s is out of range.") % {"what": label}, code="bad_coordinate")
    return number


def _may_report_for(user, path):
    """Staff channels: the acting user must reach the place (its `path`), or be an administrator."""
    if user is None or not user.is_authenticated:
        return False
    scope = scope_of(user)
    if scope.unrestricted:
        return True
    return any(path.get(f"{s.kind}_id") == s.area_id for s in scope.spans)


@transaction.atomic
def case_report(*, category, description, channel, place=None, grid=None, building=None, unit=None,
                address="", latitude=None, longitude=None, reporter_kind=None, reporter_name="",
                reporter_phone="", photos=(), parties=None, external_ref="", acting_user=None, now=None,
                tracking_code=None, stored_photos=(), system=False):
    """Take a report from any channel; returns the saved case (with its tracking code).

    `tracking_code` and `stored_photos` (names in the media storage, already
    checked and stripped) are a received report's (cases/services_intake.py):
    the case keeps the code the resident was given.

    Residents' reports (web, QR, Open311) wait for community staff to register
    them; reports from staff channels (hotline, patrol, alarm, department) are
    registered and dispatched at once. Nothing is saved unless all is valid.
    `system`: a client system that authenticated for the place files on a staff
    channel without a user (the 12345 hotline's push, cases/hotline/).
    """
    now = services._now(now)
    if channel not in Channel.values:
        raise DomainError(_("Unknown channel."), code="bad_channel")
    category = services._category(category)
    description = clean_text(description, field=_("description"), limit=services.DESCRIPTION_MAX)
    area, building, unit, path = _place(place=place, grid=grid, building=building, unit=unit)
    address = clean_text(address, field=_("address"), required=False, limit=200)
    if not address and building is not None:
        address = building.address or str(building)
    reporter_name = clean_text(reporter_name, field=_("name"), required=False, limit=50)
    reporter_phone = clean_text(reporter_phone, field=_("phone"), required=False, limit=20)
    check_reporter_phone(reporter_phone)
    latitude = _coordinate(latitude, -90, 90, _("latitude"))
    longitude = _coordinate(longitude, -180, 180, _("longitude"))
    photos = services._validate_photos(photos)
    # Checked before anything is written; only a mediation keeps them.
    party_rows = reported_parties(parties, today=timezone.localdate(now)) if category.is_mediation else []
    staff_channel = channel in STAFF_CHANNELS
    user = acting_user if acting_user is not None and acting_user.is_authenticated else None
    if staff_channel and channel != Channel.ALARM and not system and not _may_report_for(user, path):
        raise DomainError(_("You may not report for this place."), code="forbidden")
    reporter_kind = reporter_kind or REPORTER_BY_CHANNEL[channel]
    if reporter_kind not in ReporterKind.values:
        raise DomainError(_("Unknown kind of reporter."), code="bad_reporter")

    kind = CaseKind.MEDIATION if category.is_mediation else CaseKind.ORDINARY
    # Until registered, the case waits with the community's staff (they triage residents' reports).
    level = AreaKind.COMMUNITY if path["community_id"] else AreaKind.GRID
    case = Case.objects.create(
        number=services.next_case_number(now), tracking_code=tracking_code or new_tracking_code(), kind=kind,
        channel=channel, external_ref=(external_ref or "")[:64], reporter_kind=reporter_kind, reporter=user,
        **reporter_columns(name=reporter_name, phone=reporter_phone), category=category, description=description,
        address=address, building=building, unit=unit, latitude=latitude, longitude=longitude,
        status=Status.REPORTED, responsible_level=level, due_at=services._deadline(category, "dispatch", now),
        created_at=now, **path,
    )
    event = services._event(case, A.REPORT, actor=user, now=now, to_status=Status.REPORTED, is_public=True,
                            data={"channel": channel})
    services._save_photos(case, event, photos, PhotoStage.REPORT, now)
    for name in stored_photos:
        CasePhoto.objects.create(case=case, event=event, stage=PhotoStage.REPORT, image=name, uploaded_at=now)
    if kind == CaseKind.MEDIATION:
        mediation = Mediation.objects.create(case=case)
        MediationParty.objects.bulk_create(
            [MediationParty(mediation=mediation, added_at=now, **values) for values in party_rows])
        if user is not None and channel == Channel.PATROL:
            mediation.mediators.add(user)
    if staff_channel:
        services._register(case, user=None, actor=workflow.SYSTEM, now=now, note="")
    else:
        notifications.notify(
            users=routing.responsible_staff(case), case=case, now=now,
            subject=_("New report to register: %(number)s") % {"number": case.number},
            body=services._case_link_text(case),
        )
    return case


@transaction.atomic
def case_report_alarm(*, category, description, grid=None, building=None, unit=None, device_id="",
                      latitude=None, longitude=None, photos=(), now=None, window=ALARM_WINDOW):
    """A camera or one-click alarm (微天网). Returns (case, created).

    An alarm of the same category at the same place within `window` of an open
    alarm case is folded into that case (alarm_count + 1, a timeline line)
    instead of opening a new one.
    """
    now = services._now(now)
    category = services._category(category)
    area, building, unit, _path = _place(grid=grid, building=building, unit=unit)
    _lock_place(category.pk, area.pk)
    same_place = Q(building=building) if building is not None else Q(building__isnull=True)
    area_field = "grid" if area.kind == AreaKind.GRID else "community"
    existing = (
        Case.objects.filter(same_place, category=category, channel=Channel.ALARM, status__in=OPEN_STATUSES,
                            created_at__gte=now - window, **{area_field: area})
        .order_by("-created_at").first()
    )
    if existing is not None:
        Case.objects.filter(pk=existing.pk).update(alarm_count=F("alarm_count") + 1)
        note = clean_text(description, field=_("description"), required=False, limit=services.NOTE_MAX)
        services._event(existing, A.ALARM_REPEAT, actor=None, now=now, note=note, data={"device": str(device_id)[:64]})
        existing.refresh_from_db()
        return existing, False
    case = case_report(
        category=category, description=description, channel=Channel.ALARM, grid=area if building is None else None,
        building=building, unit=unit, latitude=latitude, longitude=longitude, photos=photos,
        external_ref=str(device_id), reporter_kind=ReporterKind.ALARM_SYSTEM, now=now,
    )
    Case.objects.filter(pk=case.pk).update(alarm_count=1)
    case.refresh_from_db()
    return case, True


def _lock_place(category_id, area_id):
    """Serialise alarm intake per (category, place) so two simultaneous alarms open one case."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7302_0000 + int(category_id) % 10_000,
                                                                    int(area_id)])
