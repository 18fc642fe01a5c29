"""Where big matters go (三事分流 routing) and who holds them: routing rules, the 准入 list,
each organisation's own limits, and the append-only assignments of matters to organisations.

Imported by cases/models.py at its end (like models_intake), so the import runs one way:
nothing here imports cases.models at module level except through string references.
Writes go through cases/routing_orgs.py (rules, lists, limits) and cases/services_orgs.py
(dispatch, sign-in, reply, return, ruling).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grid.models import OrgFunction
from portal.workcalendar.models import TimeUnit


class RoutingRule(models.Model):
    """Per district (overridable per street): which organisation function, or which one
    organisation, is responsible for a category's public matters (大事).

    The most specific rule wins: a street's over its district's, then a subcategory's over
    its parent's (cases.routing_orgs.propose). A rule naming an inactive organisation is
    refused when saved and skipped (logged) when routing.
    """

    district = models.ForeignKey("grid.Area", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("district"))
    street = models.ForeignKey("grid.Area", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("street"), help_text=_("Leave empty for the whole district."))
    category = models.ForeignKey("cases.Category", on_delete=models.PROTECT, related_name="routing_rules",
                                 verbose_name=_("category"))
    function = models.CharField(_("organisation function"), max_length=16, choices=OrgFunction.choices,
                                blank=True)
    organisation = models.ForeignKey("grid.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="routing_rules", verbose_name=_("organisation"))
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"), db_index=False)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["district_id", "street_id", "category_id"]
        indexes = [models.Index(fields=["district", "category"], name="routing_rule_lookup")]
        constraints = [
            models.CheckConstraint(
                name="routing_rule_function_or_organisation",
                condition=(Q(function="", organisation__isnull=False) | (~Q(function="") & Q(organisation__isnull=True))),
            ),
            models.UniqueConstraint(fields=["district", "category"], condition=Q(street__isnull=True),
                                    name="routing_rule_one_per_district"),
            models.UniqueConstraint(fields=["street", "category"], condition=Q(street__isnull=False),
                                    name="routing_rule_one_per_street"),
        ]

    def __str__(self):
        target = self.organisation or self.get_function_display()
        return f"{self.street or self.district} · {self.category} → {target}"


class GridExclusion(models.Model):
    """准入: a category a district never gives to a grid worker (enforcement matters such as
    违法建设). Its small matters wait with the community instead; a listed parent covers its
    subcategories."""

    district = models.ForeignKey("grid.Area", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("district"))
    category = models.ForeignKey("cases.Category", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("category"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("not for grid workers (准入)")
        verbose_name_plural = _("not for grid workers (准入)")
        ordering = ["district_id", "category_id"]
        constraints = [models.UniqueConstraint(fields=["district", "category"], name="grid_exclusion_once")]

    def __str__(self):
        return f"{self.district} · {self.category}"


class OrgLimit(models.Model):
    """An organisation's own time limits for a category (a subcategory's row beats its
    parent's); without a row, the category's own accept and handle limits apply."""

    organisation = models.ForeignKey("grid.Organisation", on_delete=models.CASCADE, related_name="limits",
                                     verbose_name=_("organisation"))
    category = models.ForeignKey("cases.Category", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("category"))
    sign_in_limit = models.PositiveIntegerField(_("time to sign in"))
    sign_in_limit_unit = models.CharField(_("unit"), max_length=16, choices=TimeUnit.choices,
                                          default=TimeUnit.WORKING_HOURS)
    handle_limit = models.PositiveIntegerField(_("time to handle"))
    handle_limit_unit = models.CharField(_("unit"), max_length=16, choices=TimeUnit.choices,
                                         default=TimeUnit.WORKING_DAYS)

    class Meta:
        verbose_name = _("organisation time limit")
        verbose_name_plural = _("organisation time limits")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "category"], name="org_limit_once"),
            models.CheckConstraint(condition=Q(sign_in_limit__gt=0, handle_limit__gt=0),
                                   name="org_limit_positive"),
            models.CheckConstraint(condition=Q(sign_in_limit_unit__in=TimeUnit.values,
                                               handle_limit_unit__in=TimeUnit.values),
                                   name="org_limit_units_known"),
        ]

    def __str__(self):
        return f"{self.organisation} · {self.category}"


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("Lead (主办)")
    CO = "co", _("Co-handler (协办)")


class AssignmentKind(models.TextChoices):
    DISPATCH = "dispatch", _("Dispatched by the command centre")
    RULING = "ruling", _("Street ruling on a return")


class OrgAssignment(models.Model):
    """One sending of a matter to an organisation (append-only: the database refuses UPDATE
    and DELETE). A dispatch writes one lead row and a row per co-handler (`lead` points at
    the lead row). The case's `org_assignment` is the current pointer; the rows it does not
    point at (nor their co-handlers) are history.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="org_assignments",
                             verbose_name=_("case"))
    organisation = models.ForeignKey("grid.Organisation", on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("organisation"))
    role = models.CharField(_("role"), max_length=4, choices=AssignmentRole.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=AssignmentKind.choices,
                            default=AssignmentKind.DISPATCH)
    lead = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="co_handlers",
                             verbose_name=_("lead assignment"))
    reason = models.TextField(_("reason"), blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("by"), db_index=False)
    assigned_at = models.DateTimeField(_("at"))
    # The sign-in deadline this sending started with (the organisation's limit, in working time).
    sign_in_due_at = models.DateTimeField(_("sign in by"), null=True, blank=True)

    class Meta:
        verbose_name = _("organisation assignment")
        verbose_name_plural = _("organisation assignments")
        ordering = ["assigned_at", "id"]
        indexes = [
            # Scoping: the matters ever sent to an organisation.
            models.Index(fields=["organisation", "case"], name="org_assignment_org_case"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=AssignmentRole.values), name="org_assignment_role_known"),
            models.CheckConstraint(condition=Q(kind__in=AssignmentKind.values), name="org_assignment_kind_known"),
            models.CheckConstraint(
                condition=Q(role=AssignmentRole.LEAD, lead__isnull=True)
                | Q(role=AssignmentRole.CO, lead__isnull=False),
                name="org_assignment_co_has_lead",
            ),
            models.CheckConstraint(condition=~Q(kind=AssignmentKind.RULING) | ~Q(reason=""),
                                   name="org_assignment_ruling_has_reason"),
        ]

    def __str__(self):
        return f"{self.case_id} → {self.organisation_id} ({self.role})"


class ReferralTarget(models.TextChoices):
    """私事: where a private matter was referred (the case closes as referred, not solved)."""

    PARTIES = "parties", _("The parties themselves (自行协商)")
    PROPERTY = "property", _("The compound's property company (物业)")
    MEDIATION = "mediation", _("People's mediation (人民调解)")
    LEGAL_AID = "legal_aid", _("Legal aid (法律援助)")
    MARKET = "market", _("Market services (市场化服务)")
