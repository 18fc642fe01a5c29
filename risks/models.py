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
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

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
    OPEN = "open", _("open")
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
        return f"{self.risk_id} {self.at:%Y-%m-%d} {self.get_grade_display()}"

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
        return f"{self.grid} {self.started_at:%Y-%m-%d %H:%M}"


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
        return f"{self.get_kind_display()} {self.at:%H:%M}"
