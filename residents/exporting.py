"""Resident export (居民信息导出), CSV or XLSX, in the exporter's scope, masked by default.

Rows come from `residents_visible_to` only, filtered like the residents' list.
A masked export reads the stored masked columns and never loads an encrypted
one; a full export needs a post that may hand data over
(`can_export_unmasked`) and a stated reason. Every export writes an AccessLog
row (`access_log_export`) with the row count and the filters, in the same
transaction that reads the rows: the file is built inside it (into a
temporary file, a few thousand rows at a time, never 100,000 model
instances), so the log tells exactly what left.

The columns are the import's, plus a few read-only ones the importer ignores,
so a full export can be corrected in Excel and imported again.
"""

import csv
import io
import tempfile
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Area
from portal.errors import DomainError
from portal.exports import spreadsheet_cell as _cell

from .importing import COLUMNS
from .models import Gender, Registration, Relation, Resident, ResidentStatus
from .selectors import (
    can_export_unmasked,
    resident_scope,
    residents_exportable_unmasked,
    residents_visible_to,
    tags_visible_to,
)
from .services import access_log_export

CHUNK = 2000
EXPORT_MAX_ROWS = 200_000
# Read-only columns after the import's: the importer skips them.
EXTRA_HEADERS = ("社区", "网格名称", "状态", "离开日期")
FORMATS = ("csv", "xlsx")

RELATION_WORDS = {Relation.HEAD: "户主", Relation.SPOUSE: "配偶", Relation.CHILD: "子女", Relation.PARENT: "父母",
                  Relation.GRANDCHILD: "孙子女", Relation.GRANDPARENT: "祖父母", Relation.SIBLING: "兄弟姐妹",
                  Relation.CHILD_IN_LAW: "子女配偶", Relation.TENANT: "租户", Relation.OTHER: "其他"}
REGISTRATION_WORDS = {Registration.LOCAL: "人户一致", Registration.AWAY: "户在人不在", Registration.FLOATING: "流动人口"}
GENDER_WORDS = {Gender.MALE: "男", Gender.FEMALE: "女"}
STATUS_WORDS = {ResidentStatus.LIVING: "在住", ResidentStatus.MOVED_OUT: "迁出", ResidentStatus.DECEASED: "死亡"}
FILTER_KEYS = ("community", "grid", "status", "tag", "name")


def headers():
    return [c.header for c in COLUMNS] + list(EXTRA_HEADERS)


def _id(value):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def clean_filters(params):
    """The list's filters from a query dict: {community, grid, status, tag, name}, empty ones left out."""
    filters = {}
    for key in ("community", "grid", "tag"):
        number = _id(params.get(key))
        if number:
            filters[key] = number
    status = str(params.get("status") or "")
    if status in ResidentStatus.values:
        filters["status"] = status
    name = " ".join(str(params.get("name") or params.get("q") or "").split())[:50]
    if name:
        filters["name"] = name
    return filters


def residents_for_export(user, filters, *, masked=True):
    """The user's residents, filtered like the list. A tag the user may not see filters nothing in.

    A full (unmasked) export reaches only the places held through the posts
    that may export in full, not everything the user sees through other posts.
    """
    qs = residents_visible_to(user) if masked else residents_exportable_unmasked(user)
    if "community" in filters:
        qs = qs.filter(community_id=filters["community"])
    if "grid" in filters:
        qs = qs.filter(grid_id=filters["grid"])
    if "status" in filters:
        qs = qs.filter(status=filters["status"])
    if "tag" in filters:
        qs = qs.filter(tags__in=tags_visible_to(user).filter(pk=filters["tag"]))
    if "name" in filters:
        qs = qs.filter(name__startswith=filters["name"])
    return qs


def _date(value):
    return value.isoformat() if value else ""


@dataclass
class ExportFile:
    handle: object  # a binary file positioned at 0
    name: str
    content_type: str
    rows: int


VALUE_FIELDS = ("pk", "grid_id", "community_id", "building__number", "household__unit__number", "household__number",
                "name", "gender", "birth_date", "relation", "registration", "registered_address", "moved_in_on",
                "note", "status", "left_on")


class _Places:
    """Names and codes of the grids and communities met so far (one query per new batch)."""

    def __init__(self):
        self.known = {}

    def load(self, ids):
        missing = {i for i in ids if i and i not in self.known}
        if missing:
            for pk, code, name in Area.objects.filter(pk__in=missing).values_list("pk", "code", "name"):
                self.known[pk] = (code, name)

    def code(self, pk):
        return self.known.get(pk, ("", ""))[0]

    def name(self, pk):
        return self.known.get(pk, ("", ""))[1]


def _rows(qs, *, masked, tag_names):
    """Lists of cells, a chunk at a time by primary key (no server-side cursor, no model instances)."""
    personal = ("id_masked", "phone_masked") if masked else ("id_number", "phone")
    through = Resident.tags.through
    places = _Places()
    last = 0
    base = qs.order_by("pk").values_list(*VALUE_FIELDS, *personal)
    while True:
        chunk = list(base.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return
        last = chunk[-1][0]
        places.load({r[1] for r in chunk} | {r[2] for r in chunk})
        tags = {}
        for resident_id, tag_id in through.objects.filter(
                resident_id__in=[r[0] for r in chunk], tag_id__in=tag_names).values_list("resident_id", "tag_id"):
            tags.setdefault(resident_id, []).append(tag_names[tag_id])
        for (pk, grid_id, community_id, building, unit, room, name, gender, birth, relation, registration,
             address, moved_in, note, status, left_on, id_value, phone) in chunk:
            yield [places.code(grid_id), building, unit, room, name, id_value or "", phone or "",
                   GENDER_WORDS.get(gender, ""), _date(birth), RELATION_WORDS.get(relation, ""),
                   REGISTRATION_WORDS.get(registration, ""), address, "、".join(sorted(tags.get(pk, ()))),
                   _date(moved_in), note, places.name(community_id), places.name(grid_id),
                   STATUS_WORDS.get(status, status), _date(left_on)]


def _place_of(user, filters):
    """Where the log entry is filed: the filtered place, else the top of the exporter's scope."""
    for key in ("grid", "community"):
        if key in filters:
            place = Area.objects.filter(pk=filters[key]).first()
            if place is not None:
                return place
    spans = resident_scope(user).spans
    if len(spans) == 1:
        return Area.objects.filter(pk=spans[0].area_id).first()
    return None


def residents_export(*, acting_user, file_format="csv", filters=None, masked=True, reason="", now=None):
    """Build the export file and log it, in one transaction. Returns an ExportFile.

    Raises DomainError when a full export is not allowed or has no reason,
    and when there are more rows than one file should carry.
    """
    now = now or timezone.now()
    filters = dict(filters or {})
    if file_format not in FORMATS:
        raise DomainError(_("Unknown file format."), code="bad_format")
    reason = " ".join(str(reason or "").split())
    if not masked:
        if not can_export_unmasked(acting_user):
            raise DomainError(_("Your post may not export full ID numbers and phones."), code="forbidden")
        if len(reason) < 2:
            raise DomainError(_("Say why you need the full values."), code="no_reason")
    tag_names = dict(tags_visible_to(acting_user).values_list("pk", "name"))
    qs = residents_for_export(acting_user, filters, masked=masked)
    with transaction.atomic():
        count = qs.order_by().count()
        if count > EXPORT_MAX_ROWS:
            raise DomainError(_("%(n)d residents are too many for one file: filter by community or grid.")
                              % {"n": count}, code="too_many")
        handle = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
        written = 0
        if file_format == "csv":
            text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="", write_through=True)
            writer = csv.writer(text)
            writer.writerow(headers())
            for row in _rows(qs, masked=masked, tag_names=tag_names):
                writer.writerow([_cell(v) for v in row])
                written += 1
            text.flush()
            text.detach()
            content_type = "text/csv; charset=utf-8"
        else:
            from openpyxl import Workbook

            book = Workbook(write_only=True)
            sheet = book.create_sheet("居民信息")
            sheet.append(headers())
            for row in _rows(qs, masked=masked, tag_names=tag_names):
                sheet.append([_cell(v) for v in row])
                written += 1
            book.save(handle)
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        access_log_export(acting_user=acting_user, reason=reason or _("export"), count=written, masked=masked,
                          filters=filters, place=_place_of(acting_user, filters), now=now)
    handle.seek(0)
    name = f"residents-{timezone.localdate(now):%Y%m%d}{'' if masked else '-full'}.{file_format}"
    return ExportFile(handle=handle, name=name, content_type=content_type, rows=written)
