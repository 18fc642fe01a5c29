"""Writes to households, residents, care visits and the access log.

Every function is keyword-only, takes the acting user and `now`, runs in one
transaction and writes its history row in it. Personal values (ID number,
phone) never appear in a history row, a log entry or an error message.
"""

import datetime
import logging
import re
import unicodedata
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Min, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Area, Unit
from grid.services import _lock_fresh, path_values
from portal.errors import DomainError

from . import hooks
from .identity import (
    UndecryptableError,
    blind_index,
    decrypt_token,
    mask_id_number,
    mask_phone,
    normalize_phone,
    parse_id_number,
)
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
from .selectors import can_edit_residents, can_reveal, common_place_of, fresh_scope

logger = logging.getLogger(__name__)

NAME_MAX = 50
# Fields a resident_update may change (personal values through their own keywords).
PLAIN_FIELDS = ("name", "gender", "birth_date", "relation", "registration", "registered_address",
                "moved_in_on", "note")


def _now(now):
    return now or timezone.now()


def _require_edit(acting_user, place):
    # Asked of the user's posts as they are now, not as cached earlier in the request.
    if not can_edit_residents(fresh_scope(acting_user), place):
        raise DomainError(_("You do not look after residents here."), code="forbidden")


def _clean_name(name):
    name = " ".join(str(name or "").split())
    if not name:
        raise DomainError(_("The name is empty."), code="bad_name")
    if len(name) > NAME_MAX:
        raise DomainError(_("A name has at most %(n)d characters.") % {"n": NAME_MAX}, code="bad_name")
    return name


def _text(value, limit=None):
    text = str(value or "").strip()
    return text[:limit] if limit else text


def _check_date(value, *, today, message, code="bad_date"):
    if value is not None and not isinstance(value, datetime.date):
        raise DomainError(_("That is not a date."), code=code)
    if value is not None and value > today:
        raise DomainError(message, code=code)


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


def find_by_id_number(id_number, *, within=None):
    """The resident with this ID number (any status), or None. Exact match through the blind index.

    City-wide unless `within` (a scoped queryset, e.g. residents_visible_to(user))
    is given: a page must pass its scope; the importer's upsert needs the city.
    """
    parsed = parse_id_number(id_number)
    qs = Resident.objects.all() if within is None else within
    return qs.filter(id_index=blind_index("id", parsed.value)).first()


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
    number = "".join(unicodedata.normalize("NFKC", str(number or "")).split())
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
    try:
        with transaction.atomic():
            return Household.objects.create(unit=unit, building=unit.building, number=number,
                                            **path_values(unit.building.grid))
    except IntegrityError:  # the same room, committed by a concurrent add
        return Household.objects.get(unit=unit, number=number)


# --- residents ----------------------------------------------------------------

@transaction.atomic
def resident_add(*, household, name, id_number="", phone="", relation=Relation.OTHER, gender="",
                 birth_date=None, registration=Registration.LOCAL, registered_address="", moved_in_on=None,
                 tags: Iterable[Tag] = (), note="", acting_user, now=None):
    """Record a resident in a household. Gender and birth date come from the ID number when given."""
    now = _now(now)
    # The household's row lock orders this insert with a building move, merge
    # or split: those rewrite households before residents (grid/services.py
    # `placepath_models` order), so the new row either carries the new path or
    # is caught by the move's UPDATE of residents.
    household = Household.objects.select_for_update().get(pk=household.pk)
    _require_edit(acting_user, household)
    values, parsed, warning = identity_values(id_number=id_number, phone=phone, today=timezone.localdate(now))
    if parsed:
        gender, birth_date = parsed.gender, parsed.birth_date
    elif gender:
        _choice(gender, Gender, _("gender"))
    _check_date(birth_date, today=timezone.localdate(now), message=_("The date of birth is in the future."),
                code="bad_birth_date")
    _check_date(moved_in_on, today=timezone.localdate(now), message=_("The move-in date is in the future."))
    _choice(relation, Relation, _("relation"))
    _choice(registration, Registration, _("registration"))
    _check_unique_id(values)
    _check_head(household, relation)
    try:
        with transaction.atomic():
            resident = Resident.objects.create(
                household=household, building_id=household.building_id, **_household_path(household),
                name=_clean_name(name), gender=gender or "", birth_date=birth_date, relation=relation,
                registration=registration, registered_address=_text(registered_address, 200),
                moved_in_on=moved_in_on, note=_text(note), **values,
            )
    except IntegrityError:
        # A concurrent add of the same person (or a second head) won the race.
        raise DomainError(_("A resident with this ID number is already recorded, or the household already "
                            "has a head."), code="conflict") from None
    if tags:
        resident.tags.set(tags)
    refresh_visit_due([resident.pk], today=timezone.localdate(now))
    _log(resident, ResidentEvent.Action.ADD, acting_user, now, household_id=household.pk)
    resident.warning = warning
    return resident


@transaction.atomic
def resident_update(*, resident, acting_user, now=None, id_number=None, phone=None, tags=None, **changes):
    """Change a resident's record. `id_number`/`phone` None leaves them; "" clears them.

    Only the columns that changed are written (never the encrypted ones unless
    they changed): a row is not re-encrypted, or its token mistaken for a value,
    on a change of name.
    """
    now = _now(now)
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    _require_edit(acting_user, resident)
    unknown = set(changes) - set(PLAIN_FIELDS)
    if unknown:
        raise DomainError(_("These fields cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))},
                          code="bad_field")
    values, parsed, warning = identity_values(id_number=id_number, phone=phone, today=timezone.localdate(now))
    if "name" in changes:
        changes["name"] = _clean_name(changes["name"])
    if "registered_address" in changes:
        changes["registered_address"] = _text(changes["registered_address"], 200)
    if "note" in changes:
        changes["note"] = _text(changes["note"])
    if "gender" in changes:
        changes["gender"] = changes["gender"] or ""
        if changes["gender"]:
            _choice(changes["gender"], Gender, _("gender"))
    if "relation" in changes:
        _choice(changes["relation"], Relation, _("relation"))
    if "registration" in changes:
        _choice(changes["registration"], Registration, _("registration"))
    if parsed:
        changes.update(gender=parsed.gender, birth_date=parsed.birth_date)
    if "birth_date" in changes:
        _check_date(changes["birth_date"], today=timezone.localdate(now), message=_("The date of birth is in the future."),
                code="bad_birth_date")
    if "moved_in_on" in changes:
        _check_date(changes["moved_in_on"], today=timezone.localdate(now), message=_("The move-in date is in the future."))
    if changes.get("relation") == Relation.HEAD and resident.is_living:
        _check_head(resident.household_id, Relation.HEAD, exclude_pk=resident.pk)
    _check_unique_id(values, exclude_pk=resident.pk)
    plain = {k: v for k, v in changes.items() if getattr(resident, k) != v}
    # Personal values are compared through their index, and logged by name only.
    personal = [f for f, idx in (("id_number", "id_index"), ("phone", "phone_index"))
                if idx in values and getattr(resident, idx) != values[idx]]
    columns = {**plain}
    for f in personal:
        columns.update({k: v for k, v in values.items() if k.startswith("id_" if f == "id_number" else "phone")})
    changed = sorted(plain) + personal
    if columns:
        for key, value in columns.items():
            setattr(resident, key, value)
        resident.updated_at = now
        try:
            with transaction.atomic():
                resident.save(update_fields=[*columns, "updated_at"])
        except IntegrityError:
            raise DomainError(_("A resident with this ID number is already recorded, or the household already "
                                "has a head."), code="conflict") from None
    if tags is not None:
        before = set(resident.tags.values_list("pk", flat=True))
        resident.tags.set(tags)
        after = set(resident.tags.values_list("pk", flat=True))
        if before != after:
            changed.append("tags")
            refresh_visit_due([resident.pk], today=timezone.localdate(now))
            resident.visit_due_on = Resident.objects.values_list("visit_due_on", flat=True).get(pk=resident.pk)
    if changed:
        _log(resident, ResidentEvent.Action.CHANGE, acting_user, now, fields=changed)
    resident.warning = warning
    return resident


def _conflict():
    return DomainError(_("A resident with this ID number is already recorded, or the household already has a "
                         "head."), code="conflict")


@transaction.atomic
def resident_move(*, resident, household, relation=None, acting_user, now=None):
    """Move a living resident to another household (both must be the user's to change)."""
    now = _now(now)
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    household = Household.objects.select_for_update().get(pk=household.pk)
    _require_edit(acting_user, resident)
    _require_edit(acting_user, household)
    if not resident.is_living:
        raise DomainError(_("Only a resident living here can move to another household."), code="not_living")
    if household.pk == resident.household_id:
        return resident
    relation = relation or (Relation.OTHER if resident.relation == Relation.HEAD else resident.relation)
    _choice(relation, Relation, _("relation"))
    _check_head(household, relation)
    source = resident.household_id
    try:
        with transaction.atomic():
            Resident.objects.filter(pk=resident.pk).update(
                household=household, building_id=household.building_id, relation=relation, updated_at=now,
                **_household_path(household),
            )
    except IntegrityError:
        raise _conflict() from None
    _log(resident, ResidentEvent.Action.MOVE, acting_user, now, from_household_id=source, to_household_id=household.pk)
    resident.refresh_from_db()
    return resident


def _leave(resident, status, action, on, acting_user, now, note):
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    _require_edit(acting_user, resident)
    if not resident.is_living:
        raise DomainError(_("This resident is no longer recorded as living here."), code="not_living")
    on = on or timezone.localdate(now)
    if not isinstance(on, datetime.date):
        raise DomainError(_("That is not a date."), code="bad_date")
    if on > timezone.localdate(now):
        raise DomainError(_("The date is in the future."), code="bad_date")
    if resident.birth_date and on < resident.birth_date:
        raise DomainError(_("The date is before the date of birth."), code="bad_date")
    Resident.objects.filter(pk=resident.pk).update(status=status, left_on=on, visit_due_on=None, updated_at=now)
    _log(resident, action, acting_user, now, on=on.isoformat(), note=_text(note, 200))
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
def resident_return(*, resident, household=None, on=None, id_number=None, acting_user, now=None):
    """A resident who had moved out lives here again (in their old or another household).

    The acting user must look after the household they move into, and either
    the place they left or, moving in from elsewhere in the city, prove they
    have the person in front of them by typing the full ID number (`id_number`):
    a pk alone must not pull someone else's record into one's scope.
    """
    now = _now(now)
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    household = Household.objects.select_for_update().get(pk=(household or resident.household).pk)
    _require_edit(acting_user, household)
    if not can_edit_residents(acting_user, resident):
        proven = False
        if id_number and resident.id_index:
            try:
                proven = blind_index("id", parse_id_number(id_number).value) == resident.id_index
            except DomainError:
                proven = False
        if not proven:
            raise DomainError(_("You do not look after residents here."), code="forbidden")
    if resident.status != ResidentStatus.MOVED_OUT:
        raise DomainError(_("Only a resident who moved out can move back in."), code="not_moved_out")
    on = on or timezone.localdate(now)
    if not isinstance(on, datetime.date):
        raise DomainError(_("That is not a date."), code="bad_date")
    if on > timezone.localdate(now):
        raise DomainError(_("The date is in the future."), code="bad_date")
    if resident.left_on and on < resident.left_on:
        raise DomainError(_("The date is before the resident moved out."), code="bad_date")
    relation = Relation.OTHER if resident.relation == Relation.HEAD else resident.relation
    try:
        with transaction.atomic():
            Resident.objects.filter(pk=resident.pk).update(
                status=ResidentStatus.LIVING, left_on=None, moved_in_on=on, household=household,
                building_id=household.building_id, relation=relation, updated_at=now, **_household_path(household),
            )
    except IntegrityError:
        raise _conflict() from None
    refresh_visit_due([resident.pk], today=timezone.localdate(now))
    _log(resident, ResidentEvent.Action.RETURN, acting_user, now, household_id=household.pk,
         from_household_id=resident.household_id)
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
    resident = Resident.objects.defer("id_number", "phone").annotate(token=Cast(field, TextField())).get(
        pk=resident.pk)
    if not can_reveal(fresh_scope(acting_user), resident, field):
        raise DomainError(_("Your post may not see this value in full."), code="forbidden")
    if not resident.token:
        raise DomainError(_("Nothing is recorded for this field."), code="empty")
    try:
        # Decrypted here, strictly: the field itself would hand back the token
        # as if it were the value when no configured key opens it.
        value = decrypt_token(resident.token)
    except UndecryptableError:
        logger.error("resident %s: stored %s does not decrypt with the configured keys", resident.pk, field)
        raise DomainError(_("This value cannot be read: the encryption keys are misconfigured. Tell the "
                            "administrator."), code="undecryptable") from None
    AccessLog.objects.create(actor=acting_user, action=AccessAction.REVEAL, resident=resident, field=field,
                             reason=reason[:200], at=now, **_access_path(resident))
    return value


_DIGIT_RUN = re.compile(r"[0-9０-９][0-9０-９\s\-]{5,}[0-9０-９Xx]")


def _mask_filter_value(value):
    """A filter as logged: any run of 7+ digits (a typed ID number or phone) masked."""
    if isinstance(value, dict):
        return {k: _mask_filter_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_filter_value(v) for v in value]
    if isinstance(value, str):
        def mask(match):
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", match[0]):
                return match[0]  # a date filter, not a number
            digits = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", match[0]))
            return mask_id_number(digits.upper()) if len(digits) == 18 else "*" * max(0, len(digits) - 4) + digits[-4:]
        return _DIGIT_RUN.sub(mask, value)
    return value


def access_log_export(*, acting_user, reason, count, masked, filters, place=None, now=None):
    """Record an export in the access log (called inside the export's transaction).

    The entry hangs on `place`, or else on the deepest place common to the
    exporter's scope, so staff above read it. An unmasked export needs a stated
    reason. Filters are logged with any typed ID number or phone masked.
    """
    reason = " ".join(str(reason or "").split())
    if not masked and len(reason) < 2:
        raise DomainError(_("Say why you need the full values."), code="no_reason")
    if place is None:
        place = common_place_of(acting_user)
    elif not isinstance(place, Area):
        place = Area(pk=place.grid_id) if getattr(place, "grid_id", None) else None
    path = path_values(place) if place is not None else {}
    return AccessLog.objects.create(
        actor=acting_user, action=AccessAction.EXPORT, field=AccessField.ALL if not masked else "",
        reason=(reason or _("export"))[:200], at=_now(now),
        details={"rows": count, "masked": bool(masked), "filters": _mask_filter_value(filters or {})}, **path,
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
                .values_list("pk", "status", "last_visited_at", "interval", "visit_due_on"))
        updates = []
        for pk, status, last, interval, current in rows:
            due = None
            if status == ResidentStatus.LIVING and interval:
                if last:
                    due = timezone.localdate(last) + datetime.timedelta(days=interval)
                else:
                    # Never visited: due today, or since whenever it first fell
                    # due (a later tag change must not hide an overdue visit).
                    due = min(current, today) if current else today
            if due != current:
                updates.append(Resident(pk=pk, visit_due_on=due))
        if updates:
            Resident.objects.bulk_update(updates, ["visit_due_on"])


@transaction.atomic
def care_visit_log(*, resident, notes, findings="", follow_up=False, visited_at=None, acting_user, now=None):
    """A grid worker's visit (走访): recorded, and the resident's next visit moved on."""
    now = _now(now)
    visited_at = visited_at or now
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    _require_edit(acting_user, resident)
    if not isinstance(visited_at, datetime.datetime) or timezone.is_naive(visited_at):
        raise DomainError(_("That is not a time."), code="bad_date")
    if visited_at > now:
        raise DomainError(_("A visit cannot be in the future."), code="bad_date")
    if not resident.is_living:
        raise DomainError(_("This resident is no longer recorded as living here."), code="not_living")
    notes = str(notes or "").strip()
    if not notes:
        raise DomainError(_("Write what the visit was about."), code="no_notes")
    visit = CareVisit.objects.create(resident=resident, visited_by=acting_user, visited_at=visited_at,
                                     notes=notes[:4000], findings=str(findings or "").strip()[:4000],
                                     follow_up=bool(follow_up), recorded_at=now)
    if resident.last_visited_at is None or visited_at > resident.last_visited_at:
        Resident.objects.filter(pk=resident.pk).update(last_visited_at=visited_at)
        refresh_visit_due([resident.pk], today=timezone.localdate(now))
    return visit


@transaction.atomic
def care_visit_to_case(*, visit, category, description="", acting_user, now=None):
    """One click: the visit's follow-up becomes a case at the resident's building (patrol channel).

    The case is opened by the cases app through `hooks.open_case_for_visit` (hub/wiring.py), in
    this transaction: the visit and its case are written together or not at all."""
    now = _now(now)
    visit = CareVisit.objects.select_for_update().select_related("resident").get(pk=visit.pk)
    _require_edit(acting_user, visit.resident)
    if visit.case_id:
        raise DomainError(_("This visit already has a case."), code="has_case")
    text = str(description or "").strip() or visit.findings or visit.notes
    case = hooks.open_case_for_visit(category=category, description=text, building=visit.resident.building,
                                     acting_user=acting_user, now=now)
    CareVisit.objects.filter(pk=visit.pk).update(case=case, follow_up=True)
    return case
