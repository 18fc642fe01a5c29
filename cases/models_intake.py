"""Reports received from residents and not yet registered as cases (收件).

The public report page is the busiest write the portal has: in a storm or after
a 12345 campaign residents report faster than the case table (2 million rows,
13 indexes, a timeline row, a case number, routing and notifications per case)
can take them one request at a time. A report is therefore kept first as one
narrow row here, its tracking code handed back at once, and a worker registers
it into the case table moments later (cases/services_intake.py). The tracking
page shows such a report as "received" meanwhile.

Open311 filings take the same path (cases/open311/services.py): the client
gets a token at once and the case number once the row is registered.

A row lives here only until its case exists: registering it creates the case
with the same tracking code and deletes the row in one transaction. A row the
worker could not register (its place was merged, its category withdrawn in the
seconds between) stays, with the reason, for community staff to place by hand.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField

from grid.models import Area, Building

from .tracking import display_tracking_code


class Intake(models.Model):
    """One resident's report as received: what the form checked, nothing derived yet."""

    # Uniqueness is in Meta.constraints (one plain index, no pattern-ops twin).
    tracking_code = models.CharField(_("tracking code"), max_length=16)
    received_at = models.DateTimeField(_("received at"))
    # web, qr or open311 (residents' channels); the case keeps it.
    channel = models.CharField(_("channel"), max_length=12)
    category = models.ForeignKey("cases.Category", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("category"), db_index=False)
    # The building when the resident chose one (its grid is read when registering),
    # else the grid (for Open311, the community a key serves when only an address was given).
    # Never an index: the table holds seconds' worth of rows.
    grid = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("grid"), db_index=False)
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("building"), db_index=False)
    description = models.TextField(_("description"))
    # What a client system (Open311) sends besides: the address it gave, its point, its own reference
    # (the Open311 token). Empty for the report page.
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    external_ref = models.CharField(_("reference in the client system"), max_length=64, blank=True)
    # Personal data, kept as on the case (encrypted, masked copy, logged reveal): staff pages only.
    reporter_name = EncryptedCharField(_("reporter's name"), max_length=50, null=True, blank=True)
    reporter_name_masked = models.CharField(_("reporter's name"), max_length=50, blank=True, editable=False)
    reporter_phone = EncryptedCharField(_("reporter's phone"), max_length=20, null=True, blank=True)
    reporter_phone_masked = models.CharField(_("reporter's phone"), max_length=20, blank=True, editable=False)
    # Already checked and stripped of its EXIF block; the case's photo row will point at this file.
    photo = models.ImageField(_("photo"), upload_to="cases/%Y/%m/", blank=True)
    failed_at = models.DateTimeField(_("could not be registered at"), null=True, blank=True)
    failure = models.CharField(_("why it could not be registered"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("received report")
        verbose_name_plural = _("received reports")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["tracking_code"], name="intake_tracking_code_unique"),
            models.CheckConstraint(condition=Q(grid__isnull=False) | Q(building__isnull=False),
                                   name="intake_has_a_place"),
            models.CheckConstraint(condition=Q(channel__in=("web", "qr", "open311")),
                                   name="intake_residents_channel"),
            models.CheckConstraint(condition=Q(failed_at__isnull=True) | ~Q(failure=""),
                                   name="intake_failure_has_a_reason"),
        ]

    def __str__(self):
        return self.tracking_code

    @property
    def tracking_code_display(self):
        return display_tracking_code(self.tracking_code)


class EscalationNotice(models.Model):
    """What one batch of the escalation sweep moved, waiting to be worded as notifications.

    The sweep writes this one row in the batch's transaction instead of an outbox
    row per case and recipient (1.4 per case): a storm of 100,000 overdue cases
    moves in seconds, and a Celery task (on commit, and the outbox beat) turns
    each row into the deliveries and deletes it in one transaction, so a crash or
    a broker outage loses no message and sends none twice.
    """

    created_at = models.DateTimeField(_("escalated at"))
    reason = models.CharField(_("reason"), max_length=200)
    # [[case id, new level, the place at that level], ...]
    moved = models.JSONField(_("escalated cases"))

    class Meta:
        verbose_name = _("escalation notice")
        verbose_name_plural = _("escalation notices")
        ordering = ["id"]
