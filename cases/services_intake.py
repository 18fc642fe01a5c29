"""Residents' reports: received in one insert, registered as cases by a worker (收件 → 案卷建立).

`intake_receive` is what the public report page calls. It checks everything a
case would refuse (the form has already read the category and the place), keeps
the report as one row of cases.Intake and returns its tracking code; nothing
else is written, so the request costs one INSERT. On commit it asks Celery,
at most once per INTAKE_KICK_SECONDS, to run `intake_register_pending` a moment
later; the beat runs it too (every INTAKE_SWEEP_SECONDS), so a report received
while the broker is down waits in the table, never lost.

`intake_register_pending` turns rows into cases through `services.case_report`
(the same code every channel uses: case number, path, routing, timeline,
notifications) with the report's own tracking code and time, and deletes each
row in the transaction that creates its case. Rows are claimed with SKIP LOCKED,
so workers running it at once register each report once.
"""

import logging

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import AreaKind
from portal.errors import DomainError

from . import notifications, services
from .models import Case, Category, Channel, Intake

log = logging.getLogger(__name__)

PUBLIC_CHANNELS = (Channel.WEB, Channel.QR)
# One Celery message per window however many reports arrive in it; the task runs
# when the window closes, so it finds every report of the window committed.
INTAKE_KICK_SECONDS = 1
INTAKE_KICK_KEY = "cases:intake-kick"
# Cases one run registers at most (each in its own transaction); the next run goes on.
INTAKE_BATCH = 2000


def intake_receive(*, category, description, channel, grid=None, building=None, reporter_name="",
                   reporter_phone="", photo=None, now=None):
    """Keep a resident's report and return the saved Intake (its `tracking_code` is the resident's).

    `category` is an active Category; `grid` and `building` are what the form
    read (the building with its grid). Refusals are DomainErrors, as from
    `case_report`, and nothing is saved then.
    """
    now = now or timezone.now()
    if channel not in PUBLIC_CHANNELS:
        raise DomainError(_("Unknown channel."), code="bad_channel")
    if not isinstance(category, Category) or not category.is_active:
        raise DomainError(_("Choose a category from the list."), code="unknown_category")
    description = services.clean_text(description, field=_("description"), limit=services.DESCRIPTION_MAX)
    reporter_name = services.clean_text(reporter_name, field=_("name"), required=False, limit=50)
    reporter_phone = services.clean_text(reporter_phone, field=_("phone"), required=False, limit=20)
    if reporter_phone and not services.PHONE_RE.match(reporter_phone):
        raise DomainError(_("The phone number has characters a phone number does not have."), code="bad_phone")
    place = building.grid if building is not None else grid
    if place is None:
        raise DomainError(_("Choose where the matter is: a building, or at least the grid."), code="no_place")
    if grid is not None and building is not None and building.grid_id != grid.pk:
        raise DomainError(_("That building is not in the chosen grid."), code="bad_place")
    if place.kind not in (AreaKind.GRID, AreaKind.COMMUNITY) or not place.is_active:
        raise DomainError(_("Choose a grid or a community, not a whole street or district."), code="bad_place")
    if photo:
        services.validate_photo(photo)
        photo = services.without_metadata(photo)
    intake = Intake(
        tracking_code=services.new_tracking_code(), received_at=now, channel=channel, category=category, grid=None if building is not None else grid,
        building=building, description=description, reporter_name=reporter_name, reporter_phone=reporter_phone,
    )
    if photo:
        intake.photo.save(getattr(photo, "name", "") or "photo", photo, save=False)
    try:
        # One INSERT in autocommit (a collision of 64-bit random codes is not worth a query).
        intake.save(force_insert=True)
    except Exception:
        if intake.photo:
            intake.photo.delete(save=False)
        raise
    transaction.on_commit(_kick)
    return intake


def _kick():
    """Ask for a registration run unless one was asked for within the window. Never raises."""
    from .tasks import register_intake

    try:
        if not cache.add(INTAKE_KICK_KEY, 1, timeout=INTAKE_KICK_SECONDS):
            return
    except Exception as exc:  # noqa: BLE001 — a cache outage only costs an extra message
        log.info("intake kick: cache unavailable (%s); enqueueing anyway", exc)
    notifications.try_enqueue(
        lambda: register_intake.apply_async(countdown=INTAKE_KICK_SECONDS, retry=False), 1, what="report(s)",
    )


def intake_register_pending(*, limit=INTAKE_BATCH):
    """Register waiting reports as cases, oldest first; returns how many became cases."""
    registered = 0
    for _step in range(limit):
        outcome = _register_next()
        if outcome is None:
            break
        registered += outcome
    return registered


@transaction.atomic
def _register_next():
    """Claim the oldest waiting row and register it: 1 if a case was made, 0 if not, None if none waits."""
    intake = (Intake.objects.select_for_update(skip_locked=True, of=("self",)).select_related("category")
              .filter(failed_at__isnull=True).order_by("pk").first())
    if intake is None:
        return None
    return _register(intake)


def _register(intake):
    try:
        with transaction.atomic():
            _case_from(intake)
    except DomainError as error:
        _fail(intake, str(error))
        return 0
    except IntegrityError:
        # Registered already (SQLite has no SKIP LOCKED: two runs can read the same row)?
        if not Case.objects.filter(tracking_code=intake.tracking_code, created_at=intake.received_at,
                                   description=intake.description).exists():
            raise
        Intake.objects.filter(pk=intake.pk).delete()
        return 0
    Intake.objects.filter(pk=intake.pk).delete()
    return 1


def _case_from(intake):
    """The case of a received report: its tracking code, its time, its photo file as stored."""
    return services.case_report(
        category=intake.category, description=intake.description, channel=intake.channel,
        grid=intake.grid if intake.building_id is None else None, building=intake.building,
        reporter_name=intake.reporter_name, reporter_phone=intake.reporter_phone,
        stored_photos=[intake.photo.name] if intake.photo else (), tracking_code=intake.tracking_code,
        now=intake.received_at,
    )


def _fail(intake, reason):
    log.warning("received report %s could not be registered: %s", intake.pk, reason)
    Intake.objects.filter(pk=intake.pk).update(failed_at=timezone.now(), failure=reason[:300])


@transaction.atomic
def intake_retry(*, intake, acting_user, category=None, grid=None, building=None):
    """Staff place a report the worker could not register (new category or place) and register it.

    Returns the new case; a refusal (DomainError) leaves the row as it was.
    """
    from .selectors import intakes_visible_to

    row = intakes_visible_to(acting_user).select_for_update(of=("self",)).filter(pk=intake.pk).first()
    if row is None:
        raise DomainError(_("This report has been registered already or is not yours to place."), code="gone")
    if category is not None:
        row.category = category
    if building is not None:
        row.building, row.grid = building, None
    elif grid is not None:
        row.grid, row.building = grid, None
    case = _case_from(row)
    Intake.objects.filter(pk=row.pk).delete()
    return case
