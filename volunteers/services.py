"""Writes for volunteers, teams, stations, activities and residents' orders.

Points move only through volunteers/ledger.py; the functions here call it in
their own transaction (hours confirmed ⇒ points awarded, or neither).
"""

import secrets
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind, Building
from grid.selectors import can_manage_area, scope_of
from grid.services import path_values
from portal.errors import DomainError
from portal.text import clean_line
from portal.workcalendar.calendar import add_working_time

from . import household_points, ledger
from .models import Activity, Order, OrderKind, ServiceRecord, Signup, Station, Team, TeamKind, Volunteer
from .privacy import contact_columns

ORDER_CLAIM_HOURS = 4  # working hours before an unclaimed order goes to community staff


def _now(now):
    return now or timezone.now()


def _require_manage(acting_user, area):
    if acting_user is None or not can_manage_area(acting_user, area):
        raise DomainError(_("You do not manage “%(place)s”.") % {"place": area.name}, code="forbidden")


def _home_path(place):
    area = Area.objects.get(pk=place.pk)
    if area.kind not in (AreaKind.COMMUNITY, AreaKind.GRID):
        raise DomainError(_("A volunteer's home is a community or a grid."), code="bad_place")
    return area, path_values(area)


# --- people and teams ---------------------------------------------------------------

@transaction.atomic
def volunteer_register(*, home, name="", user=None, resident=None, skills="", availability="", acting_user,
                       now=None):
    """Register a resident or a portal user as a volunteer of a community (or grid)."""
    now = _now(now)
    area, path = _home_path(home)
    is_self = user is not None and acting_user is not None and user.pk == acting_user.pk
    if not is_self:
        _require_manage(acting_user, area)
    if user is None and resident is None:
        raise DomainError(_("A volunteer is a resident or a user of the portal."), code="nobody")
    name = clean_line(name or (resident.name if resident else user.full_name or user.username), label=_("The name"),
                 limit=50)
    try:
        with transaction.atomic():
            return Volunteer.objects.create(
                user=user, resident=resident, name=name, skills=clean_line(skills, label=_("Skills"), limit=200,
                                                                      required=False),
                availability=clean_line(availability, label=_("Availability"), limit=200, required=False),
                joined_on=timezone.localdate(now), **path,
            )
    except IntegrityError:
        raise DomainError(_("This person is already registered as a volunteer."), code="duplicate") from None


@transaction.atomic
def team_add(*, area, name, kind, kind_other="", acting_user, now=None):
    now = _now(now)
    area = Area.objects.get(pk=area.pk)
    _require_manage(acting_user, area)
    if kind not in TeamKind.values:
        raise DomainError(_("Unknown kind of team."), code="bad_kind")
    kind_other = clean_line(kind_other, label=_("The kind"), limit=40, required=kind == TeamKind.OTHER)
    name = clean_line(name, label=_("The name"), limit=100)
    if Team.objects.filter(area=area, name=name).exists():
        raise DomainError(_("“%(place)s” already has a team of that name.") % {"place": area.name}, code="clash")
    return Team.objects.create(area=area, name=name, kind=kind, kind_other=kind_other, created_at=now)


@transaction.atomic
def station_add(*, area, name, address="", phone="", acting_user):
    area = Area.objects.get(pk=area.pk)
    _require_manage(acting_user, area)
    name = clean_line(name, label=_("The name"), limit=100)
    if Station.objects.filter(area=area, name=name).exists():
        raise DomainError(_("“%(place)s” already has a station of that name.") % {"place": area.name},
                          code="clash")
    return Station.objects.create(area=area, name=name, address=clean_line(address, label=_("The address"), limit=200,
                                                                         required=False),
                                  phone=clean_line(phone, label=_("The phone"), limit=20, required=False))


# --- activities ------------------------------------------------------------------------

@transaction.atomic
def activity_add(*, area, title, location, starts_at, ends_at, capacity, points_per_hour=10, team=None,
                 description="", acting_user, now=None):
    now = _now(now)
    area = Area.objects.get(pk=area.pk)
    _require_manage(acting_user, area)
    if ends_at <= starts_at:
        raise DomainError(_("An activity ends after it starts."), code="bad_times")
    if ends_at - starts_at > timedelta(hours=24):
        raise DomainError(_("An activity lasts at most 24 hours; make one per day."), code="bad_times")
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        raise DomainError(_("An activity has at least one place."), code="bad_capacity")
    if not isinstance(points_per_hour, int) or isinstance(points_per_hour, bool) or not 0 <= points_per_hour <= 100:
        raise DomainError(_("Points per hour are a whole number from 0 to 100."), code="bad_points")
    return Activity.objects.create(
        area=area, title=clean_line(title, label=_("The title"), limit=100), team=team, organiser=acting_user,
        location=clean_line(location, label=_("The location"), limit=200), starts_at=starts_at, ends_at=ends_at,
        capacity=capacity, points_per_hour=points_per_hour, description=str(description or "").strip(),
        created_at=now,
    )


def _lock_activity(activity):
    return Activity.objects.select_for_update().get(pk=activity.pk)


@transaction.atomic
def signup(*, activity, volunteer, acting_user, now=None):
    """Take a place, or a place on the waiting list when the activity is full. Twice is once."""
    now = _now(now)
    activity = _lock_activity(activity)  # serialises sign-ups: the capacity cannot be overrun
    if activity.status != Activity.Status.OPEN or activity.starts_at <= now:
        raise DomainError(_("Sign-up for this activity is closed."), code="closed")
    if volunteer.user_id != getattr(acting_user, "pk", None):
        _require_manage(acting_user, activity.area)
    existing = Signup.objects.filter(activity=activity, volunteer=volunteer).first()
    if existing and existing.status != Signup.Status.WITHDRAWN:
        return existing
    taken = Signup.objects.filter(activity=activity, status=Signup.Status.CONFIRMED).count()
    status = Signup.Status.CONFIRMED if taken < activity.capacity else Signup.Status.WAITING
    if existing:
        Signup.objects.filter(pk=existing.pk).update(status=status, signed_up_at=now)
        existing.refresh_from_db()
        return existing
    return Signup.objects.create(activity=activity, volunteer=volunteer, status=status, signed_up_at=now)


@transaction.atomic
def withdraw(*, signup_obj, acting_user, now=None):
    """Give up a place; the first on the waiting list moves up."""
    _now(now)
    activity = _lock_activity(signup_obj.activity)
    entry = Signup.objects.get(pk=signup_obj.pk)
    if entry.volunteer.user_id != getattr(acting_user, "pk", None):
        _require_manage(acting_user, activity.area)
    if entry.status == Signup.Status.WITHDRAWN:
        return entry
    if entry.checked_in_at:
        raise DomainError(_("You have already checked in."), code="checked_in")
    was_confirmed = entry.status == Signup.Status.CONFIRMED
    Signup.objects.filter(pk=entry.pk).update(status=Signup.Status.WITHDRAWN)
    if was_confirmed:
        first = (Signup.objects.filter(activity=activity, status=Signup.Status.WAITING)
                 .order_by("signed_up_at", "id").first())
        if first:
            Signup.objects.filter(pk=first.pk).update(status=Signup.Status.CONFIRMED)
    entry.refresh_from_db()
    return entry


@transaction.atomic
def check_in(*, signup_obj, at=None, acting_user, now=None):
    """The organiser (or staff) checks a volunteer in, within the activity's time (30 min grace before)."""
    now = _now(now)
    at = at or now
    entry = Signup.objects.select_for_update(of=("self",)).select_related("activity").get(pk=signup_obj.pk)
    activity = entry.activity
    _require_organiser(acting_user, activity)
    if entry.status != Signup.Status.CONFIRMED:
        raise DomainError(_("Only a volunteer with a place can check in."), code="no_place")
    if entry.checked_in_at:
        raise DomainError(_("Already checked in."), code="checked_in")
    if not (activity.starts_at - timedelta(minutes=30) <= at <= activity.ends_at) or at > now:
        raise DomainError(_("Check-in must be during the activity."), code="bad_time")
    overlapping = Signup.objects.filter(
        volunteer_id=entry.volunteer_id, checked_in_at__isnull=False, checked_out_at__isnull=True,
    ).exclude(pk=entry.pk)
    if overlapping.exists():
        raise DomainError(_("This volunteer is still checked in at another activity."), code="overlap")
    Signup.objects.filter(pk=entry.pk).update(checked_in_at=at)
    entry.refresh_from_db()
    return entry


@transaction.atomic
def check_out(*, signup_obj, at=None, acting_user, now=None):
    now = _now(now)
    at = at or now
    entry = Signup.objects.select_for_update(of=("self",)).select_related("activity").get(pk=signup_obj.pk)
    _require_organiser(acting_user, entry.activity)
    if not entry.checked_in_at:
        raise DomainError(_("Check in first."), code="not_checked_in")
    if entry.checked_out_at:
        raise DomainError(_("Already checked out."), code="checked_out")
    if at <= entry.checked_in_at or at > now or at > entry.activity.ends_at + timedelta(minutes=30):
        raise DomainError(_("Check-out must be after check-in and by the end of the activity."), code="bad_time")
    Signup.objects.filter(pk=entry.pk).update(checked_out_at=at)
    entry.refresh_from_db()
    return entry


def _require_organiser(acting_user, activity):
    if acting_user is None or (acting_user.pk != activity.organiser_id and not can_manage_area(acting_user,
                                                                                                activity.area)):
        raise DomainError(_("Only the organiser or staff may do this."), code="forbidden")


def _overlaps(volunteer_id, start, end, *, exclude_pk=None):
    return ServiceRecord.objects.filter(volunteer_id=volunteer_id, voided_at__isnull=True, started_at__lt=end,
                                        ended_at__gt=start).exclude(pk=exclude_pk).exists()


@transaction.atomic
def confirm_hours(*, signup_obj, content="", acting_user, now=None):
    """The organiser certifies the hours between check-in and check-out (clipped to the activity)
    and the points are awarded in the same transaction. Confirming twice returns the first record."""
    now = _now(now)
    entry = Signup.objects.select_for_update(of=("self",)).select_related("activity", "volunteer").get(pk=signup_obj.pk)
    activity = entry.activity
    _require_organiser(acting_user, activity)
    existing = ServiceRecord.objects.filter(volunteer=entry.volunteer, activity=activity,
                                            voided_at__isnull=True).first()
    if existing:
        return existing
    if not (entry.checked_in_at and entry.checked_out_at):
        raise DomainError(_("The volunteer has not checked in and out."), code="no_attendance")
    start = max(entry.checked_in_at, activity.starts_at)
    end = min(entry.checked_out_at, activity.ends_at)
    if end <= start:
        raise DomainError(_("The attendance lies outside the activity's time."), code="outside")
    if _overlaps(entry.volunteer_id, start, end):
        raise DomainError(_("These hours overlap hours already recorded for this volunteer."), code="overlap")
    hours = (Decimal((end - start).total_seconds()) / 3600).quantize(Decimal("0.01"))
    record = ServiceRecord.objects.create(
        volunteer=entry.volunteer, activity=activity, started_at=start, ended_at=end, hours=hours,
        content=clean_line(content or activity.title, label=_("The content"), limit=200), confirmed_by=acting_user,
        confirmed_at=now,
    )
    ledger.award_hours(record=record, acting_user=acting_user, now=now)
    household_points.credit_service_record(record=record, now=now)
    return record


@transaction.atomic
def record_external_service(*, source_key, name, user, resident, community, started_at, ended_at, hours, content,
                            confirmed_by, now=None):
    """Hours confirmed by another app (a reported-in party member's service, through
    party.hooks.service_confirmed): the person's service record, and its points, in the caller's
    transaction. The person is registered as a volunteer of `community` if they are not one.
    Once per source_key: a replay returns the first record."""
    now = _now(now)
    existing = ServiceRecord.objects.filter(source_key=source_key, voided_at__isnull=True).first()
    if existing:
        return existing
    volunteer = None
    if user is not None:
        volunteer = Volunteer.objects.filter(user=user).first()
    if volunteer is None and resident is not None:
        volunteer = Volunteer.objects.filter(resident=resident).first()
    if volunteer is None:
        area, path = _home_path(community)
        volunteer = Volunteer.objects.create(user=user, resident=resident, name=clean_line(name, label=_("The name"),
                                                                                      limit=50),
                                             joined_on=timezone.localdate(now), **path)
    if _overlaps(volunteer.pk, started_at, ended_at):
        raise DomainError(_("These hours overlap hours already recorded for this volunteer."), code="overlap")
    record = ServiceRecord.objects.create(
        volunteer=volunteer, source_key=source_key, started_at=started_at, ended_at=ended_at, hours=hours,
        content=clean_line(content, label=_("The content"), limit=200), confirmed_by=confirmed_by, confirmed_at=now,
    )
    ledger.award_hours(record=record, acting_user=confirmed_by, now=now)
    household_points.credit_service_record(record=record, now=now)
    return record


@transaction.atomic
def record_void(*, record, reason, acting_user, now=None):
    """A wrong record is voided with a reason and its points reversed; it stays on file."""
    now = _now(now)
    record = ServiceRecord.objects.select_for_update(of=("self",)).select_related("activity").get(pk=record.pk)
    reason = clean_line(reason, label=_("The reason"), limit=200)
    place = record.activity.area if record.activity else Area.objects.get(pk=record.volunteer.community_id)
    _require_manage(acting_user, place)
    if record.voided_at:
        raise DomainError(_("This record was already voided."), code="voided")
    ServiceRecord.objects.filter(pk=record.pk).update(voided_at=now, void_reason=reason)
    award = ledger.LedgerTransaction.objects.filter(kind="hours", service_record=record).first()
    if award and not ledger.LedgerTransaction.objects.filter(reverses=award).exists():
        ledger.reverse(txn=award, reason=reason, acting_user=acting_user, now=now)
    record.refresh_from_db()
    return record


# --- residents' orders -----------------------------------------------------------------

def _tracking_code():
    return secrets.token_hex(6).upper()


@transaction.atomic
def order_place(*, kind, description, contact_name, contact_phone, building=None, place=None, address="",
                resident=None, acting_user=None, now=None, points=10, request_key=None):
    """A resident's order (下单): at a building (from the QR board) or a place; no account needed.

    With a `request_key` (the form's one-time token) a replayed submit returns the first order.
    """
    now = _now(now)
    if request_key:
        first = Order.objects.filter(request_key=request_key).first()
        if first is not None:
            return first
    if kind not in OrderKind.values:
        raise DomainError(_("Unknown kind of order."), code="bad_kind")
    if building is not None:
        building = Building.objects.select_related("grid").get(pk=building.pk)
        area = building.grid
    elif place is not None:
        area = Area.objects.get(pk=place.pk)
    else:
        raise DomainError(_("Say where the help is needed."), code="no_place")
    if area.kind not in (AreaKind.GRID, AreaKind.COMMUNITY):
        raise DomainError(_("Choose a community, a grid or a building."), code="bad_place")
    phone = clean_line(contact_phone, label=_("The phone"), limit=20)
    digits = phone.replace("-", "").replace("+", "")
    if not (digits.isascii() and digits.isdigit()):
        raise DomainError(_("The phone number has characters a phone number does not have."), code="bad_phone")
    values = dict(
        kind=kind, description=clean_line(description, label=_("The description"), limit=2000), building=building,
        address=clean_line(address, label=_("The address"), limit=200, required=False), resident=resident,
        **contact_columns(name=clean_line(contact_name, label=_("The name"), limit=50), phone=phone),
        placed_by=acting_user if acting_user is not None and acting_user.is_authenticated else None,
        tracking_code=_tracking_code(), placed_at=now, request_key=request_key or None,
        claim_due_at=add_working_time(now, ORDER_CLAIM_HOURS, "hours"), points=points, **path_values(area),
    )
    try:
        with transaction.atomic():
            return Order.objects.create(**values)
    except IntegrityError:
        first = Order.objects.filter(request_key=request_key).first() if request_key else None
        if first is None:
            raise
        return first  # the same submit, arriving twice at once


def orders_open_to(volunteer):
    """Orders a volunteer may claim: open ones in their community or at their stations' and teams' places."""
    from django.db.models import Q

    places = {volunteer.community_id}
    places |= set(volunteer.stations.values_list("area_id", flat=True))
    places |= set(volunteer.teams.values_list("area_id", flat=True))
    places.discard(None)
    return Order.objects.filter(
        Q(community_id__in=places) | Q(grid_id__in=places) | Q(street_id__in=places),
        status__in=[Order.Status.OPEN, Order.Status.ESCALATED],
    )


@transaction.atomic
def order_claim(*, order, volunteer, acting_user, now=None):
    """One volunteer claims an order; a second claim (or a double click by another) is refused."""
    now = _now(now)
    if volunteer.user_id != getattr(acting_user, "pk", None):
        raise DomainError(_("Volunteers claim orders for themselves."), code="forbidden")
    if not orders_open_to(volunteer).filter(pk=order.pk).exists():
        current = Order.objects.filter(pk=order.pk).values_list("claimed_by", flat=True).first()
        if current == volunteer.pk:
            return Order.objects.get(pk=order.pk)  # the same volunteer clicked twice
        raise DomainError(_("This order is no longer open to you."), code="not_open")
    claimed = Order.objects.filter(pk=order.pk, status__in=[Order.Status.OPEN, Order.Status.ESCALATED]).update(
        status=Order.Status.CLAIMED, claimed_by=volunteer, claimed_at=now)
    if not claimed:
        raise DomainError(_("Someone else claimed this order first."), code="taken")
    return Order.objects.get(pk=order.pk)


@transaction.atomic
def order_done(*, order, acting_user, now=None):
    now = _now(now)
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.claimed_by is None or order.claimed_by.user_id != getattr(acting_user, "pk", None):
        raise DomainError(_("Only the volunteer who claimed the order marks it done."), code="forbidden")
    if order.status == Order.Status.DONE:
        return order
    if order.status != Order.Status.CLAIMED:
        raise DomainError(_("This order is not in progress."), code="bad_state")
    Order.objects.filter(pk=order.pk).update(status=Order.Status.DONE, done_at=now)
    order.refresh_from_db()
    return order


@transaction.atomic
def order_confirm(*, order, tracking_code=None, acting_user=None, now=None):
    """The resident (by tracking code) or staff confirm the service; the volunteer's points follow."""
    now = _now(now)
    order = Order.objects.select_for_update(of=("self",)).select_related("claimed_by").get(pk=order.pk)
    by_code = tracking_code is not None and secrets.compare_digest(str(tracking_code), order.tracking_code)
    if not by_code:
        # can_manage_area(None, …) means "the system": an anonymous caller must bring the code.
        if acting_user is None or not acting_user.is_authenticated:
            raise DomainError(_("That tracking code does not match this order."), code="bad_code")
        _require_manage(acting_user, Area.objects.get(pk=order.community_id))
    if order.status == Order.Status.CONFIRMED:
        return order
    if order.status != Order.Status.DONE:
        raise DomainError(_("The order is not marked done yet."), code="bad_state")
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CONFIRMED, confirmed_at=now)
    order.refresh_from_db()
    if order.points:
        ledger._book(
            kind=ledger.TransactionKind.ORDER,
            legs=[(ledger.community_account(Area.objects.get(pk=order.community_id), "issuing"), -order.points),
                  (ledger.member_account(order.claimed_by), order.points)],
            memo=_("Order %(code)s: %(kind)s") % {"code": order.tracking_code, "kind": order.get_kind_display()},
            acting_user=acting_user if acting_user and acting_user.is_authenticated else None, now=now, order=order,
        )
    return order


def escalate_unclaimed(*, now=None):
    """The sweep: open orders past their claim time go to community staff. Idempotent (conditional UPDATE)."""
    now = _now(now)
    return Order.objects.filter(status=Order.Status.OPEN, claim_due_at__lte=now).update(
        status=Order.Status.ESCALATED, escalated_at=now)


def volunteer_of(user):
    return Volunteer.objects.filter(user=user, is_active=True).first() if user.is_authenticated else None


def is_staff_over(user, area):
    return scope_of(user).unrestricted or can_manage_area(user, area)


# --- honours -------------------------------------------------------------------------------

HONOUR_TITLES = ("社区好人", "最美三长", "优秀志愿者", "志愿服务之星")


@transaction.atomic
def honour_award(*, volunteer, title, area, period, citation="", acting_user, now=None):
    """荣誉: staff of a place confirm an award for a period ("2026", "2026-Q3") to a volunteer of that place."""
    from .models import Honour
    from .periods import normalise_period

    now = _now(now)
    area = Area.objects.get(pk=area.pk)
    _require_manage(acting_user, area)
    volunteer = Volunteer.objects.select_related("community", "grid").get(pk=volunteer.pk)
    home = volunteer.grid or volunteer.community
    if home is None or not (home.tree_id == area.tree_id and area.lft <= home.lft <= area.rght):
        raise DomainError(_("%(name)s is not a volunteer of “%(place)s”.") % {"name": volunteer.name,
                                                                             "place": area.name}, code="not_here")
    values = {"title": clean_line(title, label=_("The title"), limit=50), "period": normalise_period(period)}
    try:
        with transaction.atomic():
            return Honour.objects.create(volunteer=volunteer, area=area, confirmed_by=acting_user, confirmed_at=now,
                                         citation=str(citation or "").strip()[:2000], **values)
    except IntegrityError:
        raise DomainError(_("%(name)s already holds “%(title)s” for %(period)s here.")
                          % {"name": volunteer.name, **values}, code="already_awarded") from None
