"""Resident import (居民信息导入): read a spreadsheet, check every row, then load it.

The flow is preview → confirm → run:

- `import_preview` reads the upload (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030
  as Excel on Chinese Windows saves it; XLSX through tablib), checks every row
  against the database and the importer's scope, and records an ImportJob with
  the counts (new / update / unchanged / error) and the errors by row and
  column, as Excel numbers the rows (the header is row 1).
- `import_confirm` takes the user's choice: the valid rows, or all or nothing
  (refused while any row has an error). Small files run in the request; large
  ones (more than RESIDENT_IMPORT_INLINE_ROWS rows) are queued for the Celery
  task residents.tasks.import_residents, enqueued on commit.
- `import_run` checks the file again (the database may have changed since the
  preview) and writes it in ONE transaction: households created in existing
  units, residents upserted by the blind index of their ID number (or by
  household and name when a row has none), tags, one ResidentEvent IMPORT row
  per created or changed resident, one AccessLog IMPORT row. Any database
  error rolls the whole import back and marks the job failed. Re-importing the
  same file changes nothing.

Personal values never reach a message: errors name the row and the column and
show ID numbers and phones masked; a database error is reported by its kind
and constraint, never with the failing row (PostgreSQL would print it).
"""

import csv
import datetime
import functools
import io
import json
import logging
import re
import time
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field

import tablib
from charset_normalizer import from_bytes
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grid.models import Area, AreaKind, Building, Unit
from grid.services import lock_trees, path_values
from portal.celery import send_by_name
from portal.errors import DomainError

from stdnum.cn import ric

from .identity import IdNumber, blind_index, mask_id_number, mask_phone, normalize_phone, parse_id_number
from .models import (
    AccessAction,
    AccessField,
    AccessLog,
    Gender,
    Household,
    ImportJob,
    Registration,
    Relation,
    Resident,
    ResidentEvent,
    ResidentStatus,
    Tag,
)
from .selectors import can_edit_residents, resident_scope, tags_visible_to
from .services import refresh_visit_due

log = logging.getLogger(__name__)

# How many errors and warnings a job keeps (the preview shows the first of them).
ERRORS_KEPT = 500
WARNINGS_KEPT = 100
BATCH = 1000
CHUNK = 5000
NAME_MAX, ROOM_MAX, ADDRESS_MAX, NOTE_MAX = 50, 20, 200, 2000
# The header may sit below a title row or two ("幸福社区居民信息表").
HEADER_SEARCH_ROWS = 10


# --- columns ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    header: str  # what staff type in Excel, and what the template file has
    aliases: tuple
    required: bool = False
    label: str = ""


COLUMNS = (
    Column("grid_code", "网格编码", ("网格代码", "网格", "gridcode", "grid"), label=gettext_lazy("grid code")),
    Column("building", "楼栋", ("楼号", "楼栋号", "楼", "building"), True, gettext_lazy("building")),
    Column("unit", "单元", ("单元号", "unit"), True, gettext_lazy("unit")),
    Column("room", "户号", ("房号", "门牌号", "室", "room", "roomnumber", "household"), True,
           gettext_lazy("room number")),
    Column("name", "姓名", ("name",), True, gettext_lazy("name")),
    Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "证件号码", "idnumber", "id"), True,
           gettext_lazy("ID number")),
    Column("phone", "联系电话", ("电话", "手机", "手机号", "手机号码", "联系方式", "phone"), label=gettext_lazy("phone")),
    Column("gender", "性别", ("gender", "sex"), label=gettext_lazy("gender")),
    Column("birth_date", "出生日期", ("birthdate", "dateofbirth"), label=gettext_lazy("date of birth")),
    Column("relation", "与户主关系", ("关系", "relation"), label=gettext_lazy("relation to the head")),
    Column("registration", "户籍类型", ("户籍类别", "户籍性质", "人户状态", "registration"),
           label=gettext_lazy("registration")),
    Column("registered_address", "户籍地址", ("户籍地", "registeredaddress"), label=gettext_lazy("registered address")),
    Column("tags", "标签", ("人员标签", "居民标签", "tags"), label=gettext_lazy("tags")),
    Column("moved_in_on", "迁入日期", ("迁入时间", "movedinon", "movedin"), label=gettext_lazy("moved in on")),
    Column("note", "备注", ("说明", "note", "notes"), label=gettext_lazy("note")),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
# Columns staff add for themselves and that mean nothing here.
# The export's read-only columns (exporting.EXTRA_HEADERS) are skipped too, so an export imports again.
IGNORED_HEADERS = {"序号", "编号", "no", "no.", "#", "社区", "网格名称", "状态", "离开日期"}


def _header_key(text):
    text = str(text or "").strip().lower()
    return re.sub(r"[\s_\-*：:（）()]", "", text)


HEADER_LOOKUP = {}
for _column in COLUMNS:
    for _name in (_column.header, *_column.aliases):
        HEADER_LOOKUP[_header_key(_name)] = _column.key


def template_headers():
    return [c.header for c in COLUMNS]


# --- values ----------------------------------------------------------------------------------

_RELATION_WORDS = {
    Relation.HEAD: ("户主", "本人"),
    Relation.SPOUSE: ("配偶", "妻", "妻子", "夫", "丈夫", "爱人"),
    Relation.CHILD: ("子女", "子", "女", "儿子", "女儿", "长子", "长女", "次子", "次女"),
    Relation.PARENT: ("父母", "父亲", "母亲", "父", "母"),
    Relation.GRANDCHILD: ("孙子女", "孙子", "孙女", "外孙", "外孙女", "外孙子"),
    Relation.GRANDPARENT: ("祖父母", "祖父", "祖母", "外祖父", "外祖母", "爷爷", "奶奶"),
    Relation.SIBLING: ("兄弟姐妹", "兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹"),
    Relation.CHILD_IN_LAW: ("儿媳", "女婿", "子女配偶"),
    Relation.TENANT: ("租户", "租客", "承租人"),
    Relation.OTHER: ("其他", "其它"),
}
_REGISTRATION_WORDS = {
    Registration.LOCAL: ("人户一致", "本地", "户籍人口", "常住", "本地户籍"),
    Registration.AWAY: ("户在人不在", "人不在户", "外出"),
    Registration.FLOATING: ("流动人口", "人在户不在", "外来", "外地"),
}
_GENDER_WORDS = {Gender.MALE: ("男", "男性", "m", "male"), Gender.FEMALE: ("女", "女性", "f", "female")}


def _choice_map(choices, words):
    """Every way a cell may name a choice: value, English and Chinese labels, common synonyms."""
    found = {}
    for value, label in choices.choices:
        names = {value, *words.get(value, ())}
        for language in ("en", "zh-hans"):
            with translation.override(language):
                names.add(str(label))
        for name in names:
            found[_header_key(name)] = value
    return found


_TAG_SPLIT = re.compile(r"[、,;，；/|]+")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
_LONG_DIGITS = re.compile(r"\d{7,}")
_SCIENTIFIC = re.compile(r"\A\d(?:\.\d+)?[eE]\+?\d+\Z")  # what Excel writes for an ID typed as a number


def _text(value):
    """A cell as text: XLSX numbers without a trailing .0, None as ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def scrub(text):
    """A cell's text fit for a message: long digit runs (an ID number typed in the wrong column) masked."""
    def mask(match):
        digits = match.group(0)
        return mask_id_number(digits) if len(digits) >= 15 else mask_phone(digits) if len(digits) >= 11 else (
            digits[:2] + "*" * (len(digits) - 4) + digits[-2:])
    return _LONG_DIGITS.sub(mask, str(text))[:60]


def _masked_id(raw):
    text = re.sub(r"\s", "", _text(raw))
    if len(text) >= 12:
        return mask_id_number(text)
    return "*" * len(text)


_ISO_DATE = re.compile(r"\A(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\Z")


def _parse_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    match = _ISO_DATE.match(text)
    if match:
        try:
            return datetime.date(*map(int, match.groups()))
        except ValueError:
            return None
    text = re.sub(r"\s", "", text)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _number_key(text, suffixes):
    """'3', '3号楼', '3栋' → '#3' (so staff may type either); anything else as typed."""
    match = re.fullmatch(r"0*(\d+)(?:" + suffixes + r")?", text)
    return f"#{match.group(1)}" if match else text


_BUILDING_SUFFIX = "号楼|号|栋|幢|楼|座"
_UNIT_SUFFIX = "单元|号"


# --- reading the file --------------------------------------------------------------------------

@dataclass
class Sheet:
    header_row: int
    columns: dict  # key → cell index
    rows: list  # [(excel row number, [cells])]
    file_format: str
    width: int = 0  # cells in the header row


def _refuse(message):
    raise DomainError(message, code="bad_file")


def too_large_message():
    limit = settings.RESIDENT_IMPORT_MAX_BYTES
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024 or 1} KB"
    return _("The file is larger than %(size)s: split it into several files.") % {"size": size}


def _too_large():
    _refuse(too_large_message())


def _decode(data):
    """Text of a CSV upload: UTF-8 (with or without BOM), else GB18030 (GBK's superset), else a guess."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text
    best = from_bytes(data[:200_000]).best()
    if best is None:
        return None
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _read_csv(data):
    text = _decode(data)
    if text is None or _CONTROL.search(text[:100_000]):
        _refuse(_("This file is not a spreadsheet: save it from Excel as CSV or XLSX."))
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    if delimiter == "," and first_line.count("，") > first_line.count(","):
        delimiter = "，"  # typed by hand with a Chinese keyboard
    try:
        return [(number, row) for number, row in enumerate(csv.reader(io.StringIO(text, newline=""),
                                                                      delimiter=delimiter), start=1)]
    except csv.Error:
        _refuse(_("This CSV file could not be read (a quote is not closed?). Save it again from Excel."))


def _read_xlsx(data):
    try:
        dataset = tablib.Dataset().load(io.BytesIO(data), format="xlsx", headers=False)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, tablib.InvalidDimensions) as error:
        log.info("unreadable xlsx upload: %s", type(error).__name__)
        _refuse(_("This file is not a readable XLSX spreadsheet: open it in Excel and save it again."))
    except Exception as error:  # openpyxl raises many kinds on a damaged archive
        log.info("unreadable xlsx upload: %s", type(error).__name__)
        _refuse(_("This file is not a readable XLSX spreadsheet: open it in Excel and save it again."))
    return [(number, list(row)) for number, row in enumerate(dataset, start=1)]


def read_sheet(data, *, file_name=""):
    """The rows of an upload with the header found and mapped. Raises DomainError(code="bad_file")."""
    if not data:
        _refuse(_("The file is empty."))
    if len(data) > settings.RESIDENT_IMPORT_MAX_BYTES:
        _too_large()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        _refuse(_("This is an old Excel file (.xls): save it as .xlsx or CSV."))
    if data.startswith(b"PK\x03\x04"):
        rows, file_format = _read_xlsx(data), "xlsx"
    else:
        rows, file_format = _read_csv(data), "csv"
    for index, (number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [_header_key(c) for c in cells]
        if "姓名" in keys or "name" in keys:
            header_at = index
            break
    else:
        _refuse(_("No header row found: the first row must name the columns (楼栋, 单元, 户号, 姓名, 身份证号...). "
                  "Download the template."))
    header_number, header = rows[header_at]
    columns, unknown = {}, []
    for position, cell in enumerate(header):
        key = _header_key(cell)
        if not key or key in IGNORED_HEADERS:
            continue
        column = HEADER_LOOKUP.get(key)
        if column is None:
            unknown.append(_text(cell)[:30])
        elif column in columns:
            _refuse(_("The column “%(name)s” appears twice in the header.") % {"name": COLUMN_BY_KEY[column].header})
        else:
            columns[column] = position
    if unknown:
        _refuse(_("Unknown columns in the header: %(names)s. Use the column names of the template.")
                % {"names": "、".join(unknown)})
    missing = [c.header for c in COLUMNS if c.required and c.key not in columns]
    if missing:
        _refuse(_("The header lacks these columns: %(names)s. Download the template.") % {"names": "、".join(missing)})
    body = [(n, cells) for n, cells in rows[header_at + 1:] if any(_text(c) for c in cells)]
    if not body:
        _refuse(_("The file has a header but no rows."))
    return Sheet(header_number, columns, body, file_format, len(header))


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
            if found["status"] == ResidentStatus.LIVING:
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


# --- jobs: preview, confirm, run ---------------------------------------------------------------

def _options_name(job):
    return f"{job.file.name}.options.json"


def _save_options(job, options):
    default_storage.save(_options_name(job), ContentFile(json.dumps(options).encode()))


def _load_options(job):
    try:
        with default_storage.open(_options_name(job)) as handle:
            return json.loads(handle.read())
    except (OSError, ValueError):
        return {}


def _default_grid(acting_user, grid):
    if grid is None:
        return None
    if getattr(grid, "kind", None) != AreaKind.GRID or not can_edit_residents(acting_user, grid):
        raise DomainError(_("You do not look after residents in this grid."), code="forbidden")
    return grid


def _store_plan(job, plan):
    job.total_rows = len(plan.rows)
    job.valid_rows = job.total_rows - plan.error_rows
    job.created_count = plan.counts["new"]
    job.updated_count = plan.counts["update"]
    job.unchanged_count = plan.counts["unchanged"]
    job.errors = [*plan.errors, *({**w, "warning": True} for w in plan.warnings)]


def import_preview(*, upload, acting_user, grid=None, now=None):
    """Read and check an uploaded spreadsheet; return a previewed ImportJob. Writes no resident.

    File-level problems (empty, not a spreadsheet, too large, wrong header)
    raise DomainError(code="bad_file") and record nothing.
    """
    now = now or timezone.now()
    if (getattr(upload, "size", 0) or 0) > settings.RESIDENT_IMPORT_MAX_BYTES:
        _too_large()
    if not scope_edits_somewhere(acting_user):
        raise DomainError(_("You do not look after residents anywhere."), code="forbidden")
    grid = _default_grid(acting_user, grid)
    data = upload.read()
    sheet = read_sheet(data, file_name=getattr(upload, "name", ""))
    plan = check(sheet, acting_user=acting_user, default_grid=grid, today=timezone.localdate(now))
    name = (getattr(upload, "name", "") or f"residents.{sheet.file_format}").rsplit("/", 1)[-1][:200]
    job = ImportJob(created_by=acting_user, created_at=now, file_name=name, status=ImportJob.Status.PREVIEWED)
    _store_plan(job, plan)
    job.file.save(f"residents.{sheet.file_format}", ContentFile(data), save=False)
    job.save()
    _save_options(job, {"grid_id": grid.pk if grid else None, "errors_total": plan.errors_total,
                        "warnings_total": plan.warnings_total})
    return job


def scope_edits_somewhere(user):
    scope = resident_scope(user)
    return scope.unrestricted or bool(scope.spans)


def needs_worker(job):
    return job.total_rows > settings.RESIDENT_IMPORT_INLINE_ROWS


def import_confirm(*, job, mode, acting_user, now=None):
    """The user's choice after the preview. Small files run now; large ones are queued for the worker."""
    now = now or timezone.now()
    if mode not in ImportJob.Mode.values:
        raise DomainError(_("Choose how to import."), code="bad_mode")
    if job.created_by_id != acting_user.pk:
        raise DomainError(_("Only the person who uploaded the file can import it."), code="forbidden")
    if mode == ImportJob.Mode.ALL_OR_NOTHING and job.valid_rows < job.total_rows:
        raise DomainError(_("Some rows have errors: correct them, or import the valid rows only."),
                          code="has_errors")
    if mode == ImportJob.Mode.VALID_ROWS and job.valid_rows == 0:
        raise DomainError(_("No row is valid: nothing to import."), code="nothing_valid")
    if needs_worker(job):
        with transaction.atomic():
            claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
                status=ImportJob.Status.QUEUED, mode=mode)
            if not claimed:
                raise DomainError(_("This import has already started."), code="already_started")
            # By name: residents.tasks imports this module.
            transaction.on_commit(lambda: send_by_name("residents.tasks.import_residents", kwargs={"job_id": job.pk}))
        job.refresh_from_db()
        return job
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
        status=ImportJob.Status.RUNNING, mode=mode)
    if not claimed:
        raise DomainError(_("This import has already started."), code="already_started")
    return import_run(job_id=job.pk, now=now)


def import_claim(*, job_id):
    """queued → running, once: a redelivered task finds nothing to claim."""
    return bool(ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING))


class Progress:
    """Writes processed_rows where others can see it while the import's transaction is still open.

    On PostgreSQL through a second connection (autocommit) so the progress bar
    moves; elsewhere (SQLite holds one write lock) the count lands with the commit.
    """

    interval = 0.5

    def __init__(self, job_id):
        self.job_id = job_id
        self.last = 0.0
        self.other = None
        self.ready = False
        # Only at the top level: inside an outer transaction that holds the job's row, the
        # second connection would wait for it (and it for us).
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            self.other = connections.create_connection(DEFAULT_DB_ALIAS)
        table = connection.ops.quote_name(ImportJob._meta.db_table)
        self.sql = f"UPDATE {table} SET processed_rows = %s WHERE id = %s AND status = %s"

    def __call__(self, processed, *, force=False):
        if self.other is None:
            return
        moment = time.monotonic()
        if not force and moment - self.last < self.interval:
            return
        self.last = moment
        try:
            with self.other.cursor() as cursor:
                if not self.ready:
                    cursor.execute("SET lock_timeout = '2s'")
                    self.ready = True
                cursor.execute(self.sql, [processed, self.job_id, ImportJob.Status.RUNNING])
        except DatabaseError:
            log.warning("import %s: progress not written", self.job_id)

    def close(self):
        if self.other is not None:
            self.other.close()


def import_run(*, job_id, now=None):
    """Check the file again and write it in one transaction; the job records the outcome.

    Called for a job already claimed (status running). A database error rolls
    everything back: the job is marked failed and nothing is half-imported.
    """
    now = now or timezone.now()
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ImportJob.Status.RUNNING:
        return job
    options = _load_options(job)
    progress = Progress(job.pk)
    try:
        try:
            with job.file.open("rb") as handle:
                data = handle.read()
        except OSError:
            raise DomainError(_("The uploaded file is gone: upload it again."), code="file_gone") from None
        grid = Area.objects.filter(pk=options.get("grid_id")).first() if options.get("grid_id") else None
        if grid is not None and not can_edit_residents(job.created_by, grid):
            grid = None
        sheet = read_sheet(data)
        with transaction.atomic():
            plan = check(sheet, acting_user=job.created_by, default_grid=grid, today=timezone.localdate(now))
            if job.mode == ImportJob.Mode.ALL_OR_NOTHING and plan.error_rows:
                raise DomainError(_("Some rows have errors now (the records changed since the preview): nothing "
                                    "was imported. Check the file again."), code="has_errors")
            outcome = _write(plan, job=job, acting_user=job.created_by, now=now, progress=progress)
            _store_plan(job, plan)
            job.created_count, job.updated_count, job.unchanged_count = outcome
            job.processed_rows = job.total_rows
            job.status = ImportJob.Status.DONE
            job.finished_at = timezone.now()
            job.message = ""
            job.save()
    except DomainError as error:
        _fail(job, error.message)
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
        log.warning("import %s failed: %s %s", job.pk, type(error).__name__, constraint or "")
        _fail(job, _("The records changed while importing (someone else added one of these residents or a head "
                     "of household): nothing was imported. Check the file again."))
    except DatabaseError as error:
        log.warning("import %s failed: %s", job.pk, type(error).__name__)
        _fail(job, _("The database refused the import (%(kind)s): nothing was imported.")
              % {"kind": type(error).__name__})
    finally:
        progress.close()
    _discard_file(job)
    return job


def _fail(job, message):
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED, message=str(message),
                                               finished_at=timezone.now(), processed_rows=0)
    job.refresh_from_db()


def _discard_file(job):
    """The upload holds personal data: it goes once the job has ended (the counts and errors stay)."""
    for name in (job.file.name, _options_name(job)):
        try:
            default_storage.delete(name)
        except OSError:
            log.warning("import %s: could not delete its file", job.pk)


def _common_path(grids):
    """The path of the lowest place above every grid the import touched (for the access log's scope)."""
    paths = [path_values(g) for g in grids]
    if not paths:
        return {}
    common = {}
    for key in ("district_id", "street_id", "community_id", "grid_id"):
        values = {p[key] for p in paths}
        if len(values) != 1:
            break
        common[key] = values.pop()
    return common


def _write(plan, *, job, acting_user, now, progress):
    """Households, residents, tags, history and the access log, in the caller's transaction."""
    rows = [r for r in plan.rows if not r.failed and r.action in ("new", "update", "unchanged")]
    total = len(plan.rows)
    touched_grids = {r.grid_id for r in rows}
    grids = {pk: plan.grids[pk] for pk in touched_grids if pk in plan.grids}
    if grids:
        lock_trees(*sorted({g.tree_id for g in Area.objects.filter(pk__in=grids).only("tree_id")}))
    paths = {pk: path_values(grid) for pk, grid in grids.items()}
    unit_building = dict(Unit.objects.filter(pk__in={r.unit_id for r in rows}).values_list("pk", "building_id"))

    # Households: created in their (existing) units.
    new_households = {}
    for row in rows:
        if row.household_id is None and (row.unit_id, row.room) not in new_households:
            new_households[(row.unit_id, row.room)] = Household(
                unit_id=row.unit_id, building_id=unit_building[row.unit_id], number=row.room, **paths[row.grid_id])
    if connection.vendor == "postgresql" and new_households:
        households = list(new_households.values())
        for household, pk in zip(households, _next_ids(Household, len(households)), strict=True):
            household.pk = household.id = pk
        _copy(Household, ("id", "district_id", "street_id", "community_id", "grid_id", "building_id", "unit_id",
                          "number", "created_at"),
              [(h.pk, h.district_id, h.street_id, h.community_id, h.grid_id, h.building_id, h.unit_id, h.number, now)
               for h in households])
    else:
        for batch in _chunks(new_households.values(), BATCH):
            Household.objects.bulk_create(batch)
    for row in rows:
        if row.household_id is None:
            row.household_id = new_households[(row.unit_id, row.room)].pk
    household_path = {}
    for row in rows:
        household_path.setdefault(row.household_id, (paths[row.grid_id], unit_building[row.unit_id]))

    processed = 0
    events = []
    due = []
    through = Resident.tags.through
    created = updated = unchanged = 0

    # Changed residents, grouped by the set of fields they change (bulk_update writes one set per batch,
    # and an encrypted value is only written where it changed: it is never read back).
    # Heads stepping down go first, then everything else, then the new residents: at no moment
    # does a household hold two living heads (a unique index checked row by row).
    groups = defaultdict(list)
    for row in rows:
        if row.action == "update":
            stepping_down = row.changes.get("relation", Relation.HEAD) != Relation.HEAD
            groups[(not stepping_down, frozenset(k for k in row.changes if k != "tags"))].append(row)
    for (_later, fields), group in sorted(groups.items(), key=lambda item: item[0][0]):
        names = sorted(f for f in fields if f in PLAIN)
        if "phone" in fields:
            names += ["phone", "phone_index", "phone_masked"]
        if "id" in fields:
            names += ["id_number", "id_index", "id_masked"]
        for batch in _chunks(group, BATCH):
            if names:
                objects = []
                for row in batch:
                    resident = Resident(pk=row.resident_id, updated_at=now)
                    for name in fields & set(PLAIN):
                        setattr(resident, name, row.changes[name] if name != "name" else row.name)
                    if "phone" in fields:
                        resident.phone, resident.phone_index = row.phone or None, blind_index("phone", row.phone)
                        resident.phone_masked = mask_phone(row.phone)
                    if "id" in fields:
                        resident.id_number, resident.id_index = row.id_value, row.id_index
                        resident.id_masked = mask_id_number(row.id_value)
                    objects.append(resident)
                Resident.objects.bulk_update(objects, [*names, "updated_at"])
            tagged = [r for r in batch if r.set_tags]
            if tagged:
                through.objects.filter(resident_id__in=[r.resident_id for r in tagged],
                                       tag_id__in=_visible_tag_ids(acting_user)).delete()
                through.objects.bulk_create([through(resident_id=r.resident_id, tag_id=t)
                                             for r in tagged for t in r.tag_ids])
                due.extend(r.resident_id for r in tagged)
            ResidentEvent.objects.bulk_create([
                ResidentEvent(resident_id=r.resident_id, action=ResidentEvent.Action.IMPORT, actor=acting_user,
                              at=now, details={"job_id": job.pk, "fields": sorted(
                                  {"id": "id_number"}.get(k, k) for k in r.changes)})
                for r in batch
            ])
            updated += len(batch)
            processed += len(batch)
            progress(processed)

    # New residents: COPY on PostgreSQL (ids drawn from the sequence first), bulk_create elsewhere.
    fresh = [r for r in rows if r.action == "new"]
    # A new resident has never been visited: due today when a tag calls for visits (the rule of
    # services.refresh_visit_due, applied here instead of re-reading thousands of new rows).
    visiting = set(Tag.objects.filter(visit_interval_days__isnull=False).values_list("pk", flat=True))
    today = timezone.localdate(now)
    for row in fresh:
        row.due = today if row.set_tags and visiting & row.tag_ids else None
    encrypt_id = Resident._meta.get_field("id_number").get_prep_value
    encrypt_phone = Resident._meta.get_field("phone").get_prep_value
    for batch in _chunks(fresh, BATCH * 5 if connection.vendor == "postgresql" else BATCH):
        if connection.vendor == "postgresql":
            _copy_residents(batch, household_path, encrypt_id, encrypt_phone, now)
        else:
            residents = []
            for row in batch:
                path, building_id = household_path[row.household_id]
                values = {"relation": Relation.OTHER, "registration": Registration.LOCAL, **row.values}
                residents.append(Resident(
                    household_id=row.household_id, building_id=building_id, **path, name=row.name,
                    id_number=row.id_value or None, id_index=row.id_index or None,
                    id_masked=mask_id_number(row.id_value), phone=row.phone or None,
                    phone_index=blind_index("phone", row.phone) if row.phone else None,
                    phone_masked=mask_phone(row.phone or ""), **values,
                ))
            for row, resident in zip(batch, residents, strict=True):
                resident.visit_due_on = row.due
            Resident.objects.bulk_create(residents)
            for row, resident in zip(batch, residents, strict=True):
                row.resident_id = resident.pk
        tag_rows = []
        for row in batch:
            events.append((row.resident_id, {"job_id": job.pk, "created": True, "household_id": row.household_id}))
            if row.set_tags:
                tag_rows.extend((row.resident_id, t) for t in row.tag_ids)
        _insert(through, ("resident_id", "tag_id"), tag_rows)
        _insert(ResidentEvent, ("resident_id", "action", "actor_id", "at", "details"),
                [(pk, ResidentEvent.Action.IMPORT, acting_user.pk, now, details) for pk, details in events])
        events.clear()
        created += len(batch)
        processed += len(batch)
        progress(processed)

    unchanged = sum(1 for r in rows if r.action == "unchanged")
    if due:
        refresh_visit_due(due, today=timezone.localdate(now))
    AccessLog.objects.create(
        actor=acting_user, action=AccessAction.IMPORT, field=AccessField.ALL,
        reason=(_("Import of %(file)s") % {"file": job.file_name})[:200], at=now,
        details={"job_id": job.pk, "rows": total, "created": created, "updated": updated, "unchanged": unchanged,
                 "skipped": total - len(rows)},
        **_common_path(grids.values()),
    )
    progress(total, force=True)
    return created, updated, unchanged


RESIDENT_COPY_COLUMNS = (
    "id", "district_id", "street_id", "community_id", "grid_id", "household_id", "building_id", "name", "gender",
    "birth_date", "id_number", "id_index", "id_masked", "phone", "phone_index", "phone_masked", "relation",
    "registration", "registered_address", "status", "moved_in_on", "note", "visit_due_on", "created_at",
    "updated_at",
)


def _next_ids(model, count):
    """Primary keys for `count` new rows, drawn from the table's sequence (PostgreSQL)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
        return [pk for (pk,) in cursor.fetchall()]


def _copy(model, columns, rows):
    """COPY rows into the model's table, inside the current transaction (PostgreSQL)."""
    connection.ensure_connection()
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.connection.cursor() as cursor:
        with cursor.copy(f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _insert(model, columns, rows):
    """Plain rows (tuples in `columns` order) into a table: COPY on PostgreSQL, bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        if "details" in columns:
            at = columns.index("details")
            rows = [(*r[:at], json.dumps(r[at], cls=DjangoJSONEncoder), *r[at + 1:]) for r in rows]
        _copy(model, columns, rows)
    else:
        model.objects.bulk_create([model(**dict(zip(columns, r, strict=True))) for r in rows], batch_size=BATCH)


def _copy_residents(batch, household_path, encrypt_id, encrypt_phone, now):
    """One COPY for a batch of new residents: every value computed once, each encryption once."""
    ids = _next_ids(Resident, len(batch))
    values = []
    for pk, row in zip(ids, batch, strict=True):
        row.resident_id = pk
        (path, building_id) = household_path[row.household_id]
        plain = row.values
        values.append((
            pk, path["district_id"], path["street_id"], path["community_id"], path["grid_id"], row.household_id,
            building_id, row.name, plain.get("gender", ""), plain.get("birth_date"),
            encrypt_id(row.id_value) if row.id_value else None, row.id_index or None, mask_id_number(row.id_value),
            encrypt_phone(row.phone) if row.phone else None, blind_index("phone", row.phone) if row.phone else None,
            mask_phone(row.phone or ""), plain.get("relation", Relation.OTHER),
            plain.get("registration", Registration.LOCAL), plain.get("registered_address", ""),
            ResidentStatus.LIVING, plain.get("moved_in_on"), plain.get("note", ""), row.due, now, now,
        ))
    _copy(Resident, RESIDENT_COPY_COLUMNS, values)


def _visible_tag_ids(user):
    return list(tags_visible_to(user).values_list("pk", flat=True))


# --- the template file -------------------------------------------------------------------------

def template_file(file_format):
    """The empty template staff fill in (CSV with a BOM, so Excel reads the Chinese header; or XLSX)."""
    dataset = tablib.Dataset(headers=template_headers(), title="居民信息")
    if file_format != "xlsx":
        return ("\ufeff" + dataset.export("csv")).encode("utf-8")
    # Excel turns an 18-digit ID number typed into a General cell into 1.10105E+17 and drops
    # its last digits: the ID, phone, grid code and room columns are text from the start.
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    book = load_workbook(io.BytesIO(dataset.export("xlsx")))
    sheet = book.active
    for position, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = 22 if column.key in ("id_number", "registered_address") else 12
        if column.key in ("grid_code", "room", "id_number", "phone"):
            sheet.column_dimensions[letter].number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
