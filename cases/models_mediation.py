"""The mediation file (调解卷宗) of a dispute case: parties, mediators, sessions,
evidence, the outcome and its documents.

Private: only its mediators and the officials above the place see it
(cases.selectors.cases_visible_to). The parties' ID numbers and phones are
stored like residents' (portal/identity.py): encrypted, blind-indexed, masked;
a full value is shown only through `mediation_party_reveal`, which logs it.

Writes go through cases/mediation.py and cases/mediation_files.py. This module
imports nothing from cases/models.py (it names the case by label), so that
module can import it at its end, like models_intake.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField

from grid.models import Area, path_fk

# Case statuses (by value: this module does not import cases/models.py) in which an unopened file stays so.
ENDED_UNOPENED = ("referred", "rejected", "duplicate", "closed")


class MediationOutcome(models.TextChoices):
    PENDING = "pending", _("In progress")
    AGREED = "agreed", _("Agreement reached")
    PARTIAL = "partial", _("Partial agreement")
    FAILED = "failed", _("No agreement")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Outcomes that come with a written agreement (调解协议书).
AGREEMENT_OUTCOMES = (MediationOutcome.AGREED, MediationOutcome.PARTIAL)


class DisputeType(models.TextChoices):
    NEIGHBOUR = "neighbour", _("Neighbour dispute (邻里纠纷)")
    FAMILY = "family", _("Marriage and family (婚姻家庭)")
    PROPERTY = "property", _("Property management (物业纠纷)")
    LABOUR = "labour", _("Labour and wages (劳资纠纷)")
    DAMAGES = "damages", _("Compensation for damage (损害赔偿)")
    HOUSING = "housing", _("Land and housing (土地房屋)")
    CONTRACT = "contract", _("Contract and debt (合同债务)")
    OTHER = "other", _("Other dispute (其他)")


class Referral(models.TextChoices):
    """Where a dispute goes when mediation fails."""

    LITIGATION = "litigation", _("Litigation (诉讼)")
    ARBITRATION = "arbitration", _("Arbitration (仲裁)")
    ADMINISTRATIVE = "administrative", _("Administrative ruling (行政裁决)")


class MediationSource(models.TextChoices):
    """How the dispute came to the committee (诉调/警调/访调对接)."""

    DIRECT = "direct", _("Parties or community (直接受理)")
    COURT = "court", _("Court entrusted (诉调对接)")
    POLICE = "police", _("Police station (警调对接)")
    PETITION = "petition", _("Petition office (访调对接)")


class Performance(models.TextChoices):
    """What the follow-up (回访) found of the agreement's performance."""

    PERFORMED = "performed", _("Performed")
    PARTLY = "partly", _("Partly performed")
    NOT_PERFORMED = "not_performed", _("Not performed")


class MediationRoom(models.Model):
    """调解室: a room of a community or street where sessions are held."""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="mediation_rooms",
                             verbose_name=_("community or street"))
    name = models.CharField(_("name"), max_length=60)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("mediation room")
        verbose_name_plural = _("mediation rooms")
        ordering = ["area_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="mediationroom_name_unique_in_area"),
            models.CheckConstraint(condition=~Q(name=""), name="mediationroom_name_not_blank"),
        ]

    def __str__(self):
        return self.name


class Mediation(models.Model):
    """The mediation file (调解卷宗) of a mediation case.

    Created with the case; opened (受理) by staff or a mediator, which gives it
    its dispute type, its committee (the community, else the street, of the
    case) and the committee's number for the year.
    """

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, primary_key=True, related_name="mediation", verbose_name=_("case")
    )
    mediators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="mediations", blank=True, verbose_name=_("mediators")
    )
    opened_at = models.DateTimeField(_("accepted (受理) at"), null=True, blank=True)
    dispute_type = models.CharField(_("dispute type"), max_length=12, choices=DisputeType.choices, blank=True)
    # The people's mediation committee (人民调解委员会) keeping the file and numbering it.
    committee = models.ForeignKey(Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("mediation committee"))
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    serial = models.PositiveIntegerField(_("number in the year"), null=True, blank=True)
    claims = models.TextField(_("what the applicant asks (申请事项)"), blank=True)
    room = models.ForeignKey(MediationRoom, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("mediation room"))

    source = models.CharField(_("source"), max_length=10, choices=MediationSource.choices,
                              default=MediationSource.DIRECT)
    source_body = models.CharField(_("referring body"), max_length=100, blank=True)
    source_ref = models.CharField(_("referring body's reference"), max_length=64, blank=True)
    reply_due_on = models.DateField(_("reply due on"), null=True, blank=True)
    # Pushed through the docking endpoint (/api/mediation/v1/) by this referring body's key.
    referrer = models.ForeignKey("MediationReferrer", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="referrals", verbose_name=_("referring system"))

    outcome = models.CharField(_("outcome"), max_length=10, choices=MediationOutcome.choices,
                               default=MediationOutcome.PENDING)
    agreement_text = models.TextField(_("agreed terms"), blank=True)
    performance_deadline = models.DateField(_("to be performed by"), null=True, blank=True)
    consent_recorded = models.BooleanField(_("parties' consent recorded"), default=False)
    referral = models.CharField(_("referred to"), max_length=14, choices=Referral.choices, blank=True)
    # The outgoing referral's receiving body (a court, an arbitration commission, an office) and its
    # receipt (立案回执/收件回执): the dispute left the committee and somebody took it.
    referral_body = models.CharField(_("receiving body"), max_length=100, blank=True)
    referral_receipt = models.CharField(_("receiving body's receipt number"), max_length=64, blank=True)
    referral_received_on = models.DateField(_("received by that body on"), null=True, blank=True)
    referral_answer = models.TextField(_("receiving body's answer"), blank=True)
    outcome_note = models.TextField(_("outcome note"), blank=True)
    concluded_at = models.DateTimeField(_("concluded at"), null=True, blank=True)

    # The reply to the referring body (诉调/警调/访调对接) on the outcome.
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    reply_text = models.TextField(_("reply"), blank=True)

    # 回访: the agreement's performance, checked after a set number of working days.
    follow_up_due_on = models.DateField(_("follow-up due on"), null=True, blank=True)
    followed_up_at = models.DateTimeField(_("followed up at"), null=True, blank=True)
    performance = models.CharField(_("performance"), max_length=14, choices=Performance.choices, blank=True)
    follow_up_note = models.TextField(_("follow-up note"), blank=True)
    # 司法确认: the parties applied to a court to confirm the agreement; the court's receipt.
    confirmation_court = models.CharField(_("court (judicial confirmation)"), max_length=100, blank=True)
    confirmation_receipt = models.CharField(_("court's receipt number"), max_length=64, blank=True)
    confirmation_applied_on = models.DateField(_("applied for confirmation on"), null=True, blank=True)

    class Meta:
        verbose_name = _("mediation")
        verbose_name_plural = _("mediations")
        indexes = [models.Index(fields=["committee", "year"], name="mediation_committee_year")]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=MediationOutcome.values), name="mediation_outcome_known"),
            models.CheckConstraint(
                condition=~Q(outcome__in=AGREEMENT_OUTCOMES) | ~Q(agreement_text=""),
                name="mediation_agreement_has_text",
            ),
            models.CheckConstraint(
                condition=Q(outcome=MediationOutcome.PENDING) | Q(concluded_at__isnull=False),
                name="mediation_concluded_has_date",
            ),
            models.CheckConstraint(
                condition=Q(referral="") | Q(outcome=MediationOutcome.FAILED, referral__in=Referral.values),
                name="mediation_referral_only_on_failure",
            ),
            models.CheckConstraint(condition=Q(source__in=MediationSource.values), name="mediation_source_known"),
            models.CheckConstraint(
                condition=Q(opened_at__isnull=True, committee__isnull=True, year__isnull=True, serial__isnull=True)
                | Q(opened_at__isnull=False, committee__isnull=False, year__isnull=False, serial__gt=0)
                & ~Q(dispute_type=""),
                name="mediation_opened_is_numbered",
            ),
            models.UniqueConstraint(fields=["committee", "year", "serial"], condition=Q(serial__isnull=False),
                                    name="mediation_number_unique"),
            models.CheckConstraint(
                condition=Q(followed_up_at__isnull=True, performance="")
                | Q(followed_up_at__isnull=False, performance__in=Performance.values),
                name="mediation_follow_up_has_finding",
            ),
            models.CheckConstraint(
                condition=Q(replied_at__isnull=True) | ~Q(reply_text="") & ~Q(source=MediationSource.DIRECT),
                name="mediation_reply_to_a_referral",
            ),
            models.CheckConstraint(
                condition=Q(referral_body="", referral_receipt="", referral_received_on__isnull=True,
                            referral_answer="")
                | Q(outcome=MediationOutcome.FAILED, referral_received_on__isnull=False) & ~Q(referral="")
                & ~Q(referral_body="") & ~Q(referral_receipt=""),
                name="mediation_referral_receipt_complete",
            ),
            # One file per referring system and reference: a re-push answers the first file.
            models.UniqueConstraint(fields=["referrer", "source_ref"], condition=Q(referrer__isnull=False),
                                    name="mediation_one_file_per_reference"),
            models.CheckConstraint(condition=Q(referrer__isnull=True) | ~Q(source_ref="") & ~Q(source="direct"),
                                   name="mediation_pushed_has_reference"),
            models.CheckConstraint(
                condition=Q(confirmation_applied_on__isnull=True, confirmation_court="", confirmation_receipt="")
                | Q(confirmation_applied_on__isnull=False) & ~Q(confirmation_court="") & ~Q(confirmation_receipt=""),
                name="mediation_confirmation_complete",
            ),
        ]

    def __str__(self):
        return self.number or str(self.case_id)

    @property
    def is_open(self):
        return self.opened_at is not None

    @property
    def never_opened(self):
        """No file was opened and never will be: the case ended first (referred as a private matter,
        rejected, a duplicate). Lists and pages say so instead of "pending" forever."""
        return self.opened_at is None and self.case.status in ENDED_UNOPENED

    @property
    def number(self):
        """（2026）幸福社区调字第007号: the committee's own yearly sequence."""
        if self.serial is None:
            return ""
        return f"（{self.year}）{self.committee.name}调字第{self.serial:03d}号"

    @property
    def has_agreement(self):
        return self.outcome in AGREEMENT_OUTCOMES

    @property
    def is_referral(self):
        return self.source != MediationSource.DIRECT


class MediationReferrer(models.Model):
    """A court, police station or petition office (诉调/警调/访调对接) that pushes referrals with an
    API key (cases/mediation_api.py). The key (an Open311 client) is bound to a place: referrals
    name a community or grid under it. The channel and the body's name come from here, never from
    the request, so a police key cannot refer as a court."""

    client = models.OneToOneField("open311.ApiClient", on_delete=models.PROTECT, primary_key=True,
                                  related_name="mediation_referrer", verbose_name=_("API client"))
    source = models.CharField(_("channel"), max_length=10, choices=MediationSource.choices)
    body = models.CharField(_("referring body"), max_length=100)

    class Meta:
        verbose_name = _("mediation referrer")
        verbose_name_plural = _("mediation referrers")
        constraints = [
            models.CheckConstraint(condition=Q(source__in=["court", "police", "petition"]),
                                   name="mediationreferrer_source_docking"),
            models.CheckConstraint(condition=~Q(body=""), name="mediationreferrer_body_not_blank"),
        ]

    def __str__(self):
        return self.body


class MediationNumberCounter(models.Model):
    """The last file number a committee handed out in a year."""

    committee = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("mediation committee"))
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("mediation number counter")
        verbose_name_plural = _("mediation number counters")
        constraints = [
            models.UniqueConstraint(fields=["committee", "year"], name="mediationcounter_one_per_year"),
        ]


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", _("Applicant (申请人)")
    RESPONDENT = "respondent", _("Respondent (被申请人)")
    THIRD_PARTY = "third_party", _("Third party (第三人)")


class MediationParty(models.Model):
    """A party to the dispute (当事人). Rows, not JSON, so personal data is stored like residents'."""

    mediation = models.ForeignKey(Mediation, on_delete=models.PROTECT, related_name="parties",
                                  verbose_name=_("mediation"))
    role = models.CharField(_("role"), max_length=12, choices=PartyRole.choices)
    # A person's name: 姓名, not the 名称 of a place or a thing.
    name = models.CharField(_("full name"), max_length=50)
    # Sensitive personal information, as on Resident (PIPL art. 28).
    id_number = EncryptedCharField(_("ID number"), max_length=18, null=True, blank=True)
    id_index = models.CharField(_("ID number index"), max_length=64, null=True, blank=True, editable=False)
    id_masked = models.CharField(_("ID number"), max_length=18, blank=True, editable=False)
    phone = EncryptedCharField(_("phone"), max_length=20, null=True, blank=True)
    phone_index = models.CharField(_("phone index"), max_length=64, null=True, blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)
    address = models.CharField(_("address"), max_length=200, blank=True)
    added_at = models.DateTimeField(_("added at"))
    # Taken off the file as added by mistake: the row stays for the timeline and the access log, its ID
    # number and phone are erased (no longer needed: PIPL art. 47), and it prints on no document.
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("removed by"))
    removal_reason = models.CharField(_("reason for removal"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["mediation_id", "id"]
        indexes = [
            models.Index(fields=["id_index"], name="mediationparty_id_index"),
            models.Index(fields=["phone_index"], name="mediationparty_phone_index"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=PartyRole.values), name="mediationparty_role_known"),
            models.CheckConstraint(condition=~Q(name=""), name="mediationparty_name_not_blank"),
            models.CheckConstraint(
                condition=Q(id_number__isnull=True, id_index__isnull=True, id_masked="")
                | Q(id_number__isnull=False, id_index__isnull=False) & ~Q(id_masked=""),
                name="mediationparty_id_number_has_index",
            ),
            models.CheckConstraint(
                condition=Q(phone__isnull=True, phone_index__isnull=True, phone_masked="")
                | Q(phone__isnull=False, phone_index__isnull=False) & ~Q(phone_masked=""),
                name="mediationparty_phone_has_index",
            ),
            # One person is one party of a file.
            models.UniqueConstraint(fields=["mediation", "id_index"], condition=Q(id_index__isnull=False),
                                    name="mediationparty_once_per_file"),
            # A removal says who and why, and keeps no ID number or phone.
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True, removed_by__isnull=True, removal_reason="")
                | Q(removed_at__isnull=False, removed_by__isnull=False, id_number__isnull=True, phone__isnull=True)
                & ~Q(removal_reason=""),
                name="mediationparty_removal_complete",
            ),
        ]

    def __str__(self):
        return self.name


class PartyField(models.TextChoices):
    ID_NUMBER = "id_number", _("ID number")
    PHONE = "phone", _("phone")


class MediationPartyAccess(models.Model):
    """个人信息查阅记录 for mediation parties: who saw which full value, why, when.

    Written in the reveal's transaction; the database refuses UPDATE and DELETE.
    Carries the case's place path so staff above read it, scoped like the case.
    """

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("by"))
    party = models.ForeignKey(MediationParty, on_delete=models.PROTECT, related_name="access_log",
                              verbose_name=_("party"))
    field = models.CharField(_("field"), max_length=10, choices=PartyField.choices)
    reason = models.CharField(_("reason"), max_length=200)
    at = models.DateTimeField(_("at"))
    district = path_fk(_("district"))
    street = path_fk(_("street"))
    community = path_fk(_("community"))
    grid = path_fk(_("grid"))

    class Meta:
        verbose_name = _("party data access")
        verbose_name_plural = _("party data access log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["party", "at"], name="mediationaccess_party_at")]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="mediationaccess_reason_given"),
            models.CheckConstraint(condition=Q(field__in=PartyField.values), name="mediationaccess_field_known"),
        ]


class SessionState(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    HELD = "held", _("Held")
    # A scheduled session that will not be held: the file was concluded before it.
    CANCELLED = "cancelled", _("Cancelled")


class MediationSession(models.Model):
    mediation = models.ForeignKey(
        Mediation, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("mediation")
    )
    state = models.CharField(_("state"), max_length=10, choices=SessionState.choices, default=SessionState.HELD)
    held_at = models.DateTimeField(_("held at"))
    room = models.ForeignKey(MediationRoom, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions",
                             verbose_name=_("mediation room"))
    location = models.CharField(_("location"), max_length=100, blank=True)
    attendees = models.TextField(_("attendees"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("mediation session")
        verbose_name_plural = _("mediation sessions")
        ordering = ["held_at", "id"]
        indexes = [models.Index(fields=["held_at"], name="mediationsession_held_at")]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=SessionState.values), name="mediationsession_state_known"),
            models.CheckConstraint(condition=~Q(state=SessionState.HELD) | ~Q(notes=""),
                                   name="mediationsession_held_has_notes"),
            # One file, one session scheduled at a time: a second at the same moment is a double entry.
            models.UniqueConstraint(fields=["mediation", "held_at"], condition=Q(state="scheduled"),
                                    name="mediationsession_one_scheduled_per_moment"),
        ]

    def __str__(self):
        return f"{self.get_state_display()} {timezone.localtime(self.held_at):%Y-%m-%d %H:%M}"


class FileKind(models.TextChoices):
    EVIDENCE = "evidence", _("Evidence")
    SIGNED_APPLICATION = "signed_application", _("Signed application (调解申请书)")
    SIGNED_AGREEMENT = "signed_agreement", _("Signed agreement (调解协议书)")


class MediationFile(models.Model):
    """Evidence and signed scans of the file: served only through the scoped view, never /media/."""

    mediation = models.ForeignKey(Mediation, on_delete=models.PROTECT, related_name="files",
                                  verbose_name=_("mediation"))
    kind = models.CharField(_("kind"), max_length=20, choices=FileKind.choices)
    file = models.FileField(_("file"), upload_to="mediation/%Y/%m/", max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("mediation file")
        verbose_name_plural = _("mediation files")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=FileKind.values), name="mediationfile_kind_known"),
        ]
