"""Volunteers (志愿者), their teams and stations, activities and confirmed hours,
residents' orders (下单), and the points ledger (积分) with its catalogue.

The ledger is double-entry and append-only: every movement of points is one
`LedgerTransaction` whose `Entry` rows sum to zero, so the books always balance.
`Account.balance` is a cache of the sum of an account's entries, updated in the
same transaction as the entries; the database refuses a negative balance on a
person's account and a negative stock in the catalogue, so concurrent
redemptions cannot overdraw or oversell. Corrections are reversals (new
transactions), never edits: triggers refuse UPDATE and DELETE of entries.

Writes go through volunteers/services.py (activities, orders) and
volunteers/ledger.py (points) only.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField

from grid.models import Area, AreaKind, PlacePath


class TeamKind(models.TextChoices):
    PARTY = "party", _("Party members")
    RESCUE = "rescue", _("Emergency rescue")
    PATROL = "patrol", _("Safety patrol")
    CONVENIENCE = "convenience", _("Convenience services")
    OTHER = "other", _("Other")


class Team(models.Model):
    """志愿服务队: a team registered on a place (usually a community or street)."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=TeamKind.choices)
    kind_other = models.CharField(_("kind (other)"), max_length=40, blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="volunteer_teams", verbose_name=_("place"))
    leader = models.ForeignKey("Volunteer", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("leader"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        ordering = ["area_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="team_name_unique_in_place"),
            models.CheckConstraint(condition=~Q(kind="other") | ~Q(kind_other=""), name="team_other_kind_named"),
        ]

    def __str__(self):
        return self.name


class Station(models.Model):
    """服务站: a place volunteers work from (a community service centre, a post)."""

    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="volunteer_stations",
                             verbose_name=_("place"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service station")
        verbose_name_plural = _("service stations")
        ordering = ["area_id", "name"]
        constraints = [models.UniqueConstraint(fields=["area", "name"], name="station_name_unique_in_place")]

    def __str__(self):
        return self.name


class Volunteer(PlacePath):
    """志愿者: a resident or a portal user who serves; hangs on their home grid or community."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="volunteer", verbose_name=_("user"))
    resident = models.OneToOneField("residents.Resident", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="volunteer", verbose_name=_("resident"))
    # A person's name: 姓名, not the 名称 of a place or a thing.
    name = models.CharField(_("full name"), max_length=50)
    teams = models.ManyToManyField(Team, blank=True, related_name="members", verbose_name=_("teams"))
    stations = models.ManyToManyField(Station, blank=True, related_name="volunteers", verbose_name=_("stations"))
    skills = models.CharField(_("skills"), max_length=200, blank=True)
    availability = models.CharField(_("availability"), max_length=200, blank=True,
                                    help_text=_("e.g. weekday evenings, weekends"))
    is_active = models.BooleanField(_("active"), default=True)
    joined_on = models.DateField(_("joined on"))

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=False) | Q(resident__isnull=False),
                                   name="volunteer_is_someone"),
        ]
        indexes = [models.Index(fields=["community", "is_active"], name="volunteer_community")]

    def __str__(self):
        return self.name


class Activity(models.Model):
    """志愿活动: organised service at a place and time, with places to fill."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open for sign-up")
        CANCELLED = "cancelled", _("Cancelled")
        FINISHED = "finished", _("Hours confirmed")

    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="volunteer_activities",
                             verbose_name=_("place"))
    team = models.ForeignKey(Team, on_delete=models.PROTECT, null=True, blank=True, related_name="activities",
                             verbose_name=_("team"))
    organiser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("organiser"))
    location = models.CharField(_("location"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("places"))
    points_per_hour = models.PositiveIntegerField(_("points per hour"), default=10)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="activity_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="activity_capacity_positive"),
        ]

    def __str__(self):
        return self.title


class Signup(models.Model):
    """A volunteer's place on an activity (or on its waiting list), and their attendance."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Signed up")
        WAITING = "waiting", _("Waiting list")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="signups",
                                 verbose_name=_("activity"))
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="signups",
                                  verbose_name=_("volunteer"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    signed_up_at = models.DateTimeField(_("signed up at"))
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["signed_up_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "volunteer"], name="signup_once_per_activity"),
            models.CheckConstraint(condition=Q(checked_out_at__isnull=True) | Q(checked_in_at__isnull=False),
                                   name="signup_out_after_in"),
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True) | Q(checked_out_at__gt=F("checked_in_at")),
                name="signup_out_later_than_in",
            ),
        ]

    def __str__(self):
        return f"{self.volunteer} · {self.activity}"


class ServiceRecord(models.Model):
    """志愿服务记录: hours confirmed by the organiser — true, complete, kept, certified.

    One per volunteer and activity, or per order served. Never edited: a wrong
    record is voided (with a reason) and its points reversed, and a new one made.
    """

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="service_records",
                                  verbose_name=_("volunteer"))
    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="records", verbose_name=_("activity"))
    order = models.ForeignKey("Order", on_delete=models.PROTECT, null=True, blank=True, related_name="records",
                              verbose_name=_("order"))
    # Service recorded by another app through a hook (a reported-in party member's confirmed
    # service: "party-service:<id>"); one live record per key.
    source_key = models.CharField(_("source"), max_length=40, blank=True, default="", db_default="")
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("to"))
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=2)
    content = models.CharField(_("service content"), max_length=200)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"))
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("reason voided"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(ended_at__gt=F("started_at")), name="record_ends_after_start"),
            models.CheckConstraint(condition=Q(hours__gt=0) & Q(hours__lte=24), name="record_hours_in_range"),
            models.CheckConstraint(condition=Q(activity__isnull=False) | Q(order__isnull=False) | ~Q(source_key=""),
                                   name="record_has_source"),
            models.UniqueConstraint(fields=["source_key"], condition=Q(voided_at__isnull=True) & ~Q(source_key=""),
                                    name="record_once_per_source"),
            models.CheckConstraint(condition=Q(voided_at__isnull=True) | ~Q(void_reason=""),
                                   name="record_void_has_reason"),
            models.UniqueConstraint(fields=["volunteer", "activity"],
                                    condition=Q(voided_at__isnull=True, activity__isnull=False),
                                    name="record_once_per_activity"),
            models.UniqueConstraint(fields=["volunteer", "order"],
                                    condition=Q(voided_at__isnull=True, order__isnull=False),
                                    name="record_once_per_order"),
        ]
        indexes = [models.Index(fields=["volunteer", "started_at"], name="record_volunteer_time")]

    def __str__(self):
        return f"{self.volunteer} {self.hours}h"


class OrderKind(models.TextChoices):
    ERRAND = "errand", _("Urgent errand (急事代跑)")
    OPINION = "opinion", _("Taking an opinion (意见代收)")
    HARD_MATTER = "hard_matter", _("Hard matter done for you (难事代办)")
    HOME_SERVICE = "home_service", _("Service at home")


class Order(PlacePath):
    """下单: a resident's request that a volunteer serves at the door."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for a volunteer")
        ESCALATED = "escalated", _("Escalated to community staff")
        CLAIMED = "claimed", _("Claimed")
        DONE = "done", _("Done, waiting for the resident")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=12, choices=OrderKind.choices)
    description = models.TextField(_("what is needed"))
    building = models.ForeignKey("grid.Building", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="volunteer_orders", verbose_name=_("building"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    resident = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="volunteer_orders", verbose_name=_("resident"))
    # Personal data, kept as the residents' (encrypted, masked copy, logged reveal:
    # volunteers/privacy.py), anonymised a set time after the order ends.
    contact_name = EncryptedCharField(_("contact"), max_length=50, null=True, blank=True)
    contact_name_masked = models.CharField(_("contact"), max_length=50, blank=True, editable=False)
    contact_phone = EncryptedCharField(_("contact phone"), max_length=20, null=True, blank=True)
    contact_phone_masked = models.CharField(_("contact phone"), max_length=20, blank=True, editable=False)
    contact_erased_at = models.DateTimeField(_("contact anonymised at"), null=True, blank=True, editable=False)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("placed by"))
    tracking_code = models.CharField(_("tracking code"), max_length=16, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    placed_at = models.DateTimeField(_("placed at"))
    claim_due_at = models.DateTimeField(_("to be claimed by"))
    claimed_by = models.ForeignKey(Volunteer, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="orders", verbose_name=_("claimed by"))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    points = models.PositiveIntegerField(_("points"), default=10)
    # The order form's one-time token: a double-clicked or replayed submit finds
    # the first order instead of placing a second one.
    request_key = models.CharField(_("request key"), max_length=64, null=True, blank=True, unique=True,
                                   editable=False)

    class Meta:
        verbose_name = _("resident order")
        verbose_name_plural = _("resident orders")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "escalated", "cancelled"]) | Q(claimed_by__isnull=False),
                name="order_claimed_has_volunteer",
            ),
            models.CheckConstraint(condition=~Q(status="confirmed") | Q(confirmed_at__isnull=False),
                                   name="order_confirmed_has_date"),
        ]
        indexes = [
            models.Index(fields=["status", "claim_due_at"], name="order_claim_due"),
            models.Index(fields=["community", "status"], name="order_community_status"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.tracking_code}"


# --- the points ledger ------------------------------------------------------------

class AccountKind(models.TextChoices):
    ISSUING = "issuing", _("Issuing (the community's points budget)")
    MEMBER = "member", _("A person's points")
    REDEMPTION = "redemption", _("Redeemed points")
    HOUSEHOLD = "household", _("A household's points card")


class Account(models.Model):
    """A points account. The community's issuing account goes negative as it awards;
    people's accounts never do; redemptions land in the community's redemption account."""

    kind = models.CharField(_("kind"), max_length=10, choices=AccountKind.choices)
    community = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="points_accounts",
                                  verbose_name=_("community"))
    volunteer = models.OneToOneField(Volunteer, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="account", verbose_name=_("volunteer"))
    household = models.OneToOneField("residents.Household", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="points_account", verbose_name=_("household"))
    # A cache of the sum of this account's entries, written with them.
    balance = models.BigIntegerField(_("balance"), default=0)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="member", volunteer__isnull=False) | ~Q(kind="member") & Q(volunteer__isnull=True),
                name="account_member_has_holder",
            ),
            models.CheckConstraint(condition=~Q(kind="member") | Q(balance__gte=0),
                                   name="account_member_never_negative"),
            models.CheckConstraint(condition=~Q(kind="redemption") | Q(balance__gte=0),
                                   name="account_redemption_never_negative"),
            models.CheckConstraint(
                condition=Q(kind="household", household__isnull=False, volunteer__isnull=True)
                | ~Q(kind="household") & Q(household__isnull=True),
                name="account_household_has_holder",
            ),
            models.CheckConstraint(condition=~Q(kind="household") | Q(balance__gte=0),
                                   name="account_household_never_negative"),
            models.UniqueConstraint(fields=["kind", "community"], condition=Q(kind__in=["issuing", "redemption"]),
                                    name="account_one_book_per_community"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.volunteer or self.household or self.community}"


class TransactionKind(models.TextChoices):
    HOURS = "hours", _("Points for confirmed hours")
    ORDER = "order", _("Points for a completed order")
    CASE = "case", _("Points for a case reported or verified")
    BONUS = "bonus", _("Bonus")
    REDEEM = "redeem", _("Redemption")
    REVERSAL = "reversal", _("Reversal")
    HOUSEHOLD = "household", _("Household points card entry")
    YEAR_END = "year_end", _("Household card reset at the year's end")


class LedgerTransaction(models.Model):
    """凭证: one movement of points; its entries sum to zero. Append-only."""

    kind = models.CharField(_("kind"), max_length=10, choices=TransactionKind.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"), db_index=False)
    memo = models.CharField(_("memo"), max_length=200)
    # A request's key (a form's one-time token, an API client's Idempotency-Key):
    # replaying it returns the first transaction instead of booking twice.
    idempotency_key = models.CharField(_("request key"), max_length=64, null=True, blank=True, unique=True)
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="reversed_by", verbose_name=_("reverses"))
    # What earned or spent the points; each earns once.
    service_record = models.ForeignKey(ServiceRecord, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("service record"))
    order = models.ForeignKey(Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("order"))
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("case"), db_index=False)
    redemption = models.ForeignKey("Redemption", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("redemption"))

    class Meta:
        verbose_name = _("points transaction")
        verbose_name_plural = _("points transactions")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(memo=""), name="ledger_memo_given"),
            models.CheckConstraint(condition=~Q(kind="reversal") | Q(reverses__isnull=False),
                                   name="ledger_reversal_names_original"),
            models.UniqueConstraint(fields=["service_record"], condition=Q(kind="hours"),
                                    name="ledger_hours_awarded_once"),
            models.UniqueConstraint(fields=["order"], condition=Q(kind="order"), name="ledger_order_awarded_once"),
            models.UniqueConstraint(fields=["redemption"], condition=Q(kind="redeem"),
                                    name="ledger_redemption_booked_once"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class Entry(models.Model):
    """One leg of a transaction: points into (+) or out of (−) an account. Append-only."""

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries",
                                    verbose_name=_("transaction"))
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries",
                                verbose_name=_("account"), db_index=False)
    amount = models.BigIntegerField(_("points"))
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        ordering = ["-at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero")]
        indexes = [models.Index(fields=["account", "at"], name="entry_account_at")]

    def __str__(self):
        return f"{self.amount:+d}"


class CatalogueItem(models.Model):
    """积分兑换: a service or prize a community offers for points."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("Community service")
        PRIZE = "prize", _("Prize")

    community = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="points_catalogue",
                                  verbose_name=_("community"), limit_choices_to={"kind": AreaKind.COMMUNITY})
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    price = models.PositiveIntegerField(_("price (points)"))
    stock = models.IntegerField(_("in stock"))
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("catalogue item")
        verbose_name_plural = _("catalogue")
        ordering = ["community_id", "price", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="catalogue_stock_never_negative"),
            models.CheckConstraint(condition=Q(price__gte=1), name="catalogue_price_positive"),
            models.UniqueConstraint(fields=["community", "name"], name="catalogue_name_unique_in_community"),
        ]

    def __str__(self):
        return self.name


class Redemption(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", _("Waiting for pickup")
        PICKED_UP = "picked_up", _("Picked up")
        CANCELLED = "cancelled", _("Cancelled (points returned)")

    item = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, related_name="redemptions",
                             verbose_name=_("item"))
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="redemptions", verbose_name=_("volunteer"))
    # Or a household's card, spent by one of its members (volunteers/household_points.py).
    household = models.ForeignKey("residents.Household", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("household"))
    member = models.ForeignKey("residents.Resident", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("household member"), db_index=False)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    points = models.PositiveIntegerField(_("points"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RESERVED)
    requested_at = models.DateTimeField(_("requested at"))
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("handed over by"))

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="redemption_quantity_positive"),
            models.CheckConstraint(condition=~Q(status="picked_up") | Q(picked_up_at__isnull=False),
                                   name="redemption_pickup_dated"),
            models.CheckConstraint(
                condition=Q(volunteer__isnull=False, household__isnull=True, member__isnull=True)
                | Q(volunteer__isnull=True, household__isnull=False, member__isnull=False),
                name="redemption_one_payer",
            ),
        ]

    def __str__(self):
        return f"{self.volunteer or self.household} · {self.item}"


class Honour(models.Model):
    """荣誉: "社区好人", "最美三长"… awarded for a period and place, confirmed by staff."""

    title = models.CharField(_("title"), max_length=50)
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="honours",
                                  verbose_name=_("volunteer"))
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+", verbose_name=_("place"))
    period = models.CharField(_("period"), max_length=20, help_text=_("e.g. 2026, 2026-Q3"))
    citation = models.TextField(_("citation"), blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"))

    class Meta:
        verbose_name = _("honour")
        verbose_name_plural = _("honours")
        ordering = ["-confirmed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["title", "volunteer", "area", "period"], name="honour_once_per_period"),
        ]

    def __str__(self):
        return f"{self.title} · {self.volunteer}"


from .household_models import (  # noqa: E402,F401  (registered with the app's models)
    HouseholdEntry,
    HouseholdPointsSettings,
    HouseholdYear,
    PointsAspect,
)
