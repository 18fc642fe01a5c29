"""The hotline side of a 12345 matter: its work-order number, the reply sent back (回单),
a hand-back (退单) and the hotline's follow-up call (回访).

One row per hotline case. Orders pushed by the hotline system carry the client
(an Open311 API client marked as a hotline); orders staff typed in by hand on
the hotline page get their row when the first reply or hand-back is recorded.
The work-order number is unique: a second push of the same number answers
the first order and writes nothing.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class VisitResult(models.TextChoices):
    """What the caller said on the hotline's follow-up call (满意率 counts the first two)."""

    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY = "basically", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Not satisfied")
    UNREACHED = "unreached", _("Caller not reached")


class HotlineOrder(models.Model):
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="hotline_order",
                                verbose_name=_("case"))
    order_number = models.CharField(_("work-order number"), max_length=64, unique=True)
    client = models.ForeignKey("open311.ApiClient", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="hotline_orders", verbose_name=_("hotline system"))
    received_at = models.DateTimeField(_("received at"))
    return_due_at = models.DateTimeField(_("may be handed back until"))
    reply_text = models.TextField(_("reply (回单)"), blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("replied by"))
    return_reason = models.TextField(_("hand-back reason (退单)"), blank=True)
    returned_at = models.DateTimeField(_("handed back at"), null=True, blank=True)
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("handed back by"))
    visit_result = models.CharField(_("follow-up call (回访)"), max_length=12, choices=VisitResult.choices,
                                    blank=True)
    visit_note = models.TextField(_("follow-up note"), blank=True)
    visited_at = models.DateTimeField(_("called back at"), null=True, blank=True)

    class Meta:
        verbose_name = _("12345 work order")
        verbose_name_plural = _("12345 work orders")
        ordering = ["-received_at", "-id"]
        indexes = [
            # Fetching replies: a client's orders replied since a moment.
            models.Index(fields=["client", "replied_at"], name="hotline_client_replied",
                         condition=Q(replied_at__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(order_number=""), name="hotline_order_number_not_blank"),
            models.CheckConstraint(condition=Q(return_due_at__gte=models.F("received_at")),
                                   name="hotline_window_after_receipt"),
            models.CheckConstraint(
                name="hotline_reply_has_time",
                condition=Q(reply_text="", replied_at__isnull=True) | (~Q(reply_text="") & Q(replied_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="hotline_return_has_reason",
                condition=Q(return_reason="", returned_at__isnull=True)
                | (~Q(return_reason="") & Q(returned_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="hotline_visit_has_result",
                condition=Q(visit_result="", visited_at__isnull=True)
                | (Q(visit_result__in=VisitResult.values) & Q(visited_at__isnull=False)),
            ),
        ]

    def __str__(self):
        return self.order_number
