"""The working calendar's tables. They were created by the cases app and keep its
table names (cases_workingperiod, cases_calendarday): the models moved here
without touching the database (see migrations/0001_initial.py)."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class TimeUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")
    # Emergencies run on the clock, nights and holidays included.
    HOURS = "hours", _("hours (round the clock)")
    MINUTES = "minutes", _("minutes (round the clock)")


class WorkingPeriod(models.Model):
    """One period of the working day (e.g. 08:30–12:00); every working day has them all."""

    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"))

    class Meta:
        db_table = "cases_workingperiod"
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        ordering = ["starts"]
        constraints = [
            models.CheckConstraint(condition=Q(starts__lt=F("ends")), name="working_period_starts_before_end"),
            models.UniqueConstraint(fields=["starts"], name="working_period_unique_start"),
        ]

    def __str__(self):
        return f"{self.starts:%H:%M}–{self.ends:%H:%M}"


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday (no work)")
    WORKDAY = "workday", _("Working day in exchange (调休)")


class DaySource(models.TextChoices):
    """Who keeps a calendar day: `manage.py sync_holidays` follows the package for its
    own rows; a row entered or edited by staff is never changed or removed by it."""

    PACKAGE = "package", _("chinese-calendar package")
    STAFF = "staff", _("entered by staff")


class CalendarDay(models.Model):
    """An exception to "Monday to Friday are working days": a holiday or a 调休 day."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=40, blank=True)
    # The database default too: a row written any other way than by the sync is staff's.
    source = models.CharField(_("source"), max_length=10, choices=DaySource.choices, default=DaySource.STAFF,
                              db_default=DaySource.STAFF)

    class Meta:
        db_table = "cases_calendarday"
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DayKind.values), name="calendar_day_kind_known"),
            models.CheckConstraint(condition=Q(source__in=DaySource.values), name="calendar_day_source_known"),
        ]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()
