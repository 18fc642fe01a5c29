"""吹哨报到 ("the street blows the whistle, the departments report in").

A community or street blows the whistle on a matter and summons one or more
organisations (职能部门, utilities, 物业...). Each summoned organisation has its
own row with its own report-in deadline: it reports in (报到) by one of its
staff, stays on the matter until it closes ("事不完，人不撤"), and afterwards the
whistling place rates its response (评价权; Beijing's scheme counts the rating
in the department's annual assessment). A sweep marks the organisations that
did not report in by their deadline as no-shows; a no-show may still report in
late (it stays late: reported_in_at > due_at).

The moves of a summons are in the one transition table (cases/workflow.py);
the services are cases/whistles.py. The import runs one way: this module
imports nothing from cases.models.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from grid.models import Area, Organisation


class WhistleSituation(models.TextChoices):
    """The three situations in which a street blows the whistle (Pinggu, 2017)."""

    PRESSING = "pressing", _("A pressing problem the street cannot solve alone")
    ENFORCEMENT = "enforcement", _("Joint law enforcement")
    EMERGENCY = "emergency", _("Emergency (burst main, fire, ...)")


class Whistle(models.Model):
    """One whistle blown on a case by a community or street (吹哨)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="whistles",
                             verbose_name=_("case"))
    # The whistling place: the community or street on the case's path whose staff blew it.
    # It rates the summoned organisations once the case is closed.
    place = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("whistling place"))
    situation = models.CharField(_("situation"), max_length=12, choices=WhistleSituation.choices)
    urgent = models.BooleanField(_("urgent"), default=False)
    report_in_minutes = models.PositiveIntegerField(_("report in within (minutes)"))
    reason = models.TextField(_("why the whistle"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("blown by"))
    raised_at = models.DateTimeField(_("blown at"))

    class Meta:
        verbose_name = _("whistle (吹哨)")
        verbose_name_plural = _("whistles (吹哨)")
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["place", "raised_at"], name="whistle_place_raised")]
        constraints = [
            models.CheckConstraint(condition=Q(situation__in=WhistleSituation.values), name="whistle_situation_known"),
            models.CheckConstraint(condition=Q(report_in_minutes__gt=0), name="whistle_minutes_positive"),
        ]

    def __str__(self):
        return f"{self.case_id} · {timezone.localtime(self.raised_at):%Y-%m-%d %H:%M}"


class SummonsStatus(models.TextChoices):
    SUMMONED = "summoned", _("Summoned, not reported in")
    REPORTED_IN = "reported_in", _("Reported in (报到)")
    NO_SHOW = "no_show", _("Did not report in by the deadline")


class Summons(models.Model):
    """One organisation summoned by a whistle: its report-in deadline, report-in and rating."""

    Status = SummonsStatus

    whistle = models.ForeignKey(Whistle, on_delete=models.PROTECT, related_name="summons",
                                verbose_name=_("whistle"))
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="summons",
                                     verbose_name=_("organisation"))
    status = models.CharField(_("status"), max_length=12, choices=SummonsStatus.choices,
                              default=SummonsStatus.SUMMONED)
    due_at = models.DateTimeField(_("report in by"))
    reported_in_at = models.DateTimeField(_("reported in at"), null=True, blank=True)
    reported_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("reported in by"))
    report_note = models.CharField(_("report-in note"), max_length=200, blank=True)
    no_show_at = models.DateTimeField(_("marked no-show at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating of the response"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("rated by"))

    class Meta:
        verbose_name = _("summons (报到)")
        verbose_name_plural = _("summonses (报到)")
        ordering = ["whistle_id", "id"]
        indexes = [
            # The no-show sweep reads only the summonses still waiting.
            models.Index(fields=["due_at"], name="summons_waiting_due",
                         condition=Q(status=SummonsStatus.SUMMONED)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["whistle", "organisation"], name="summons_once_per_whistle"),
            models.CheckConstraint(condition=Q(status__in=SummonsStatus.values), name="summons_status_known"),
            models.CheckConstraint(
                name="summons_status_matches_times",
                condition=(
                    Q(status=SummonsStatus.SUMMONED, reported_in_at__isnull=True, no_show_at__isnull=True)
                    | Q(status=SummonsStatus.NO_SHOW, reported_in_at__isnull=True, no_show_at__isnull=False)
                    # A no-show that reported in late keeps its no_show_at.
                    | Q(status=SummonsStatus.REPORTED_IN, reported_in_at__isnull=False,
                        reported_in_by__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="summons_rating_1_to_5",
                condition=Q(rating__isnull=True, rated_at__isnull=True)
                | Q(rating__gte=1, rating__lte=5, rated_at__isnull=False),
            ),
            models.CheckConstraint(
                name="summons_no_show_after_due",
                condition=Q(no_show_at__isnull=True) | Q(no_show_at__gte=F("due_at")),
            ),
        ]

    def __str__(self):
        return f"{self.organisation_id} · {self.get_status_display()}"

    @property
    def is_late(self):
        return self.reported_in_at is not None and self.reported_in_at > self.due_at
