"""Residents' records in the register of processing activities, and their retention.

The reveal of a resident's ID number or phone is the residents' own
(services.py `resident_reveal`, logged in AccessLog); this declares it to the
register (grid/privacy) and anonymises the records of residents who moved out or
died, RESIDENT_RETENTION_DAYS_AFTER_LEAVING after they left. The row stays (its
household, gender, birth year, status and dates keep the figures right); the
name, ID number, phone, birth day, registered address and note go.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models.functions import TruncYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grid.privacy.registry import Activity, register
from grid.privacy.services import anonymise_in_batches

from .models import Resident, ResidentStatus
from .selectors import REVEAL_ROLES, RESIDENT_ROLES

# What an anonymised resident is called (data, not a label: the same in every language).
ANONYMISED_NAME = "已匿名"
LEFT = (ResidentStatus.MOVED_OUT, ResidentStatus.DECEASED)


def expired_residents(now):
    cutoff = timezone.localdate(now) - timedelta(days=settings.RESIDENT_RETENTION_DAYS_AFTER_LEAVING)
    return Resident.objects.filter(status__in=LEFT, left_on__lt=cutoff, anonymised_at__isnull=True)


def anonymise_residents(now, batch_size):
    return anonymise_in_batches(expired_residents(now), batch_size=batch_size, values={
        "name": ANONYMISED_NAME, "id_number": None, "id_index": None, "id_masked": "",
        "phone": None, "phone_index": None, "phone_masked": "", "registered_address": "", "note": "",
        "birth_date": TruncYear("birth_date"), "anonymised_at": now,
    })


register(Activity(
    key="residents.resident",
    title=_("Residents (居民信息)"),
    purpose=_("Basic information collection (基础信息采集), care visits, services and notices for the people "
              "living in the grid."),
    legal_basis=_("PIPL art. 13(1)3: public duties of the community; sensitive data under art. 28-29"),
    model="residents.Resident",
    fields=("name", "id_number", "phone", "birth_date", "registered_address"),
    seen_masked_by=tuple(RESIDENT_ROLES),
    reveal_roles={k.value: v for k, v in REVEAL_ROLES.items()},
    own_reveal=True,
    retention_setting="RESIDENT_RETENTION_DAYS_AFTER_LEAVING",
    retention_basis=_("days after moving out or death; kept while living here"),
    expired=expired_residents,
    anonymise=anonymise_residents,
    indexed=("id_number", "phone"),
    masked_as={"id_number": "id_masked"},
))
