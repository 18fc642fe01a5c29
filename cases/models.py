"""Cases (事件/案卷): what residents, grid workers, the 12345 hotline and cameras
report, kept on a working-time clock until verified, closed and rated.

State changes go through cases/services.py, which checks cases/workflow.py (the
one transition table). Nothing else assigns `Case.status`; the database refuses
the shapes no transition can produce (see `Case.Meta.constraints`).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from encrypted_fields.fields import EncryptedCharField

from grid.models import AreaKind, Building, PlacePath, Unit, path_fk
from portal.workcalendar.models import TimeUnit  # the working calendar's units: categories' clocks use them

from .tracking import display_tracking_code


# --- categories ----------------------------------------------------------------------

class Family(models.TextChoices):
    COMPONENT = "component", _("Component (部件)")
    INCIDENT = "incident", _("Incident (事件)")


class Triage(models.TextChoices):
    """三事分流: who should solve it."""

    PUBLIC = "public", _("Public matter (government)")
    SMALL = "small", _("Small matter (community self-governance)")
    PRIVATE = "private", _("Private matter (residents themselves)")


# "unit" of time (时间单位), not the building's unit (单元): one English word, two Chinese ones.
TIME_UNIT_LABEL = pgettext_lazy("time", "unit")


class Category(models.Model):
    """A kind of matter, two levels deep (e.g. 市容环境 → 暴露垃圾), with its time limits."""

    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent category"),
    )
    family = models.CharField(_("family"), max_length=10, choices=Family.choices)
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=60)
    triage = models.CharField(_("triage class"), max_length=10, choices=Triage.choices, default=Triage.PUBLIC)
    # Three clocks: reported → dispatched, dispatched → accepted, accepted → resolved.
    dispatch_limit = models.PositiveIntegerField(_("time to dispatch"), default=1)
    dispatch_limit_unit = models.CharField(TIME_UNIT_LABEL, max_length=16, choices=TimeUnit.choices,
                                           default=TimeUnit.WORKING_HOURS)
    accept_limit = models.PositiveIntegerField(_("time to accept"), default=1)
    accept_limit_unit = models.CharField(TIME_UNIT_LABEL, max_length=16, choices=TimeUnit.choices,
                                         default=TimeUnit.WORKING_HOURS)
    handle_limit = models.PositiveIntegerField(_("time to handle"), default=1)
    handle_limit_unit = models.CharField(TIME_UNIT_LABEL, max_length=16, choices=TimeUnit.choices,
                                         default=TimeUnit.WORKING_DAYS)
    is_mediation = models.BooleanField(
        _("dispute mediation"), default=False,
        help_text=_("Cases of this category are mediation cases, visible only to mediators and officials."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_sensitive = models.BooleanField(
        _("sensitive"), default=False,
        help_text=_("Never shown in public reads (Open311 without an API key), whatever the district allows."))
    # Moves whenever the category is saved: Open311 discovery's changeset follows it (clients cache on it).
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("id")), name="category_not_own_parent"),
            models.CheckConstraint(
                condition=Q(dispatch_limit__gt=0, accept_limit__gt=0, handle_limit__gt=0),
                name="category_limits_positive",
            ),
            models.CheckConstraint(
                condition=Q(dispatch_limit_unit__in=TimeUnit.values, accept_limit_unit__in=TimeUnit.values,
                            handle_limit_unit__in=TimeUnit.values),
                name="category_limit_units_known",
            ),
            models.CheckConstraint(condition=Q(family__in=Family.values), name="category_family_known"),
            models.CheckConstraint(condition=Q(triage__in=Triage.values), name="category_triage_known"),
        ]

    def __str__(self):
        return f"{self.parent.name} / {self.name}" if self.parent_id and self.parent else self.name

    def limit(self, stage):
        """(value, unit) of a stage: "dispatch", "accept" or "handle"."""
        return getattr(self, f"{stage}_limit"), getattr(self, f"{stage}_limit_unit")

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.parent_id:
            parent = self.parent
            if parent.parent_id:
                raise ValidationError(_("Categories are two levels deep: choose a top-level parent."))
            if parent.family != self.family:
                raise ValidationError(_("A subcategory belongs to the family of its parent."))


# --- the case ---------------------------------------------------------------------

class Status(models.TextChoices):
    REPORTED = "reported", _("Reported")
    REGISTERED = "registered", _("Registered")
    DISPATCHED = "dispatched", _("Dispatched")
    HANDLING = "handling", _("Being handled")
    RESOLVED = "resolved", _("Resolved, awaiting verification")
    VERIFIED = "verified", _("Verified")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected (not a matter)")
    DUPLICATE = "duplicate", _("Duplicate")
    # 私事: handed to the parties, the 物业, mediation, legal aid or the market; final, and
    # counted apart from solved matters (closed) by every figure that counts by status.
    REFERRED = "referred", _("Referred (private matter)")


# The clock runs in these states: the sweep escalates them when due_at passes.
CLOCKED_STATUSES = (Status.REPORTED, Status.REGISTERED, Status.DISPATCHED, Status.HANDLING)
# Not yet finished (shows on boards as open).
OPEN_STATUSES = CLOCKED_STATUSES + (Status.RESOLVED, Status.VERIFIED)
FINAL_STATUSES = (Status.CLOSED, Status.REJECTED, Status.DUPLICATE, Status.REFERRED)
# States that have passed through "resolved".
RESOLVED_STATUSES = (Status.RESOLVED, Status.VERIFIED, Status.CLOSED)

# Levels a case climbs, bottom-up ("小事不出网格, 大事不出社区").
LEVELS = (AreaKind.GRID, AreaKind.COMMUNITY, AreaKind.STREET, AreaKind.DISTRICT)


class CaseKind(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary")
    MEDIATION = "mediation", _("Dispute mediation")


class Channel(models.TextChoices):
    WEB = "web", _("Resident (web)")
    QR = "qr", _("Notice-board QR code")
    HOTLINE = "hotline", _("12345 hotline")
    PATROL = "patrol", _("Grid worker patrol")
    ALARM = "alarm", _("Camera / one-click alarm (微天网)")
    DEPARTMENT = "department", _("Other department")
    OPEN311 = "open311", _("Open311")


# Channels whose reporters can rate the outcome: residents (web, QR), the 12345 hotline
# (its 回访) and Open311. Patrols, cameras and departments have nobody to ask.
RATABLE_CHANNELS = (Channel.WEB, Channel.QR, Channel.HOTLINE, Channel.OPEN311)

# Channels whose reports staff stand behind: registered on arrival, no triage step.
STAFF_CHANNELS = (Channel.HOTLINE, Channel.PATROL, Channel.ALARM, Channel.DEPARTMENT)


class ReporterKind(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    GRID_WORKER = "grid_worker", _("Grid worker")
    HOTLINE_OPERATOR = "hotline_operator", _("Hotline operator")
    ALARM_SYSTEM = "alarm_system", _("Alarm system")
    STAFF = "staff", _("Staff")
    DEPARTMENT = "department", _("Department")


class Case(PlacePath):
    """A matter on the clock: reported at a place, routed to a level, handled, verified, closed."""

    district = path_fk(_("district"), null=False)
    street = path_fk(_("street"))
    community = path_fk(_("community"))
    grid = path_fk(_("grid"))

    # Uniqueness is in Meta.constraints: a plain unique index, without the extra
    # pattern-ops index PostgreSQL gets for unique=True on a CharField.
    number = models.CharField(_("case number"), max_length=16)
    tracking_code = models.CharField(_("tracking code"), max_length=16)
    kind = models.CharField(_("kind"), max_length=10, choices=CaseKind.choices, default=CaseKind.ORDINARY)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    external_ref = models.CharField(
        _("external reference"), max_length=64, blank=True,
        help_text=_("Hotline ticket, camera id or Open311 request id."),
    )

    reporter_kind = models.CharField(_("reporter"), max_length=20, choices=ReporterKind.choices)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="reported_cases",
        verbose_name=_("reported by"), db_index=False,
    )
    # Personal data (PIPL art. 28; portal/personal.py): encrypted at rest, a masked copy for
    # lists, exports and the admin, the full value only by a logged reveal (cases/privacy.py),
    # anonymised a set time after closing. Written together by the services; never on public pages.
    reporter_name = EncryptedCharField(_("reporter's name"), max_length=50, null=True, blank=True)
    reporter_name_masked = models.CharField(_("reporter's name"), max_length=50, blank=True, editable=False)
    reporter_phone = EncryptedCharField(_("reporter's phone"), max_length=20, null=True, blank=True)
    reporter_phone_masked = models.CharField(_("reporter's phone"), max_length=20, blank=True, editable=False)
    reporter_erased_at = models.DateTimeField(_("reporter anonymised at"), null=True, blank=True, editable=False)

    # Not indexed: every index is written again by each escalation (the sweep moves
    # thousands at once), and no page needs the cases of a category across places;
    # the alarm de-duplication reads a grid's last minutes through case_grid_created.
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="cases", verbose_name=_("category"),
                                 db_index=False)
    description = models.TextField(_("description"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("building")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("unit")
    )
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)

    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REPORTED)
    # Who is on the hook: the place at this level on the case's path (grid,
    # community, street or district) and, once someone takes it, the assignee.
    responsible_level = models.CharField(
        _("responsible level"), max_length=10, choices=[(k.value, k.label) for k in LEVELS]
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="assigned_cases",
        verbose_name=_("assignee"), db_index=False,  # case_queue_assignee leads with it
    )
    due_at = models.DateTimeField(_("current stage due"), null=True, blank=True)
    handle_due_at = models.DateTimeField(_("handling due"), null=True, blank=True)

    supervised_at = models.DateTimeField(_("supervised (督办) at"), null=True, blank=True)
    supervised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("supervised by"), db_index=False,
    )
    carried_over_at = models.DateTimeField(_("carried over (挂账) at"), null=True, blank=True)
    carried_over_reason = models.CharField(_("carry-over reason"), max_length=200, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates",
        verbose_name=_("duplicate of"), db_index=False,  # cases are never deleted
    )

    # 三事分流 class chosen at registration (the category's default unless the dispatcher changed
    # it). Cases from before routing existed were all handled in the residential tree: small.
    # db_default too: the bulk writers (seed_city, bench) name their columns and leave these out.
    # (Not "triage": the dashboards annotate cases with their category's class under that name.)
    triage_class = models.CharField(_("triage class"), max_length=10, choices=Triage.choices, default=Triage.SMALL,
                                    db_default=Triage.SMALL)
    # The organisation currently holding the matter as lead (主办) and the assignment that sent it
    # (the current pointer into cases_orgassignment); both empty for residential matters.
    organisation = models.ForeignKey(
        "grid.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("organisation"), db_index=False,  # case_org_queue leads with it
    )
    org_assignment = models.ForeignKey(
        "cases.OrgAssignment", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("current assignment"), db_index=False,
    )
    # 退单: returned by an organisation, waiting for the street's ruling.
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    # The deadline whose miss the sweep already put under supervision (督办); keeps it idempotent.
    org_supervised_due = models.DateTimeField(_("supervised for missing"), null=True, blank=True)
    referred_to = models.CharField(_("referred to"), max_length=12, blank=True, default="", db_default="")

    rework_count = models.PositiveIntegerField(_("rework"), default=0)
    extension_count = models.PositiveIntegerField(_("extensions"), default=0)
    escalation_count = models.PositiveIntegerField(_("escalations"), default=0)
    # Repeated camera alarms folded into this case (de-duplication window).
    alarm_count = models.PositiveIntegerField(_("alarms"), default=0)

    # The latest rating (every rating is a CaseRating row; a reopen erases none).
    rating = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    rating_count = models.PositiveSmallIntegerField(_("ratings"), default=0)
    satisfied_count = models.PositiveSmallIntegerField(_("satisfied ratings"), default=0)

    # 考核时限: the deadline the matter is judged by (cases/deadlines.py, from the CaseDeadline
    # rows): the first deadline of the stage reached, plus approved extensions and carry-over
    # pauses; once a stage misses it, it stays the missed one. Escalation never moves it.
    deadline_at = models.DateTimeField(_("judged deadline"), null=True, blank=True)
    deadline_stage = models.CharField(_("judged stage"), max_length=10, blank=True)
    # Working minutes from the report to the close (set at the close; a reopen clears it).
    handling_minutes = models.PositiveIntegerField(_("handling time (working minutes)"), null=True, blank=True)

    created_at = models.DateTimeField(_("reported at"))
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("resolved by"), db_index=False,
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            # A worker's queue: mine, by state, soonest due first.
            models.Index(fields=["assignee", "status", "due_at"], name="case_queue_assignee"),
            # Boards of a subtree, newest first. Status is left out on purpose: open
            # cases are the recent ones, so a status filter finds its page while
            # walking a place's cases in date order, and one index serves both.
            models.Index(fields=["grid", "created_at"], name="case_grid_created"),
            models.Index(fields=["community", "created_at"], name="case_community_created"),
            models.Index(fields=["street", "created_at"], name="case_street_created"),
            models.Index(fields=["district", "created_at"], name="case_district_created"),
            # The escalation sweep reads only what is on the clock and can still climb.
            models.Index(
                fields=["due_at"], name="case_sweep_due",
                condition=Q(status__in=CLOCKED_STATUSES, carried_over_at__isnull=True)
                & ~Q(responsible_level=AreaKind.DISTRICT),
            ),
            models.Index(fields=["created_at"], name="case_created"),
            # An organisation's queue: its matters to sign in or in hand, soonest due first, read in
            # index order (a queue of thousands is not sorted to show its first page).
            models.Index(fields=["organisation", "due_at", "id"], name="case_org_queue",
                         condition=Q(organisation__isnull=False, status__in=(Status.DISPATCHED, Status.HANDLING))),
            # Dashboards: open cases of a place (any level, the path prefix leading),
            # for overdue counts and the map, without walking the closed millions.
            models.Index(
                fields=["district", "street", "community", "grid", "created_at"], name="case_open_path",
                condition=Q(status__in=OPEN_STATUSES),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="case_number_unique"),
            models.UniqueConstraint(fields=["tracking_code"], name="case_tracking_code_unique"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="case_status_known"),
            models.CheckConstraint(condition=Q(kind__in=CaseKind.values), name="case_kind_known"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="case_channel_known"),
            models.CheckConstraint(condition=Q(reporter_kind__in=ReporterKind.values), name="case_reporter_kind_known"),
            models.CheckConstraint(
                condition=Q(responsible_level__in=[k.value for k in LEVELS]), name="case_level_known"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True, rated_at__isnull=True)
                | Q(rating__gte=1, rating__lte=5, rated_at__isnull=False),
                name="case_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(satisfied_count__lte=F("rating_count")), name="case_satisfied_le_ratings"
            ),
            models.CheckConstraint(
                condition=Q(deadline_stage__in=["", "dispatch", "accept", "handle", "missed"]),
                name="case_judged_stage_known",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=RESOLVED_STATUSES) | Q(resolved_at__isnull=False),
                name="case_resolved_has_resolved_at",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=FINAL_STATUSES) | Q(closed_at__isnull=False),
                name="case_final_has_closed_at",
            ),
            models.CheckConstraint(
                condition=Q(status__in=FINAL_STATUSES) | Q(closed_at__isnull=True),
                name="case_open_has_no_closed_at",
            ),
            models.CheckConstraint(
                condition=Q(status=Status.DUPLICATE, duplicate_of__isnull=False)
                | (~Q(status=Status.DUPLICATE) & Q(duplicate_of__isnull=True)),
                name="case_duplicate_has_original",
            ),
            models.CheckConstraint(condition=~Q(duplicate_of=F("id")), name="case_not_duplicate_of_itself"),
            models.CheckConstraint(condition=Q(triage_class__in=Triage.values), name="case_triage_known"),
            models.CheckConstraint(
                condition=Q(organisation__isnull=True, org_assignment__isnull=True)
                | Q(organisation__isnull=False, org_assignment__isnull=False),
                name="case_organisation_has_assignment",
            ),
            models.CheckConstraint(
                condition=Q(status=Status.REFERRED) & ~Q(referred_to="") | ~Q(status=Status.REFERRED) & Q(referred_to=""),
                name="case_referred_has_target",
            ),
            models.CheckConstraint(
                condition=Q(supervised_at__isnull=True, supervised_by__isnull=True)
                | Q(supervised_at__isnull=False, supervised_by__isnull=False),
                name="case_supervision_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=Q(carried_over_at__isnull=True) | ~Q(carried_over_reason=""),
                name="case_carry_over_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=CLOCKED_STATUSES) | Q(due_at__isnull=False),
                name="case_clocked_has_due_at",
            ),
            # The responsible place exists on the case's path.
            models.CheckConstraint(
                condition=~Q(responsible_level=AreaKind.GRID) | Q(grid__isnull=False),
                name="case_grid_level_has_grid",
            ),
            models.CheckConstraint(
                condition=~Q(responsible_level=AreaKind.COMMUNITY) | Q(community__isnull=False),
                name="case_community_level_has_community",
            ),
            models.CheckConstraint(
                condition=~Q(responsible_level=AreaKind.STREET) | Q(street__isnull=False),
                name="case_street_level_has_street",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="case_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="case_longitude_range",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def responsible_area_id(self):
        """The place at the responsible level on the case's own path.

        Derived, not stored: grid/services.py rewrites the path ids on a move or
        merge, so the responsible place follows the tree without a second copy.
        """
        return getattr(self, f"{self.responsible_level}_id")

    @property
    def responsible_area(self):
        return getattr(self, self.responsible_level)

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def is_supervised(self):
        return self.supervised_at is not None

    @property
    def is_carried_over(self):
        return self.carried_over_at is not None

    def is_overdue(self, now):
        """The current stage past due; a case carried over (挂账) is paused, so never (cases.selectors.overdue_q)."""
        return (self.status in CLOCKED_STATUSES and self.carried_over_at is None and self.due_at is not None
                and self.due_at < now)

    @property
    def tracking_code_display(self):
        return display_tracking_code(self.tracking_code)


class CaseNumberCounter(models.Model):
    """The last case number handed out on a day (numbers are YYYYMMDD + 5 digits)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case number counter")
        verbose_name_plural = _("case number counters")


class EventAction(models.TextChoices):
    REPORT = "report", _("Reported")
    REGISTER = "register", _("Registered")
    REJECT = "reject", _("Rejected")
    DISPATCH = "dispatch", _("Dispatched")
    REDISPATCH = "redispatch", _("Re-dispatched")
    ACCEPT = "accept", _("Accepted")
    RETURN = "return", _("Returned to dispatcher")
    NOTE = "note", _("Progress")
    REQUEST_EXTENSION = "request_extension", _("Extension requested")
    DECIDE_EXTENSION = "decide_extension", _("Extension decided")
    RESOLVE = "resolve", _("Resolved")
    VERIFY = "verify", _("Verified on site")
    VERIFY_FAIL = "verify_fail", _("Verification failed (rework)")
    CLOSE = "close", _("Closed")
    REOPEN = "reopen", _("Reopened")
    MARK_DUPLICATE = "mark_duplicate", _("Marked as duplicate")
    SUPERVISE = "supervise", _("Supervised (督办)")
    CARRY_OVER = "carry_over", _("Carried over (挂账)")
    LIFT_CARRY_OVER = "lift_carry_over", _("Carry-over lifted")
    ESCALATE = "escalate", _("Escalated")
    RATE = "rate", _("Rated")
    ALARM_REPEAT = "alarm_repeat", _("Repeated alarm")
    MEDIATION = "mediation", _("Mediation")
    # 吹哨报到 (cases/whistles.py)
    WHISTLE = "whistle", _("Whistle blown (吹哨)")
    REPORT_IN = "report_in", _("Reported in (报到)")
    NO_SHOW = "no_show", _("Did not report in")
    RATE_SUMMONS = "rate_summons", _("Response rated (评价)")
    # 12345 docking (cases/hotline/)
    HOTLINE_REPLY = "hotline_reply", _("Reply sent to the hotline (回单)")
    HOTLINE_RETURN = "hotline_return", _("Handed back to the hotline (退单)")
    HOTLINE_VISIT = "hotline_visit", _("Hotline follow-up call (回访)")
    RECLASSIFY = "reclassify", _("Class changed (三事分流)")
    REFER = "refer", _("Referred (private matter)")
    ORG_DISPATCH = "org_dispatch", _("Sent to an organisation")
    ORG_SIGN_IN = "org_sign_in", _("Signed in by the organisation (签收)")
    ORG_REPLY = "org_reply", _("Organisation replied")
    ORG_RETURN = "org_return", _("Returned by the organisation (退单)")
    ORG_RULING = "org_rule", _("Street ruling on a return")
    ORG_SUPERVISE = "org_supervise", _("Organisation overdue: supervised (督办)")


class CaseEvent(models.Model):
    """One immutable line of a case's timeline (who, when, from, to, note).

    The database refuses UPDATEs and DELETEs of this table (triggers; see migrations 0002 and 0010).
    """

    Action = EventAction

    # Indexed by case_event_case_at (case first).
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", verbose_name=_("case"),
                             db_index=False)
    action = models.CharField(_("action"), max_length=20, choices=EventAction.choices)
    from_status = models.CharField(_("from"), max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Status.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("by"), db_index=False,
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)
    is_public = models.BooleanField(_("shown to the reporter"), default=False)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="case_event_case_at"),
            # Status changes by time, city-wide (Open311 servicerequestupdates).
            models.Index(fields=["at"], condition=~Q(to_status=""), name="case_event_status_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=EventAction.values), name="case_event_action_known"),
        ]

    def __str__(self):
        # Local time, as every other time on the admin page (the admin prints this as the row's heading).
        return f"{self.get_action_display()} {timezone.localtime(self.at):%Y-%m-%d %H:%M}"


class PhotoStage(models.TextChoices):
    REPORT = "report", _("Report")
    PROGRESS = "progress", _("Progress")
    RESOLVE = "resolve", _("Resolution")
    VERIFY = "verify", _("Verification")


class CasePhoto(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="photos", verbose_name=_("case"))
    event = models.ForeignKey(
        CaseEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="photos", verbose_name=_("event")
    )
    stage = models.CharField(_("stage"), max_length=10, choices=PhotoStage.choices)
    image = models.ImageField(_("image"), upload_to="cases/%Y/%m/", width_field="width", height_field="height")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return f"{self.get_stage_display()} {timezone.localtime(self.uploaded_at):%Y-%m-%d %H:%M}"


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    # The case moved on (escalated, returned, re-dispatched) before anyone decided.
    LAPSED = "lapsed", _("Lapsed")


class ExtensionRequest(models.Model):
    """A handler asks for more time (延期); the level above decides."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="extensions", verbose_name=_("case"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"))
    value = models.PositiveIntegerField(_("extra time"))
    unit = models.CharField(TIME_UNIT_LABEL, max_length=16, choices=TimeUnit.choices)
    reason = models.TextField(_("reason"))
    status = models.CharField(_("decision"), max_length=10, choices=ExtensionStatus.choices,
                              default=ExtensionStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status=ExtensionStatus.PENDING), name="extension_one_pending_per_case"
            ),
            models.CheckConstraint(condition=Q(value__gt=0), name="extension_value_positive"),
            models.CheckConstraint(condition=Q(status__in=ExtensionStatus.values), name="extension_status_known"),
            models.CheckConstraint(
                condition=Q(status=ExtensionStatus.PENDING, decided_at__isnull=True, decided_by__isnull=True)
                | Q(status=ExtensionStatus.LAPSED, decided_at__isnull=False, decided_by__isnull=True)
                | Q(status__in=[ExtensionStatus.APPROVED, ExtensionStatus.REJECTED],
                    decided_at__isnull=False, decided_by__isnull=False),
                name="extension_decision_has_who_and_when",
            ),
            models.CheckConstraint(condition=~Q(decided_by=F("requested_by")), name="extension_not_self_approved"),
        ]


# --- notifications ------------------------------------------------------------------

class Notification(models.Model):
    """The in-app inbox."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user")
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("case")
    )
    message = models.TextField(_("message"))
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "created_at"], name="notification_inbox")]


class DeliveryChannel(models.TextChoices):
    INBOX = "inbox", _("In-app inbox")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat group robot")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Gave up")


class Delivery(models.Model):
    """Outbox: one message to send on one channel, written in the transition's transaction.

    Celery sends it after commit; the beat sweep re-sends whatever is still
    pending, so a broker outage or a failing sender never loses it.
    """

    channel = models.CharField(_("channel"), max_length=10, choices=DeliveryChannel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("recipient"),
    )
    address = models.CharField(_("address"), max_length=254, blank=True)
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries", verbose_name=_("case")
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    # A sender holds the row until then; a crashed sender's lease simply runs out.
    leased_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_pending",
                         condition=Q(status=DeliveryStatus.PENDING)),
            # How many a channel sent in the last minute (providers' rate limits).
            models.Index(fields=["channel", "sent_at"], name="delivery_sent_recently",
                         condition=Q(status=DeliveryStatus.SENT)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(channel__in=DeliveryChannel.values), name="delivery_channel_known"),
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="delivery_status_known"),
            models.CheckConstraint(
                condition=~Q(channel=DeliveryChannel.INBOX) | Q(user__isnull=False), name="delivery_inbox_has_user"
            ),
            models.CheckConstraint(
                condition=~Q(status=DeliveryStatus.SENT) | Q(sent_at__isnull=False), name="delivery_sent_has_sent_at"
            ),
        ]

    def __str__(self):
        # The outbox row as the admin names it: what was sent to whom, by which channel.
        return f"{self.get_channel_display()} · {self.subject}"


# Received reports and escalation notices live in their own module; imported here so Django finds
# the models. The import runs one way: models_intake imports nothing from this module.
from .models_intake import EscalationNotice, Intake  # noqa: E402,F401
# The mediation file (调解卷宗) likewise: models_mediation names the case by label only.
from .models_mediation import (  # noqa: E402,F401
    AGREEMENT_OUTCOMES,
    DisputeType,
    FileKind,
    Mediation,
    MediationFile,
    MediationNumberCounter,
    MediationOutcome,
    MediationParty,
    MediationPartyAccess,
    MediationReferrer,
    MediationRoom,
    MediationSession,
    MediationSource,
    PartyField,
    PartyRole,
    Performance,
    Referral,
    SessionState,
)
from .models_history import (  # noqa: E402,F401
    SATISFIED_MIN_RATING,
    CaseDeadline,
    CaseRating,
    DeadlineKind,
    DeadlineStage,
)
from .models_whistle import Summons, SummonsStatus, Whistle, WhistleSituation  # noqa: E402,F401
# Where big matters go and who holds them (三事分流 routing): models_orgs likewise.
from .models_orgs import (  # noqa: E402,F401
    AssignmentKind,
    AssignmentRole,
    GridExclusion,
    OrgAssignment,
    OrgLimit,
    ReferralTarget,
    RoutingRule,
)
