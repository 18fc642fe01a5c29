"""Writes to households, residents, care visits and the access log.

Every function is keyword-only, takes the acting user and `now`, runs in one
transaction and writes its history row in it. Personal values (ID number,
phone) never appear in a history row, a log entry or an error message.
"""

import datetime
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Unit
from grid.services import _lock_fresh, path_values
from portal.errors import DomainError

from .identity import blind_index, mask_id_number, mask_phone, normalize_phone, parse_id_number
from .models import (
    AccessAction,
    AccessField,
    AccessLog,
    CareVisit,
    Gender,
    Household,
    Registration,
    Relation,
    Resident,
    ResidentEvent,
    ResidentStatus,
    Tag,
)
from .selectors import can_edit_residents, can_reveal

NAME_MAX = 50
# Fields a resident_update may change (personal values through their own keywords).
PLAIN_FIELDS = ("name", "gender", "birth_date", "relation", "registration", "registered_address",
                "moved_in_on", "note")


def _now(now):
    return now or timezone.now()


def _require_edit(acting_user, place):
    if not can_edit_residents(acting_user, place):
        raise DomainError(_("You do not look after residents here."), code="forbidden")


def _clean_name(name):
    name = " ".join(str(name or "").split())
    if not name:
        raise DomainError(_("The name is empty."), code="bad_name")
    if len(name) > NAME_MAX:
        raise DomainError(_("A name has at most %(n)d characters.") % {"n": NAME_MAX}, code="bad_name")
    return name


def _choice(value, choices, label):
    if value not in choices.values:
        raise DomainError(_("Unknown %(what)s.") % {"what": label}, code="bad_choice")
    return value


def identity_values(*, id_number=None, phone=None, today=None):
    """The stored columns for an ID number and a phone: encrypted, index, masked.

    Returns (values, parsed_id, warning). Shared with the importer, so a row
    imported and a row typed in are stored the same way.
    """
    values, parsed, warning = {}, None, ""
    if id_number is not None:
        if str(id_number).strip():
            parsed = parse_id_number(id_number, today=today)
            warning = parsed.warning
            values.update(id_number=parsed.value, id_index=blind_index("id", parsed.value),
                          id_masked=mask_id_number(parsed.value))
        else:
            values.update(id_number=None, id_index=None, id_masked="")
    if phone is not None:
        normalized = normalize_phone(phone)
        values.update(phone=normalized or None, phone_index=blind_index("phone", normalized) if normalized else None,
                      phone_masked=mask_phone(normalized))
    return values, parsed, warning


def find_by_id_number(id_number):
    """The resident with this ID number (any status), or None. Exact match through the blind index."""
    parsed = parse_id_number(id_number)
    return Resident.objects.filter(id_index=blind_index("id", parsed.value)).first()


def _check_unique_id(values, *, exclude_pk=None):
    if not values.get("id_index"):
        return
    clash = Resident.objects.filter(id_index=values["id_index"]).exclude(pk=exclude_pk)
    if clash.exists():
        # Do not say where: the acting user may not see that household.
        raise DomainError(_("A resident with this ID number is already recorded."), code="duplicate_id_number")


def _check_head(household, relation, *, exclude_pk=None):
    if relation != Relation.HEAD:
        return
    heads = Resident.objects.filter(household=household, relation=Relation.HEAD, status=ResidentStatus.LIVING)
    if heads.exclude(pk=exclude_pk).exists():
        raise DomainError(_("This household already has a head."), code="two_heads")


def _log(resident, action, acting_user, now, **details):
    ResidentEvent.objects.create(resident=resident, action=action, actor=acting_user, at=now, details=details)


def _household_path(household):
    return {k: getattr(household, k) for k in ("district_id", "street_id", "community_id", "grid_id")}


# --- households -------------------------------------------------------------

@transaction.atomic
def household_add(*, unit, number, acting_user, now=None):
    """A household (户) in a unit, e.g. room 301. Returns the existing one if already recorded."""
    _now(now)
    number = "".join(str(number or "").split())
    if not number:
        raise DomainError(_("The room number is empty."), code="bad_number")
    if len(number) > 20:
        raise DomainError(_("A room number has at most 20 characters."), code="bad_number")
    (unit,) = _lock_fresh(unit)  # a building move cannot slip in between reading the path and the insert
    unit = Unit.objects.select_related("building__grid").get(pk=unit.pk)
    _require_edit(acting_user, unit.building.grid)
    existing = Household.objects.filter(unit=unit, number=number).first()
    if existing:
        return existing
    return Household.objects.create(unit=unit, building=unit.building, number=number,
                                    **path_values(unit.building.grid))


# --- residents ----------------------------------------------------------------

@transaction.atomic
def resident_add(*, household, name, id_number="", phone="", relation=Relation.OTHER, gender="",
                 birth_date=None, registration=Registration.LOCAL, registered_address="", moved_in_on=None,
                 tags: Iterable[Tag] = (), note="", acting_user, now=None):
    """Record a resident in a household. Gender and birth date come from the ID number when given."""
    now = _now(now)
    household = Household.objects.select_for_update().get(pk=household.pk)
    _require_edit(acting_user, household.grid)
    values, parsed, warning = identity_values(id_number=id_number, phone=phone, today=now.date())
    if parsed:
        gender, birth_date = parsed.gender, parsed.birth_date
    elif gender:
        _choice(gender, Gender, _("gender"))
    if birth_date and birth_date > now.date():
        raise DomainError(_("The date of birth is in the future."), code="bad_birth_date")
    _choice(relation, Relation, _("relation"))
    _choice(registration, Registration, _("registration"))
    _check_unique_id(values)
    _check_head(household, relation)
    try:
        with transaction.atomic():
            resident = Resident.objects.create(
                household=household, building_id=household.building_id, **_household_path(household),
                name=_clean_name(name), gender=gender or "", birth_date=birth_date, relation=relation,
                registration=registration, registered_address=str(registered_address or "").strip()[:200],
                moved_in_on=moved_in_on, note=str(note or "").strip(), **values,
            )
    except IntegrityError:
        # A concurrent add of the same person (or a second head) won the race.
        raise DomainError(_("A resident with this ID number is already recorded, or the household already "
                            "has a head."), code="conflict") from None
    if tags:
        resident.tags.set(tags)
    refresh_visit_due([resident.pk], today=now.date())
    _log(resident, ResidentEvent.Action.ADD, acting_user, now, household_id=household.pk)
    resident.warning = warning
    return resident


@transaction.atomic
def resident_update(*, resident, acting_user, now=None, id_number=None, phone=None, tags=None, **changes):
    """Change a resident's record. `id_number`/`phone` None leaves them; "" clears them."""
    now = _now(now)
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    _require_edit(acting_user, resident.grid)
    unknown = set(changes) - set(PLAIN_FIELDS)
    if unknown:
        raise DomainError(_("These fields cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    values, parsed, warning = identity_values(id_number=id_number, phone=phone, today=now.date())
    if "name" in changes:
        changes["name"] = _clean_name(changes["name"])
    if "relation" in changes:
        _choice(changes["relation"], Relation, _("relation"))
        if resident.is_living:
            _check_head(resident.household_id, changes["relation"], exclude_pk=resident.pk)
    if "registration" in changes:
        _choice(changes["registration"], Registration, _("registration"))
    if changes.get("gender"):
        _choice(changes["gender"], Gender, _("gender"))
    if parsed:
        changes.update(gender=parsed.gender, birth_date=parsed.birth_date)
    if changes.get("birth_date") and changes["birth_date"] > now.date():
        raise DomainError(_("The date of birth is in the future."), code="bad_birth_date")
    _check_unique_id(values, exclude_pk=resident.pk)
    changed = sorted(k for k, v in changes.items() if getattr(resident, k) != v)
    # Personal values are compared through their index, and logged by name only.
    changed += sorted(f for f, idx in (("id_number", "id_index"), ("phone", "phone_index"))
                      if idx in values and getattr(resident, idx) != values[idx])
    for key, value in {**changes, **values}.items():
        setattr(resident, key, value)
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError:
        raise DomainError(_("A resident with this ID number is already recorded, or the household already "
                          "has a head."), code="conflict") from None
    if tags is not None:
        before = set(resident.tags.values_list("pk", flat=True))
        resident.tags.set(tags)
        after = set(resident.tags.values_list("pk", flat=True))
        if before != after:
            changed.append("tags")
            refresh_visit_due([resident.pk], today=now.date())
    if changed:
        _log(resident, ResidentEvent.Action.CHANGE, acting_user, now, fields=changed)
    resident.warning = warning
    return resident


@transaction.atomic
def resident_move(*, resident, household, relation=None, acting_user, now=None):
    """Move a living resident to another household (both must be the user's to change)."""
    now = _now(now)
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    household = Household.objects.get(pk=household.pk)
    if not resident.is_living:
        raise DomainError(_("Only a resident living here can move to another household."), code="not_living")
    _require_edit(acting_user, resident.grid)
    _require_edit(acting_user, household.grid or household.district)
    if household.pk == resident.household_id:
        return resident
    relation = relation or (Relation.OTHER if resident.relation == Relation.HEAD else resident.relation)
    _choice(relation, Relation, _("relation"))
    _check_head(household, relation)
    source = resident.household_id
    Resident.objects.filter(pk=resident.pk).update(
        household=household, building_id=household.building_id, relation=relation, **_household_path(household)
    )
    _log(resident, ResidentEvent.Action.MOVE, acting_user, now, from_household_id=source, to_household_id=household.pk)
    resident.refresh_from_db()
    return resident


def _leave(resident, status, action, on, acting_user, now, note):
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    _require_edit(acting_user, resident.grid)
    if not resident.is_living:
        raise DomainError(_("This resident is no longer recorded as living here."), code="not_living")
    on = on or now.date()
    if on > now.date():
        raise DomainError(_("The date is in the future."), code="bad_date")
    if resident.birth_date and on < resident.birth_date:
        raise DomainError(_("The date is before the date of birth."), code="bad_date")
    Resident.objects.filter(pk=resident.pk).update(status=status, left_on=on, visit_due_on=None, updated_at=now)
    _log(resident, action, acting_user, now, on=on.isoformat(), note=str(note or "")[:200])
    resident.refresh_from_db()
    return resident


@transaction.atomic
def resident_move_out(*, resident, on=None, note="", acting_user, now=None):
    """The resident moved away: kept as history with the date, off the visiting round."""
    return _leave(resident, ResidentStatus.MOVED_OUT, ResidentEvent.Action.MOVE_OUT, on, acting_user, _now(now), note)


@transaction.atomic
def resident_decease(*, resident, on=None, note="", acting_user, now=None):
    return _leave(resident, ResidentStatus.DECEASED, ResidentEvent.Action.DECEASE, on, acting_user, _now(now), note)


@transaction.atomic
def resident_return(*, resident, household=None, on=None, acting_user, now=None):
    """A resident who had moved out lives here again (in their old or another household)."""
    now = _now(now)
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if resident.status != ResidentStatus.MOVED_OUT:
        raise DomainError(_("Only a resident who moved out can move back in."), code="not_moved_out")
    household = Household.objects.get(pk=(household or resident.household).pk)
    _require_edit(acting_user, household.grid or household.district)
    relation = Relation.OTHER if resident.relation == Relation.HEAD else resident.relation
    Resident.objects.filter(pk=resident.pk).update(
        status=ResidentStatus.LIVING, left_on=None, moved_in_on=on or now.date(), household=household,
        building_id=household.building_id, relation=relation, updated_at=now, **_household_path(household),
    )
    refresh_visit_due([resident.pk], today=now.date())
    _log(resident, ResidentEvent.Action.RETURN, acting_user, now, household_id=household.pk)
    resident.refresh_from_db()
    return resident


# --- personal data ------------------------------------------------------------------

def _access_path(resident):
    return {k: getattr(resident, k) for k in ("district_id", "street_id", "community_id", "grid_id")}


@transaction.atomic
def resident_reveal(*, resident, field, reason, acting_user, now=None):
    """Show one full value (ID number or phone) for a stated reason, and log it.

    Returns the plain value. Refused to anyone whose post does not need it; the
    log row is written in the same transaction, so no value is shown unlogged.
    """
    now = _now(now)
    if field not in (AccessField.ID_NUMBER, AccessField.PHONE):
        raise DomainError(_("Unknown field."), code="bad_field")
    reason = " ".join(str(reason or "").split())
    if len(reason) < 2:
        raise DomainError(_("Say why you need to see the full value."), code="no_reason")
    resident = Resident.objects.get(pk=resident.pk)
    if not can_reveal(acting_user, resident, field):
        raise DomainError(_("Your post may not see this value in full."), code="forbidden")
    value = getattr(resident, field)
    if not value:
        raise DomainError(_("Nothing is recorded for this field."), code="empty")
    AccessLog.objects.create(actor=acting_user, action=AccessAction.REVEAL, resident=resident, field=field,
                             reason=reason[:200], at=now, **_access_path(resident))
    return value


def access_log_export(*, acting_user, reason, count, masked, filters, place=None, now=None):
    """Record an export in the access log (called inside the export's transaction)."""
    path = path_values(place) if place is not None else {}
    return AccessLog.objects.create(
        actor=acting_user, action=AccessAction.EXPORT, field=AccessField.ALL if not masked else "",
        reason=(" ".join(str(reason or "").split()) or _("export"))[:200], at=_now(now),
        details={"rows": count, "masked": bool(masked), "filters": filters}, **path,
    )


# --- care visits --------------------------------------------------------------------

def refresh_visit_due(resident_ids, *, today):
    """Recompute `visit_due_on` for these residents from their tags and last visit.

    Due = last visit (or today, for someone never visited) + the shortest
    interval among their tags; none for residents without such a tag or no
    longer living here. Set-based: the importer calls it for thousands at once.
    """
    ids = list(resident_ids)
    for start in range(0, len(ids), 2000):
        chunk = ids[start:start + 2000]
        rows = (Resident.objects.filter(pk__in=chunk)
                .annotate(interval=Min("tags__visit_interval_days"))
                .values_list("pk", "status", "last_visited_at", "interval"))
        updates = []
        for pk, status, last, interval in rows:
            due = None
            if status == ResidentStatus.LIVING and interval:
                due = timezone.localdate(last) + datetime.timedelta(days=interval) if last else today
            updates.append(Resident(pk=pk, visit_due_on=due))
        Resident.objects.bulk_update(updates, ["visit_due_on"])


@transaction.atomic
def care_visit_log(*, resident, notes, findings="", follow_up=False, visited_at=None, acting_user, now=None):
    """A grid worker's visit (走访): recorded, and the resident's next visit moved on."""
    now = _now(now)
    visited_at = visited_at or now
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    _require_edit(acting_user, resident.grid)
    if visited_at > now:
        raise DomainError(_("A visit cannot be in the future."), code="bad_date")
    notes = str(notes or "").strip()
    if not notes:
        raise DomainError(_("Write what the visit was about."), code="no_notes")
    visit = CareVisit.objects.create(resident=resident, visited_by=acting_user, visited_at=visited_at,
                                     notes=notes[:4000], findings=str(findings or "").strip()[:4000],
                                     follow_up=bool(follow_up), recorded_at=now)
    if resident.last_visited_at is None or visited_at > resident.last_visited_at:
        Resident.objects.filter(pk=resident.pk).update(last_visited_at=visited_at)
        refresh_visit_due([resident.pk], today=now.date())
    return visit


@transaction.atomic
def care_visit_to_case(*, visit, category, description="", acting_user, now=None):
    """One click: the visit's follow-up becomes a case at the resident's building (patrol channel)."""
    from cases.models import Channel, ReporterKind
    from cases.services import case_report

    now = _now(now)
    visit = CareVisit.objects.select_for_update().select_related("resident").get(pk=visit.pk)
    _require_edit(acting_user, visit.resident.grid)
    if visit.case_id:
        raise DomainError(_("This visit already has a case."), code="has_case")
    text = str(description or "").strip() or visit.findings or visit.notes
    case = case_report(category=category, description=text, channel=Channel.PATROL,
                       building=visit.resident.building, reporter_kind=ReporterKind.GRID_WORKER,
                       acting_user=acting_user, now=now)
    CareVisit.objects.filter(pk=visit.pk).update(case=case, follow_up=True)
    return case
