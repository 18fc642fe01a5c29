"""The names and phones of residents who order a volunteer (下单): how they are kept,
who may reveal them, how long they stay (grid/privacy registers these).

Kept as the residents' phones are (portal/personal.py): encrypted, a masked copy
for lists and the admin, the full value only by a logged reveal with a reason:
for the volunteer who took the order (they must call at the door) while it is
theirs to do, and for community staff and grid workers of its place. A set time
after the order was confirmed (PERSONAL_DATA_RETENTION_DAYS) they are erased;
the order, its points and hours stay.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grid.models import Role
from grid.privacy.registry import Activity, register
from grid.privacy.services import anonymise_in_batches
from portal.personal import name_and_phone_columns

from .models import Order

CONTACT_FIELDS = ("contact_name", "contact_phone")
CONTACT_REVEAL_ROLES = (Role.GRID_WORKER, Role.COMMUNITY_STAFF)
# The volunteer who claimed it may call while the service is theirs to do.
CLAIMER_STATUSES = (Order.Status.CLAIMED, Order.Status.DONE)


def contact_columns(*, name, phone):
    return name_and_phone_columns(name_field="contact_name", phone_field="contact_phone", name=name, phone=phone)


def claimer_may_reveal(user, order):
    if order.status not in CLAIMER_STATUSES or order.claimed_by_id is None:
        return False
    return Order.objects.filter(pk=order.pk, claimed_by__user=user, status__in=CLAIMER_STATUSES).exists()


def expired_contacts(now):
    """Orders ended before the period whose contact is still on record.

    Confirmed orders count from the confirmation; cancelled ones, which carry no
    date of their own, from when they were placed.
    """
    cutoff = now - timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)
    ended = (Q(status=Order.Status.CONFIRMED, confirmed_at__lt=cutoff)
             | Q(status=Order.Status.CANCELLED, placed_at__lt=cutoff))
    return Order.objects.filter(ended, Q(contact_name__isnull=False) | Q(contact_phone__isnull=False),
                                contact_erased_at__isnull=True)


def anonymise_contacts(now, batch_size):
    return anonymise_in_batches(expired_contacts(now), batch_size=batch_size, values={
        "contact_name": None, "contact_name_masked": "", "contact_phone": None, "contact_phone_masked": "",
        "contact_erased_at": now,
    })


register(Activity(
    key="volunteers.orderer",
    title=_("Residents who order a volunteer (下单居民)"),
    purpose=_("Let the volunteer who takes the order reach the resident at the door, and staff follow it up."),
    legal_basis=_("PIPL art. 13(1)2: needed for the service the resident asks for"),
    model="volunteers.Order",
    fields=CONTACT_FIELDS,
    seen_masked_by=_("Staff and grid workers of the order's place; volunteers offered or holding the order"),
    reveal_roles=dict.fromkeys(CONTACT_FIELDS, CONTACT_REVEAL_ROLES),
    also_revealed_by=claimer_may_reveal,
    also_revealed_by_text=_("the volunteer who took the order, until it is confirmed"),
    retention_setting="PERSONAL_DATA_RETENTION_DAYS",
    retention_basis=_("days after the order is confirmed (cancelled: after it was placed)"),
    expired=expired_contacts,
    anonymise=anonymise_contacts,
    label_of=lambda order: order.tracking_code,
))
