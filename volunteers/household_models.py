"""The households' points card (社会治理积分卡), kept on the volunteers' ledger.

A household's points live in an `Account` of kind "household" beside the
volunteers' accounts: awards come from the community's issuing account,
redemptions go to its redemption account, and the same triggers and check
constraints keep the books balanced and the balance never negative. What the
ledger does not say — which aspect of the card, the reason and the evidence,
and which event earned the points — is a `HouseholdEntry` written in the same
transaction, one per ledger transaction.

Sources: Hongya's card (seven aspects, 100 points a year) and Xi'an's
"事事可积分、处处能积分" (issue #23); the aspects are configured per district.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grid.models import Area, AreaKind

# The seven aspects of Hongya's card, seeded for a district on first use.
DEFAULT_ASPECTS = ("遵纪守法", "移风易俗", "环境卫生", "垃圾分类", "邻里互助", "参与议事", "志愿服务")
# The aspects automatic entries book to (created with the defaults, reactivated if needed).
PARTICIPATION_ASPECT = "参与议事"
VOLUNTEERING_ASPECT = "志愿服务"


class PointsAspect(models.Model):
    """An aspect of the points card (遵纪守法, 垃圾分类…), configured per district."""

    district = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"),
                                 limit_choices_to={"kind": AreaKind.DISTRICT})
    name = models.CharField(_("name"), max_length=40)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("points card aspect")
        verbose_name_plural = _("points card aspects")
        ordering = ["district_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="aspect_name_unique_in_district"),
            models.CheckConstraint(condition=~Q(name=""), name="aspect_named"),
        ]

    def __str__(self):
        return self.name


class HouseholdPointsSettings(models.Model):
    """A community's choices about its households' cards."""

    community = models.OneToOneField(Area, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("community"), limit_choices_to={"kind": AreaKind.COMMUNITY})
    stars_on_boards = models.BooleanField(
        _("show households' stars on the notice boards"), default=False,
        help_text=_("Star ratings only, room numbers masked, never a score."))

    class Meta:
        verbose_name = _("household points settings")
        verbose_name_plural = _("household points settings")

    def __str__(self):
        return str(self.community)


class HouseholdEntry(models.Model):
    """One line of a household's card: the aspect, the points, why, and what earned them.

    Written with its ledger transaction; never edited (a wrong entry is
    reversed on the ledger). `source_key` names the event an automatic entry
    comes from ("participation.support:12"): unique, so an event credits once.
    """

    transaction = models.OneToOneField("volunteers.LedgerTransaction", on_delete=models.PROTECT,
                                       related_name="household_entry", verbose_name=_("transaction"))
    household = models.ForeignKey("residents.Household", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("household"))
    community = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"),
                                  db_index=False)
    aspect = models.ForeignKey(PointsAspect, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("aspect"))
    points = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=200)
    evidence = models.ImageField(_("evidence photo"), upload_to="points/%Y/%m/", blank=True)
    source_key = models.CharField(_("source"), max_length=80, null=True, blank=True, unique=True)
    year = models.PositiveSmallIntegerField(_("year"))
    at = models.DateTimeField(_("at"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"), db_index=False)

    class Meta:
        verbose_name = _("household points entry")
        verbose_name_plural = _("household points entries")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="household_entry_has_reason"),
            models.CheckConstraint(condition=~Q(points=0), name="household_entry_points_not_zero"),
        ]
        indexes = [
            models.Index(fields=["household", "year"], name="household_entry_year"),
            models.Index(fields=["community", "year"], name="household_entry_community"),
        ]

    def __str__(self):
        return f"{self.points:+d} {self.reason}"


class HouseholdYear(models.Model):
    """A household's closed year: what it earned and spent, and the balance that was reset."""

    household = models.ForeignKey("residents.Household", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("household"))
    community = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("community"),
                                  db_index=False)
    year = models.PositiveSmallIntegerField(_("year"))
    earned = models.BigIntegerField(_("earned"))
    spent = models.BigIntegerField(_("spent"))
    closing_balance = models.BigIntegerField(_("balance at the end of the year"))
    reset = models.OneToOneField("volunteers.LedgerTransaction", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("reset transaction"))
    archived_at = models.DateTimeField(_("archived at"))

    class Meta:
        verbose_name = _("household points year")
        verbose_name_plural = _("household points years")
        ordering = ["-year", "household_id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "year"], name="household_year_archived_once"),
            models.CheckConstraint(condition=Q(closing_balance__gte=0), name="household_year_balance_not_negative"),
        ]

    def __str__(self):
        return f"{self.household} {self.year}"
