"""Resident export: scope, masking, full exports, the access log, filters, and the round trip."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from grid.models import Role
from portal.errors import DomainError
from residents import exporting, importing
from residents.models import AccessLog, ImportJob, Relation, Tag

from .factories import user_with_post
from .residents_factories import household_in, resident_in, valid_id_number, worker_of


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def people(city):
    """One resident in grid_a (with a sensitive tag and a moved-out neighbour), one in grid_b."""
    inside_id, outside_id, gone_id = valid_id_number(), valid_id_number(), valid_id_number()
    inside = resident_in(household_in(city.unit_a, "301"), "王建国", id_number=inside_id, phone="13912345678",
                         relation=Relation.HEAD, tags=list(Tag.objects.filter(code__in=["veteran",
                                                                                         "community_correction"])))
    gone = resident_in(household_in(city.unit_a, "302"), "赵离开", id_number=gone_id, phone="13700007777")
    from residents.services import resident_move_out

    resident_move_out(resident=gone, acting_user=worker_of(city.grid_a), now=timezone.now())
    outside = resident_in(household_in(city.unit_b, "101"), "李外人", id_number=outside_id, phone="13511112222")
    return {"inside": (inside, inside_id), "outside": (outside, outside_id), "gone": (gone, gone_id)}


def read(result):
    data = result.handle.read()
    if result.name.endswith(".xlsx"):
        sheet = load_workbook(io.BytesIO(data)).active
        return [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_is_scoped_and_masked(city, people, file_format):
    worker = worker_of(city.grid_a)
    result = exporting.residents_export(acting_user=worker, file_format=file_format, now=timezone.now())
    rows = read(result)
    assert rows[0] == exporting.headers()
    names = {r[4] for r in rows[1:]}
    assert names == {"王建国", "赵离开"}, "grid_b's resident is outside the worker's scope"
    flat = str(rows)
    for number in (people["inside"][1], people["gone"][1], "13912345678", "13700007777"):
        assert number not in flat
    (wang,) = [r for r in rows if r[4] == "王建国"]
    assert wang[5] == people["inside"][0].id_masked and wang[6] == "139****5678"
    assert wang[0] == city.grid_a.code and wang[9] == "户主"
    assert set(wang[12].split("、")) == {"退役军人", "社区矫正对象"}
    assert result.rows == 2


def test_a_masked_export_never_reads_the_encrypted_columns(city, people, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    worker = worker_of(city.grid_a)
    with CaptureQueriesContext(connection) as queries:
        exporting.residents_export(acting_user=worker, now=timezone.now())
    selects = [q["sql"] for q in queries if "residents_resident" in q["sql"] and q["sql"].startswith("SELECT")]
    assert selects and not any('"id_number"' in q or '"phone"' in q for q in selects)


def test_every_export_is_logged_with_count_and_filters(city, people):
    worker = worker_of(city.grid_a)
    before = AccessLog.objects.count()
    exporting.residents_export(acting_user=worker, filters={"status": "living"}, now=timezone.now())
    exporting.residents_export(acting_user=worker, file_format="xlsx", now=timezone.now())
    assert AccessLog.objects.count() == before + 2
    first, second = AccessLog.objects.filter(action="export").order_by("id")
    assert first.actor == worker and first.details == {"rows": 1, "masked": True, "filters": {"status": "living"}}
    assert first.grid_id == city.grid_a.pk
    assert second.details["rows"] == 2


def test_full_export_needs_the_post_and_a_reason(city, people):
    worker = worker_of(city.grid_a)
    with pytest.raises(DomainError) as refused:
        exporting.residents_export(acting_user=worker, masked=False, reason="移交民政", now=timezone.now())
    assert refused.value.code == "forbidden"
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    with pytest.raises(DomainError) as refused:
        exporting.residents_export(acting_user=staff, masked=False, reason=" ", now=timezone.now())
    assert refused.value.code == "no_reason"
    assert not AccessLog.objects.filter(action="export").exists()
    result = exporting.residents_export(acting_user=staff, masked=False, reason="移交民政", now=timezone.now())
    flat = str(read(result))
    assert people["inside"][1] in flat and "13912345678" in flat
    assert people["outside"][1] not in flat
    entry = AccessLog.objects.get(action="export")
    assert entry.field == "all" and entry.reason == "移交民政" and entry.details["masked"] is False


def test_filters_like_the_list(city, people):
    staff = user_with_post(Role.STREET_STAFF, city.street_a)
    veteran = Tag.objects.get(code="veteran")
    cases = [
        ({}, {"王建国", "赵离开"}),
        ({"status": "moved_out"}, {"赵离开"}),
        ({"grid": city.grid_a2.pk}, set()),
        ({"tag": veteran.pk}, {"王建国"}),
        ({"name": "王"}, {"王建国"}),
        ({"community": city.community_b.pk}, set()),  # outside the street: nothing, not an error
    ]
    for filters, names in cases:
        rows = read(exporting.residents_export(acting_user=staff, filters=filters, now=timezone.now()))
        assert {r[4] for r in rows[1:]} == names, filters


def test_clean_filters_drops_rubbish():
    assert exporting.clean_filters({"grid": "abc", "community": "-3", "status": "zombie", "tag": "99999999999999999999",
                                    "name": "  王  "}) == {"name": "王"}


def test_a_full_export_imports_again_unchanged(city, people):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    result = exporting.residents_export(acting_user=staff, masked=False, reason="核对", filters={"status": "living"},
                                        file_format="xlsx", now=timezone.now())
    upload = SimpleUploadedFile("back.xlsx", result.handle.read())
    job = importing.import_preview(upload=upload, acting_user=staff, now=timezone.now())
    assert [e for e in job.errors if not e.get("warning")] == []
    assert (job.total_rows, job.unchanged_count) == (1, 1)


# --- the page --------------------------------------------------------------------------------------

def test_export_page_downloads_masked_and_logs(client, city, people):
    worker = worker_of(city.grid_a)
    client.force_login(worker)
    page = client.get(reverse("residents:export") + "?status=living&name=王")
    assert page.status_code == 200
    assert 'name="unmasked"' not in page.content.decode(), "a grid worker is not offered a full export"
    response = client.post(reverse("residents:export"), {"file_format": "csv", "status": "living", "name": "王",
                                                         "unmasked": "on", "reason": "想看"})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "王建国" in body and "赵离开" not in body and "李外人" not in body
    assert people["inside"][1] not in body and "13912345678" not in body
    entry = AccessLog.objects.get(action="export")
    assert entry.details == {"rows": 1, "masked": True, "filters": {"status": "living", "name": "王"}}


def test_export_page_full_export_for_community_staff(client, city, people):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    client.force_login(staff)
    refused = client.post(reverse("residents:export"), {"file_format": "csv", "unmasked": "on", "reason": ""})
    assert refused.status_code == 400 and not AccessLog.objects.exists()
    response = client.post(reverse("residents:export"), {"file_format": "xlsx", "unmasked": "on",
                                                         "reason": "移交民政所"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert people["inside"][1] in str(list(sheet.iter_rows(values_only=True)))
    assert AccessLog.objects.get(action="export").details["masked"] is False


def test_export_page_needs_a_resident_post(client, city, people):
    chief = user_with_post(Role.GRID_CHIEF, city.grid_a)
    client.force_login(chief)
    assert client.get(reverse("residents:export")).status_code == 404
    assert client.post(reverse("residents:export"), {"file_format": "csv"}).status_code == 404
    assert not AccessLog.objects.exists()
    assert ImportJob.objects.count() == 0


def test_a_full_export_reaches_only_places_held_through_export_posts(city, people):
    """Community staff in A who are also a grid worker in B export A in full, not B."""
    from grid import services as grid_services

    user = user_with_post(Role.COMMUNITY_STAFF, city.community_a)
    grid_services.post_grant(user=user, role=Role.GRID_WORKER, place=city.grid_b)
    masked = {r[4] for r in read(exporting.residents_export(acting_user=user, now=timezone.now()))[1:]}
    assert "李外人" in masked, "the masked export covers everything the user sees"
    full = read(exporting.residents_export(acting_user=user, masked=False, reason="移交民政", now=timezone.now()))
    names = {r[4] for r in full[1:]}
    assert names == {"王建国", "赵离开"}
    assert people["outside"][1] not in str(full)
