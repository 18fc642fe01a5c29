"""The points ledger (积分银行): every write to points goes through here.

Each movement is one LedgerTransaction with entries summing to zero. The
database keeps the rest true even if this module had a bug: entries and
transactions are append-only (triggers), a transaction whose entries do not sum
to zero cannot commit (a deferred constraint trigger on PostgreSQL), each
account's cached balance is maintained by a trigger on entry insert, and check
constraints refuse a negative balance on a person's account or a negative stock.
So a redemption racing another one for the last points fails cleanly here
instead of overdrawing.
"""

from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind
from grid.selectors import can_manage_area
from portal.errors import DomainError

from .models import (
    Account,
    AccountKind,
    CatalogueItem,
    Entry,
    LedgerTransaction,
    Redemption,
    ServiceRecord,
    TransactionKind,
    Volunteer,
)

MAX_POINTS = 100_000  # one movement; a typo guard, not a rule of the points bank
CASE_POINTS = 5  # to a volunteer who reported or verified a case, when it closes


def _now(now):
    return now or timezone.now()


def _community_of(area):
    """The community a place belongs to (its own, or its ancestor's)."""
    area = Area.objects.get(pk=area.pk)
    if area.kind == AreaKind.COMMUNITY:
        return area
    if area.kind == AreaKind.GRID:
        return area.parent
    raise DomainError(_("Points are kept by communities; choose a community or a grid."), code="bad_place")


def community_account(community, kind):
    """The community's issuing or redemption account (created on first use)."""
    if kind not in (AccountKind.ISSUING, AccountKind.REDEMPTION):
        raise ValueError(kind)
    account = Account.objects.filter(kind=kind, community=community).first()
    if account is None:
        try:
            with transaction.atomic():
                account = Account.objects.create(kind=kind, community=community)
        except IntegrityError:  # created concurrently
            account = Account.objects.get(kind=kind, community=community)
    return account


def member_account(volunteer):
    account = Account.objects.filter(volunteer=volunteer).first()
    if account is None:
        if not volunteer.community_id:
            raise DomainError(_("The volunteer has no home community."), code="no_community")
        try:
            with transaction.atomic():
                account = Account.objects.create(kind=AccountKind.MEMBER, volunteer=volunteer,
                                                 community_id=volunteer.community_id)
        except IntegrityError:
            account = Account.objects.get(volunteer=volunteer)
    return account


def _points(value, *, label):
    """A whole, positive number of points (no fractions, no negatives, no bools)."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise DomainError(_("%(what)s must be a whole number of points.") % {"what": label}, code="bad_points")
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        raise DomainError(_("%(what)s must be a whole number of points.") % {"what": label},
                          code="bad_points") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise DomainError(_("%(what)s must be a whole number of points.") % {"what": label}, code="bad_points")
    if number <= 0:
        raise DomainError(_("%(what)s must be more than zero.") % {"what": label}, code="bad_points")
    if number > MAX_POINTS:
        raise DomainError(_("%(what)s is more than %(max)d points at once.") % {"what": label, "max": MAX_POINTS},
                          code="bad_points")
    return int(number)


def _replayed(idempotency_key):
    if idempotency_key:
        return LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
    return None


def _book(*, kind, legs, memo, acting_user, now, idempotency_key=None, **refs):
    """Write one balanced transaction. `legs` is [(account, amount), …], summing to zero.

    Call inside a transaction. A person's account going below zero raises
    DomainError(code="insufficient") and the caller's transaction rolls back.
    """
    if sum(amount for _account, amount in legs) != 0 or any(amount == 0 for _a, amount in legs):
        raise ValueError("a ledger transaction's entries must be non-zero and sum to zero")
    memo = " ".join(str(memo or "").split())[:200]
    if not memo:
        raise DomainError(_("Say what the points are for."), code="no_memo")
    # Lock the accounts money leaves (in id order, so two bookings cannot
    # deadlock) and check them; the database's check constraint is the backstop.
    debits = {account.pk: amount for account, amount in legs if amount < 0 and account.kind != AccountKind.ISSUING}
    if debits:
        for pk, balance in (Account.objects.select_for_update().filter(pk__in=debits).order_by("pk")
                            .values_list("pk", "balance")):
            if balance + debits[pk] < 0:
                raise DomainError(_("Not enough points for this."), code="insufficient")
    try:
        with transaction.atomic():
            txn = LedgerTransaction.objects.create(kind=kind, at=now, actor=acting_user, memo=memo,
                                                   idempotency_key=idempotency_key or None, **refs)
            Entry.objects.bulk_create([Entry(transaction=txn, account=account, amount=amount, at=now)
                                       for account, amount in legs])
    except IntegrityError as exc:
        text = str(exc)
        if "never_negative" in text or "CHECK constraint failed" in text:
            raise DomainError(_("Not enough points for this."), code="insufficient") from None
        if idempotency_key and _replayed(idempotency_key):
            raise DomainError(_("This request was already booked."), code="replayed") from None
        raise DomainError(_("These points were already booked."), code="already_booked") from None
    return txn


def _require_manage(acting_user, area):
    # Staff decisions (bonuses, reversals, pickups) need a person: None is not "the system" here.
    if acting_user is None or not can_manage_area(acting_user, area):
        raise DomainError(_("You do not manage “%(place)s”.") % {"place": area.name}, code="forbidden")


# --- awards ---------------------------------------------------------------------

def hours_points(hours, points_per_hour):
    """Points for confirmed hours: whole points, rounded down (1.5 h × 10 = 15; 0.25 h × 10 = 2)."""
    return int((Decimal(hours) * points_per_hour).quantize(Decimal(1), rounding=ROUND_DOWN))


@transaction.atomic
def award_hours(*, record, acting_user=None, now=None):
    """Points for a confirmed service record (once per record; replays return the first)."""
    now = _now(now)
    record = ServiceRecord.objects.select_related("activity", "order", "volunteer").get(pk=record.pk)
    if record.voided_at:
        raise DomainError(_("This service record was voided."), code="voided")
    existing = LedgerTransaction.objects.filter(kind=TransactionKind.HOURS, service_record=record).first()
    if existing:
        return existing
    rate = record.activity.points_per_hour if record.activity else 10
    points = hours_points(record.hours, rate)
    if points <= 0:
        return None
    if record.activity:
        place = record.activity.area
    elif record.order_id:
        place = record.order.community
    else:
        place = Area.objects.get(pk=record.volunteer.community_id)
    community = _community_of(place) if place.kind != AreaKind.COMMUNITY else place
    issuing = community_account(community, AccountKind.ISSUING)
    member = member_account(record.volunteer)
    return _book(kind=TransactionKind.HOURS, legs=[(issuing, -points), (member, points)],
                 memo=_("%(hours)s hours: %(content)s") % {"hours": record.hours, "content": record.content},
                 acting_user=acting_user, now=now, service_record=record)


@transaction.atomic
def award_bonus(*, volunteer, points, reason, acting_user, now=None, idempotency_key=None):
    """A staff-defined award with a reason (社区好人, a rescue…), from the volunteer's community."""
    now = _now(now)
    replay = _replayed(idempotency_key)
    if replay:
        return replay
    volunteer = Volunteer.objects.get(pk=volunteer.pk)
    points = _points(points, label=_("The bonus"))
    community = Area.objects.get(pk=volunteer.community_id)
    _require_manage(acting_user, community)
    if not " ".join(str(reason or "").split()):
        raise DomainError(_("Say why the bonus is given."), code="no_reason")
    return _book(kind=TransactionKind.BONUS,
                 legs=[(community_account(community, AccountKind.ISSUING), -points),
                       (member_account(volunteer), points)],
                 memo=reason, acting_user=acting_user, now=now, idempotency_key=idempotency_key)


@transaction.atomic
def award_case(*, case, volunteer, points, acting_user=None, now=None):
    """Points for a closed case a volunteer reported or verified (once per case and volunteer).

    The caller has checked that the case is closed (hub/points.py award_closed_case, which
    reads the case: the volunteers app does not)."""
    now = _now(now)
    points = _points(points, label=_("The award"))
    member = _locked(member_account(volunteer))
    if Entry.objects.filter(transaction__kind=TransactionKind.CASE, transaction__case=case, account=member,
                            transaction__reversed_by__isnull=True).exists():
        raise DomainError(_("These points were already booked."), code="already_booked")
    community = Area.objects.get(pk=case.community_id or volunteer.community_id)
    return _book(kind=TransactionKind.CASE,
                 legs=[(community_account(community, AccountKind.ISSUING), -points), (member, points)],
                 memo=_("Case %(number)s") % {"number": case.number}, acting_user=acting_user, now=now, case=case)


def _locked(account):
    """Lock a person's account row: awards to it are checked and booked one at a time."""
    Account.objects.select_for_update().filter(pk=account.pk).values_list("pk", flat=True).first()
    return account


@transaction.atomic
def book_case_points(*, case, volunteers, now=None):
    """CASE_POINTS to each of `volunteers` for a closed `case` they reported or verified.

    Once per case and volunteer for the case's whole life: closing it again after
    a reopen pays nothing more, and neither does an award staff reversed. Safe to
    run twice or concurrently (each account is locked, then checked). Returns the
    new transactions. Which case and which volunteers: hub/points.py.
    """
    now = _now(now)
    booked = []
    for volunteer in volunteers:
        member = _locked(member_account(volunteer))
        if LedgerTransaction.objects.filter(kind=TransactionKind.CASE, case=case, entries__account=member).exists():
            continue
        booked.append(award_case(case=case, volunteer=volunteer, points=CASE_POINTS, now=now))
    return booked


@transaction.atomic
def reverse(*, txn, reason, acting_user, now=None):
    """Undo a transaction with its mirror image. Refused if that would overdraw an account."""
    now = _now(now)
    txn = LedgerTransaction.objects.select_for_update().get(pk=txn.pk)
    if txn.kind == TransactionKind.REVERSAL:
        raise DomainError(_("A reversal is not reversed; book a new award instead."), code="reversal")
    if LedgerTransaction.objects.filter(reverses=txn).exists():
        raise DomainError(_("This transaction was already reversed."), code="already_reversed")
    legs = list(txn.entries.select_related("account__community").values_list("account", "amount"))
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=[a for a, _x in legs]).select_related("community")}
    for account in accounts.values():
        _require_manage(acting_user, account.community)
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise DomainError(_("Say why the points are reversed."), code="no_reason")
    return _book(kind=TransactionKind.REVERSAL, legs=[(accounts[a], -amount) for a, amount in legs],
                 memo=_("Reversal of #%(n)d: %(reason)s") % {"n": txn.pk, "reason": reason},
                 acting_user=acting_user, now=now, reverses=txn)


# --- redemption -------------------------------------------------------------------

@transaction.atomic
def redeem(*, volunteer, item, quantity=1, acting_user, now=None, idempotency_key=None):
    """Spend points on a catalogue item: stock and balance both checked by the database."""
    now = _now(now)
    replay = _replayed(idempotency_key)
    if replay:
        return Redemption.objects.get(pk=replay.redemption_id)
    volunteer = Volunteer.objects.get(pk=volunteer.pk)
    quantity = _points(quantity, label=_("The quantity"))
    item = CatalogueItem.objects.select_related("community").get(pk=item.pk)
    is_self = acting_user is not None and volunteer.user_id == acting_user.pk
    if not is_self:
        _require_manage(acting_user, item.community)
    if not item.is_active:
        raise DomainError(_("This item is no longer offered."), code="inactive")
    price = item.price * quantity
    taken = CatalogueItem.objects.filter(pk=item.pk, stock__gte=quantity).update(stock=F("stock") - quantity)
    if not taken:
        raise DomainError(_("Not enough left in stock."), code="out_of_stock")
    redemption = Redemption.objects.create(item=item, volunteer=volunteer, quantity=quantity, points=price,
                                           requested_at=now)
    _book(kind=TransactionKind.REDEEM,
          legs=[(member_account(volunteer), -price), (community_account(item.community, AccountKind.REDEMPTION), price)],
          memo=_("%(item)s × %(n)d") % {"item": item.name, "n": quantity}, acting_user=acting_user, now=now,
          idempotency_key=idempotency_key, redemption=redemption)
    return redemption


@transaction.atomic
def redemption_pickup(*, redemption, acting_user, now=None):
    now = _now(now)
    redemption = Redemption.objects.select_for_update(of=("self",)).select_related("item__community").get(pk=redemption.pk)
    _require_manage(acting_user, redemption.item.community)
    updated = Redemption.objects.filter(pk=redemption.pk, status=Redemption.Status.RESERVED).update(
        status=Redemption.Status.PICKED_UP, picked_up_at=now, confirmed_by=acting_user)
    if not updated:
        raise DomainError(_("This redemption is not waiting for pickup."), code="bad_state")
    redemption.refresh_from_db()
    return redemption


@transaction.atomic
def redemption_cancel(*, redemption, reason, acting_user, now=None):
    """Cancel before pickup: the points come back (a reversal) and so does the stock."""
    now = _now(now)
    redemption = Redemption.objects.select_for_update(of=("self",)).select_related("item__community").get(pk=redemption.pk)
    updated = Redemption.objects.filter(pk=redemption.pk, status=Redemption.Status.RESERVED).update(
        status=Redemption.Status.CANCELLED)
    if not updated:
        raise DomainError(_("Only a redemption waiting for pickup can be cancelled."), code="bad_state")
    booking = LedgerTransaction.objects.get(kind=TransactionKind.REDEEM, redemption=redemption)
    reverse(txn=booking, reason=reason, acting_user=acting_user, now=now)
    CatalogueItem.objects.filter(pk=redemption.item_id).update(stock=F("stock") + redemption.quantity)
    redemption.refresh_from_db()
    return redemption


# --- reading the books ---------------------------------------------------------------

def balance_of(volunteer):
    account = Account.objects.filter(volunteer=volunteer).only("balance").first()
    return account.balance if account else 0


def books_problems():
    """Everything that would mean a lost or doubled point; [] when the books are sound."""
    problems = []
    total = Entry.objects.aggregate(s=Sum("amount"))["s"] or 0
    if total:
        problems.append(f"all entries sum to {total}, not 0")
    unbalanced = (Entry.objects.values("transaction").annotate(s=Sum("amount")).exclude(s=0)
                  .values_list("transaction", "s")[:20])
    problems += [f"transaction {t} sums to {s}" for t, s in unbalanced]
    sums = dict(Entry.objects.values("account").annotate(s=Sum("amount")).values_list("account", "s"))
    for pk, kind, cached in Account.objects.values_list("pk", "kind", "balance"):
        if cached != sums.get(pk, 0):
            problems.append(f"account {pk}: cached balance {cached}, entries {sums.get(pk, 0)}")
        if kind != AccountKind.ISSUING and cached < 0:
            problems.append(f"account {pk} ({kind}) is negative: {cached}")
    problems += [f"catalogue item {pk} has stock {s}"
                 for pk, s in CatalogueItem.objects.filter(stock__lt=0).values_list("pk", "stock")]
    return problems
