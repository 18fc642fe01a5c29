"""Resident import, part 2: checking the rows (居民信息导入 · 校验).

Every row of a Sheet against the columns' rules, ID numbers, duplicates in the
file, the places the importer may edit and what the database already holds;
the result is a Plan (new / update / unchanged / error rows, with errors by
row and column). Nothing is written here.
"""

import datetime
import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind, Building, Unit
from portal.errors import DomainError

from stdnum.cn import ric

from ..identity import IdNumber, blind_index, mask_id_number, normalize_phone, parse_id_number
from ..models import Household, Registration, Relation, Resident, ResidentStatus
from ..selectors import households_visible_to, resident_scope, tags_visible_to
from .parse import (
    COLUMN_BY_KEY,
    _BUILDING_SUFFIX,
    _GENDER_WORDS,
    _LONG_DIGITS,
    _REGISTRATION_WORDS,
    _RELATION_WORDS,
    _SCIENTIFIC,
    _TAG_SPLIT,
    _UNIT_SUFFIX,
    _choice_map,
    _header_key,
    _masked_id,
    _number_key,
    _parse_date,
    _text,
    scrub,
)

# How many errors and warnings a job keeps (the preview shows the first of them).
ERRORS_KEPT = 500
WARNINGS_KEPT = 100
CHUNK = 5000
NAME_MAX, ROOM_MAX, ADDRESS_MAX, NOTE_MAX = 50, 20, 200, 2000


# --- checking the rows -----------------------------------------------------------------------

@dataclass(slots=True)
class Row:
    number: int
    grid_code: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""
    name: str = ""
    id_value: str = ""  # the full number, kept in memory only
    id_index: str = ""
    phone: str | None = None  # None: cell empty (keep what is recorded)
    values: dict = field(default_factory=dict)  # plain fields given in the file
    tag_ids: frozenset | None = None
    unit_id: int | None = None
    grid_id: int | None = None
    household_id: int | None = None
    resident_id: int | None = None
    action: str = ""  # new / update / unchanged / error
    changes: dict = field(default_factory=dict)
    set_tags: bool = False
    due: datetime.date | None = None
    failed: bool = False


@dataclass
class Plan:
    rows: list
    errors: list
    warnings: list
    error_rows: int = 0
    counts: dict = field(default_factory=dict)
    grids: dict = field(default_factory=dict)  # grid id → Area


class _Problems:
    def __init__(self):
        self.errors, self.warnings = [], []
        self.error_total = 0

    def error(self, row, column, message, shown=""):
        row.failed = True
        self.error_total += 1
        self.errors.append({"row": row.number, "column": COLUMN_BY_KEY[column].header if column else "",
                            "message": str(message), "value": shown})

    def warning(self, row, column, message, shown=""):
        self.warnings.append({"row": row.number, "column": COLUMN_BY_KEY[column].header if column else "",
                              "message": str(message), "value": shown})


class _Vocabulary:
    """Choices and tags read once per check."""

    def __init__(self, acting_user):
        self.relations = _choice_map(Relation, _RELATION_WORDS)
        self.registrations = _choice_map(Registration, _REGISTRATION_WORDS)
        self.genders = {_header_key(w): g for g, words in _GENDER_WORDS.items() for w in words}
        self.tags = {}
        self.visible_tags = set()
        for pk, code, name in tags_visible_to(acting_user).values_list("pk", "code", "name"):
            self.tags[_header_key(name)] = pk
            self.tags[_header_key(code)] = pk
            self.visible_tags.add(pk)


@functools.lru_cache(maxsize=8192)
def _area_warning(area, language):
    """identity.parse_id_number's warning for an area code, worked out once per code (and language)."""
    body = f"{area}19800101001"
    with translation.override(language):
        return parse_id_number(body + ric.calc_check_digit(body + "0")).warning


_ID_SHAPE = re.compile(r"\A[0-9]{17}[0-9X]\Z")


def fast_parse_id_number(raw, *, today):
    """parse_id_number with the area table looked up once per area code instead of once per number.

    python-stdnum's lookup costs ~0.1 ms a number, most of a 100,000-row check. A number that
    passes the cheap checks here (shape, birth date, check digit: GB 11643's rules, as in
    identity.parse_id_number) is built here with the cached area warning; anything else goes
    to parse_id_number itself, which gives the refusal and its message.
    tests/test_residents_import.py checks both agree.
    """
    text = str(raw or "").strip().upper()
    if _ID_SHAPE.match(text):
        try:
            birth = datetime.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
        except ValueError:
            birth = None
        if birth and 1890 <= birth.year and birth <= today and text[17] == ric.calc_check_digit(text):
            return IdNumber(value=text, birth_date=birth, gender="M" if int(text[16]) % 2 else "F",
                            warning=_area_warning(text[:6], translation.get_language() or settings.LANGUAGE_CODE))
    return parse_id_number(raw, today=today)


def _cell(cells, position):
    return cells[position] if position is not None and position < len(cells) else None


def _check_cells(sheet, vocabulary, problems, today):
    """Each row on its own: shapes, dates, ID numbers, phones, choices. No database."""
    columns = sheet.columns
    at = {key: columns.get(key) for key in COLUMN_BY_KEY}
    rows = []
    for number, cells in sheet.rows:
        row = Row(number=number)
        rows.append(row)
        if len(cells) > sheet.width and any(_text(c) for c in cells[sheet.width:]) and sheet.file_format == "csv":
            problems.error(row, None, _("This row has more cells than the header has columns."))
        row.grid_code = re.sub(r"\s", "", _text(_cell(cells, at["grid_code"])))
        row.building = re.sub(r"\s", "", _text(_cell(cells, at["building"])))
        row.unit = re.sub(r"\s", "", _text(_cell(cells, at["unit"])))
        row.room = re.sub(r"\s", "", _text(_cell(cells, at["room"])))
        for key in ("building", "unit", "room"):
            value = getattr(row, key)
            if not value:
                problems.error(row, key, _("This cell is empty."))
            elif len(value) > ROOM_MAX:
                problems.error(row, key, _("At most %(n)d characters.") % {"n": ROOM_MAX}, scrub(value))
        row.name = " ".join(_text(_cell(cells, at["name"])).split())
        if not row.name:
            problems.error(row, "name", _("The name is empty."))
        elif len(row.name) > NAME_MAX:
            problems.error(row, "name", _("A name has at most %(n)d characters.") % {"n": NAME_MAX})
        elif _LONG_DIGITS.search(row.name):
            problems.error(row, "name", _("The name contains a long number (a column mix-up?)."), scrub(row.name))

        raw_id = _cell(cells, at["id_number"])
        parsed = None
        if (isinstance(raw_id, (int, float)) and not isinstance(raw_id, bool)) or _SCIENTIFIC.match(_text(raw_id)):
            problems.error(row, "id_number", _("Excel stored the ID number as a number and lost its last digits: "
                                               "format the column as text and type it again."), _masked_id(raw_id))
        elif _text(raw_id):
            try:
                parsed = fast_parse_id_number(_text(raw_id), today=today)
            except DomainError as error:
                problems.error(row, "id_number", error.message, _masked_id(raw_id))
            else:
                row.id_value, row.id_index = parsed.value, blind_index("id", parsed.value)
                if parsed.warning:
                    problems.warning(row, "id_number", parsed.warning, mask_id_number(parsed.value))
                row.values["gender"], row.values["birth_date"] = parsed.gender, parsed.birth_date

        if at["phone"] is not None:
            raw_phone = _text(_cell(cells, at["phone"]))
            if raw_phone:
                try:
                    row.phone = normalize_phone(raw_phone)
                except DomainError as error:
                    problems.error(row, "phone", error.message, scrub(raw_phone))

        gender_text = _header_key(_text(_cell(cells, at["gender"])))
        if gender_text:
            gender = vocabulary.genders.get(gender_text)
            if gender is None:
                problems.error(row, "gender", _("Unknown gender: write 男 or 女."), scrub(gender_text))
            elif parsed and gender != parsed.gender:
                problems.error(row, "gender", _("The gender does not match the ID number."))
            else:
                row.values["gender"] = gender

        raw_birth = _cell(cells, at["birth_date"])
        if _text(raw_birth):
            birth = _parse_date(raw_birth)
            if birth is None:
                problems.error(row, "birth_date", _("Not a date: write it as 1980-05-17."), scrub(_text(raw_birth)))
            elif birth > today or birth.year < 1890:
                problems.error(row, "birth_date", _("The date of birth is impossible."), scrub(_text(raw_birth)))
            elif parsed and birth != parsed.birth_date:
                problems.error(row, "birth_date", _("The date of birth does not match the ID number."))
            else:
                row.values["birth_date"] = birth

        for key, words, message in (
            ("relation", vocabulary.relations, _("Unknown relation to the head of household (户主, 配偶, 子女...).")),
            ("registration", vocabulary.registrations, _("Unknown registration (人户一致, 户在人不在, 流动人口).")),
        ):
            text = _text(_cell(cells, at[key]))
            if text:
                value = words.get(_header_key(text))
                if value is None:
                    problems.error(row, key, message, scrub(text))
                else:
                    row.values[key] = value

        for key, limit in (("registered_address", ADDRESS_MAX), ("note", NOTE_MAX)):
            text = _text(_cell(cells, at[key]))
            if text:
                if len(text) > limit:
                    problems.error(row, key, _("At most %(n)d characters.") % {"n": limit})
                else:
                    row.values[key] = text

        raw_moved = _cell(cells, at["moved_in_on"])
        if _text(raw_moved):
            moved = _parse_date(raw_moved)
            if moved is None:
                problems.error(row, "moved_in_on", _("Not a date: write it as 2020-05-01."), scrub(_text(raw_moved)))
            elif moved > today:
                problems.error(row, "moved_in_on", _("The date is in the future."), scrub(_text(raw_moved)))
            elif row.values.get("birth_date") and moved < row.values["birth_date"]:
                problems.error(row, "moved_in_on", _("The date is before the date of birth."), scrub(_text(raw_moved)))
            else:
                row.values["moved_in_on"] = moved

        tag_text = _text(_cell(cells, at["tags"]))
        if tag_text:
            ids, unknown = set(), []
            for part in _TAG_SPLIT.split(tag_text):
                part = part.strip()
                if not part:
                    continue
                pk = vocabulary.tags.get(_header_key(part))
                if pk is None:
                    unknown.append(part[:20])
                else:
                    ids.add(pk)
            if unknown:
                problems.error(row, "tags", _("Unknown tags: %(names)s.") % {"names": "、".join(unknown)})
            else:
                row.tag_ids = frozenset(ids)
    return rows


def _chunks(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _resolve_places(rows, problems, acting_user, default_grid):
    """Grid, building and unit of each row, looked up inside the importer's scope only."""
    scope = resident_scope(acting_user)
    in_scope = Area.objects.filter(scope.areas_q(), kind=AreaKind.GRID, is_active=True)
    codes = {r.grid_code for r in rows if r.grid_code}
    grids_by_code = {a.code: a for a in in_scope.filter(code__in=codes)} if codes else {}
    grids = {a.pk: a for a in grids_by_code.values()}
    if default_grid is not None:
        grids[default_grid.pk] = default_grid
    for row in rows:
        if row.grid_code:
            grid = grids_by_code.get(row.grid_code)
            if grid is None:
                # The same words whether the grid is elsewhere or nowhere: never say which.
                problems.error(row, "grid_code", _("No grid with this code in the places you look after."),
                               scrub(row.grid_code))
                continue
            row.grid_id = grid.pk
        elif default_grid is not None:
            row.grid_id = default_grid.pk
        else:
            problems.error(row, "grid_code", _("No grid: give the 网格编码 or choose the grid on the upload form."))
    buildings = defaultdict(dict)  # grid → {number key → building id}
    for pk, grid_id, number in Building.objects.filter(grid_id__in=grids).values_list("pk", "grid_id", "number"):
        by_number = buildings[grid_id]
        by_number[number] = pk
        key = _number_key(number, _BUILDING_SUFFIX)
        if key != number:
            by_number[key] = None if key in by_number and by_number[key] != pk else pk
    units = defaultdict(dict)  # building → {number key → unit id}
    for pk, building_id, number in Unit.objects.filter(building__grid_id__in=grids).values_list(
            "pk", "building_id", "number"):
        by_number = units[building_id]
        by_number[number] = pk
        key = _number_key(number, _UNIT_SUFFIX)
        if key != number:
            by_number[key] = None if key in by_number and by_number[key] != pk else pk
    for row in rows:
        if row.grid_id is None or not row.building or not row.unit:
            continue
        by_number = buildings.get(row.grid_id, {})
        building_id = by_number.get(row.building) or by_number.get(_number_key(row.building, _BUILDING_SUFFIX))
        if not building_id:
            problems.error(row, "building", _("No such building in this grid. Buildings are added on the grid's "
                                              "page before residents are imported."), scrub(row.building))
            continue
        by_unit = units.get(building_id, {})
        unit_id = by_unit.get(row.unit) or by_unit.get(_number_key(row.unit, _UNIT_SUFFIX))
        if not unit_id:
            problems.error(row, "unit", _("No such unit in this building."), scrub(row.unit))
            continue
        row.unit_id = unit_id
    return grids


EXISTING_FIELDS = ("pk", "household_id", "status", "name", "gender", "birth_date", "relation", "registration",
                   "registered_address", "moved_in_on", "note", "phone_index", "id_index")


def _existing(rows):
    """Recorded residents the rows may mean: by ID index, and by household and name for rows without one.

    Only plain columns are read: the encrypted ones are never loaded (nor decrypted).
    """
    by_index, by_household = {}, defaultdict(list)
    indexes = {r.id_index for r in rows if r.id_index and not r.failed}
    for chunk in _chunks(indexes):
        for values in Resident.objects.filter(id_index__in=chunk).values(*EXISTING_FIELDS):
            by_index[values["id_index"]] = values
    # By household and name only where the ID number found no one (or the row has none).
    households = {r.household_id for r in rows if r.household_id and not r.failed
                  and not (r.id_index and r.id_index in by_index)}
    for chunk in _chunks(households):
        for values in Resident.objects.filter(household_id__in=chunk).values(*EXISTING_FIELDS):
            by_household[values["household_id"]].append(values)
    return by_index, by_household


def _tags_of(resident_ids):
    tags = defaultdict(set)
    through = Resident.tags.through
    for chunk in _chunks(resident_ids):
        for resident_id, tag_id in through.objects.filter(resident_id__in=chunk).values_list("resident_id", "tag_id"):
            tags[resident_id].add(tag_id)
    return tags


PLAIN = ("name", "gender", "birth_date", "relation", "registration", "registered_address", "moved_in_on", "note")


def check(sheet, *, acting_user, default_grid=None, today):
    """Check every row of a sheet against the database and the importer's scope. Writes nothing."""
    problems = _Problems()
    vocabulary = _Vocabulary(acting_user)
    rows = _check_cells(sheet, vocabulary, problems, today)
    grids = _resolve_places(rows, problems, acting_user, default_grid)

    # Households by (unit, room).
    wanted = defaultdict(set)
    for row in rows:
        if row.unit_id:
            wanted[row.unit_id].add(row.room)
    households = {}
    for chunk in _chunks(wanted):
        for pk, unit_id, number in Household.objects.filter(unit_id__in=chunk).values_list("pk", "unit_id", "number"):
            households[(unit_id, number)] = pk
    for row in rows:
        if row.unit_id:
            row.household_id = households.get((row.unit_id, row.room))

    # The same person twice in the file: both rows are wrong, and both are named.
    seen = defaultdict(list)
    for row in rows:
        if row.id_index:
            seen[row.id_index].append(row)
        elif row.unit_id and row.name:
            seen[("name", row.unit_id, row.room, row.name)].append(row)
    for key, same in seen.items():
        if len(same) > 1:
            numbers = "、".join(str(r.number) for r in same)
            for row in same:
                if isinstance(key, str):
                    problems.error(row, "id_number", _("The same ID number is on rows %(rows)s.") % {"rows": numbers},
                                   mask_id_number(row.id_value))
                else:
                    problems.error(row, "name", _("The same name without an ID number is on rows %(rows)s of one "
                                                  "household.") % {"rows": numbers})

    by_index, by_household = _existing(rows)
    elsewhere = {v["household_id"] for v in by_index.values()} - {r.household_id for r in rows}
    reachable = set()
    for chunk in _chunks(elsewhere):
        reachable.update(households_visible_to(acting_user).filter(pk__in=chunk).values_list("pk", flat=True))
    reachable |= {r.household_id for r in rows if r.household_id}
    matched_ids = set()
    for row in rows:
        if row.failed:
            continue
        found = by_index.get(row.id_index) if row.id_index else None
        if found is None and row.household_id:
            # No ID match: the person recorded in this household under this name (without an ID
            # number when the row has one: a row with an ID never takes over someone else's).
            same_name = [r for r in by_household.get(row.household_id, ()) if r["name"] == row.name
                         and (not row.id_index or not r["id_index"])]
            if len(same_name) > 1:
                problems.error(row, "name", _("Several residents of this household have this name: add the ID "
                                              "number to tell them apart."))
                continue
            found = same_name[0] if same_name else None
        if found is None:
            row.action = "new"
            continue
        if found["household_id"] != row.household_id:
            if found["household_id"] not in reachable:
                # Outside the importer's places: the same words whether that person lives there,
                # moved out or died, so the preview is no oracle for another community's records.
                problems.error(row, "id_number", _("This ID number is on record in a household outside the places "
                                                   "you look after. Ask the community that holds the record to "
                                                   "record the move."), mask_id_number(row.id_value))
            elif found["status"] == ResidentStatus.LIVING:
                problems.error(row, "id_number", _("This person already lives in another household. Record the "
                                                   "move on their page first."), mask_id_number(row.id_value))
            else:
                problems.error(row, "id_number", _("This person is recorded as moved out or deceased elsewhere; "
                                                   "record their return on their page first."),
                               mask_id_number(row.id_value))
            continue
        if found["status"] != ResidentStatus.LIVING:
            problems.error(row, "name", _("This person is recorded as moved out or deceased; record their return on "
                                          "their page first."))
            continue
        if found["pk"] in matched_ids:
            problems.error(row, "name", _("Another row of the file already means this resident."))
            continue
        matched_ids.add(found["pk"])
        row.resident_id = found["pk"]
        row.changes = {k: v for k, v in row.values.items() if found[k] != v}
        if row.name != found["name"]:
            row.changes["name"] = row.name
        if row.id_index and not found["id_index"]:
            row.changes["id"] = True
        if row.phone is not None and blind_index("phone", row.phone) != found["phone_index"]:
            row.changes["phone"] = True
        row.action = "update" if row.changes else "unchanged"

    # Tags: compared for matched residents; only tags the importer may see are ever replaced.
    current_tags = _tags_of([r.resident_id for r in rows if r.resident_id and r.tag_ids is not None and not r.failed])
    for row in rows:
        if row.failed or row.tag_ids is None:
            continue
        if row.resident_id is None:
            row.set_tags = bool(row.tag_ids)
        elif current_tags.get(row.resident_id, set()) & vocabulary.visible_tags != set(row.tag_ids):
            row.set_tags = True
            row.changes["tags"] = True
            row.action = "update"

    _check_heads(rows, problems)

    plan = Plan(rows=rows, errors=problems.errors[:ERRORS_KEPT], warnings=problems.warnings[:WARNINGS_KEPT],
                grids=grids)
    plan.errors_total, plan.warnings_total = problems.error_total, len(problems.warnings)
    counts = {"new": 0, "update": 0, "unchanged": 0, "error": 0}
    for row in rows:
        counts["error" if row.failed else row.action] += 1
    plan.counts = counts
    plan.error_rows = counts["error"]
    return plan


def _check_heads(rows, problems):
    """At most one living head per household, counting the file and what is recorded."""
    heads_in_file = defaultdict(list)
    demoted = set()
    households = set()
    for row in rows:
        if row.failed or not row.unit_id:
            continue
        relation = row.values.get("relation")
        key = (row.unit_id, row.room)
        if relation == Relation.HEAD:
            heads_in_file[key].append(row)
            if row.household_id:
                households.add(row.household_id)
        elif relation and row.resident_id:
            demoted.add(row.resident_id)
    recorded = {}
    for chunk in _chunks(households):
        for pk, household_id in Resident.objects.filter(
                household_id__in=chunk, relation=Relation.HEAD, status=ResidentStatus.LIVING).values_list(
                "pk", "household_id"):
            recorded[household_id] = pk
    for key, heads in heads_in_file.items():
        if len(heads) > 1:
            numbers = "、".join(str(r.number) for r in heads)
            for row in heads:
                problems.error(row, "relation", _("Rows %(rows)s all name the head of one household.")
                               % {"rows": numbers})
            continue
        (row,) = heads
        head = recorded.get(row.household_id)
        if head and head != row.resident_id and head not in demoted:
            problems.error(row, "relation", _("This household already has a head."))
