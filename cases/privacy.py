"""Reporters' names and phones (cases, received reports, Open311 requests): how they
are kept, who may reveal them, how long they stay (grid/privacy registers these).

Kept as the residents' phones are (portal/personal.py): encrypted, with a masked
copy that lists, exports, the admin and the API show; the full value only by a
logged reveal with a reason, for the posts that handle the matter. No page looks
a reporter up by phone, so there is no blind index (nothing to find a person by).
A set time after a matter closed (PERSONAL_DATA_RETENTION_DAYS) the name and
phone are erased; the matter and every figure about it stay.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grid.models import Area, Role
from grid.privacy.registry import Activity, register
from grid.privacy.services import anonymise_in_batches
from grid.services import path_values
from portal.personal import name_and_phone_columns

from .models import Case

REPORTER_FIELDS = ("reporter_name", "reporter_phone")
# The posts that handle matters on a place above the case: they call the reporter back.
REPORTER_REVEAL_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_OFFICIAL)
# Received reports are placed by hand by community staff and above (intakes_visible_to).
INTAKE_REVEAL_ROLES = (Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_OFFICIAL)


def reporter_columns(*, name, phone):
    """The stored columns of a reporter's name and phone (encrypted and masked)."""
    return name_and_phone_columns(name_field="reporter_name", phone_field="reporter_phone", name=name, phone=phone)


def expired_reporters(now):
    """Closed matters kept past the period whose reporter is still on record."""
    cutoff = now - timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)
    return Case.objects.filter(Q(reporter_name__isnull=False) | Q(reporter_phone__isnull=False),
                               closed_at__lt=cutoff, reporter_erased_at__isnull=True)


def anonymise_reporters(now, batch_size):
    """Erase the reporter's name and phone of matters closed before the period (figures untouched)."""
    return anonymise_in_batches(expired_reporters(now), batch_size=batch_size, values={
        "reporter_name": None, "reporter_name_masked": "", "reporter_phone": None, "reporter_phone_masked": "",
        "reporter_erased_at": now,
    })


def _intake_path(intake):
    grid_id = intake.grid_id
    if grid_id is None:
        grid_id = intake.building.grid_id
    return path_values(Area(pk=grid_id))


register(Activity(
    key="cases.reporter",
    title=_("Reporters of matters (事件报告人)"),
    purpose=_("Call the reporter back about the matter, verify the result and ask for the rating."),
    legal_basis=_("PIPL art. 13(1)3 and 13(1)5: public duties and matters of public interest"),
    model="cases.Case",
    fields=REPORTER_FIELDS,
    seen_masked_by=_("Staff whose posts reach the matter (the case pages, the admin, exports)"),
    reveal_roles=dict.fromkeys(REPORTER_FIELDS, REPORTER_REVEAL_ROLES),
    retention_setting="PERSONAL_DATA_RETENTION_DAYS",
    retention_basis=_("days after the matter is closed"),
    expired=expired_reporters,
    anonymise=anonymise_reporters,
    label_of=lambda case: case.number,
))

register(Activity(
    key="cases.intake_reporter",
    title=_("Reporters of received reports and Open311 requests (收件与 Open311 报告人)"),
    purpose=_("Register the report as a matter; the matter keeps the name and phone from then on."),
    legal_basis=_("PIPL art. 13(1)3 and 13(1)5: public duties and matters of public interest"),
    model="cases.Intake",
    fields=REPORTER_FIELDS,
    seen_masked_by=_("Community staff and above who place reports by hand"),
    reveal_roles=dict.fromkeys(REPORTER_FIELDS, INTAKE_REVEAL_ROLES),
    retention_basis=_("until registered (seconds); then as the matter"),
    path_of=_intake_path,
    label_of=lambda intake: intake.tracking_code,
))
