"""风险隐患台账 (the risk register) and 巡查日志 (the grid worker's patrol log).

A risk hangs on a place: a building or a unit of one (then its grid's path is
stored), or a grid, community or street with no building. The path columns are
PlacePath's, so grid/services.py carries risks along when places move, merge or
split, like every row on a place path.

Its grade is written only by a reassessment (risks/services.py
`risk_reassess`), and every assessment is kept (RiskAssessment, append-only in
the database). Writes go through risks/services.py only; nothing is deleted.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from grid.models import Area, Building, PlacePath, Unit

from .grading import COLOURS, Grade, Method


class RiskType(models.TextChoices):
    """What kind of risk (from the field reports and the hazard case categories)."""

    FIRE_LANE = "fire_lane", _("blocked fire lane")
    EBIKE = "ebike", _("e-bike charged indoors")
    GAS = "gas", _("gas")
    DANGEROUS_BUILDING = "dangerous_building", _("dangerous building")
    FALLING_OBJECTS = "falling_objects", _("falling objects")
    GEOLOGICAL = "geological", _("geological hazard")
    GROUP_CONFLICT = "group_conflict", _("group conflict")
    KEY_PERSON = "key_person", _("key person")
    OTHER = "other", _("other")


class RiskStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("risk status", "open")
    CLOSED = "closed", _("closed (written off)")


class Risk(PlacePath):
    """One risk or hidden hazard (风险隐患), with its 定人定责定措施."""

    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True, related_name="risks",
                                 verbose_name=_("building"))
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="risks",
                             verbose_name=_("unit"))
    kind = models.CharField(_("type"), max_length=20, choices=RiskType.choices)
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"))
    # The current assessment, copied from the latest RiskAssessment by risk_reassess only.
    method = models.CharField(_("method"), max_length=6, choices=Method.choices)
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=2)
    grade = models.CharField(_("grade"), max_length=7, choices=Grade.choices)
    assessed_at = models.DateTimeField(_("assessed at"))
    # 定人定责定措施
    responsible = models.CharField(_("responsible person or organisation"), max_length=100)
    responsible_phone = models.CharField(_("responsible's phone"), max_length=20, blank=True)
    measures = models.TextField(_("control measures"))
    review_on = models.DateField(_("next review"), help_text=_("Set by the grade's re-inspection interval."))
    # Set by the sweep (risks/tasks.py) once `review_on` has passed; cleared by a reassessment.
    review_overdue_since = models.DateTimeField(_("review overdue since"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=6, choices=RiskStatus.choices, default=RiskStatus.OPEN)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("linked case"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("registered by"))
    created_at = models.DateTimeField(_("registered at"))
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("closed by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_evidence = models.TextField(_("evidence of the close"), blank=True)

    class Meta:
        verbose_name = _("risk")
        verbose_name_plural = _("risks")
        ordering = ["grade", "review_on", "id"]
        indexes = [
            # The register of a community or grid, open first; the sweep's overdue reviews.
            models.Index(fields=["community", "status", "grade"], name="risk_community_status_grade"),
            models.Index(fields=["grid", "status", "review_on"], name="risk_grid_status_review"),
            models.Index(fields=["review_on"], name="risk_review_due_open",
                         condition=Q(status="open", review_overdue_since__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(grade__in=Grade.values), name="risk_grade_known"),
            models.CheckConstraint(condition=Q(score__gt=0), name="risk_score_positive"),
            models.CheckConstraint(condition=Q(building__isnull=True) | Q(grid__isnull=False),
                                   name="risk_building_has_grid"),
            models.CheckConstraint(condition=Q(unit__isnull=True) | Q(building__isnull=False),
                                   name="risk_unit_has_building"),
            # 销号 only with evidence: a closed risk has who, when and the evidence.
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | (Q(status="closed", closed_at__isnull=False, closed_by__isnull=False) & ~Q(close_evidence="")),
                name="risk_closed_with_evidence",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}：{self.title}"

    @property
    def place(self):
        """The deepest place on the path (the grid of a building's risk)."""
        return self.grid or self.community or self.street or self.district

    @property
    def colour(self):
        return COLOURS[Grade(self.grade)]


class MatrixBands(models.Model):
    """A district's own bands of the risk matrix (R = L × S, 1–25), where it follows another published
    matrix than the portal's default (risks/grading.py MATRIX_BANDS). A score takes the highest grade
    whose lower edge it reaches; blue is everything below yellow. Used from the next assessment on:
    grades already given stay until a reassessment. Written by risks/bands.py `matrix_bands_set` only."""

    district = models.OneToOneField(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"),
                                    limit_choices_to={"kind": "district"})
    yellow_from = models.PositiveSmallIntegerField(_("general (yellow) from R ="))
    orange_from = models.PositiveSmallIntegerField(_("significant (orange) from R ="))
    red_from = models.PositiveSmallIntegerField(_("major (red) from R ="))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("changed by"))
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("risk matrix bands")
        verbose_name_plural = _("risk matrix bands")
        ordering = ["district_id"]
        constraints = [
            # Monotonic and inside 1–25, each band at least one score wide: the four cover the whole range.
            models.CheckConstraint(
                condition=Q(yellow_from__gte=2, orange_from__gt=F("yellow_from"), red_from__gt=F("orange_from"),
                            red_from__lte=25),
                name="matrixbands_monotonic_in_range"),
        ]

    def __str__(self):
        return f"{self.district}: {self.yellow_from}/{self.orange_from}/{self.red_from}"

    @property
    def edges(self):
        return (self.yellow_from, self.orange_from, self.red_from)


class RiskAssessment(models.Model):
    """One (re)assessment of a risk: the scores, the grade they give, and the review it sets. Append-only."""

    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("risk"))
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+",
                           verbose_name=_("by"))
    method = models.CharField(_("method"), max_length=6, choices=Method.choices)
    likelihood = models.DecimalField(_("likelihood (L)"), max_digits=4, decimal_places=1)
    exposure = models.DecimalField(_("exposure (E)"), max_digits=4, decimal_places=1, null=True, blank=True)
    severity = models.DecimalField(_("severity (S or C)"), max_digits=4, decimal_places=1)
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=2)
    grade = models.CharField(_("grade"), max_length=7, choices=Grade.choices)
    previous_grade = models.CharField(_("previous grade"), max_length=7, choices=Grade.choices, blank=True)
    review_on = models.DateField(_("next review"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["risk", "at"], name="riskassessment_risk_at")]

    def __str__(self):
        return f"{self.risk_id} {timezone.localtime(self.at):%Y-%m-%d} {self.get_grade_display()}"

    @property
    def colour(self):
        return COLOURS[Grade(self.grade)]


class PhotoStage(models.TextChoices):
    FOUND = "found", _("as found")
    CLOSE = "close", _("evidence of the close")
    BEFORE = "before", _("before")
    AFTER = "after", _("after")


class RiskPhoto(models.Model):
    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, related_name="photos", verbose_name=_("risk"))
    stage = models.CharField(_("stage"), max_length=6, choices=PhotoStage.choices)
    image = models.ImageField(_("photo"), upload_to="risks/%Y/%m/")
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("risk photo")
        verbose_name_plural = _("risk photos")
        ordering = ["uploaded_at", "id"]


class Patrol(models.Model):
    """巡查日志: one round of a grid worker in her grid, from start to end.

    Route points are kept only when the worker consents for this patrol, only
    here, and are shown to nobody but staff over the grid (never to residents).
    Points far outside the grid are kept but flagged.
    """

    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patrols",
                               verbose_name=_("grid worker"))
    grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="patrols", verbose_name=_("grid"),
                             limit_choices_to={"kind": "grid"})
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    track_consent = models.BooleanField(_("location recorded with consent"), default=False)
    route = models.JSONField(_("route points"), default=list, blank=True)
    route_flagged = models.BooleanField(_("route points outside the grid"), default=False)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["grid", "started_at"], name="patrol_grid_started")]
        constraints = [
            models.CheckConstraint(condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                                   name="patrol_ends_after_start"),
            models.UniqueConstraint(fields=["worker"], condition=Q(ended_at__isnull=True),
                                    name="patrol_one_open_per_worker"),
        ]

    def __str__(self):
        return f"{self.grid} {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"


class InspectionPlan(models.Model):
    """巡查计划: one recurring inspection in a grid (a building, or the grid's round) every N days.

    The worker's day lists the plans due; she ticks one done on a patrol in its
    grid, which sets the next due date (risks/plans.py).
    """

    grid = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"),
                             limit_choices_to={"kind": "grid"})
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("building"))
    title = models.CharField(_("what to inspect"), max_length=80)
    interval_days = models.PositiveIntegerField(_("every (days)"))
    next_due = models.DateField(_("next due"))
    last_done_at = models.DateTimeField(_("last done"), null=True, blank=True)
    last_patrol = models.ForeignKey(Patrol, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("last done on patrol"))
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("planned by"))
    created_at = models.DateTimeField(_("planned at"))

    class Meta:
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        ordering = ["next_due", "id"]
        indexes = [models.Index(fields=["grid", "active", "next_due"], name="plan_grid_due")]
        constraints = [
            models.CheckConstraint(condition=Q(interval_days__gte=1, interval_days__lte=366),
                                   name="plan_interval_1_to_366"),
        ]

    def __str__(self):
        return self.title


class FindingKind(models.TextChoices):
    RISK_NEW = "risk_new", _("a new risk")
    RISK_REVIEWED = "risk_review", _("a risk reviewed")
    CASE = "case", _("a case")
    FIXED = "fixed", _("fixed on the spot")


class Finding(models.Model):
    """What a patrol found. A problem fixed on the spot (即时处置) is closed here and then, with
    its before and after photos, and is counted apart: it never becomes a case to sign for."""

    patrol = models.ForeignKey(Patrol, on_delete=models.PROTECT, related_name="findings", verbose_name=_("patrol"))
    kind = models.CharField(_("kind"), max_length=11, choices=FindingKind.choices)
    at = models.DateTimeField(_("at"))
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("building"))
    description = models.TextField(_("description"))
    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, null=True, blank=True, related_name="findings",
                             verbose_name=_("risk"))
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("case"))
    before = models.ImageField(_("photo before"), upload_to="patrols/%Y/%m/", blank=True)
    after = models.ImageField(_("photo after"), upload_to="patrols/%Y/%m/", blank=True)

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="fixed") | (~Q(before="") & ~Q(after="")), name="finding_fixed_has_photos"),
            models.CheckConstraint(
                condition=~Q(kind__in=["risk_new", "risk_review"]) | Q(risk__isnull=False),
                name="finding_risk_names_risk"),
            models.CheckConstraint(condition=~Q(kind="case") | Q(case__isnull=False), name="finding_case_names_case"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {timezone.localtime(self.at):%H:%M}"


# --- early warning (预测预警) ----------------------------------------------------------

class WarningRuleKind(models.TextChoices):
    """The rules the warning sweep runs (risks/early_warning.py; the case rule in hub/warning_rules.py)."""

    REVIEW_OVERDUE = "review_overdue", _("a red or orange risk past its review")
    RISK_CLUSTER = "risk_cluster", _("risks of one type in one grid")
    CASE_REPEAT = "case_repeat", _("the same kind of case at one building")
    GRID_OVERDUE = "grid_overdue", _("a grid with many overdue cases")
    REPORT_RISE = "report_rise", _("resident reports rising against last year")
    KEY_PERSON_VISIT = "key_person_visit", _("a key person's visit overdue")


class WarningRule(models.Model):
    """One rule's thresholds for one district (its settings); no district: the city's default.

    `threshold` is N: how many risks (risk_cluster) or cases (case_repeat) within
    `window_days`, or how many days past its review date a red or orange risk
    may go (review_overdue, which has no window). report_rise: at least N
    resident reports of one category in a community within the last
    `window_days`, and `growth_percent` more than in the same weeks a year
    before. key_person_visit: N days without a visit to a key person (no
    window). Zero is refused by the database.
    """

    district = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("district"), limit_choices_to={"kind": "district"})
    kind = models.CharField(_("rule"), max_length=20, choices=WarningRuleKind.choices)
    threshold = models.PositiveIntegerField(_("threshold"))
    window_days = models.PositiveIntegerField(_("within days"), default=30)
    growth_percent = models.PositiveIntegerField(
        _("growth over last year (%)"), null=True, blank=True,
        help_text=_("report_rise only: how much more than in the same weeks last year (50 = half as many again)."))
    enabled = models.BooleanField(_("enabled"), default=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("changed by"))
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("warning rule")
        verbose_name_plural = _("warning rules")
        ordering = ["district_id", "kind"]
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gte=1), name="warningrule_threshold_positive"),
            models.CheckConstraint(condition=Q(window_days__gte=1), name="warningrule_window_positive"),
            models.CheckConstraint(condition=Q(growth_percent__isnull=True) | Q(growth_percent__gte=1),
                                   name="warningrule_growth_positive"),
            models.CheckConstraint(condition=Q(kind__in=WarningRuleKind.values), name="warningrule_kind_known"),
            models.UniqueConstraint(fields=["district", "kind"], name="warningrule_one_per_district"),
            models.UniqueConstraint(fields=["kind"], condition=Q(district__isnull=True),
                                    name="warningrule_one_default"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ≥ {self.threshold}"


class WarningStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("warning status", "open")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    ASSIGNED = "assigned", _("assigned to a case or a risk")
    DISMISSED = "dismissed", _("dismissed")


class EarlyWarning(PlacePath):
    """A warning a rule raised (预警), with the evidence behind it, for street and community staff.

    `evidence_key` names the evidence (the rule, what it is about and the newest
    item of the evidence): the database refuses a second warning with the same key,
    so the same evidence never raises a warning twice, however often or at once
    the sweep runs. One warning per subject stays open at a time.
    """

    rule = models.CharField(_("rule"), max_length=20, choices=WarningRuleKind.choices)
    subject = models.CharField(_("about"), max_length=80)
    evidence_key = models.CharField(_("evidence key"), max_length=120)
    title = models.CharField(_("title"), max_length=200)
    evidence = models.JSONField(_("evidence"), default=dict)
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("building"))
    risk = models.ForeignKey(Risk, on_delete=models.PROTECT, null=True, blank=True, related_name="warnings",
                             verbose_name=_("risk"))
    raised_at = models.DateTimeField(_("raised at"))
    notified_at = models.DateTimeField(_("staff notified at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=WarningStatus.choices, default=WarningStatus.OPEN)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("handled by"))
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    note = models.TextField(_("note or reason"), blank=True)
    # Assigned: the case opened for it, or the risk it was entered under (one of them).
    assigned_case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+", verbose_name=_("assigned to case"))
    assigned_risk = models.ForeignKey(Risk, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                      verbose_name=_("assigned to risk"))

    class Meta:
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["street", "status", "raised_at"], name="warning_street_status"),
            models.Index(fields=["community", "status", "raised_at"], name="warning_community_status"),
            models.Index(fields=["raised_at"], name="warning_to_notify", condition=Q(notified_at__isnull=True)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["evidence_key"], name="warning_evidence_once"),
            models.UniqueConstraint(fields=["rule", "subject"], condition=Q(status="open"),
                                    name="warning_one_open_per_subject"),
            models.CheckConstraint(condition=Q(status__in=WarningStatus.values), name="warning_status_known"),
            # Handled only by someone, at a time, with a note (acknowledged) or a reason (dismissed).
            models.CheckConstraint(
                condition=Q(status="open", handled_at__isnull=True)
                | (~Q(status="open") & Q(handled_at__isnull=False, handled_by__isnull=False) & ~Q(note="")),
                name="warning_handled_with_note"),
            models.CheckConstraint(
                condition=~Q(status="assigned") | Q(assigned_case__isnull=False) | Q(assigned_risk__isnull=False),
                name="warning_assigned_names_case_or_risk"),
        ]

    def __str__(self):
        return self.title


class WarningEvent(models.Model):
    """The log of what staff did with a warning (acknowledged with a note, dismissed with a reason)."""

    warning = models.ForeignKey(EarlyWarning, on_delete=models.PROTECT, related_name="events",
                                verbose_name=_("warning"))
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                           verbose_name=_("by"))
    action = models.CharField(_("action"), max_length=12, choices=WarningStatus.choices)
    note = models.TextField(_("note"))

    class Meta:
        verbose_name = _("warning event")
        verbose_name_plural = _("warning events")
        ordering = ["at", "id"]


# --- the grid worker's duties (十项基本职责) and 服务事项准入 ---------------------------------

class WorkKind(models.TextChoices):
    """What of a grid worker's work the monthly record counts (hub/work_record.py reads each)."""

    PATROL = "patrol", _("patrols")
    RISK_NEW = "risk_new", _("risks registered on patrol")
    RISK_REVIEW = "risk_review", _("risks reviewed on patrol")
    FIXED = "fixed", _("problems fixed on the spot")
    CASE_REPORTED = "case_reported", _("cases reported")
    CASE_RESOLVED = "case_resolved", _("cases resolved")
    CARE_VISIT = "care_visit", _("care visits")


class Duty(models.Model):
    """One of a district's basic duties of the grid worker (全科网格员十项基本职责), and the work counted
    toward it. No district: the portal's default list, used by districts without their own."""

    district = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("district"), limit_choices_to={"kind": "district"})
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("duty"), max_length=60)
    description = models.TextField(_("description"), blank=True)
    work_kinds = models.JSONField(_("work counted toward it"), default=list, blank=True)

    class Meta:
        verbose_name = _("grid worker's duty")
        verbose_name_plural = _("grid worker's duties")
        ordering = ["district_id", "number"]
        constraints = [
            models.CheckConstraint(condition=Q(number__gte=1, number__lte=20), name="duty_number_1_to_20"),
            models.UniqueConstraint(fields=["district", "number"], name="duty_number_once_per_district"),
            models.UniqueConstraint(fields=["number"], condition=Q(district__isnull=True),
                                    name="duty_number_once_by_default"),
        ]

    def __str__(self):
        return f"{self.number}. {self.name}"


class AdmittedService(models.Model):
    """服务事项准入: a matter a department may hand to the district's grid workers, admitted to its list
    on a date (and withdrawn on another). What is not on the list is not the grid worker's to do."""

    district = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"),
                                 limit_choices_to={"kind": "district"})
    name = models.CharField(_("matter"), max_length=100)
    department = models.CharField(_("department asking"), max_length=60)
    basis = models.CharField(_("basis (document)"), max_length=200)
    duty = models.ForeignKey(Duty, on_delete=models.PROTECT, null=True, blank=True, related_name="services",
                             verbose_name=_("counted under duty"))
    admitted_on = models.DateField(_("admitted on"))
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)

    class Meta:
        verbose_name = _("admitted service matter")
        verbose_name_plural = _("admitted service matters (准入清单)")
        ordering = ["district_id", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gte=F("admitted_on")),
                                   name="admittedservice_withdrawn_after_admitted"),
            models.UniqueConstraint(fields=["district", "name"], condition=Q(withdrawn_on__isnull=True),
                                    name="admittedservice_one_current_per_name"),
        ]

    def __str__(self):
        return self.name
