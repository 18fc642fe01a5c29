"""Households (户) in units and the residents (居民) living in them.

Personal data is kept by design for the Personal Information Protection Law:
the ID number and the phone are encrypted at rest (Fernet, keys rotatable),
found by an HMAC blind index, and stored a third time already masked, so lists,
searches and exports never need to decrypt them. Seeing a full value is an
explicit, logged action (residents/services.py `resident_reveal`).

Writes go through residents/services.py only; nothing is ever deleted: a
resident who moves away or dies keeps their row with the date.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField

from grid.models import Building, PlacePath, Unit, path_fk


class Tag(models.Model):
    """A care or status tag (关爱标签): elderly living alone, low-income, veteran...

    A tag with a visit interval puts its residents on the grid worker's visiting
    round: a resident is due a visit when the shortest interval of their tags has
    passed since the last visit.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=40, unique=True)
    visit_interval_days = models.PositiveSmallIntegerField(
        _("visit every (days)"), null=True, blank=True,
        help_text=_("Leave empty for a tag that does not call for visits."),
    )
    sensitive = models.BooleanField(
        _("sensitive"), default=False,
        help_text=_("Shown only to staff, never to chiefs or on printed lists (e.g. community correction)."),
    )
    # 重点人员: residents with such a tag are key persons; a visit to them overdue past the district's
    # setting raises an early warning (risks key_person_visit, hub/warning_rules_people.py).
    key_person = models.BooleanField(
        _("key person"), default=False,
        help_text=_("重点人员: the warning rules watch that residents with this tag are visited."),
    )
    builtin = models.BooleanField(_("built in"), default=False, editable=False)
    ordering = models.PositiveSmallIntegerField(_("ordering"), default=100)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["ordering", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(visit_interval_days__isnull=True) | Q(visit_interval_days__gte=1),
                name="tag_visit_interval_positive",
            ),
        ]

    def __str__(self):
        return self.name


class Household(PlacePath):
    """户: a dwelling in a unit (room 301 of 2单元), carrying the path of its grid."""

    district = path_fk(_("district"), null=False)
    street = path_fk(_("street"), null=False)
    community = path_fk(_("community"), null=False)
    grid = path_fk(_("grid"), null=False)
    # The building is the unit's; stored so building moves (grid/services.py
    # `_move_buildings`) re-path households by building like every PlacePath row.
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="households", verbose_name=_("building"), db_index=False,
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="households", verbose_name=_("unit"))
    number = models.CharField(_("room number"), max_length=20, help_text=_("e.g. 301"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["unit_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "number"], name="household_number_unique_in_unit"),
            models.CheckConstraint(condition=~Q(number=""), name="household_number_not_blank"),
        ]
        indexes = [
            models.Index(fields=["grid", "building"], name="household_grid"),
            models.Index(fields=["community"], name="household_community"),
            models.Index(fields=["street"], name="household_street"),
            models.Index(fields=["district"], name="household_district"),
            models.Index(fields=["building"], name="household_building"),
        ]

    def __str__(self):
        return f"{self.unit} {self.number}"


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Relation(models.TextChoices):
    """与户主关系: relation to the head of household."""

    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Sibling")
    CHILD_IN_LAW = "child_in_law", _("Son- or daughter-in-law")
    TENANT = "tenant", _("Tenant")
    OTHER = "other", _("Other")


class Registration(models.TextChoices):
    """户籍与居住: where someone is registered (户籍) against where they live."""

    LOCAL = "local", _("Registered and living here (人户一致)")
    AWAY = "away", _("Registered here, living elsewhere (户在人不在)")
    FLOATING = "floating", _("Living here, registered elsewhere (流动人口)")


class ResidentStatus(models.TextChoices):
    LIVING = "living", _("Living here")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")


class Resident(PlacePath):
    """居民: a person in a household. Rows are never deleted; leaving is a status with a date."""

    district = path_fk(_("district"), null=False)
    street = path_fk(_("street"), null=False)
    community = path_fk(_("community"), null=False)
    grid = path_fk(_("grid"), null=False)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="residents", verbose_name=_("household")
    )
    # The household's building, for the same reason as Household.building.
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="+", verbose_name=_("building"), db_index=False,
    )

    # A person's name: 姓名, not the 名称 of a place or a thing.
    name = models.CharField(_("full name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)

    # Sensitive personal information (PIPL art. 28): encrypted, indexed blind,
    # shown masked. The three columns are written together by the services.
    id_number = EncryptedCharField(_("ID number"), max_length=18, null=True, blank=True)
    id_index = models.CharField(_("ID number index"), max_length=64, null=True, blank=True, editable=False)
    id_masked = models.CharField(_("ID number"), max_length=18, blank=True, editable=False)
    phone = EncryptedCharField(_("phone"), max_length=20, null=True, blank=True)
    phone_index = models.CharField(_("phone index"), max_length=64, null=True, blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)

    relation = models.CharField(_("relation to the head"), max_length=12, choices=Relation.choices,
                                default=Relation.OTHER)
    registration = models.CharField(_("registration"), max_length=10, choices=Registration.choices,
                                     default=Registration.LOCAL)
    registered_address = models.CharField(
        _("registered address"), max_length=200, blank=True,
        help_text=_("户籍地址, when it is not this household."),
    )
    status = models.CharField(_("status"), max_length=10, choices=ResidentStatus.choices,
                              default=ResidentStatus.LIVING)
    moved_in_on = models.DateField(_("moved in on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True, help_text=_("Moved out or died on."))
    tags = models.ManyToManyField(Tag, blank=True, related_name="residents", verbose_name=_("tags"))
    note = models.TextField(_("note"), blank=True)
    # Kept by the services from the tags and the last visit, so the visiting
    # round is one indexed range scan (residents/services.py `_refresh_visit_due`).
    visit_due_on = models.DateField(_("visit due on"), null=True, blank=True, editable=False)
    last_visited_at = models.DateTimeField(_("last visited"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Set when the retention sweep anonymised someone who moved out or died long enough ago.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["household_id", "id"]
        constraints = [
            # One person, one row: the blind index of the ID number is unique.
            models.UniqueConstraint(fields=["id_index"], condition=Q(id_index__isnull=False),
                                    name="resident_id_number_unique"),
            # At most one living head per household.
            models.UniqueConstraint(fields=["household"], condition=Q(relation="head", status="living"),
                                    name="resident_one_head_per_household"),
            models.CheckConstraint(
                condition=Q(id_number__isnull=True, id_index__isnull=True, id_masked="")
                | Q(id_number__isnull=False, id_index__isnull=False) & ~Q(id_masked=""),
                name="resident_id_number_has_index",
            ),
            models.CheckConstraint(
                condition=Q(phone__isnull=True, phone_index__isnull=True, phone_masked="")
                | Q(phone__isnull=False, phone_index__isnull=False) & ~Q(phone_masked=""),
                name="resident_phone_has_index",
            ),
            models.CheckConstraint(
                condition=Q(status="living", left_on__isnull=True)
                | Q(status__in=["moved_out", "deceased"], left_on__isnull=False),
                name="resident_left_on_matches_status",
            ),
            models.CheckConstraint(condition=Q(status__in=ResidentStatus.values), name="resident_status_known"),
            models.CheckConstraint(condition=~Q(name=""), name="resident_name_not_blank"),
        ]
        indexes = [
            models.Index(fields=["grid", "status", "name"], name="resident_grid_name"),
            models.Index(fields=["community", "status", "name"], name="resident_community_name"),
            models.Index(fields=["street", "status", "name"], name="resident_street_name"),
            models.Index(fields=["district", "status", "name"], name="resident_district_name"),
            models.Index(fields=["phone_index"], name="resident_phone_index"),
            # The visiting round: due residents of a grid, soonest first.
            models.Index(fields=["grid", "visit_due_on"], name="resident_visit_due",
                         condition=Q(visit_due_on__isnull=False)),
        ]

    def __str__(self):
        return self.name

    @property
    def is_living(self):
        return self.status == ResidentStatus.LIVING


class ResidentEvent(models.Model):
    """Immutable history of a resident: added, changed, moved, moved out, died, tagged.

    The database refuses UPDATE and DELETE (migration 0002's trigger). Details
    never hold a full ID number or phone.
    """

    class Action(models.TextChoices):
        ADD = "add", _("Added")
        CHANGE = "change", _("Changed")
        MOVE = "move", _("Moved to another household")
        MOVE_OUT = "move_out", _("Moved out")
        DECEASE = "decease", _("Deceased")
        RETURN = "return", _("Moved back in")
        IMPORT = "import", _("Imported")

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="events",
                                 verbose_name=_("resident"))
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"), db_index=False)
    at = models.DateTimeField(_("at"))
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("resident history")
        verbose_name_plural = _("resident history")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.get_action_display()} {timezone.localtime(self.at):%Y-%m-%d}"


class AccessAction(models.TextChoices):
    REVEAL = "reveal", _("Revealed a full value")
    EXPORT = "export", _("Exported")
    IMPORT = "import", _("Imported")


class AccessField(models.TextChoices):
    ID_NUMBER = "id_number", _("ID number")
    PHONE = "phone", _("phone")
    ALL = "all", _("all fields")


class AccessLog(models.Model):
    """个人信息查阅记录: who saw or took whose personal data, which field, why, when.

    Written in the same transaction as the reveal or export it records;
    readable by staff above; the database refuses UPDATE and DELETE.
    """

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("by"))
    action = models.CharField(_("action"), max_length=10, choices=AccessAction.choices)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="access_log", verbose_name=_("resident"))
    field = models.CharField(_("field"), max_length=10, choices=AccessField.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    at = models.DateTimeField(_("at"))
    # The place whose staff above may read this entry (the resident's grid, or
    # the top of the exporter's scope), so the log is scoped like everything else.
    district = path_fk(_("district"))
    street = path_fk(_("street"))
    community = path_fk(_("community"))
    grid = path_fk(_("grid"))
    # Export: the filters and the number of rows; never the values themselves.
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data access log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["community", "at"], name="accesslog_community_at"),
            models.Index(fields=["street", "at"], name="accesslog_street_at"),
            models.Index(fields=["district", "at"], name="accesslog_district_at"),
            models.Index(fields=["actor", "at"], name="accesslog_actor_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="accesslog_reason_given"),
            models.CheckConstraint(condition=~Q(action="reveal") | Q(resident__isnull=False),
                                   name="accesslog_reveal_names_resident"),
        ]

    def __str__(self):
        return f"{self.actor} {self.get_action_display()} {timezone.localtime(self.at):%Y-%m-%d %H:%M}"


class CareVisit(models.Model):
    """走访: a grid worker's visit to a resident, and what came of it."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="visits",
                                 verbose_name=_("resident"))
    visited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("visited by"))
    visited_at = models.DateTimeField(_("visited at"))
    notes = models.TextField(_("notes"))
    findings = models.TextField(_("what was found"), blank=True)
    follow_up = models.BooleanField(_("follow-up needed"), default=False)
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="care_visit", verbose_name=_("case"))
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("care visit")
        verbose_name_plural = _("care visits")
        ordering = ["-visited_at", "-id"]
        indexes = [models.Index(fields=["resident", "visited_at"], name="carevisit_resident_at")]

    def __str__(self):
        return f"{self.resident} {timezone.localtime(self.visited_at):%Y-%m-%d}"


class ImportJob(models.Model):
    """A resident spreadsheet being checked or loaded; the file stays until the job ends."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Checked")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Mode(models.TextChoices):
        VALID_ROWS = "valid", _("Import the valid rows")
        ALL_OR_NOTHING = "all", _("Import all rows or nothing")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("by"))
    created_at = models.DateTimeField(_("created at"))
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=200)
    file_name = models.CharField(_("file name"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    mode = models.CharField(_("mode"), max_length=5, choices=Mode.choices, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    valid_rows = models.PositiveIntegerField(_("valid rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed rows"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    # [{"row": 7, "column": "身份证号", "message": "..."}...], capped; never a full ID number.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("resident import")
        verbose_name_plural = _("resident imports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_rows__lte=models.F("total_rows")),
                                   name="importjob_valid_le_total"),
        ]

    def __str__(self):
        return self.file_name

    @property
    def progress_percent(self):
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))
