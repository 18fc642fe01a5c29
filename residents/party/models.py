"""Party building in the community (党建引领): party organisations on places, members
reporting in where they live (在职党员双报到), residents' small wishes (微心愿) and the
service members give.

Every row hangs on a place (PlacePath) so scoping is one indexed filter, and
grid/services.py re-paths it when the tree changes. Membership of the party is
sensitive personal data: it is read through residents' scoping (selectors.py) and
shown masked in lists. Writes go through services.py only.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grid.models import Building, Compound, Organisation, PlacePath, path_fk
from portal.personal import mask_name


class OrgKind(models.TextChoices):
    COMMITTEE = "committee", _("Community party committee (社区党委/党总支)")
    GRID_BRANCH = "grid", _("Grid party branch (网格党支部)")
    COMPOUND_BRANCH = "compound", _("Compound party branch (小区党支部)")
    BUILDING_GROUP = "building", _("Building party group (楼栋党小组)")
    REGIONAL = "regional", _("Regional party committee (区域党委)")


class PartyOrg(PlacePath):
    """A party organisation on a place: a community's committee, a grid's or a compound's branch,
    a building's group, or a 区域党委 that joins the units stationed in a street or community."""

    district = path_fk(_("district"), null=False)
    street = path_fk(_("street"), null=False)
    community = path_fk(_("community"))
    grid = path_fk(_("grid"))
    kind = models.CharField(_("kind"), max_length=10, choices=OrgKind.choices)
    name = models.CharField(_("name"), max_length=100)
    compound = models.ForeignKey(Compound, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="party_orgs", verbose_name=_("compound"))
    building = models.ForeignKey(Building, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="party_orgs", verbose_name=_("building"))
    units = models.ManyToManyField(Organisation, blank=True, related_name="party_orgs",
                                   verbose_name=_("stationed units"),
                                   help_text=_("The units a regional party committee joins (驻区单位)."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("party organisation")
        verbose_name_plural = _("party organisations")
        ordering = ["community_id", "kind", "name"]
        indexes = [models.Index(fields=["community", "kind"], name="partyorg_community"),
                   models.Index(fields=["street"], name="partyorg_street")]
        constraints = [
            # The kind names the place it sits on, and nothing deeper.
            models.CheckConstraint(
                name="partyorg_place_fits_kind",
                condition=(
                    Q(kind=OrgKind.COMMITTEE, community__isnull=False, grid__isnull=True, compound__isnull=True,
                      building__isnull=True)
                    | Q(kind=OrgKind.GRID_BRANCH, grid__isnull=False, compound__isnull=True, building__isnull=True)
                    | Q(kind=OrgKind.COMPOUND_BRANCH, community__isnull=False, compound__isnull=False,
                        building__isnull=True)
                    | Q(kind=OrgKind.BUILDING_GROUP, grid__isnull=False, building__isnull=False)
                    | Q(kind=OrgKind.REGIONAL, grid__isnull=True, compound__isnull=True, building__isnull=True)
                ),
            ),
            models.CheckConstraint(name="partyorg_name_not_blank", condition=~Q(name="")),
            models.UniqueConstraint(fields=["community"], condition=Q(kind=OrgKind.COMMITTEE, is_active=True),
                                    name="partyorg_one_committee_per_community"),
        ]

    def __str__(self):
        return self.name


class MemberRole(models.TextChoices):
    SECRETARY = "secretary", _("Secretary (书记)")
    DEPUTY = "deputy", _("Deputy secretary (副书记)")
    MEMBER = "member", _("Member")


class Membership(PlacePath):
    """A party member's place in an organisation: a resident of the records, a portal user, or both.

    Sensitive (PIPL art. 28): scoped like residents' records, the name masked in lists.
    The path is the organisation's.
    """

    path_follows = "org"

    district = path_fk(_("district"), null=False)
    street = path_fk(_("street"), null=False)
    community = path_fk(_("community"))
    grid = path_fk(_("grid"))
    org = models.ForeignKey(PartyOrg, on_delete=models.PROTECT, related_name="memberships",
                            verbose_name=_("party organisation"))
    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="party_memberships", verbose_name=_("resident"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="party_memberships", verbose_name=_("user"))
    name = models.CharField(_("full name"), max_length=50)
    role = models.CharField(_("role"), max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER)
    joined_at = models.DateTimeField(_("joined at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("party membership")
        verbose_name_plural = _("party memberships")
        ordering = ["org_id", "role", "id"]
        indexes = [models.Index(fields=["community", "ended_at"], name="membership_community"),
                   models.Index(fields=["street"], name="membership_street"),
                   models.Index(fields=["grid"], name="membership_grid")]
        constraints = [
            models.CheckConstraint(name="membership_is_someone",
                                   condition=Q(resident__isnull=False) | Q(user__isnull=False)),
            models.UniqueConstraint(fields=["org"], condition=Q(role=MemberRole.SECRETARY, ended_at__isnull=True),
                                    name="membership_one_secretary"),
            models.UniqueConstraint(fields=["org", "resident"],
                                    condition=Q(ended_at__isnull=True, resident__isnull=False),
                                    name="membership_resident_once"),
            models.UniqueConstraint(fields=["org", "user"], condition=Q(ended_at__isnull=True, user__isnull=False),
                                    name="membership_user_once"),
        ]

    def __str__(self):
        return f"{self.org} · {self.get_role_display()}"


class EmployerUnit(PlacePath):
    """A unit employing serving party members (在职党员所在单位), registered with its street (单位报到)."""

    district = path_fk(_("district"), null=False)
    street = path_fk(_("street"), null=False)
    community = path_fk(_("community"))
    grid = path_fk(_("grid"))
    name = models.CharField(_("name"), max_length=100)
    registered_at = models.DateTimeField(_("registered at"))
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("registered by"))

    class Meta:
        verbose_name = _("employer unit")
        verbose_name_plural = _("employer units")
        ordering = ["street_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["street", "name"], name="employer_unit_once_per_street"),
            models.CheckConstraint(name="employer_unit_name_not_blank", condition=~Q(name="")),
        ]

    def __str__(self):
        return self.name


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Reported in")
    ENDED = "ended", _("Ended")


LIVE_REPORT = Q(status__in=(ReportStatus.PENDING, ReportStatus.CONFIRMED))


class ReportIn(PlacePath):
    """双报到: a party member employed elsewhere reports in to the community where they live,
    names their employer, and chooses the service posts they take on. Community staff confirm."""

    district = path_fk(_("district"), null=False)
    street = path_fk(_("street"), null=False)
    community = path_fk(_("community"), null=False)
    grid = path_fk(_("grid"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="party_reports", verbose_name=_("user"))
    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="party_reports", verbose_name=_("resident"))
    name = models.CharField(_("full name"), max_length=50)
    employer_name = models.CharField(_("employer unit"), max_length=100)
    employer = models.ForeignKey(EmployerUnit, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="reports", verbose_name=_("registered employer unit"))
    post_building_helper = models.BooleanField(_("Building chief's helper (楼栋长助手)"), default=False)
    post_volunteer = models.BooleanField(_("Volunteer service (志愿服务)"), default=False)
    post_wishes = models.BooleanField(_("Small wishes (微心愿)"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices,
                              default=ReportStatus.PENDING)
    registered_at = models.DateTimeField(_("registered at"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("confirmed by"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # The member themself or community staff; empty on reports-in ended before it was recorded.
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("ended by"))

    class Meta:
        verbose_name = _("report-in (双报到)")
        verbose_name_plural = _("reports-in (双报到)")
        ordering = ["-registered_at", "-id"]
        indexes = [models.Index(fields=["community", "status"], name="reportin_community"),
                   models.Index(fields=["street"], name="reportin_street")]
        constraints = [
            models.CheckConstraint(name="reportin_is_someone",
                                   condition=Q(resident__isnull=False) | Q(user__isnull=False)),
            models.CheckConstraint(name="reportin_has_a_post",
                                   condition=Q(post_building_helper=True) | Q(post_volunteer=True)
                                   | Q(post_wishes=True)),
            models.CheckConstraint(name="reportin_confirmed_has_date",
                                   condition=~Q(status=ReportStatus.CONFIRMED) | Q(confirmed_at__isnull=False)),
            models.CheckConstraint(name="reportin_employer_not_blank", condition=~Q(employer_name="")),
            models.CheckConstraint(name="reportin_ended_by_only_when_ended",
                                   condition=Q(ended_by__isnull=True) | Q(status=ReportStatus.ENDED,
                                                                          ended_at__isnull=False)),
            models.UniqueConstraint(fields=["user"], condition=LIVE_REPORT & Q(user__isnull=False),
                                    name="reportin_one_live_per_user"),
            models.UniqueConstraint(fields=["resident"], condition=LIVE_REPORT & Q(resident__isnull=False),
                                    name="reportin_one_live_per_resident"),
        ]

    def __str__(self):
        # Shown in admin titles, breadcrumbs and its change log: the member's name masked, as in lists.
        return f"{mask_name(self.name)} · {self.get_status_display()}"

    @property
    def posts(self):
        return [str(self._meta.get_field(f).verbose_name) for f in ("post_building_helper", "post_volunteer",
                                                                    "post_wishes") if getattr(self, f)]


class ServicePost(models.TextChoices):
    BUILDING_HELPER = "helper", _("Building chief's helper (楼栋长助手)")
    VOLUNTEER = "volunteer", _("Volunteer service (志愿服务)")
    WISH = "wish", _("Small wish (微心愿)")


class WishCategory(models.TextChoices):
    DAILY = "daily", _("Daily necessities")
    STUDY = "study", _("School supplies")
    ELDERLY = "elderly", _("Help for the elderly or disabled")
    HEALTH = "health", _("Health")
    OTHER = "other", _("Other")


class WishStatus(models.TextChoices):
    POSTED = "posted", _("Open for adoption")
    ADOPTED = "adopted", _("Adopted by a member")
    FULFILLED = "fulfilled", _("Fulfilled, to confirm")
    CONFIRMED = "confirmed", _("Confirmed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


ADOPTED_STATES = (WishStatus.ADOPTED, WishStatus.FULFILLED, WishStatus.CONFIRMED)


class Wish(PlacePath):
    """微心愿: a small wish of a resident in difficulty, posted by community staff with a budget cap,
    adopted by one reported-in member of the community, fulfilled, confirmed by staff.
    The status moves only through workflow.py's table."""

    path_follows = "resident"  # the resident's home: a building moved to another grid takes the wish along

    district = path_fk(_("district"), null=False)
    street = path_fk(_("street"), null=False)
    community = path_fk(_("community"), null=False)
    grid = path_fk(_("grid"))
    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, related_name="wishes",
                                 verbose_name=_("resident"))
    title = models.CharField(_("wish"), max_length=100)
    category = models.CharField(_("category"), max_length=10, choices=WishCategory.choices)
    budget_cap = models.DecimalField(_("budget cap (yuan)"), max_digits=7, decimal_places=2)
    status = models.CharField(_("status"), max_length=10, choices=WishStatus.choices, default=WishStatus.POSTED)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("posted by"))
    posted_at = models.DateTimeField(_("posted at"))
    adopter = models.ForeignKey(ReportIn, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="adopted_wishes", verbose_name=_("adopted by"))
    adopted_at = models.DateTimeField(_("adopted at"), null=True, blank=True)
    fulfil_note = models.CharField(_("how it was fulfilled"), max_length=200, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    # Who took an open wish down, and when; empty on wishes withdrawn before it was recorded.
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("withdrawn by"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("small wish (微心愿)")
        verbose_name_plural = _("small wishes (微心愿)")
        ordering = ["-posted_at", "-id"]
        indexes = [models.Index(fields=["community", "status"], name="wish_community"),
                   models.Index(fields=["street"], name="wish_street")]
        constraints = [
            # One adopter per wish, held in the row itself: adopted states have one, the others none.
            models.CheckConstraint(
                name="wish_adopter_fits_status",
                condition=Q(status__in=ADOPTED_STATES, adopter__isnull=False, adopted_at__isnull=False)
                | (~Q(status__in=ADOPTED_STATES) & Q(adopter__isnull=True)),
            ),
            models.CheckConstraint(
                name="wish_fulfilled_has_note",
                condition=~Q(status__in=(WishStatus.FULFILLED, WishStatus.CONFIRMED))
                | (Q(fulfilled_at__isnull=False) & ~Q(fulfil_note="")),
            ),
            models.CheckConstraint(name="wish_budget_positive", condition=Q(budget_cap__gt=0)),
            models.CheckConstraint(name="wish_withdrawal_only_when_withdrawn",
                                   condition=Q(withdrawn_at__isnull=True, withdrawn_by__isnull=True)
                                   | Q(status=WishStatus.WITHDRAWN, withdrawn_at__isnull=False)),
            models.CheckConstraint(name="wish_title_not_blank", condition=~Q(title="")),
        ]

    def __str__(self):
        return self.title


class Service(models.Model):
    """A reported-in member's service, confirmed by community staff: the hours go to the volunteers'
    records (hooks.service_confirmed). A fulfilled wish's service names its wish (once)."""

    report = models.ForeignKey(ReportIn, on_delete=models.PROTECT, related_name="services",
                               verbose_name=_("report-in"))
    post = models.CharField(_("service post"), max_length=10, choices=ServicePost.choices)
    wish = models.OneToOneField(Wish, on_delete=models.PROTECT, null=True, blank=True, related_name="service",
                                verbose_name=_("wish"))
    content = models.CharField(_("service content"), max_length=200)
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("to"))
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=2)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"))

    class Meta:
        verbose_name = _("party member's service")
        verbose_name_plural = _("party members' services")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(name="party_service_hours_in_range", condition=Q(hours__gt=0) & Q(hours__lte=24)),
            models.CheckConstraint(name="party_service_ends_after_start",
                                   condition=Q(ended_at__gt=models.F("started_at"))),
            models.CheckConstraint(name="party_service_wish_fits_post",
                                   condition=Q(wish__isnull=True) | Q(post=ServicePost.WISH)),
        ]

    def __str__(self):
        return f"{mask_name(self.report.name)} {self.hours}h"
