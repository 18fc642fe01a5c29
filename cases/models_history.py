"""What a case was promised and what its reporter said, kept as history (issue #18).

- `CaseDeadline` (时限记录): the first deadline each stage of a case was given
  (dispatch, accept, handle), every approved extension (延期) and every
  carry-over pause (挂账) that moved the deadline the matter is judged by.
  Case.deadline_at holds the resulting judged deadline (考核时限); it is derived
  from these rows by cases/deadlines.py in the same transaction as the
  transition that wrote them, and never from a level's fresh clock (`due_at`).
- `CaseRating` (回访评价): every rating a reporter gave. A reopen never erases
  one; Case.rating keeps the latest, Case.rating_count and
  Case.satisfied_count count them all for the dashboards.

Both tables are append-only in the database (triggers; cases migration 0013: on SQLite a later
migration that alters either table rebuilds it and must add the triggers again).
The module imports nothing from cases.models, which imports it at its end.
"""

from django.db import models
from django.utils import timezone
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.workcalendar.models import TimeUnit

# A rating of this or more is 满意 (5) or 基本满意 (4) on the 1–5 scale; 3 is 一般,
# 1–2 不满意. The 12345 and 数字城管 回访 count 满意 + 基本满意 as satisfied.
SATISFIED_MIN_RATING = 4


class DeadlineStage(models.TextChoices):
    DISPATCH = "dispatch", _("Dispatch")
    ACCEPT = "accept", _("Acceptance")
    HANDLE = "handle", _("Handling")


class DeadlineKind(models.TextChoices):
    FIRST = "first", _("First deadline of the stage")
    EXTENSION = "extension", _("Approved extension")
    PAUSE = "pause", _("Carry-over pause")


class CaseDeadline(models.Model):
    """One line of a case's deadline history (append-only)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="deadlines",
                             verbose_name=_("case"), db_index=False)  # case_deadline_case leads with it
    stage = models.CharField(_("stage"), max_length=10, choices=DeadlineStage.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=DeadlineKind.choices)
    # FIRST: the stage's own first deadline. EXTENSION/PAUSE: the judged deadline after this line.
    due_at = models.DateTimeField(_("deadline"))
    # FIRST only: whether the previous stage met its judged deadline. If not, the
    # matter is late for good and its judged deadline stays the one it missed.
    previous_met = models.BooleanField(_("previous stage on time"), default=True)
    extension = models.ForeignKey("cases.ExtensionRequest", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("extension request"))
    value = models.PositiveIntegerField(_("extra time"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=16, choices=TimeUnit.choices, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("deadline history line")
        verbose_name_plural = _("deadline history")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "stage", "kind"], name="case_deadline_case")]
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=DeadlineStage.values), name="case_deadline_stage_known"),
            models.CheckConstraint(condition=Q(kind__in=DeadlineKind.values), name="case_deadline_kind_known"),
            # "First" means once per stage: a later level's clock is never a first deadline.
            models.UniqueConstraint(fields=["case", "stage"], condition=Q(kind=DeadlineKind.FIRST),
                                    name="case_deadline_one_first_per_stage"),
            models.CheckConstraint(condition=~Q(kind=DeadlineKind.EXTENSION) | Q(extension__isnull=False),
                                   name="case_deadline_extension_has_request"),
        ]

    def __str__(self):
        return f"{self.case_id} {self.stage} {self.kind} {timezone.localtime(self.due_at):%Y-%m-%d %H:%M}"


class CaseRating(models.Model):
    """One rating of a closed case by its reporter (append-only): 1–5, and whether it was solved."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="ratings",
                             verbose_name=_("case"), db_index=False)  # case_rating_case leads with it
    rating = models.PositiveSmallIntegerField(_("satisfaction"))
    # 12345 回访 "was it solved?": None when the reporter left the question unanswered.
    solved = models.BooleanField(_("solved"), null=True, blank=True)
    comment = models.TextField(_("rating comment"), blank=True)
    at = models.DateTimeField(_("rated at"))

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_rating_case")]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="case_rating_row_1_to_5"),
        ]

    @property
    def satisfied(self):
        return self.rating >= SATISFIED_MIN_RATING

    def __str__(self):
        return f"{self.case_id} {self.rating} {timezone.localtime(self.at):%Y-%m-%d %H:%M}"
