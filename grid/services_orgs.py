"""Writes to organisations (职能部门, utilities, 物业, 业委会...) and their jurisdiction.

Managing staff administer the organisations seated in their places: a district official
those of the district, street staff those of the street. An organisation never moves to
another seat (its matters' history names it); it is deactivated and a new one made.
Staff join an organisation through grid.services.post_grant like any other post.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import DomainError

from .models import (
    DEPARTMENT_FUNCTIONS,
    SEAT_KINDS,
    UTILITY_FUNCTIONS,
    Area,
    AreaKind,
    Building,
    Jurisdiction,
    OrgFunction,
    OrgKind,
    Organisation,
)
from .selectors import can_manage_area, forget_scope

TEXT_FIELDS = ("name", "phone", "duty_phone", "address")


def _require_manage(acting_user, area):
    if acting_user is not None:
        forget_scope(acting_user)
    if not can_manage_area(acting_user, area):
        raise DomainError(_("You do not manage “%(place)s”.") % {"place": area.name}, code="forbidden")


def _check_kind_and_function(kind, function):
    if kind not in OrgKind.values:
        raise DomainError(_("Unknown kind of organisation: %(kind)s.") % {"kind": kind}, code="bad_kind")
    if function not in OrgFunction.values:
        raise DomainError(_("Unknown function: %(function)s.") % {"function": function}, code="bad_function")
    fits = {
        OrgKind.DEPARTMENT: DEPARTMENT_FUNCTIONS,
        OrgKind.UTILITY: UTILITY_FUNCTIONS,
        OrgKind.PROPERTY: (OrgFunction.PROPERTY,),
        OrgKind.OWNERS: (OrgFunction.OWNERS,),
        OrgKind.SOCIAL: (OrgFunction.OTHER,),
        OrgKind.STATIONED: (OrgFunction.OTHER,),
    }[kind]
    if function not in fits:
        raise DomainError(
            _("A %(kind)s cannot have the function “%(function)s”.")
            % {"kind": OrgKind(kind).label, "function": OrgFunction(function).label},
            code="bad_function",
        )


def _check_texts(values):
    for field in TEXT_FIELDS:
        value = (values.get(field) or "").strip()
        values[field] = value
        limit = Organisation._meta.get_field(field).max_length
        if len(value) > limit:
            raise DomainError(
                _("%(field)s has at most %(n)d characters.")
                % {"field": Organisation._meta.get_field(field).verbose_name, "n": limit},
                code="too_long",
            )
    if not values["name"]:
        raise DomainError(_("An organisation needs a name."), code="no_name")
    if not values["phone"]:
        raise DomainError(_("An organisation needs a contact phone."), code="no_phone")


def _check_seat(seat):
    if not isinstance(seat, Area) or seat.kind not in SEAT_KINDS:
        raise DomainError(_("An organisation is seated at a district, a street or a community."), code="bad_seat")
    if not seat.is_active:
        raise DomainError(_("“%(place)s” was merged away.") % {"place": seat.name}, code="bad_seat")


@transaction.atomic
def organisation_create(*, name, code, kind, function, seat, phone, duty_phone="", address="",
                        areas=(), buildings=(), acting_user, now=None):
    """Register an organisation seated at `seat`, covering `areas` and `buildings`."""
    now = now or timezone.now()
    values = {"name": name, "phone": phone, "duty_phone": duty_phone, "address": address}
    _check_texts(values)
    code = (code or "").strip()
    if not code:
        raise DomainError(_("An organisation needs a code."), code="no_code")
    if len(code) > Organisation._meta.get_field("code").max_length:
        raise DomainError(_("The code is too long."), code="too_long")
    _check_kind_and_function(kind, function)
    _check_seat(seat)
    _require_manage(acting_user, seat)
    if Organisation.objects.filter(code=code).exists():
        raise DomainError(_("Another organisation has the code %(code)s.") % {"code": code}, code="duplicate")
    organisation = Organisation.objects.create(
        code=code, kind=kind, function=function, seat=seat, created_at=now, **values
    )
    _write_jurisdiction(organisation, areas=areas, buildings=buildings, acting_user=acting_user)
    return organisation


@transaction.atomic
def organisation_update(*, organisation, acting_user, **changes):
    """Change an organisation's name, contact details, kind/function or jurisdiction (not its seat)."""
    organisation = Organisation.objects.select_for_update().select_related("seat").get(pk=organisation.pk)
    _require_manage(acting_user, organisation.seat)
    unknown = set(changes) - {*TEXT_FIELDS, "kind", "function", "areas", "buildings"}
    if unknown:
        raise DomainError(_("These fields cannot be changed: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    values = {f: changes.get(f, getattr(organisation, f)) for f in TEXT_FIELDS}
    _check_texts(values)
    kind = changes.get("kind", organisation.kind)
    function = changes.get("function", organisation.function)
    _check_kind_and_function(kind, function)
    for field, value in {**values, "kind": kind, "function": function}.items():
        setattr(organisation, field, value)
    organisation.save(update_fields=[*TEXT_FIELDS, "kind", "function"])
    if "areas" in changes or "buildings" in changes:
        organisation.jurisdiction.all().delete()
        _write_jurisdiction(organisation, areas=changes.get("areas", ()), buildings=changes.get("buildings", ()),
                            acting_user=acting_user)
    return organisation


@transaction.atomic
def organisation_set_active(*, organisation, active, acting_user):
    """Deactivate (or reactivate) an organisation. Its staff keep their posts as history but reach
    nothing while it is inactive; routing rules naming it are refused by routing."""
    organisation = Organisation.objects.select_for_update().select_related("seat").get(pk=organisation.pk)
    _require_manage(acting_user, organisation.seat)
    Organisation.objects.filter(pk=organisation.pk).update(is_active=bool(active))
    organisation.is_active = bool(active)
    return organisation


def _write_jurisdiction(organisation, *, areas, buildings, acting_user):
    """The places and buildings covered, each managed by the acting user (one cannot hand another
    street's communities to one's organisation)."""
    rows = []
    for area in {a.pk: a for a in areas}.values():
        area = Area.objects.get(pk=area.pk)
        if area.kind == AreaKind.DISTRICT and organisation.seat.kind != AreaKind.DISTRICT:
            raise DomainError(_("Only an organisation seated at the district may cover the whole district."),
                              code="bad_jurisdiction")
        if not area.is_active:
            raise DomainError(_("“%(place)s” was merged away.") % {"place": area.name}, code="bad_jurisdiction")
        _require_manage(acting_user, area)
        rows.append(Jurisdiction(organisation=organisation, area=area))
    for building in {b.pk: b for b in buildings}.values():
        building = Building.objects.select_related("grid").get(pk=building.pk)
        _require_manage(acting_user, building.grid)
        rows.append(Jurisdiction(organisation=organisation, building=building))
    Jurisdiction.objects.bulk_create(rows)
