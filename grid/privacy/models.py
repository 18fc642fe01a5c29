"""个人信息查阅记录 for records outside the residents' (those have residents.AccessLog)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grid.models import path_fk


class PersonalDataAccess(models.Model):
    """Who saw whose name or phone on which record, why, and when.

    Written in the same transaction as the reveal it records (services.py
    `personal_reveal`); the database refuses UPDATE and DELETE. The record is
    named by its model label and id (a case, a received report, an order): the
    apps that own them sit above this one. The path is the record's at the
    time of the reveal, so staff above read the entry like the record itself;
    it is not moved with the tree (the row is history).
    """

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("by"))
    record_type = models.CharField(_("record type"), max_length=40)
    record_id = models.BigIntegerField(_("record"))
    record_label = models.CharField(_("record number"), max_length=40, blank=True)
    field = models.CharField(_("field"), max_length=40)
    reason = models.CharField(_("reason"), max_length=200)
    at = models.DateTimeField(_("at"))
    district = path_fk(_("district"))
    street = path_fk(_("street"))
    community = path_fk(_("community"))
    grid = path_fk(_("grid"))

    class Meta:
        verbose_name = _("personal data reveal")
        verbose_name_plural = _("personal data reveals (cases and orders)")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["community", "at"], name="pdaccess_community_at"),
            models.Index(fields=["street", "at"], name="pdaccess_street_at"),
            models.Index(fields=["district", "at"], name="pdaccess_district_at"),
            models.Index(fields=["actor", "at"], name="pdaccess_actor_at"),
            models.Index(fields=["record_type", "record_id"], name="pdaccess_record"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="pdaccess_reason_given"),
            models.CheckConstraint(condition=~Q(field=""), name="pdaccess_field_given"),
        ]

    def __str__(self):
        return f"{self.actor} {self.record_label or self.record_id} {timezone.localtime(self.at):%Y-%m-%d %H:%M}"
