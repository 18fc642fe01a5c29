"""Dashboard rollups (统计汇总): case figures summed per place and report day.

Rows at three grains (`Grain`), each summing the cases reported on one day
(Asia/Shanghai) as they stand now: per community, per street, and per district
and kind of case (top category, 三事分流 class, channel). A city page reads
the street rows (a hundred streets, not thousands of communities), a street
page the community rows. Grids are left out on purpose: a grid sees a handful
of cases a day, so grid rows would be as many as the cases themselves; a grid's
own dashboard reads the case table live through the (grid, created_at) index.

dashboards/rollups.py keeps the rows current from the case timeline (a Celery beat
task) and rebuilds them (`manage.py rebuild_rollups`). Nothing else writes them.

The tables were created by the cases app (migration cases 0005) and keep their
names (`db_table`): the models moved to the dashboards app, which alone reads
and writes them, without the database noticing (dashboards 0001).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grid.models import path_fk

# The measure columns, each a count (or sum) over the bucket's cases (dashboards/figures.py CONDITIONS, SUMS).
MEASURE_NAMES = (
    "reported", "valid", "registered", "deferred", "open", "closed", "on_time", "late", "reworked", "handled",
    "extended", "first_time", "supervised", "escalated", "rated", "satisfied", "working_minutes",
    "solved_grid", "solved_community", "solved_above",
)
# Handling-time histogram: closed within this many WORKING hours of the report (Case.handling_minutes).
HANDLING_BOUNDS = (2, 8, 24, 48, 72, 120, 168, 360)
WITHIN = tuple(f"within_{h}h" for h in HANDLING_BOUNDS)


class Grain(models.TextChoices):
    """How finely a rollup row cuts the cases."""

    # (community, day): street and community pages, and their children.
    COMMUNITY = "community", _("community and day")
    # (street, day): the same figures summed per street, for district and city pages.
    STREET = "street", _("street and day")
    # (district, day, top category, triage class, channel): the breakdowns of district and city pages.
    FACET = "facet", _("district, day, category and channel")
    # (district, day, handler): the handler rankings of district and city pages.
    HANDLER = "handler", _("district, day and handler")


class CaseRollup(models.Model):
    """Case counts of one place and one report day (and, at the facet grain, one kind of case)."""

    grain = models.CharField(_("grain"), max_length=10, choices=Grain.choices)
    # The deepest stored ancestor at this grain (community, else street, else district).
    place = path_fk(_("place"), null=False)
    district = path_fk(_("district"), null=False)
    street = path_fk(_("street"))
    community = path_fk(_("community"))
    day = models.DateField(_("day"))
    # Facet grain only: the top-level category, its 三事分流 class and the channel.
    category = models.ForeignKey("cases.Category", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("category"), db_index=False)
    triage = models.CharField(_("triage class"), max_length=10, blank=True)
    channel = models.CharField(_("channel"), max_length=12, blank=True)
    # Handler grain only: who resolved the cases (None: not resolved).
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("handler"), db_index=False)

    reported = models.PositiveIntegerField(_("reported"), default=0)
    valid = models.PositiveIntegerField(_("valid"), default=0)
    registered = models.PositiveIntegerField(_("registered"), default=0)
    deferred = models.PositiveIntegerField(_("deferred"), default=0)
    open = models.PositiveIntegerField(_("open"), default=0)
    closed = models.PositiveIntegerField(_("closed"), default=0)
    on_time = models.PositiveIntegerField(_("closed on time"), default=0)
    late = models.PositiveIntegerField(_("resolved late"), default=0)
    reworked = models.PositiveIntegerField(_("reworked"), default=0)
    handled = models.PositiveIntegerField(_("resolved at least once"), default=0)
    extended = models.PositiveIntegerField(_("extended"), default=0)
    first_time = models.PositiveIntegerField(_("closed without rework"), default=0)
    supervised = models.PositiveIntegerField(_("supervised"), default=0)
    escalated = models.PositiveIntegerField(_("escalated"), default=0)
    rated = models.PositiveIntegerField(_("ratings"), default=0)
    satisfied = models.PositiveIntegerField(_("satisfied ratings"), default=0)
    working_minutes = models.BigIntegerField(_("handling time (working minutes)"), default=0)
    solved_grid = models.PositiveIntegerField(_("solved in the grid"), default=0)
    solved_community = models.PositiveIntegerField(_("solved in the community"), default=0)
    solved_above = models.PositiveIntegerField(_("solved above the community"), default=0)
    within_2h = models.PositiveIntegerField(default=0)
    within_8h = models.PositiveIntegerField(default=0)
    within_24h = models.PositiveIntegerField(default=0)
    within_48h = models.PositiveIntegerField(default=0)
    within_72h = models.PositiveIntegerField(default=0)
    within_120h = models.PositiveIntegerField(default=0)
    within_168h = models.PositiveIntegerField(default=0)
    within_360h = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "cases_caserollup"
        verbose_name = _("case rollup")
        verbose_name_plural = _("case rollups")
        indexes = [
            models.Index(fields=["grain", "district", "day"], name="case_rollup_district_day"),
            models.Index(fields=["grain", "street", "day"], name="case_rollup_street_day"),
            models.Index(fields=["grain", "community", "day"], name="case_rollup_community_day"),
            models.Index(fields=["grain", "day"], name="case_rollup_day"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(grain__in=Grain.values), name="case_rollup_grain_known"),
            models.UniqueConstraint(fields=["grain", "place", "day"],
                                    condition=Q(grain__in=[Grain.COMMUNITY, Grain.STREET]),
                                    name="case_rollup_one_per_place_day"),
            models.UniqueConstraint(fields=["place", "day", "category", "triage", "channel"],
                                    condition=Q(grain=Grain.FACET), name="case_rollup_one_per_facet_day"),
            models.UniqueConstraint(fields=["place", "day", "handler"], condition=Q(grain=Grain.HANDLER),
                                    name="case_rollup_one_per_handler_day"),
            models.CheckConstraint(
                condition=Q(grain=Grain.FACET, category__isnull=False) | (~Q(grain=Grain.FACET)
                                                                         & Q(category__isnull=True, channel="")),
                name="case_rollup_facet_has_category",
            ),
            models.CheckConstraint(condition=Q(grain=Grain.HANDLER) | Q(handler__isnull=True),
                                   name="case_rollup_handler_only_at_handler_grain"),
            models.CheckConstraint(condition=Q(valid__lte=models.F("reported")), name="case_rollup_valid_le_reported"),
            models.CheckConstraint(condition=Q(on_time__lte=models.F("closed")), name="case_rollup_on_time_le_closed"),
            models.CheckConstraint(condition=Q(satisfied__lte=models.F("rated")),
                                   name="case_rollup_satisfied_le_rated"),
            models.CheckConstraint(condition=Q(registered__lte=models.F("valid")),
                                   name="case_rollup_registered_le_valid"),
        ]

    def __str__(self):
        return f"{self.place_id} {self.day}"


class RollupState(models.Model):
    """The single row whose lock serialises refreshes and rebuilds, and says when they last ran."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)
    rebuilt_at = models.DateTimeField(_("rebuilt at"), null=True, blank=True)

    class Meta:
        db_table = "cases_rollupstate"
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup state")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="rollup_state_single_row")]


class RollupBacklog(models.Model):
    """A case whose timeline grew since the rollups last read it (待汇总).

    Written by the database alone: a trigger on the timeline table (cases_caseevent)
    adds a row for each new event's case IN THE SAME TRANSACTION as the event
    (migration dashboards 0002), so a row becomes visible exactly when its event
    commits, however long the writer's transaction stays open. `rollups_refresh`
    deletes the rows it reads (DELETE … RETURNING) and recomputes their cases'
    buckets, so no watermark can pass an uncommitted event. A case appears once
    per statement that wrote its events; repeats are merged when read.

    No foreign key: the trigger's insert stays one index entry, and the cases app
    knows nothing of this table.
    """

    id = models.BigAutoField(primary_key=True)
    case_id = models.BigIntegerField(_("case"))

    class Meta:
        verbose_name = _("rollup backlog entry")
        verbose_name_plural = _("rollup backlog")
