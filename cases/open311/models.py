"""Open311 rows: client systems and their keys, per-category questions (service
attributes), and the Open311 side of a filed matter (its token and answers).

A key is shown once, when staff issue it; only its SHA-256 is stored. Keys are
long random strings, so a fast hash is enough (nothing to brute-force).
"""

import hashlib

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Category
from grid.models import Area


def hash_key(raw):
    return hashlib.sha256((raw or "").encode("utf-8", "surrogatepass")).hexdigest()


class ApiClient(models.Model):
    """A client system (hotline platform, city app) with an API key, bound to a place (its subtree)."""

    name = models.CharField(_("client system"), max_length=100, unique=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="api_clients", verbose_name=_("place"),
                             help_text=_("The client may file and read matters under this place only."))
    key_prefix = models.CharField(_("key starts with"), max_length=12)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_hotline = models.BooleanField(
        _("12345 hotline system"), default=False,
        help_text=_("May push hotline work orders and fetch their replies (/api/hotline/v1/)."))
    rate_limit = models.PositiveIntegerField(_("requests per minute"), default=60,
                                             validators=[MinValueValidator(1), MaxValueValidator(10_000)])
    created_at = models.DateTimeField(_("issued at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("issued by"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("revoked by"))

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(rate_limit__gt=0), name="api_client_rate_limit_positive"),
            models.CheckConstraint(condition=Q(revoked_at__isnull=True) | Q(revoked_at__gte=models.F("created_at")),
                                   name="api_client_revoked_after_issue"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_active(self):
        return self.revoked_at is None


class Datatype(models.TextChoices):
    STRING = "string", _("Text (one line)")
    NUMBER = "number", _("Number")
    DATETIME = "datetime", _("Date and time")
    TEXT = "text", _("Text (several lines)")
    SINGLE = "singlevaluelist", _("One of a list")
    MULTI = "multivaluelist", _("Several of a list")


LIST_DATATYPES = (Datatype.SINGLE, Datatype.MULTI)


class ServiceAttribute(models.Model):
    """A question a client answers when filing a matter of this category (an Open311 attribute)."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="open311_attributes",
                                 verbose_name=_("category"))
    code = models.SlugField(_("code"), max_length=40)
    datatype = models.CharField(_("type"), max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    required = models.BooleanField(_("required"), default=False)
    description = models.CharField(_("question"), max_length=200)
    datatype_description = models.CharField(_("hint"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    # [{"key": "...", "name": "..."}] for the list types.
    values = models.JSONField(_("choices"), default=list, blank=True)
    # Moves whenever the question is saved: discovery's changeset follows it.
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("Open311 attribute")
        verbose_name_plural = _("Open311 attributes")
        ordering = ["category_id", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="service_attribute_code_unique"),
            models.CheckConstraint(condition=Q(datatype__in=Datatype.values), name="service_attribute_datatype_known"),
        ]

    def __str__(self):
        return f"{self.category.code} · {self.code}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.datatype in LIST_DATATYPES:
            ok = isinstance(self.values, list) and self.values and all(
                isinstance(v, dict) and str(v.get("key", "")).strip() and str(v.get("name", "")).strip()
                for v in self.values)
            if not ok:
                raise ValidationError({"values": _('A list needs choices: [{"key": "1", "name": "…"}, …].')})
        elif self.values:
            raise ValidationError({"values": _("Only list questions have choices.")})


class ServiceRequest(models.Model):
    """The Open311 side of a matter filed by a client: its token and the answers given.

    A filing waits as a received report (cases.Intake) like a resident's from the
    report page; `case` is empty until a worker registers it, then set in the
    transaction that creates the case (same tracking code).
    """

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="open311", verbose_name=_("case"),
                                null=True, blank=True)
    # The received report's tracking code, which its case keeps.
    tracking_code = models.CharField(_("tracking code"), max_length=16, unique=True)
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="requests",
                               verbose_name=_("client system"), db_index=False)
    token = models.CharField(_("token"), max_length=32, unique=True)
    # SHA-256 of what was filed: the same submission again within minutes answers the first one.
    fingerprint = models.CharField(max_length=64)
    attributes = models.JSONField(_("answers"), default=dict, blank=True)
    account_id = models.CharField(_("account"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("filed at"))

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "fingerprint", "created_at"], name="open311_request_replay")]

    def __str__(self):
        return self.token


class PublicReads(models.Model):
    """A district's choice to let anyone read its matters over Open311 without an API key.

    Only when settings.OPEN311_PUBLIC_READS is on as well, and then only public
    fields (cases/open311/public.py). One row per district; no row means no.
    """

    district = models.OneToOneField(Area, on_delete=models.CASCADE, related_name="open311_public_reads",
                                    verbose_name=_("district"), limit_choices_to={"kind": "district"})
    enabled = models.BooleanField(
        _("public reads"), default=False,
        help_text=_("Anyone may read this district's ordinary matters over Open311 without an API key: service, "
                    "status, public notes, building and dates only, never who reported them."))
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("Open311 public reads")
        verbose_name_plural = _("Open311 public reads")
        ordering = ["district_id"]

    def __str__(self):
        return str(self.district)
