"""Resident import: reading files, checking rows, writing them, and the import pages."""

import datetime
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connections
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from grid.models import Role
from portal.errors import DomainError
from residents import importing
from residents.identity import blind_index, mask_id_number, mask_phone
from residents.models import AccessLog, Household, ImportJob, Relation, Resident, ResidentEvent, Tag

from .factories import user_with_post
from .residents_factories import builtin_tags, household_in, resident_in, valid_id_number, worker_of

HEADER = ["网格编码", "楼栋", "单元", "户号", "姓名", "身份证号", "联系电话", "与户主关系", "标签", "迁入日期"]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def csv_bytes(rows, *, header=HEADER, encoding="utf-8"):
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows, *, header=HEADER, title=None):
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(data, name="residents.csv"):
    return SimpleUploadedFile(name, data)


def row(city, name, id_number="", *, phone="", room="301", relation="", tags="", moved="", grid=None,
        building="1号楼", unit="1单元"):
    return [(grid or city.grid_a).code, building, unit, room, name, id_number, phone, relation, tags, moved]


def preview(data, user, *, name="residents.csv", grid=None):
    return importing.import_preview(upload=upload(data, name), acting_user=user, grid=grid, now=timezone.now())


def run(job, user, mode=ImportJob.Mode.VALID_ROWS):
    return importing.import_confirm(job=job, mode=mode, acting_user=user, now=timezone.now())


def messages_of(job):
    return [(e["row"], e["column"], e["message"]) for e in job.errors if not e.get("warning")]


@pytest.fixture
def worker(city):
    return worker_of(city.grid_a)


def family(city):
    """Three people in two households of 1号楼, with every kind of value."""
    builtin_tags()  # the rows name tags; a transactional test elsewhere may have flushed them
    ids = [valid_id_number(birth=datetime.date(1950, 3, 1)), valid_id_number(birth=datetime.date(1952, 8, 9)),
           valid_id_number(birth=datetime.date(1990, 1, 2))]
    rows = [
        row(city, "王建国", ids[0], phone="13912345678", relation="户主", tags="独居老人、党员", moved="2001-05-01"),
        row(city, "李秀英", ids[1], phone="", relation="配偶"),
        row(city, "王小明", ids[2], phone="13800001111", room="302", relation="户主"),
    ]
    return ids, rows


# --- reading files ------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_every_encoding_excel_writes(city, worker, encoding):
    ids, rows = family(city)
    job = preview(csv_bytes(rows, encoding=encoding), worker)
    assert messages_of(job) == []
    assert (job.status, job.total_rows, job.valid_rows, job.created_count) == ("previewed", 3, 3, 3)
    assert Resident.objects.count() == 0, "a preview writes no resident"
    job = run(job, worker)
    assert job.status == ImportJob.Status.DONE, job.message
    names = set(Resident.objects.values_list("name", flat=True))
    assert names == {"王建国", "李秀英", "王小明"}


def test_xlsx_with_a_title_row_above_the_header(city, worker):
    ids, rows = family(city)
    job = preview(xlsx_bytes(rows, title="幸福社区居民信息表"), worker, name="居民.xlsx")
    assert messages_of(job) == []
    assert job.total_rows == 3
    job = run(job, worker, ImportJob.Mode.ALL_OR_NOTHING)
    assert job.created_count == 3
    head = Resident.objects.get(id_index=blind_index("id", ids[0]))
    assert head.relation == Relation.HEAD
    # GB 11643: the 17th digit is odd for a man, even for a woman.
    assert head.birth_date == datetime.date(1950, 3, 1) and head.gender == ("M" if int(ids[0][16]) % 2 else "F")
    assert head.phone == "13912345678" and head.phone_masked == "139****5678"
    assert head.id_masked == mask_id_number(ids[0])
    assert head.moved_in_on == datetime.date(2001, 5, 1)
    assert set(head.tags.values_list("code", flat=True)) == {"elderly_alone", "party_member"}
    assert head.visit_due_on == timezone.localdate(), "the visiting round starts from the import"
    assert Household.objects.filter(unit=city.unit_a).count() == 2


@pytest.mark.parametrize("data, name, words", [
    (b"", "empty.csv", "empty"),
    (PNG, "photo.xlsx", "not a spreadsheet"),
    (bytes(range(256)) * 20, "random.csv", "not a spreadsheet"),
    (b"PK\x03\x04" + b"\x00" * 100, "broken.xlsx", "not a readable XLSX"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", ".xls"),
    ("名字,地址\r\n张三,幸福路\r\n".encode(), "wrong.csv", "No header row"),
    ("姓名,楼栋,单元,户号,身份证号,生日\r\n张三,1号楼,1单元,301,,1980-01-01\r\n".encode(), "x.csv", "Unknown columns"),
    ("姓名,楼栋,户号\r\n张三,1号楼,301\r\n".encode(), "x.csv", "lacks these columns"),
    ("姓名,楼栋,单元,户号,身份证号,姓名\r\n".encode(), "x.csv", "appears twice"),
    (",".join(HEADER).encode() + b"\r\n", "x.csv", "no rows"),
], ids=["empty", "png", "binary", "broken-zip", "xls", "wrong-header", "unknown-column", "missing-columns",
        "duplicate-column", "header-only"])
def test_files_that_are_refused_whole(city, worker, data, name, words):
    with translation_en(), pytest.raises(DomainError) as refused:
        preview(data, worker, name=name)
    assert refused.value.code == "bad_file"
    assert words in refused.value.message
    assert not ImportJob.objects.exists()


def test_a_zip_that_is_not_a_workbook(city, worker):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<x/>")
    with pytest.raises(DomainError, match="XLSX"):
        preview(out.getvalue(), worker, name="letter.xlsx")


def test_a_file_over_the_size_limit(city, worker, settings):
    settings.RESIDENT_IMPORT_MAX_BYTES = 100
    ids, rows = family(city)
    with pytest.raises(DomainError) as refused:
        preview(csv_bytes(rows), worker)
    assert str(refused.value) == importing.too_large_message()  # in whatever language is active
    assert not ImportJob.objects.exists()


class translation_en:
    def __enter__(self):
        from django.utils import translation

        self.override = translation.override("en")
        self.override.__enter__()

    def __exit__(self, *exc):
        self.override.__exit__(*exc)


# --- checking rows ---------------------------------------------------------------------------------

def test_bad_rows_are_named_by_row_and_column(city, worker):
    good = valid_id_number()
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    impossible = "110105" + "19800230" + "123"
    impossible += "X"
    rows = [
        row(city, "正常", good, relation="户主"),  # row 2
        row(city, "校验错", wrong_check, room="303"),  # row 3
        row(city, "日期错", impossible, room="303"),  # row 4
        row(city, "电话错", valid_id_number(), phone="12345", room="303"),  # row 5
        row(city, "标签错", valid_id_number(), tags="不存在的标签", room="303"),  # row 6
        row(city, "关系错", valid_id_number(), relation="邻居", room="303"),  # row 7
        row(city, "迁入错", valid_id_number(), moved="2999-01-01", room="303"),  # row 8
        row(city, "日期格式", valid_id_number(), moved="去年", room="303"),  # row 9
        row(city, "", valid_id_number(), room="303"),  # row 10
        row(city, "科学计数", "1.10105E+17", room="303"),  # row 11
    ]
    with translation_en():
        job = preview(csv_bytes(rows), worker)
    found = {(r, c) for r, c, _m in messages_of(job)}
    assert found == {(3, "身份证号"), (4, "身份证号"), (5, "联系电话"), (6, "标签"), (7, "与户主关系"), (8, "迁入日期"),
                     (9, "迁入日期"), (10, "姓名"), (11, "身份证号")}
    text = " ".join(m for _r, _c, m in messages_of(job))
    assert "check digit" in text and "birth date" in text and "lost its last digits" in text
    assert (job.total_rows, job.valid_rows) == (10, 1)
    for number in (good, wrong_check, impossible):
        assert number not in str(job.errors)


def test_an_id_typed_as_a_number_in_excel(city, worker):
    # Only an ID number ending in a digit can be typed as a number (one ending in X stays text).
    number = next(n for n in iter(valid_id_number, None) if n[-1].isdigit())
    rows = [row(city, "数字", float(number))]
    job = preview(xlsx_bytes(rows), worker, name="x.xlsx")
    assert [(r, c) for r, c, _m in messages_of(job)] == [(2, "身份证号")]


def test_birth_date_and_gender_columns_must_agree_with_the_id(city, worker):
    header = ["网格编码", "楼栋", "单元", "户号", "姓名", "身份证号", "性别", "出生日期"]
    number = valid_id_number(birth=datetime.date(1980, 5, 17))  # serial odd or even: check the gender it gives
    gender = "男" if int(number[16]) % 2 else "女"
    second = valid_id_number()
    wrong = "男" if int(second[16]) % 2 == 0 else "女"
    rows = [
        [city.grid_a.code, "1号楼", "1单元", "301", "甲", number, gender, "1980-05-17"],
        [city.grid_a.code, "1号楼", "1单元", "302", "乙", second, wrong, ""],
        [city.grid_a.code, "1号楼", "1单元", "303", "丙", valid_id_number(), "", "1981-01-01"],
        [city.grid_a.code, "1号楼", "1单元", "304", "丁", "", "", "2030-01-01"],
        [city.grid_a.code, "1号楼", "1单元", "305", "戊", "", "未知", "1980/2/30"],
    ]
    job = preview(csv_bytes(rows, header=header), worker)
    assert {(r, c) for r, c, _m in messages_of(job)} == {
        (3, "性别"), (4, "出生日期"), (5, "出生日期"), (6, "性别"), (6, "出生日期")}


def test_duplicates_in_the_file_name_both_rows(city, worker):
    number = valid_id_number()
    rows = [row(city, "甲", number), row(city, "乙", valid_id_number()), row(city, "甲", number, room="302")]
    job = preview(csv_bytes(rows), worker)
    problems = messages_of(job)
    assert [(r, c) for r, c, _m in problems] == [(2, "身份证号"), (4, "身份证号")]
    assert all("2、4" in m for _r, _c, m in problems)
    assert job.valid_rows == 1


def test_two_heads_for_one_household(city, worker):
    rows = [row(city, "甲", valid_id_number(), relation="户主"), row(city, "乙", valid_id_number(), relation="户主")]
    job = preview(csv_bytes(rows), worker)
    assert [(r, c) for r, c, _m in messages_of(job)] == [(2, "与户主关系"), (3, "与户主关系")]


def test_a_new_head_where_one_is_recorded(city, worker):
    household = household_in(city.unit_a, "301")
    head = resident_in(household, "老户主", relation=Relation.HEAD)
    job = preview(csv_bytes([row(city, "新户主", valid_id_number(), relation="户主")]), worker)
    assert [(r, c) for r, c, _m in messages_of(job)] == [(2, "与户主关系")]
    assert head.relation == Relation.HEAD
    # Unless the same file makes the recorded head someone else.
    number = valid_id_number()
    head2 = resident_in(household_in(city.unit_a, "302"), "户主二", id_number=number, relation=Relation.HEAD)
    rows = [row(city, "户主二", number, room="302", relation="子女"),
            row(city, "接任", valid_id_number(), room="302", relation="户主")]
    job = preview(csv_bytes(rows), worker)
    assert messages_of(job) == []
    job = run(job, worker, ImportJob.Mode.ALL_OR_NOTHING)
    assert job.status == "done", job.message
    head2.refresh_from_db()
    assert head2.relation == Relation.CHILD


def test_someone_living_in_another_household(city, worker):
    number = valid_id_number()
    resident_in(household_in(city.unit_a, "301"), "张三", id_number=number)
    job = preview(csv_bytes([row(city, "张三", number, room="302")]), worker)
    assert [(r, c) for r, c, _m in messages_of(job)] == [(2, "身份证号")]
    # Also when that household is outside the importer's scope: the same words, no place named.
    far = valid_id_number()
    resident_in(household_in(city.unit_b, "101"), "李四", id_number=far)
    job = preview(csv_bytes([row(city, "李四", far, room="302")]), worker)
    (problem,) = messages_of(job)
    assert problem[1] == "身份证号"
    assert city.building_b.number not in problem[2] and city.grid_b.name not in problem[2]


def test_id_number_oracle_preview_says_the_same_for_living_moved_out_and_deceased_outside_the_scope(city, worker):
    """#20: the preview told community staff whether an ID number belonged to someone living,
    moved out or deceased in another community. Outside the importer's places it now reads
    the same whatever that person's status; inside them it still says which, to act on."""
    from residents.models import Resident, ResidentStatus

    numbers = {}
    for status, room in ((ResidentStatus.LIVING, "101"), (ResidentStatus.MOVED_OUT, "102"),
                         (ResidentStatus.DECEASED, "103")):
        number = valid_id_number()
        person = resident_in(household_in(city.unit_b, room), "外人", id_number=number)
        Resident.objects.filter(pk=person.pk).update(
            status=status, left_on=None if status == ResidentStatus.LIVING else datetime.date(2025, 1, 1))
        numbers[status] = number
    job = preview(csv_bytes([row(city, "外人", n, room="302") for n in numbers.values()]), worker)
    problems = messages_of(job)
    assert [(r, c) for r, c, _m in problems] == [(2, "身份证号"), (3, "身份证号"), (4, "身份证号")]
    assert len({m for _r, _c, m in problems}) == 1, problems
    assert all(n not in str(job.errors) for n in numbers.values())

    # Inside the importer's places the status is hers to know, and the words differ.
    gone = valid_id_number()
    person = resident_in(household_in(city.unit_a, "303"), "本人", id_number=gone)
    Resident.objects.filter(pk=person.pk).update(status=ResidentStatus.MOVED_OUT, left_on=datetime.date(2025, 1, 1))
    here = preview(csv_bytes([row(city, "本人", gone, room="302")]), worker)
    (inside,) = messages_of(here)
    assert inside[2] != problems[0][2]


def test_places_outside_the_scope_are_not_found(city, worker):
    rows = [
        row(city, "甲", valid_id_number(), grid=city.grid_b, building="9号楼"),  # a real grid elsewhere
        [("9" * 15)] + row(city, "乙", valid_id_number())[1:],  # no such grid at all
        row(city, "丙", valid_id_number(), building="5号楼"),  # a building of grid_a2, not of grid_a
        row(city, "丁", valid_id_number(), unit="9单元"),
    ]
    job = preview(csv_bytes(rows), worker)
    problems = messages_of(job)
    assert [(r, c) for r, c, _m in problems] == [(2, "网格编码"), (3, "网格编码"), (4, "楼栋"), (5, "单元")]
    assert problems[0][2] == problems[1][2], "a grid out of scope reads exactly like a missing one"


def test_the_grid_chosen_on_the_form_and_short_numbers(city, worker):
    header = ["楼栋", "单元", "户号", "姓名", "身份证号"]
    rows = [["1", "1", "301", "甲", valid_id_number()], ["1号楼", "1单元", "302", "乙", ""]]
    job = preview(csv_bytes(rows, header=header), worker)
    assert {c for _r, c, _m in messages_of(job)} == {"网格编码"}
    job = preview(csv_bytes(rows, header=header), worker, grid=city.grid_a)
    assert messages_of(job) == []
    with pytest.raises(DomainError):
        preview(csv_bytes(rows, header=header), worker, grid=city.grid_b)


def test_unknown_area_code_is_a_warning_only(city, worker):
    number = valid_id_number(area="990101")
    job = preview(csv_bytes([row(city, "甲", number)]), worker)
    assert messages_of(job) == []
    warnings = [e for e in job.errors if e.get("warning")]
    assert [(w["row"], w["column"]) for w in warnings] == [(2, "身份证号")]
    assert number not in str(job.errors) and mask_id_number(number) in str(job.errors)
    assert run(job, worker).created_count == 1


# --- writing -----------------------------------------------------------------------------------------

def test_reimporting_the_same_file_changes_nothing(city, worker):
    ids, rows = family(city)
    rows.append(row(city, "无证儿童", "", room="302", relation="子女"))
    data = csv_bytes(rows)
    first = run(preview(data, worker), worker)
    assert (first.created_count, first.updated_count, first.unchanged_count) == (4, 0, 0)
    assert ResidentEvent.objects.filter(action="import").count() == 4
    before = list(Resident.objects.order_by("pk").values())
    again = preview(data, worker)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 4)
    second = run(again, worker)
    assert (second.created_count, second.updated_count, second.unchanged_count) == (0, 0, 4)
    assert ResidentEvent.objects.filter(action="import").count() == 4, "no history for what did not change"
    after = list(Resident.objects.order_by("pk").values())
    for old, new in zip(before, after, strict=True):
        old.pop("id_number"), new.pop("id_number"), old.pop("phone"), new.pop("phone")  # ciphertext differs
    assert before == after
    assert Household.objects.count() == 2
    assert AccessLog.objects.filter(action="import").count() == 2


def test_a_changed_row_is_updated_and_logged_without_values(city, worker):
    ids, rows = family(city)
    run(preview(csv_bytes(rows), worker), worker)
    rows[1][6] = "13700002222"  # 李秀英's phone
    rows[0][8] = "党员"  # drop 独居老人
    job = run(preview(csv_bytes(rows), worker), worker)
    assert (job.created_count, job.updated_count, job.unchanged_count) == (0, 2, 1)
    spouse = Resident.objects.get(id_index=blind_index("id", ids[1]))
    assert spouse.phone == "13700002222" and spouse.phone_masked == mask_phone("13700002222")
    event = spouse.events.filter(action="import").order_by("-id").first()
    assert event.details["fields"] == ["phone"]
    head = Resident.objects.get(id_index=blind_index("id", ids[0]))
    assert set(head.tags.values_list("code", flat=True)) == {"party_member"}
    assert head.visit_due_on is None, "no tag with visits left"
    history = str(list(ResidentEvent.objects.values_list("details", flat=True)))
    assert "13700002222" not in history and ids[1] not in history


def test_a_row_without_id_number_is_matched_by_household_and_name(city, worker):
    household = household_in(city.unit_a, "301")
    child = resident_in(household, "小宝", id_number="", phone="")
    number = valid_id_number(birth=datetime.date(2015, 6, 1))
    job = run(preview(csv_bytes([row(city, "小宝", number, phone="13600001234")]), worker), worker)
    assert (job.created_count, job.updated_count) == (0, 1)
    child.refresh_from_db()
    assert child.id_index == blind_index("id", number) and child.birth_date == datetime.date(2015, 6, 1)


def test_all_or_nothing_is_refused_with_errors_and_valid_rows_skip_them(city, worker):
    rows = [row(city, "好", valid_id_number()), row(city, "坏", "123", room="302")]
    job = preview(csv_bytes(rows), worker)
    with pytest.raises(DomainError) as refused:
        run(job, worker, ImportJob.Mode.ALL_OR_NOTHING)
    assert refused.value.code == "has_errors"
    assert not Resident.objects.exists()
    job = run(job, worker, ImportJob.Mode.VALID_ROWS)
    assert job.status == "done" and job.created_count == 1
    assert list(Resident.objects.values_list("name", flat=True)) == ["好"]
    with pytest.raises(DomainError):
        run(job, worker), "a job runs once"


def test_a_database_error_midway_leaves_nothing_behind(city, worker, monkeypatch):
    ids, rows = family(city)

    real = importing.write._insert

    def broken(model, columns, rows):
        if model is ResidentEvent:  # the residents and their tags are in by now
            assert Resident.objects.exists()
            raise DatabaseError("disk full")
        return real(model, columns, rows)

    monkeypatch.setattr(importing.write, "_insert", broken)
    # The portal's default language, set here: an earlier test's English request leaves English
    # active in the thread (LocaleMiddleware activates a language and nothing resets it).
    with translation.override("zh-hans"):
        job = run(preview(csv_bytes(rows), worker), worker)
    assert job.status == ImportJob.Status.FAILED
    assert job.message == "数据库拒绝了本次导入（DatabaseError），未导入任何数据。"
    assert not Resident.objects.exists() and not Household.objects.exists()
    assert not ResidentEvent.objects.exists() and not AccessLog.objects.exists()


def test_records_changed_since_the_preview_fail_all_or_nothing(city, worker):
    number = valid_id_number()
    job = preview(csv_bytes([row(city, "甲", number)]), worker)
    resident_in(household_in(city.unit_a, "309"), "甲", id_number=number)  # now living elsewhere
    job = run(job, worker, ImportJob.Mode.ALL_OR_NOTHING)
    assert job.status == ImportJob.Status.FAILED
    assert Resident.objects.count() == 1


def test_the_access_log_records_the_import(city, worker):
    ids, rows = family(city)
    job = run(preview(csv_bytes(rows), worker), worker)
    (entry,) = AccessLog.objects.filter(action="import")
    assert entry.actor == worker and entry.grid_id == city.grid_a.pk
    assert entry.details["job_id"] == job.pk and entry.details["created"] == 3
    assert all(number not in str(entry.details) for number in ids)


def test_a_sensitive_tag_is_kept_when_the_file_changes_tags(city, worker):
    household = household_in(city.unit_a, "301")
    number = valid_id_number()
    person = resident_in(household, "甲", id_number=number, tags=list(Tag.objects.filter(code="veteran")))
    job = run(preview(csv_bytes([row(city, "甲", number, tags="党员")]), worker), worker)
    assert job.updated_count == 1
    assert set(person.tags.values_list("code", flat=True)) == {"party_member"}


def test_the_file_is_deleted_when_the_job_ends(city, worker):
    ids, rows = family(city)
    job = preview(csv_bytes(rows), worker)
    path = job.file.path
    import os

    assert os.path.exists(path)
    run(job, worker)
    assert not os.path.exists(path)


# --- large files: queued for the worker ---------------------------------------------------------------

def test_a_large_file_is_queued_and_run_once(city, worker, settings, django_capture_on_commit_callbacks):
    from residents.tasks import import_residents

    settings.RESIDENT_IMPORT_INLINE_ROWS = 2
    ids, rows = family(city)
    job = preview(csv_bytes(rows), worker)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = run(job, worker)
    assert job.status == ImportJob.Status.QUEUED and len(callbacks) == 1
    assert not Resident.objects.exists()
    callbacks[0]()  # the eager task, as the worker would run it
    job.refresh_from_db()
    assert (job.status, job.created_count, job.processed_rows, job.progress_percent) == ("done", 3, 3, 100)
    events = ResidentEvent.objects.count()
    assert import_residents(job_id=job.pk) is None, "a redelivered message finds the job claimed"
    assert ResidentEvent.objects.count() == events


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_while_the_import_transaction_is_open(on_postgres, monkeypatch):
    from .factories import build_city

    city = build_city()
    worker = worker_of(city.grid_a)
    ids, rows = family(city)
    rows += [row(city, f"居民{i}", valid_id_number(), room=f"4{i:02d}") for i in range(30)]
    monkeypatch.setattr(importing.write, "BATCH", 10)
    monkeypatch.setattr(importing.Progress, "interval", 0)
    seen = {}
    real = importing.write._common_path

    def look_from_outside(grids):
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT processed_rows, status FROM residents_importjob WHERE id = %s", [job.pk])
                seen["job"] = cursor.fetchone()
                cursor.execute("SELECT count(*) FROM residents_resident")
                seen["residents"] = cursor.fetchone()[0]
        finally:
            other.close()
        return real(grids)

    monkeypatch.setattr(importing.write, "_common_path", look_from_outside)
    job = preview(csv_bytes(rows), worker)
    job = run(job, worker)
    assert job.status == "done", job.message
    assert seen["job"] == (33, "running"), "progress committed on the side"
    assert seen["residents"] == 0, "while the residents themselves are not committed yet"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_progress_writer_leaves_no_session_setting_behind(on_postgres):
    """Behind PgBouncer in transaction mode a session-level SET stays on the server connection for the
    next client: the progress writer's lock timeout must be transaction-local."""
    from residents.models import ImportJob

    from .factories import build_city

    city = build_city()
    job = ImportJob.objects.create(created_by=worker_of(city.grid_a), file_name="x.csv",
                                   status=ImportJob.Status.RUNNING, total_rows=5, created_at=timezone.now())
    progress = importing.Progress(job.pk)
    try:
        progress(4, force=True)
        with progress.other.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] == "0", "the 2 s timeout lasted beyond its transaction"
    finally:
        progress.close()
    assert ImportJob.objects.get(pk=job.pk).processed_rows == 4


# --- pages ------------------------------------------------------------------------------------------

def test_upload_preview_and_confirm_pages(client, city, worker, django_assert_max_num_queries):
    ids, rows = family(city)
    bad = valid_id_number()
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")
    rows.append(row(city, "坏", bad, room="309"))
    client.force_login(worker)
    assert client.get(reverse("residents:import_upload")).status_code == 200
    response = client.post(reverse("residents:import_upload"),
                           {"file": upload(csv_bytes(rows)), "grid": ""})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    with django_assert_max_num_queries(8):  # +1: the navigation's badges (queue and unread notices, one statement)
        page = client.get(reverse("residents:import_detail", args=[job.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    for number in [*ids, bad, "13912345678", "13800001111"]:
        assert number not in content
    assert mask_id_number(bad) in content
    assert 'name="mode"' in content and "<script>" not in content
    # Skipping the row with an error is a choice that says so, and nothing is preselected.
    assert "导入 3 行有效数据，跳过 1 行有错误的数据" in content and "checked" not in content.split('name="mode"')[1][:200]
    client.post(reverse("residents:import_confirm", args=[job.pk]), {})
    job.refresh_from_db()
    assert job.status == "previewed", "no choice, no import"
    response = client.post(reverse("residents:import_confirm", args=[job.pk]), {"mode": "all"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "previewed", "all or nothing refused: one row has an error"
    client.post(reverse("residents:import_confirm", args=[job.pk]), {"mode": "valid"})
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 3)
    status = client.get(reverse("residents:import_status", args=[job.pk])).json()
    assert status["finished"] and status["percent"] == 100
    with django_assert_max_num_queries(6):  # +1: the navigation's badges (one statement)
        listing = client.get(reverse("residents:import_list"))
    assert job.file_name in listing.content.decode()


def test_a_clean_file_offers_all_or_nothing_preselected(client, city, worker):
    ids, rows = family(city)
    client.force_login(worker)
    client.post(reverse("residents:import_upload"), {"file": upload(csv_bytes(rows)), "grid": ""})
    form = client.get(reverse("residents:import_detail", args=[ImportJob.objects.get().pk])).context["form"]
    assert form.initial == {"mode": "all"} and "skip" not in str(dict(form.fields["mode"].choices))


def test_preview_page_shows_masked_values_only(client, city, worker):
    number = valid_id_number()
    rows = [row(city, "甲", number, phone="13912345678"), row(city, "乙", number, phone="139-bad", room="302")]
    client.force_login(worker)
    client.post(reverse("residents:import_upload"), {"file": upload(csv_bytes(rows))})
    job = ImportJob.objects.get()
    content = client.get(reverse("residents:import_detail", args=[job.pk])).content.decode()
    assert number not in content and "13912345678" not in content
    assert mask_id_number(number) in content


def test_a_bad_file_is_one_form_error(client, city, worker):
    client.force_login(worker)
    response = client.post(reverse("residents:import_upload"), {"file": upload(PNG, "photo.xlsx")})
    assert response.status_code == 400
    assert response.content.decode().count('class="field-error"') == 1
    assert not ImportJob.objects.exists()


def test_an_oversized_upload_is_not_read(client, city, worker, settings):
    settings.RESIDENT_IMPORT_MAX_BYTES = 50
    ids, rows = family(city)
    client.force_login(worker)
    response = client.post(reverse("residents:import_upload"), {"file": upload(csv_bytes(rows))})
    assert response.status_code == 400 and not ImportJob.objects.exists()


def test_someone_elses_job_is_not_found(client, city, worker):
    ids, rows = family(city)
    job = preview(csv_bytes(rows), worker)
    other = worker_of(city.grid_a)
    client.force_login(other)
    for name in ("residents:import_detail", "residents:import_status"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404
    assert client.post(reverse("residents:import_confirm", args=[job.pk]), {"mode": "valid"}).status_code == 404
    job.refresh_from_db()
    assert job.status == "previewed"


def test_chiefs_have_no_import_pages(client, city):
    chief = user_with_post(Role.GRID_CHIEF, city.grid_a)
    client.force_login(chief)
    for url in (reverse("residents:import_upload"), reverse("residents:import_list"),
                reverse("residents:import_template", args=["csv"]), reverse("residents:export")):
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(reverse("residents:import_upload")).status_code == 302


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_template_file_imports_cleanly(client, city, worker, file_format):
    client.force_login(worker)
    response = client.get(reverse("residents:import_template", args=[file_format]))
    assert response.status_code == 200
    data = response.content
    if file_format == "xlsx":
        sheet = load_workbook(io.BytesIO(data)).active
        assert [c.value for c in sheet[1]] == importing.template_headers()
        assert sheet.column_dimensions["F"].number_format == "@", "ID numbers are text from the start"
        sheet.append([city.grid_a.code, "1号楼", "1单元", "301", "甲", valid_id_number()])
        out = io.BytesIO()
        sheet.parent.save(out)
        data = out.getvalue()
    else:
        assert data.startswith("\ufeff网格编码".encode())
        data += f"{city.grid_a.code},1号楼,1单元,301,甲,{valid_id_number()}\r\n".encode()
    job = preview(data, worker, name=f"t.{file_format}")
    assert messages_of(job) == [] and job.created_count == 1


def test_the_fast_id_check_agrees_with_the_identity_module():
    from residents.identity import parse_id_number

    today = datetime.date(2026, 1, 1)
    good = valid_id_number()
    samples = [good, good.lower(), f" {good} ", good[:17] + ("0" if good[17] != "0" else "1"), good[:6] + " " + good[6:],
               "110105" + "19800230" + "123X", valid_id_number(area="990101"), valid_id_number(area="510703"),
               "１１０１０５１９８００５１７００１X", valid_id_number(birth=datetime.date(1880, 1, 1)),
               valid_id_number(birth=datetime.date(2027, 1, 1)), "123", "", "11010519800517001Y"]
    for sample in samples:
        try:
            expected = parse_id_number(sample, today=today)
        except DomainError as error:
            with pytest.raises(DomainError) as refused:
                importing.fast_parse_id_number(sample, today=today)
            assert refused.value.message == error.message, sample
        else:
            assert importing.fast_parse_id_number(sample, today=today) == expected, sample
