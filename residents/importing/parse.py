"""Resident import, part 1: reading the file (居民信息导入 · 读取).

The columns and their headers (as staff write them), reading one cell's value
(text, dates, the words for relations and genders, building and unit numbers),
reading a CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or XLSX upload into a Sheet
with its header found and mapped, and the empty template staff fill in.
The flow as a whole is described in residents/importing/__init__.py.
"""

import csv
import datetime
import io
import logging
import re
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.errors import DomainError

from ..identity import mask_id_number, mask_phone
from ..models import Gender, Registration, Relation

log = logging.getLogger(__name__)

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
    from charset_normalizer import from_bytes  # imported on an upload only: web workers' memory (#24)

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
    import tablib  # imported on an upload only: web workers' memory (#24)

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


# --- the template file -------------------------------------------------------------------------

def template_file(file_format):
    """The empty template staff fill in (CSV with a BOM, so Excel reads the Chinese header; or XLSX)."""
    import tablib  # imported on a download only: web workers' memory (#24)

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
