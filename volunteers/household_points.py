"""The households' points card (社会治理积分卡): every write to a household's points.

The card is an account of kind "household" on the volunteers' ledger
(volunteers/ledger.py `_book`): awards leave the community's issuing account,
deductions go back to it, redemptions land in its redemption account, and the
database refuses a negative household balance (check constraint
account_household_never_negative, under the balance trigger of
volunteers/migrations/0002). Each booking has a `HouseholdEntry` with its
aspect, reason and evidence, written in the same transaction.

Who writes: community staff and grid workers whose places hold the household
(HOUSEHOLD_WRITERS); automatic entries come from events named by a unique
source key, so an event credits once however often it is reported.

Definitions (issue #23, Hongya's card of 100 points a year over seven aspects):
- an entry is a whole number of points, at most ENTRY_MAX either way;
- a household's stars on a notice board: one per STAR_POINTS earned in the
  calendar year (Asia/Shanghai), at most five — 100 points are five stars;
- the year's reset archives earned, spent and the closing balance per
  household (HouseholdYear) and books the closing balance back to the issuing
  account; the ledger rows stay.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Area, Role
from grid.selectors import Scope, scope_of
from portal.errors import DomainError
from portal.photos import validate_photo, without_metadata

from . import hooks
from .household_models import (
    DEFAULT_ASPECTS,
    PARTICIPATION_ASPECT,
    VOLUNTEERING_ASPECT,
    HouseholdEntry,
    HouseholdPointsSettings,
    HouseholdYear,
    PointsAspect,
)
from .ledger import _book, _replayed, community_account
from .models import Account, AccountKind, CatalogueItem, Entry, LedgerTransaction, Redemption, TransactionKind

HOUSEHOLD_WRITERS = (Role.COMMUNITY_STAFF, Role.GRID_WORKER)
ENTRY_MAX = 100  # one entry: the whole year's card is 100 points
STAR_POINTS = 20
STARS_MAX = 5
# Automatic entries (issue #23): small, fixed, and the same for every household.
SUPPORT_POINTS = 1  # a confirmed support of a proposal (附议)
ATTENDANCE_POINTS = 2  # attending a deliberation meeting (议事会)
VOLUNTEERING_POINTS = 2  # a confirmed service record of a household member
LOCAL = ZoneInfo("Asia/Shanghai")


def _now(now):
    return now or timezone.now()


def year_of(moment):
    return moment.astimezone(LOCAL).year


def year_bounds(year):
    return datetime(year, 1, 1, tzinfo=LOCAL), datetime(year + 1, 1, 1, tzinfo=LOCAL)


# --- who reaches which household --------------------------------------------------------------

def households_visible_to(user):
    """The households whose cards `user` may read (the residents' scoping, through the hook)."""
    return hooks.households_visible_to(user)


def households_writable_by(user):
    """The households whose cards `user` may add to: through a community staff or grid worker post."""
    scope = scope_of(user)
    visible = households_visible_to(user)
    if scope.unrestricted:
        return visible
    writers = Scope(unrestricted=False, spans=tuple(s for s in scope.spans if s.role in HOUSEHOLD_WRITERS))
    return visible.filter(writers.path_q(building_field=None, unit_field=None))


def _writable(user, household):
    if user is None or not households_writable_by(user).filter(pk=household.pk).exists():
        raise DomainError(_("This household is not in your places."), code="forbidden")


# --- aspects ---------------------------------------------------------------------------------

def aspects_for(district_id, *, active_only=True):
    """The district's aspects, the seven defaults created on first use."""
    if not PointsAspect.objects.filter(district_id=district_id).exists():
        for order, name in enumerate(DEFAULT_ASPECTS, start=1):
            try:
                with transaction.atomic():
                    PointsAspect.objects.create(district_id=district_id, name=name, order=order * 10)
            except IntegrityError:  # created concurrently
                pass
    aspects = PointsAspect.objects.filter(district_id=district_id)
    return aspects.filter(is_active=True) if active_only else aspects


def _aspect_named(district_id, name):
    aspects_for(district_id)
    aspect, _created = PointsAspect.objects.get_or_create(district_id=district_id, name=name,
                                                          defaults={"order": 1000})
    return aspect


# --- the card's account --------------------------------------------------------------------

def household_account(household):
    account = Account.objects.filter(household_id=household.pk).first()
    if account is None:
        try:
            with transaction.atomic():
                account = Account.objects.create(kind=AccountKind.HOUSEHOLD, household_id=household.pk,
                                                 community_id=household.community_id)
        except IntegrityError:
            account = Account.objects.get(household_id=household.pk)
    return account


def household_balance(household):
    account = Account.objects.filter(household_id=household.pk).only("balance").first()
    return account.balance if account else 0


def _entry_points(value):
    """A whole, non-zero number of points, at most ENTRY_MAX either way."""
    if isinstance(value, bool) or value is None:
        raise DomainError(_("Points must be a whole number."), code="bad_points")
    try:
        text = str(value).strip()
        number = int(text)
    except (TypeError, ValueError):
        raise DomainError(_("Points must be a whole number."), code="bad_points") from None
    if number == 0:
        raise DomainError(_("Points must not be zero."), code="bad_points")
    if abs(number) > ENTRY_MAX:
        raise DomainError(_("At most %(max)d points in one entry.") % {"max": ENTRY_MAX}, code="bad_points")
    return number


def _reason(value):
    reason = " ".join(str(value or "").split())[:200]
    if not reason:
        raise DomainError(_("Say why the points are given or taken."), code="no_reason")
    return reason


def _book_entry(*, household, aspect, points, reason, acting_user, now, evidence=None, source_key=None,
                idempotency_key=None):
    """Book `points` (signed) to the household's card with its entry line; inside a transaction."""
    issuing = community_account(Area.objects.get(pk=household.community_id), AccountKind.ISSUING)
    account = household_account(household)
    legs = [(issuing, -points), (account, points)]
    txn = _book(kind=TransactionKind.HOUSEHOLD, legs=legs, memo=reason, acting_user=acting_user, now=now,
                idempotency_key=idempotency_key or source_key)
    return HouseholdEntry.objects.create(
        transaction=txn, household_id=household.pk, community_id=household.community_id, aspect=aspect,
        points=points, reason=reason, evidence=evidence or "", source_key=source_key, year=year_of(now), at=now,
        recorded_by=acting_user)


@transaction.atomic
def household_entry_add(*, household, aspect, points, reason, acting_user, evidence=None, now=None,
                        idempotency_key=None):
    """Staff add a line to a household's card: points (a deduction if negative), an aspect, a reason.

    Refused, with nothing written, for a household outside the writer's places, an
    aspect of another district or switched off, points that are not a whole number
    of at most ENTRY_MAX, no reason, a photo that is not one, or a deduction larger
    than the balance.
    """
    now = _now(now)
    replay = _replayed(idempotency_key)
    if replay:
        return HouseholdEntry.objects.get(transaction=replay)
    _writable(acting_user, household)
    points = _entry_points(points)
    reason = _reason(reason)
    if aspect is None or not aspects_for(household.district_id).filter(pk=getattr(aspect, "pk", aspect)).exists():
        raise DomainError(_("Choose an aspect of this district's card."), code="bad_aspect")
    aspect = PointsAspect.objects.get(pk=getattr(aspect, "pk", aspect))
    if evidence:
        validate_photo(evidence)
        evidence = without_metadata(evidence)
    return _book_entry(household=household, aspect=aspect, points=points, reason=reason, acting_user=acting_user,
                       now=now, evidence=evidence, idempotency_key=idempotency_key)


@transaction.atomic
def household_credit_event(*, household, source_key, aspect_name, points, reason, now=None):
    """An automatic award for an event (a support, an attendance, a volunteer's record).

    Once per `source_key`: a replay returns the first entry. Called inside the
    transaction that confirms the event, so both commit or neither does.
    """
    now = _now(now)
    existing = HouseholdEntry.objects.filter(source_key=source_key).first()
    if existing:
        return existing
    aspect = _aspect_named(household.district_id, aspect_name)
    try:
        with transaction.atomic():
            return _book_entry(household=household, aspect=aspect, points=points, reason=_reason(reason),
                               acting_user=None, now=now, source_key=source_key)
    except (IntegrityError, DomainError):
        existing = HouseholdEntry.objects.filter(source_key=source_key).first()
        if existing:
            return existing
        raise


def credit_support(*, support, household, now=None):
    return household_credit_event(household=household, source_key=f"participation.support:{support.pk}",
                                  aspect_name=PARTICIPATION_ASPECT, points=SUPPORT_POINTS,
                                  reason=_("Supported a proposal"), now=now)


def credit_attendance(*, attendance, household, now=None):
    return household_credit_event(household=household, source_key=f"participation.attendance:{attendance.pk}",
                                  aspect_name=PARTICIPATION_ASPECT, points=ATTENDANCE_POINTS,
                                  reason=_("Attended a deliberation meeting"), now=now)


def credit_service_record(*, record, now=None):
    """A confirmed service record of a volunteer who is a registered resident: points to their household."""
    resident = record.volunteer.resident
    if resident is None or resident.household_id is None:
        return None
    return household_credit_event(household=resident.household, source_key=f"volunteers.record:{record.pk}",
                                  aspect_name=VOLUNTEERING_ASPECT, points=VOLUNTEERING_POINTS,
                                  reason=_("Volunteer service: %(content)s") % {"content": record.content},
                                  now=now)


# --- redemption -----------------------------------------------------------------------------

@transaction.atomic
def household_redeem(*, household, member, item, quantity=1, acting_user, now=None, idempotency_key=None):
    """A member spends the household's points at the community's points shop (积分超市).

    The member must live in the household; staff of the household's places hand it
    over, or the member themselves when they are a signed-in volunteer.
    """
    now = _now(now)
    replay = _replayed(idempotency_key)
    if replay:
        return Redemption.objects.get(pk=replay.redemption_id)
    if member is None or getattr(member, "household_id", None) != household.pk:
        raise DomainError(_("Choose a member of this household."), code="not_member")
    volunteer = getattr(acting_user, "volunteer", None) if acting_user is not None else None
    is_member = volunteer is not None and volunteer.resident_id == member.pk
    if not is_member:
        _writable(acting_user, household)
    try:
        quantity = int(str(quantity).strip())
    except (TypeError, ValueError):
        raise DomainError(_("The quantity must be a whole number."), code="bad_points") from None
    if not 1 <= quantity <= 100:
        raise DomainError(_("The quantity must be between 1 and 100."), code="bad_points")
    item = CatalogueItem.objects.select_related("community").get(pk=item.pk)
    if item.community_id != household.community_id:
        raise DomainError(_("This item is offered by another community."), code="other_community")
    if not item.is_active:
        raise DomainError(_("This item is no longer offered."), code="inactive")
    price = item.price * quantity
    if not CatalogueItem.objects.filter(pk=item.pk, stock__gte=quantity).update(stock=F("stock") - quantity):
        raise DomainError(_("Not enough left in stock."), code="out_of_stock")
    redemption = Redemption.objects.create(item=item, household_id=household.pk, member=member, quantity=quantity,
                                           points=price, requested_at=now)
    _book(kind=TransactionKind.REDEEM,
          legs=[(household_account(household), -price),
                (community_account(item.community, AccountKind.REDEMPTION), price)],
          memo=_("%(item)s × %(n)d") % {"item": item.name, "n": quantity}, acting_user=acting_user, now=now,
          idempotency_key=idempotency_key, redemption=redemption)
    return redemption


# --- the year's reset ---------------------------------------------------------------------------

def _year_figures(account, year):
    start, end = year_bounds(year)
    entries = Entry.objects.filter(account=account)
    in_year = entries.filter(at__gte=start, at__lt=end)
    earned = in_year.filter(amount__gt=0).exclude(transaction__kind=TransactionKind.YEAR_END)
    spent = in_year.filter(amount__lt=0).exclude(transaction__kind=TransactionKind.YEAR_END)
    closing = entries.filter(at__lt=end).aggregate(s=Sum("amount"))["s"] or 0
    return (earned.aggregate(s=Sum("amount"))["s"] or 0, -(spent.aggregate(s=Sum("amount"))["s"] or 0), closing)


@transaction.atomic
def household_year_close(*, account, year, now=None):
    """Archive one household's year and book its closing balance back to the community (once)."""
    now = _now(now)
    account = Account.objects.select_for_update().get(pk=account.pk, kind=AccountKind.HOUSEHOLD)
    existing = HouseholdYear.objects.filter(household_id=account.household_id, year=year).first()
    if existing:
        return existing, False
    earned, spent, closing = _year_figures(account, year)
    # What was spent since the year ended is not taken twice: reset at most what is left.
    amount = min(closing, account.balance)
    reset = None
    if amount > 0:
        reset = _book(kind=TransactionKind.YEAR_END,
                      legs=[(account, -amount),
                            (community_account(account.community, AccountKind.ISSUING), amount)],
                      memo=_("Card reset at the end of %(year)d") % {"year": year}, acting_user=None, now=now,
                      idempotency_key=f"household-year:{account.household_id}:{year}")
    archived = HouseholdYear.objects.create(household_id=account.household_id, community_id=account.community_id,
                                            year=year, earned=earned, spent=spent, closing_balance=max(closing, 0),
                                            reset=reset, archived_at=now)
    return archived, True


def household_years_close(*, year, now=None):
    """Close `year` for every household card opened before it ended. Idempotent; returns how many closed."""
    now = _now(now)
    if year >= year_of(now):
        raise DomainError(_("A year is closed once it is over."), code="year_not_over")
    _start, end = year_bounds(year)
    closed = 0
    accounts = (Account.objects.filter(kind=AccountKind.HOUSEHOLD, entries__at__lt=end).distinct()
                .exclude(household_id__in=HouseholdYear.objects.filter(year=year).values("household_id")))
    for account in accounts.iterator():
        _archived, created = household_year_close(account=account, year=year, now=now)
        closed += created
    return closed


# --- settings and reading ------------------------------------------------------------------------

@transaction.atomic
def stars_on_boards_set(*, community, enabled, acting_user):
    from grid.selectors import can_manage_area

    if acting_user is None or not can_manage_area(acting_user, community):
        raise DomainError(_("You do not manage “%(place)s”.") % {"place": community.name}, code="forbidden")
    settings_row, _created = HouseholdPointsSettings.objects.update_or_create(
        community=community, defaults={"stars_on_boards": bool(enabled)})
    return settings_row


def stars_for(earned):
    return min(STARS_MAX, max(0, earned) // STAR_POINTS)


def card_of(household, *, now=None):
    """What a household's card page shows: aspects with this year's points, entries, balance."""
    now = _now(now)
    year = year_of(now)
    entries = list(HouseholdEntry.objects.filter(household_id=household.pk).select_related("aspect", "recorded_by")
                   .order_by("-at", "-id")[:50])
    by_aspect = dict(HouseholdEntry.objects.filter(household_id=household.pk, year=year)
                     .values("aspect").annotate(s=Sum("points")).values_list("aspect", "s"))
    aspects = [(aspect, by_aspect.get(aspect.pk, 0)) for aspect in aspects_for(household.district_id)]
    earned = HouseholdEntry.objects.filter(household_id=household.pk, year=year, points__gt=0).aggregate(
        s=Sum("points"))["s"] or 0
    redemptions = list(Redemption.objects.filter(household_id=household.pk).select_related("item")[:20])
    years = list(HouseholdYear.objects.filter(household_id=household.pk)[:5])
    return {"year": year, "balance": household_balance(household), "earned": earned, "stars": stars_for(earned),
            "aspects": aspects, "entries": entries, "redemptions": redemptions, "years": years}


def _masked_room(unit_number, number):
    """"1单元 3**": the unit, and the room's first character only."""
    number = str(number or "")
    return f"{unit_number} {number[:1]}{'*' * max(len(number) - 1, 1)}"


def stars_by_building(building_ids, *, now=None):
    """{building id: [(masked room, stars)]} for communities that show stars on boards; one query.

    Households without a star this year are left out; no name, no score.
    """
    year = year_of(_now(now))
    enabled = HouseholdPointsSettings.objects.filter(stars_on_boards=True).values("community_id")
    rows = (HouseholdEntry.objects.filter(household__building_id__in=list(building_ids), year=year, points__gt=0,
                                          community_id__in=enabled)
            .values("household", "household__building_id", "household__unit__number", "household__number")
            .annotate(earned=Sum("points")).order_by("household__unit__number", "household__number"))
    found = {}
    for row in rows:
        stars = stars_for(row["earned"])
        if stars:
            found.setdefault(row["household__building_id"], []).append(
                (_masked_room(row["household__unit__number"], row["household__number"]), stars))
    return found


def figures(households, *, now=None):
    """Per community and grid: households with a card, points earned this year, redeemed, balances."""
    year = year_of(_now(now))
    rows = {}
    for household_id, community_id, grid_id in households.values_list("pk", "community_id", "grid_id"):
        rows[household_id] = (community_id, grid_id)
    entries = (HouseholdEntry.objects.filter(household_id__in=list(rows), year=year)
               .values("household").annotate(earned=Sum("points", filter=Q(points__gt=0))))
    spent = (Redemption.objects.filter(household_id__in=list(rows), requested_at__gte=year_bounds(year)[0])
             .exclude(status=Redemption.Status.CANCELLED).values("household").annotate(s=Sum("points")))
    balances = dict(Account.objects.filter(household_id__in=list(rows)).values_list("household_id", "balance"))
    earned = {e["household"]: e["earned"] or 0 for e in entries}
    redeemed = {e["household"]: e["s"] or 0 for e in spent}
    table = {}
    for household_id, (community_id, grid_id) in rows.items():
        for key in (("community", community_id), ("grid", grid_id)):
            row = table.setdefault(key, {"households": 0, "with_card": 0, "earned": 0, "redeemed": 0,
                                         "balance": 0})
            row["households"] += 1
            row["with_card"] += household_id in balances
            row["earned"] += earned.get(household_id, 0)
            row["redeemed"] += redeemed.get(household_id, 0)
            row["balance"] += balances.get(household_id, 0)
    names = dict(Area.objects.filter(pk__in={pk for _kind, pk in table}).values_list("pk", "name"))
    return [{"kind": kind, "place": names.get(pk, ""), **row}
            for (kind, pk), row in sorted(table.items(), key=lambda kv: (kv[0][0], names.get(kv[0][1], "")))]
