"""Writes for party building: organisations, memberships, employer units, reports-in (双报到),
small wishes (微心愿) and members' services.

Each function takes the acting user and `now`, checks who may do it before it writes,
and raises DomainError with a message for the user: a refusal writes nothing. Wishes
change state only through workflow.TRANSITIONS, by a conditional UPDATE, so two members
adopting at once leave one adopter. A confirmed service reaches the volunteers' records
through hooks.service_confirmed, inside the confirming transaction.
"""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind, Building, Compound, Organisation, OrgKind as UnitKind
from grid.selectors import can_manage_area, forget_scope
from grid.services import path_values
from portal.errors import DomainError
from portal.text import clean_line
from residents.models import ResidentStatus
from residents.selectors import can_edit_residents, residents_visible_to

from . import hooks, workflow
from .models import (
    EmployerUnit,
    MemberRole,
    Membership,
    OrgKind,
    PartyOrg,
    ReportIn,
    ReportStatus,
    Service,
    ServicePost,
    Wish,
    WishCategory,
    WishStatus,
)

# 微心愿 are small by definition: the field reports cap them at a few hundred yuan.
WISH_BUDGET_MAX = Decimal("500")
SERVICE_HOURS_MAX = Decimal("24")


def _now(now):
    return now or timezone.now()


def _require_manage(acting_user, area):
    if acting_user is not None:
        forget_scope(acting_user)
    if acting_user is None or not can_manage_area(acting_user, area):
        raise DomainError(_("You do not manage “%(place)s”.") % {"place": area.name}, code="forbidden")


def _require_people(acting_user, place, *, name):
    """Party members are personal data: only posts that reach residents' records there."""
    if acting_user is not None:
        forget_scope(acting_user)
    if acting_user is None or not can_edit_residents(acting_user, place):
        raise DomainError(_("“%(place)s” is outside your places: you cannot record party members there.")
                          % {"place": name}, code="forbidden")


def _place_of_org(org):
    return Area.objects.get(pk=org.grid_id or org.community_id or org.street_id)


# --- organisations ----------------------------------------------------------------------------

PLACE_KIND = {
    OrgKind.COMMITTEE: (AreaKind.COMMUNITY,),
    OrgKind.GRID_BRANCH: (AreaKind.GRID,),
    OrgKind.COMPOUND_BRANCH: (AreaKind.COMMUNITY,),
    OrgKind.BUILDING_GROUP: (AreaKind.GRID,),
    OrgKind.REGIONAL: (AreaKind.STREET, AreaKind.COMMUNITY),
}


@transaction.atomic
def org_add(*, kind, name, place=None, compound=None, building=None, units=(), acting_user, now=None):
    """A party organisation on a place: the compound's community for a compound branch, the building's
    grid for a building group. A regional committee joins stationed units seated under its place."""
    now = _now(now)
    if kind not in OrgKind.values:
        raise DomainError(_("Unknown kind of party organisation."), code="bad_kind")
    name = clean_line(name, label=_("The name"), limit=100)
    if kind == OrgKind.COMPOUND_BRANCH:
        if compound is None:
            raise DomainError(_("A compound party branch needs its compound."), code="no_compound")
        compound = Compound.objects.get(pk=compound.pk)
        place = Area.objects.get(pk=compound.community_id)
    elif kind == OrgKind.BUILDING_GROUP:
        if building is None:
            raise DomainError(_("A building party group needs its building."), code="no_building")
        building = Building.objects.get(pk=building.pk)
        place = Area.objects.get(pk=building.grid_id)
    elif place is None:
        raise DomainError(_("Choose the place of the party organisation."), code="no_place")
    place = Area.objects.get(pk=place.pk)
    if place.kind not in PLACE_KIND[kind]:
        raise DomainError(_("A %(kind)s does not sit on “%(place)s”.") % {"kind": OrgKind(kind).label,
                                                                          "place": place.name}, code="bad_place")
    _require_manage(acting_user, place)
    units = list(units)
    if units:
        if kind != OrgKind.REGIONAL:
            raise DomainError(_("Only a regional party committee joins stationed units."), code="units")
        bad = [u for u in Organisation.objects.filter(pk__in=[u.pk for u in units])
               if u.kind != UnitKind.STATIONED or not can_manage_area(acting_user, u.seat)]
        if bad:
            raise DomainError(_("“%(unit)s” is not a stationed unit of your places.") % {"unit": bad[0].name},
                              code="bad_unit")
    try:
        with transaction.atomic():
            org = PartyOrg.objects.create(kind=kind, name=name, compound=compound, building=building,
                                          created_at=now, **path_values(place))
    except IntegrityError:
        raise DomainError(_("“%(place)s” already has a community party committee.") % {"place": place.name},
                          code="duplicate") from None
    if units:
        org.units.set(units)
    return org


# --- memberships ------------------------------------------------------------------------------

@transaction.atomic
def membership_add(*, org, resident=None, user=None, role=MemberRole.MEMBER, acting_user, now=None):
    """A party member joins an organisation's roll: a resident of the records (only one the staff member
    reaches) and/or a portal user. A membership outside the staff member's places is refused."""
    now = _now(now)
    org = PartyOrg.objects.get(pk=org.pk)
    place = _place_of_org(org)
    _require_people(acting_user, place, name=place.name)
    if role not in MemberRole.values:
        raise DomainError(_("Unknown role."), code="bad_role")
    if resident is None and user is None:
        raise DomainError(_("Name the member: a resident or a user."), code="nobody")
    if resident is not None:
        resident = residents_visible_to(acting_user, include_left=False).filter(pk=resident.pk).first()
        if resident is None:
            raise DomainError(_("This resident is outside your places: you cannot record their party membership."),
                              code="forbidden")
        if org.street_id != resident.street_id or (org.community_id and org.community_id != resident.community_id):
            raise DomainError(_("This resident does not live under “%(place)s”.") % {"place": place.name},
                              code="elsewhere")
    name = resident.name if resident is not None else (user.full_name or user.username)
    try:
        with transaction.atomic():
            return Membership.objects.create(
                org=org, resident=resident, user=user, name=name, role=role, joined_at=now,
                district_id=org.district_id, street_id=org.street_id, community_id=org.community_id,
                grid_id=org.grid_id,
            )
    except IntegrityError:
        if role == MemberRole.SECRETARY and Membership.objects.filter(org=org, role=MemberRole.SECRETARY,
                                                                      ended_at__isnull=True).exists():
            raise DomainError(_("“%(org)s” already has a secretary.") % {"org": org.name}, code="secretary") from None
        raise DomainError(_("This person is already a member of “%(org)s”.") % {"org": org.name},
                          code="duplicate") from None


@transaction.atomic
def membership_end(*, membership, acting_user, now=None):
    now = _now(now)
    membership = Membership.objects.select_related("org").get(pk=membership.pk)
    place = _place_of_org(membership.org)
    _require_people(acting_user, place, name=place.name)
    Membership.objects.filter(pk=membership.pk, ended_at__isnull=True).update(ended_at=now)
    membership.refresh_from_db()
    return membership


# --- 双报到 -----------------------------------------------------------------------------------

@transaction.atomic
def employer_register(*, street, name, acting_user, now=None):
    """单位报到: a unit employing serving members registers with the street it stands in."""
    now = _now(now)
    street = Area.objects.get(pk=street.pk)
    if street.kind != AreaKind.STREET:
        raise DomainError(_("A unit registers with a street."), code="bad_place")
    _require_manage(acting_user, street)
    name = clean_line(name, label=_("The unit's name"), limit=100)
    try:
        with transaction.atomic():
            return EmployerUnit.objects.create(name=name, registered_at=now, registered_by=acting_user,
                                               **path_values(street))
    except IntegrityError:
        raise DomainError(_("“%(name)s” has already registered with “%(street)s”.")
                          % {"name": name, "street": street.name}, code="duplicate") from None


def _posts(posts):
    chosen = set(posts or ())
    unknown = chosen - set(ServicePost.values)
    if unknown or not chosen:
        raise DomainError(_("Choose at least one service post."), code="no_post")
    return {"post_building_helper": ServicePost.BUILDING_HELPER in chosen,
            "post_volunteer": ServicePost.VOLUNTEER in chosen,
            "post_wishes": ServicePost.WISH in chosen}


@transaction.atomic
def report_in(*, community, employer_name, posts, name="", user=None, resident=None, acting_user, now=None):
    """双报到: a serving party member reports in to the community where they live.

    The member themselves (acting_user is `user`, signed in), or community staff for a resident
    of their places. It waits for the community's confirmation; one live report-in per person.
    """
    now = _now(now)
    community = Area.objects.filter(pk=getattr(community, "pk", community), kind=AreaKind.COMMUNITY,
                                    is_active=True).first()
    if community is None:
        raise DomainError(_("Choose the community where you live."), code="no_community")
    if acting_user is None or not acting_user.is_authenticated:
        raise DomainError(_("Sign in to report in."), code="forbidden")
    if resident is not None:
        _require_people(acting_user, community, name=community.name)
        resident = residents_visible_to(acting_user, include_left=False).filter(pk=resident.pk).first()
        if resident is None or resident.community_id != community.pk:
            raise DomainError(_("This resident is outside your places or does not live in “%(place)s”.")
                              % {"place": community.name}, code="forbidden")
        name = resident.name
    elif user is None or user.pk != acting_user.pk:
        raise DomainError(_("Members report in for themselves; staff register residents of their places."),
                          code="forbidden")
    name = clean_line(name or (user.full_name if user else ""), label=_("Your name"), limit=50)
    employer_name = clean_line(employer_name, label=_("The employer unit"), limit=100)
    employer = EmployerUnit.objects.filter(name=employer_name).order_by("id").first()
    try:
        with transaction.atomic():
            return ReportIn.objects.create(
                user=user, resident=resident, name=name, employer_name=employer_name, employer=employer,
                registered_at=now, **_posts(posts), **path_values(community),
            )
    except IntegrityError:
        raise DomainError(_("There is already a report-in for this person: end it before reporting in again."),
                          code="duplicate") from None


def _report_for_staff(report, acting_user):
    report = ReportIn.objects.select_related("community").get(pk=report.pk)
    _require_people(acting_user, report.community, name=report.community.name)
    return report


@transaction.atomic
def report_confirm(*, report, acting_user, now=None):
    """The community confirms a member's report-in; from then on they see its open wishes."""
    now = _now(now)
    report = _report_for_staff(report, acting_user)
    changed = ReportIn.objects.filter(pk=report.pk, status=ReportStatus.PENDING).update(
        status=ReportStatus.CONFIRMED, confirmed_at=now, confirmed_by=acting_user)
    if not changed:
        raise DomainError(_("Only a report-in waiting for confirmation can be confirmed."), code="state")
    report.refresh_from_db()
    return report


@transaction.atomic
def report_end(*, report, acting_user, now=None):
    """The member (or community staff) ends a report-in. Wishes it adopted and has not fulfilled go
    back to the community's open list, for another member to adopt; fulfilled ones wait for staff."""
    now = _now(now)
    report = ReportIn.objects.select_related("community").get(pk=report.pk)
    if report.user_id != getattr(acting_user, "pk", None):
        _require_people(acting_user, report.community, name=report.community.name)
    changed = ReportIn.objects.filter(pk=report.pk, status__in=(ReportStatus.PENDING, ReportStatus.CONFIRMED)
                                      ).update(status=ReportStatus.ENDED, ended_at=now, ended_by=acting_user)
    if not changed:
        raise DomainError(_("This report-in has already ended."), code="state")
    for wish in Wish.objects.filter(adopter=report, status=WishStatus.ADOPTED).select_for_update():
        _apply(wish, "release", adopter=None, adopted_at=None)
    report.refresh_from_db()
    return report


# --- 微心愿 -----------------------------------------------------------------------------------

def _apply(wish, action, **changes):
    source, target, refusal = workflow.TRANSITIONS[action]
    if not Wish.objects.filter(pk=wish.pk, status=source).update(status=target, **changes):
        raise DomainError(str(refusal), code="state")
    wish.refresh_from_db()
    return wish


def _budget(value):
    try:
        value = Decimal(str(value).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(_("The budget cap is a sum in yuan."), code="bad_budget") from None
    if not Decimal(0) < value <= WISH_BUDGET_MAX:
        raise DomainError(_("A small wish's budget is more than 0 and at most %(max)s yuan.")
                          % {"max": WISH_BUDGET_MAX}, code="bad_budget")
    return value


@transaction.atomic
def wish_post(*, resident, title, category, budget_cap, acting_user, now=None):
    """Community staff post a small wish for a living resident of their places."""
    now = _now(now)
    found = residents_visible_to(acting_user, include_left=False).filter(pk=resident.pk).first() \
        if acting_user is not None else None
    if found is None:
        raise DomainError(_("This resident is outside your places."), code="forbidden")
    _require_people(acting_user, found, name=found.name)
    if category not in WishCategory.values:
        raise DomainError(_("Choose a category."), code="bad_category")
    title = clean_line(title, label=_("The wish"), limit=100)
    budget_cap = _budget(budget_cap)
    return Wish.objects.create(
        resident=found, title=title, category=category, budget_cap=budget_cap, posted_by=acting_user,
        posted_at=now, district_id=found.district_id, street_id=found.street_id, community_id=found.community_id,
        grid_id=found.grid_id,
    )


def _wish_for_staff(wish, acting_user):
    wish = Wish.objects.select_related("community").get(pk=wish.pk)
    _require_people(acting_user, wish.community, name=wish.community.name)
    return wish


@transaction.atomic
def wish_withdraw(*, wish, acting_user, now=None):
    """Community staff take an open wish down; the wish keeps who did and when."""
    now = _now(now)
    wish = _wish_for_staff(wish, acting_user)
    return _apply(wish, "withdraw", withdrawn_by=acting_user, withdrawn_at=now)


@transaction.atomic
def wish_adopt(*, wish, acting_user, now=None):
    """A member reported in to the wish's community, with the 微心愿 post, adopts it: one adopter."""
    now = _now(now)
    wish = Wish.objects.get(pk=wish.pk)
    report = (ReportIn.objects.filter(user=acting_user, status=ReportStatus.CONFIRMED).first()
              if getattr(acting_user, "is_authenticated", False) else None)
    if report is None or report.community_id != wish.community_id:
        raise DomainError(_("Only party members reported in to this community can adopt its wishes."),
                          code="forbidden")
    if not report.post_wishes:
        raise DomainError(_("Your report-in does not include the small-wishes post."), code="no_post")
    return _apply(wish, "adopt", adopter=report, adopted_at=now)


@transaction.atomic
def wish_fulfil(*, wish, note, acting_user, now=None):
    """The adopter says how the wish was fulfilled; staff confirm it."""
    now = _now(now)
    wish = Wish.objects.select_related("adopter").get(pk=wish.pk)
    if wish.adopter is None or wish.adopter.user_id is None or wish.adopter.user_id != acting_user.pk:
        raise DomainError(_("Only the member who adopted this wish can fulfil it."), code="forbidden")
    note = clean_line(note, label=_("How it was fulfilled"), limit=200)
    return _apply(wish, "fulfil", fulfil_note=note, fulfilled_at=now)


def _hours(value):
    try:
        value = Decimal(str(value).strip()).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise DomainError(_("The hours are a number."), code="bad_hours") from None
    if not Decimal(0) < value <= SERVICE_HOURS_MAX:
        raise DomainError(_("The hours are more than 0 and at most 24."), code="bad_hours")
    return value


def _record_service(*, report, post, content, started_at, hours, wish=None, acting_user, now):
    ended_at = started_at + timedelta(seconds=int(hours * 3600))
    service = Service.objects.create(report=report, post=post, wish=wish, content=content, started_at=started_at,
                                     ended_at=ended_at, hours=hours, confirmed_by=acting_user, confirmed_at=now)
    hooks.service_confirmed(
        source_key=f"party-service:{service.pk}", name=report.name, user=report.user, resident=report.resident,
        community=report.community, started_at=started_at, ended_at=ended_at, hours=hours, content=content,
        confirmed_by=acting_user, now=now,
    )
    return service


@transaction.atomic
def wish_confirm(*, wish, hours, acting_user, now=None):
    """Staff confirm a fulfilled wish and the adopter's hours, which go to the volunteers' records."""
    now = _now(now)
    wish = _wish_for_staff(wish, acting_user)
    hours = _hours(hours)
    wish = _apply(wish, "confirm", confirmed_by=acting_user, confirmed_at=now)
    report = ReportIn.objects.select_related("community", "user", "resident").get(pk=wish.adopter_id)
    started_at = min(wish.fulfilled_at, now) - timedelta(seconds=int(hours * 3600))
    _record_service(report=report, post=ServicePost.WISH, wish=wish,
                    content=_("Small wish: %(title)s") % {"title": wish.title}, started_at=started_at,
                    hours=hours, acting_user=acting_user, now=now)
    return wish


@transaction.atomic
def service_confirm(*, report, post, content, started_at, hours, acting_user, now=None):
    """Staff confirm a confirmed member's service on one of their posts (楼栋长助手, 志愿服务)."""
    now = _now(now)
    report = _report_for_staff(report, acting_user)
    if report.status != ReportStatus.CONFIRMED:
        raise DomainError(_("Only a member whose report-in is confirmed can be credited with service."),
                          code="state")
    if post not in (ServicePost.BUILDING_HELPER, ServicePost.VOLUNTEER):
        raise DomainError(_("Wishes are confirmed on the wish itself."), code="bad_post")
    if not getattr(report, {"helper": "post_building_helper", "volunteer": "post_volunteer"}[post]):
        raise DomainError(_("The member did not choose this post."), code="bad_post")
    hours = _hours(hours)
    if started_at is None or started_at + timedelta(seconds=int(hours * 3600)) > now:
        raise DomainError(_("The service must have ended by now."), code="future")
    content = clean_line(content, label=_("The service content"), limit=200)
    return _record_service(report=report, post=post, content=content, started_at=started_at, hours=hours,
                           acting_user=acting_user, now=now)


def resident_for_wish(acting_user, pk):
    """A living resident of the staff member's places (the wish form's picker), or None."""
    return residents_visible_to(acting_user, include_left=False).filter(pk=pk, status=ResidentStatus.LIVING).first()
