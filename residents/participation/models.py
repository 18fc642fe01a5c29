"""Resident participation (民事民提、民事民议、民事民决、民事民办、民事民评).

Proposals (议题) for a place, residents' supports, deliberation meetings
(议事会 / 院坝会 / 五方联席会) with an agenda of proposals and vote counts, the
四议两公开 track of a proposal, and livelihood projects (民生实事) with progress
and residents' evaluations. Every row hangs on a place (PlacePath) so scoping
is one indexed filter. Writes go through services.py only; the event table is
append-only in the database (migration 0002's triggers).
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from grid.models import PlacePath, path_fk

# 决议公开: a decision stays published at least this long before the result may follow.
PUBLICATION_MIN = timedelta(days=7)


class Placed(PlacePath):
    """A row for a community or a grid (grid empty): its place is the deepest of its stored path.

    No separate "place" column: grid/services.py re-paths every PlacePath row when
    a subtree moves, merges or splits, so the place follows the tree with it.
    """

    district = path_fk(_("district"), null=False)
    street = path_fk(_("street"), null=False)
    community = path_fk(_("community"), null=False)
    grid = path_fk(_("grid"))

    class Meta:
        abstract = True

    @property
    def place(self):
        """The grid, or the community (select_related("grid", "community") when listing)."""
        return self.grid if self.grid_id else self.community

    @property
    def place_id(self):
        return self.grid_id or self.community_id


def newest_by_place(prefix):
    """Each level of the path with created_at: lists and boards read a place's rows newest first."""
    return [models.Index(fields=[level, "created_at"], name=f"{prefix}_{level}")
            for level in ("community", "street", "district", "grid")]


class ProposalOrigin(models.TextChoices):
    RESIDENT = "resident", _("A resident")
    STAFF = "staff", _("Staff")
    CASES = "cases", _("Recurring cases")


class ProposalStatus(models.TextChoices):
    COLLECTING = "collecting", _("Collecting support")
    DELIBERATION = "deliberation", _("In deliberation")
    ADOPTED = "adopted", _("Adopted")
    REJECTED = "rejected", _("Not adopted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_PROPOSAL_STATUSES = (ProposalStatus.COLLECTING, ProposalStatus.DELIBERATION)


class Proposal(Placed):
    """议题: something residents (or staff) want the place to take up."""

    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"))
    origin = models.CharField(_("proposed by"), max_length=10, choices=ProposalOrigin.choices)
    # Personal data: staff pages only, never on the public board.
    proposer = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("proposing resident"), db_index=False)
    category = models.ForeignKey("cases.Category", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("category"), db_index=False)
    case_count = models.PositiveIntegerField(_("cases behind it"), default=0)
    threshold = models.PositiveIntegerField(_("supports needed"), default=10)
    support_count = models.PositiveIntegerField(_("supports"), default=0)
    status = models.CharField(_("status"), max_length=12, choices=ProposalStatus.choices,
                              default=ProposalStatus.COLLECTING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("entered by"), db_index=False)
    created_at = models.DateTimeField(_("created at"))
    deliberation_at = models.DateTimeField(_("in deliberation since"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-created_at", "-id"]
        indexes = [
            *newest_by_place("proposal"),  # the board and the lists, newest first across statuses
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ProposalStatus.values), name="proposal_status_known"),
            models.CheckConstraint(condition=Q(threshold__gte=1), name="proposal_threshold_positive"),
            models.CheckConstraint(condition=~Q(title=""), name="proposal_title_not_blank"),
            models.CheckConstraint(condition=Q(origin__in=ProposalOrigin.values), name="proposal_origin_known"),
            models.CheckConstraint(condition=Q(origin="cases", category__isnull=False) | ~Q(origin="cases"),
                                   name="proposal_from_cases_has_category"),
            # One click, one proposal: an open proposal already made from a place's
            # recurring cases of a category refuses a second one.
            models.UniqueConstraint(fields=["grid", "category"],
                                    condition=Q(origin="cases", status__in=["collecting", "deliberation"]),
                                    name="proposal_one_open_per_cluster"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("participation:proposal", args=[self.pk])


class Support(models.Model):
    """附议: one resident of the place backs a proposal, once."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="supports",
                                 verbose_name=_("proposal"))
    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("resident"), db_index=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("entered by"), db_index=False)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("support")
        verbose_name_plural = _("supports")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "resident"], name="support_one_per_resident"),
        ]


class MeetingKind(models.TextChoices):
    COUNCIL = "council", _("Residents' council (议事会)")
    COURTYARD = "courtyard", _("Courtyard meeting (院坝会)")
    FIVE_PARTY = "five_party", _("Five-party joint meeting (五方联席会)")
    ASSEMBLY = "assembly", _("Villagers' assembly (村民会议)")


class Meeting(Placed):
    """议事会: a deliberation meeting with an agenda of proposals."""

    kind = models.CharField(_("kind"), max_length=12, choices=MeetingKind.choices)
    title = models.CharField(_("title"), max_length=100)
    held_at = models.DateTimeField(_("held at"))
    location = models.CharField(_("location"), max_length=100, blank=True)
    # Who attended, by group (居民代表、物业、业委会...): staff pages only.
    participants = models.TextField(_("participants"), blank=True)
    attendance = models.PositiveIntegerField(_("attendance"), default=0)
    minutes = models.TextField(_("minutes"), blank=True)
    closed_at = models.DateTimeField(_("minutes closed at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("entered by"), db_index=False)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("deliberation meeting")
        verbose_name_plural = _("deliberation meetings")
        ordering = ["-held_at", "-id"]
        indexes = [
            models.Index(fields=["community", "held_at"], name="meeting_community"),
            models.Index(fields=["street", "held_at"], name="meeting_street"),
            models.Index(fields=["district", "held_at"], name="meeting_district"),
            models.Index(fields=["grid", "held_at"], name="meeting_grid"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MeetingKind.values), name="meeting_kind_known"),
            models.CheckConstraint(condition=~Q(title=""), name="meeting_title_not_blank"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("participation:meeting", args=[self.pk])


class MeetingAttendance(models.Model):
    """A resident's confirmed attendance at a deliberation meeting, entered by staff; once per resident.

    Earns the resident's household points on its card (residents/participation/attendance.py)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="attendances",
                                verbose_name=_("meeting"))
    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("resident"), db_index=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("entered by"), db_index=False)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("meeting attendance")
        verbose_name_plural = _("meeting attendances")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "resident"], name="attendance_once_per_resident"),
        ]

    def __str__(self):
        return f"{self.resident} · {self.meeting}"


class Decision(models.TextChoices):
    ADOPTED = "adopted", _("Adopted")
    REJECTED = "rejected", _("Not adopted")


class AgendaItem(models.Model):
    """A proposal on a meeting's agenda, and the vote on it."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="items", verbose_name=_("meeting"))
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="agenda_items",
                                 verbose_name=_("proposal"))
    votes_for = models.PositiveIntegerField(_("for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("against"), null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(_("abstained"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    decision_text = models.TextField(_("decision"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "proposal"], name="agenda_proposal_once"),
            models.CheckConstraint(
                condition=Q(decision="", decided_at__isnull=True, votes_for__isnull=True)
                | Q(decision__in=Decision.values, decided_at__isnull=False, votes_for__isnull=False,
                    votes_against__isnull=False, votes_abstain__isnull=False),
                name="agenda_decision_has_votes",
            ),
        ]


class TrackStage(models.TextChoices):
    """四议两公开: the four deliberations, then the two publications."""

    OPENED = "opened", _("Opened")
    PROPOSED = "proposed", _("Proposed by the party branch (党支部提议)")
    DISCUSSED = "discussed", _("Discussed by the two committees (两委会商议)")
    REVIEWED = "reviewed", _("Reviewed by the party members (党员大会审议)")
    DECIDED = "decided", _("Decided by the assembly (村民会议决议)")
    PUBLISHED = "published", _("Decision published (决议公开)")
    DONE = "done", _("Result published (实施结果公开)")


class Track(Placed):
    """The 四议两公开 procedure of one proposal. Stages move only through workflow.py."""

    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="track",
                                    verbose_name=_("proposal"))
    stage = models.CharField(_("stage"), max_length=10, choices=TrackStage.choices, default=TrackStage.OPENED)
    # Who answers for the current step: the place's level, climbing when overdue.
    responsible_level = models.CharField(_("responsible level"), max_length=10, default="community")
    due_at = models.DateTimeField(_("current step due"), null=True, blank=True)
    escalation_count = models.PositiveIntegerField(_("escalations"), default=0)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    decision_text = models.TextField(_("decision"), blank=True)
    published_at = models.DateTimeField(_("decision published at"), null=True, blank=True)
    publication_ends_at = models.DateTimeField(_("publication ends"), null=True, blank=True)
    result_text = models.TextField(_("result"), blank=True)
    result_published_at = models.DateTimeField(_("result published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("四议两公开 track")
        verbose_name_plural = _("四议两公开 tracks")
        ordering = ["-created_at", "-id"]
        indexes = [
            *newest_by_place("track"),
            models.Index(fields=["due_at"], name="track_due", condition=~Q(stage="done")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=TrackStage.values), name="track_stage_known"),
            # Published for at least seven days: the database holds the window too.
            models.CheckConstraint(
                condition=Q(published_at__isnull=True, publication_ends_at__isnull=True)
                | Q(publication_ends_at__gte=F("published_at") + PUBLICATION_MIN),
                name="track_publication_at_least_7_days",
            ),
            models.CheckConstraint(
                condition=Q(result_published_at__isnull=True)
                | Q(publication_ends_at__isnull=False, result_published_at__gte=F("publication_ends_at")),
                name="track_result_after_publication",
            ),
        ]

    def __str__(self):
        return str(self.proposal)

    def get_absolute_url(self):
        return reverse("participation:track", args=[self.pk])


class Objection(models.Model):
    """异议: raised while a decision is published; answered within three working days."""

    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="objections", verbose_name=_("track"))
    # Personal data: staff pages only.
    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("resident"), db_index=False)
    text = models.TextField(_("objection"))
    raised_at = models.DateTimeField(_("raised at"))
    answer_due_at = models.DateTimeField(_("answer due"))
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("entered by"), db_index=False)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["raised_at", "id"]
        indexes = [models.Index(fields=["answer_due_at"], name="objection_open_due",
                                condition=Q(answered_at__isnull=True))]
        constraints = [
            models.CheckConstraint(condition=Q(answered_at__isnull=True) | ~Q(answer=""),
                                   name="objection_answer_given"),
        ]


class ProjectStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    REVIEWED = "reviewed", _("Reviewed by the community")
    APPROVED = "approved", _("Approved by the party committee")
    IMPLEMENTING = "implementing", _("Being implemented")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Not approved")


class Project(Placed):
    """民生实事: a livelihood project a compound applies for."""

    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"))
    applicant = models.CharField(_("applicant"), max_length=100,
                                 help_text=_("The compound or group applying, e.g. 幸福小区业委会."))
    budget = models.DecimalField(_("budget (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True)
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="projects", verbose_name=_("proposal"))
    status = models.CharField(_("status"), max_length=12, choices=ProjectStatus.choices,
                              default=ProjectStatus.APPLIED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    rating_count = models.PositiveIntegerField(_("evaluations"), default=0)
    rating_total = models.PositiveIntegerField(_("rating total"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("entered by"), db_index=False)
    created_at = models.DateTimeField(_("applied at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("livelihood project")
        verbose_name_plural = _("livelihood projects")
        ordering = ["-created_at", "-id"]
        indexes = [
            *newest_by_place("project"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ProjectStatus.values), name="project_status_known"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="project_progress_percent"),
            models.CheckConstraint(condition=~Q(title=""), name="project_title_not_blank"),
            models.CheckConstraint(condition=Q(budget__isnull=True) | Q(budget__gte=0),
                                   name="project_budget_not_negative"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("participation:project", args=[self.pk])

    @property
    def average_rating(self):
        return round(self.rating_total / self.rating_count, 1) if self.rating_count else None


class ProjectUpdate(models.Model):
    """A progress report on a project being implemented (append-only)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="updates",
                                verbose_name=_("project"))
    note = models.TextField(_("progress"))
    progress = models.PositiveSmallIntegerField(_("progress (%)"))
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                           verbose_name=_("by"), db_index=False)

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["-at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="projectupdate_percent")]


class ProjectPhoto(models.Model):
    update = models.ForeignKey(ProjectUpdate, on_delete=models.PROTECT, related_name="photos",
                               verbose_name=_("progress update"))
    image = models.ImageField(_("image"), upload_to="participation/%Y/%m/")
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("project photo")
        verbose_name_plural = _("project photos")
        ordering = ["id"]


class Evaluation(models.Model):
    """民事民评: one resident's rating of a completed project."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="evaluations",
                                verbose_name=_("project"))
    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("resident"), db_index=False)
    rating = models.PositiveSmallIntegerField(_("rating (1–5)"))
    comment = models.TextField(_("comment"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("entered by"), db_index=False)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "resident"], name="evaluation_one_per_resident"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="evaluation_rating_1_to_5"),
        ]


class Event(models.Model):
    """The timeline of every participation record (append-only: the database refuses changes)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    track = models.ForeignKey(Track, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, null=True, blank=True, related_name="events")
    action = models.CharField(_("action"), max_length=30)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"), db_index=False)
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("participation event")
        verbose_name_plural = _("participation timeline")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(proposal__isnull=False) | Q(meeting__isnull=False) | Q(track__isnull=False)
                | Q(project__isnull=False),
                name="participation_event_has_subject",
            ),
        ]
