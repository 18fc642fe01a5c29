"""Place outlines imported from a GIS export (grid/services_boundaries.py, the places admin's
导入边界 page): what is saved, what is refused (always whole files, never half), and that the
importer reaches only the places they manage.
"""

import json
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from grid import geo, services_boundaries
from grid.models import Area, AreaEvent, Role
from grid.services_boundaries import BoundaryImportError, boundaries_import

from .factories import UserFactory

SQUARE = {"type": "Polygon", "coordinates": [[[104.7, 31.46], [104.71, 31.46], [104.71, 31.47], [104.7, 31.46]]]}
OTHER = {"type": "MultiPolygon", "coordinates": [[[[104.8, 31.5], [104.81, 31.5], [104.81, 31.51], [104.8, 31.5]]]]}


def feature(code, geometry=SQUARE, key="code"):
    return {"type": "Feature", "properties": {key: code, "name": "whatever the GIS calls it"}, "geometry": geometry}


def collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False).encode()


def outlines():
    return dict(Area.objects.values_list("code", "boundary"))


@pytest.fixture
def staff(city, make_user):
    return make_user(Role.COMMUNITY_STAFF, city.community_a)


# --- the service ---------------------------------------------------------------------------

def test_outlines_of_places_the_importer_manages_are_set_and_logged(city, staff):
    result = boundaries_import(raw=collection(feature(city.grid_a.code), feature(city.community_a.code, OTHER,
                                                                                   key="网格编码")),
                               acting_user=staff)

    assert sorted(result.updated) == sorted([city.grid_a.code, city.community_a.code]) and result.unchanged == []
    saved = outlines()
    assert saved[city.grid_a.code] == SQUARE and saved[city.community_a.code] == OTHER
    assert saved[city.grid_a2.code] is None
    events = AreaEvent.objects.filter(action=AreaEvent.Action.BOUNDARY).order_by("area__code")
    assert [(e.area_id, e.actor_id, e.details["replaced"], e.details["positions"]) for e in events] == sorted(
        [(city.grid_a.pk, staff.pk, False, 4), (city.community_a.pk, staff.pk, False, 4)],
        key=lambda row: Area.objects.get(pk=row[0]).code)
    # The point-in-outline check the report's location step and Open311 use reads the new outline.
    assert geo.contains(Area.objects.get(pk=city.grid_a.pk).boundary, 104.705, 31.462)


def test_an_outline_the_file_repeats_writes_nothing(city, staff):
    boundaries_import(raw=collection(feature(city.grid_a.code)), acting_user=staff)
    events = AreaEvent.objects.count()

    result = boundaries_import(raw=collection(feature(city.grid_a.code), feature(city.grid_a2.code, OTHER)),
                               acting_user=staff)

    assert result.unchanged == [city.grid_a.code] and result.updated == [city.grid_a2.code]
    assert AreaEvent.objects.count() == events + 1
    replaced = boundaries_import(raw=collection(feature(city.grid_a.code, OTHER)), acting_user=staff)
    assert replaced.updated == [city.grid_a.code]
    assert AreaEvent.objects.filter(action=AreaEvent.Action.BOUNDARY).latest("id").details["replaced"] is True


def test_a_place_outside_the_importers_places_refuses_the_whole_file(city, staff):
    before = outlines()
    with translation.override("en"), pytest.raises(BoundaryImportError) as refused:
        boundaries_import(raw=collection(feature(city.grid_a.code), feature(city.grid_b.code)), acting_user=staff)

    # Said as for a code that does not exist: another community's places are not revealed.
    assert refused.value.errors == [f"Feature 2: no place with code {city.grid_b.code} among the places you manage."]
    assert refused.value.total == 1
    assert outlines() == before and not AreaEvent.objects.filter(action=AreaEvent.Action.BOUNDARY).exists()


def test_an_unknown_code_and_an_unknown_place_read_the_same(city, staff):
    messages = []
    for code in (city.grid_b.code, "999999999999999"):
        with pytest.raises(BoundaryImportError) as refused:
            boundaries_import(raw=collection(feature(code)), acting_user=staff)
        messages.append(refused.value.errors[0].replace(code, "<code>"))
    assert messages[0] == messages[1]


@pytest.mark.parametrize(("raw", "expected"), [
    (b"", "GeoJSON"),
    (b"{not json", "GeoJSON"),
    (b"\xff\xfe\x00garbage", "GeoJSON"),
    (b"[1, 2, 3]", "FeatureCollection"),
    (json.dumps({"type": "FeatureCollection", "features": []}).encode(), "no features"),
    (json.dumps({"type": "FeatureCollection", "features": "x"}).encode(), "FeatureCollection"),
    (b"[" * 100_000 + b"]" * 100_000, "GeoJSON"),
])
def test_a_file_that_is_no_feature_collection_is_refused_with_its_reason(city, staff, raw, expected):
    with translation.override("en"), pytest.raises(BoundaryImportError) as refused:
        boundaries_import(raw=raw, acting_user=staff)
    assert expected in refused.value.errors[0]
    assert all(value is None for value in outlines().values())


def test_every_bad_feature_is_listed_and_nothing_is_saved(city, staff):
    open_ring = {"type": "Polygon", "coordinates": [[[104.7, 31.46], [104.71, 31.46], [104.71, 31.47], [104.7, 31.5]]]}
    features = [
        feature(city.grid_a.code),                                       # fine on its own
        "not a feature",                                                 # 2
        {"type": "Feature", "properties": {"name": "no code"}, "geometry": SQUARE},  # 3
        feature(city.grid_a.code, OTHER),                                # 4: the same code again
        feature(city.grid_a2.code, {"type": "Point", "coordinates": [104.7, 31.4]}),  # 5
        feature(city.community_a.code, open_ring),                       # 6
        {"type": "Feature", "properties": {"code": city.street_a.code}, "geometry": None},  # 7
        feature(city.community_b.code,
                {"type": "Polygon", "coordinates": [[[200, 31], [201, 31], [201, 32], [200, 31]]]}),
    ]
    with translation.override("en"), pytest.raises(BoundaryImportError) as refused:
        boundaries_import(raw=collection(*features), acting_user=staff)

    errors = refused.value.errors
    # Feature 7 has no geometry: it changes nothing, and is no error.
    assert refused.value.total == len(errors) == 6
    assert [e.split(":")[0].split(" (")[0] for e in errors] == [f"Feature {n}" for n in (2, 3, 4, 5, 6, 8)]
    assert "already feature 1" in errors[2] and "ring" in errors[4] and "longitudes" in errors[5]
    assert all(value is None for value in outlines().values())


def test_a_feature_without_geometry_leaves_its_place_as_it_is(city, staff):
    boundaries_import(raw=collection(feature(city.grid_a.code)), acting_user=staff)
    events = AreaEvent.objects.count()
    result = boundaries_import(raw=collection(feature(city.grid_a.code, None), feature(city.grid_a2.code, None)),
                               acting_user=staff)
    assert result.updated == result.unchanged == []
    assert outlines()[city.grid_a.code] == SQUARE and outlines()[city.grid_a2.code] is None
    assert AreaEvent.objects.count() == events


def test_the_export_holds_the_managed_places_and_imports_back_unchanged(city, staff):
    boundaries_import(raw=collection(feature(city.grid_a.code)), acting_user=staff)
    exported = services_boundaries.boundaries_export(staff)

    assert exported["type"] == "FeatureCollection"
    rows = [(f["properties"]["code"], f["properties"]["kind"], f["geometry"]) for f in exported["features"]]
    assert rows == [(city.community_a.code, "community", None), (city.grid_a.code, "grid", SQUARE),
                    (city.grid_a2.code, "grid", None)]  # community_b, the streets, the districts: not hers
    again = boundaries_import(raw=json.dumps(exported).encode(), acting_user=staff)
    assert again.updated == [] and again.unchanged == [city.grid_a.code]


def test_a_merged_place_takes_no_outline(city, staff):
    from grid import services

    services.area_merge(source=city.grid_a2, target=city.grid_a, acting_user=None)
    with translation.override("en"), pytest.raises(BoundaryImportError) as refused:
        boundaries_import(raw=collection(feature(city.grid_a2.code)), acting_user=staff)
    assert "was merged into another place" in refused.value.errors[0]
    assert Area.objects.get(pk=city.grid_a2.pk).boundary is None


def test_many_errors_are_counted_and_the_first_shown(city, staff, monkeypatch):
    monkeypatch.setattr(services_boundaries, "MAX_ERRORS_SHOWN", 3)
    with pytest.raises(BoundaryImportError) as refused:
        boundaries_import(raw=collection(*[feature(f"99{n:013d}") for n in range(10)]), acting_user=staff)
    assert refused.value.total == 10 and len(refused.value.errors) == 3


def test_limits_of_size_and_count(city, staff, monkeypatch):
    three = collection(feature(city.grid_a.code), feature(city.grid_a2.code), feature(city.community_a.code))
    monkeypatch.setattr(services_boundaries, "MAX_FEATURES", 2)
    with translation.override("en"), pytest.raises(BoundaryImportError) as refused:
        boundaries_import(raw=three, acting_user=staff)
    assert refused.value.errors == ["The file has more than 2 features; split it."]
    monkeypatch.setattr(services_boundaries, "MAX_FEATURES", 3)
    monkeypatch.setattr(services_boundaries, "MAX_BYTES", 10)
    with translation.override("en"), pytest.raises(BoundaryImportError) as refused:
        boundaries_import(raw=three, acting_user=staff)
    assert refused.value.errors == ["The file is larger than 0 MB."]
    assert all(value is None for value in outlines().values())


@pytest.mark.parametrize(("properties", "geometry"), [
    (["code"], SQUARE),                                     # properties not an object
    ({"code": True}, SQUARE),                               # a bool is no code
    ({"code": 5.5}, SQUARE),                                # nor a fraction
    ({"code": "5107\x00"}, SQUARE),                        # NUL cannot reach PostgreSQL
    ({"code": "\ud800"}, SQUARE),                          # nor a lone surrogate
    ({"code": "9" * 65}, SQUARE),                           # far longer than any code
    ({"code": "GRID"}, {"type": "Polygon", "coordinates": {"a": 1}}),
    ({"code": "GRID"}, {"type": "Polygon", "coordinates": "104,31"}),
    ({"code": "GRID"}, {"type": "MultiPolygon", "coordinates": [[[104.7, 31.4]]]}),
    ({"code": "GRID"}, {"type": "Polygon", "coordinates": [[[float("nan"), 31.4]] * 4]}),
    ({"code": "GRID"}, ["not", "a", "geometry"]),
])
def test_odd_values_are_errors_not_crashes(city, staff, properties, geometry):
    if isinstance(properties, dict) and properties.get("code") == "GRID":
        properties = {"code": city.grid_a.code}
    raw = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": properties, "geometry": geometry}]}).encode()
    with pytest.raises(BoundaryImportError) as refused:
        boundaries_import(raw=raw, acting_user=staff)
    assert refused.value.total == 1
    assert all(value is None for value in outlines().values())


def test_a_code_stored_as_a_number_is_read_and_only_the_outline_is_kept(city, staff):
    extra = {**SQUARE, "bbox": [float("nan"), "\x00"], "crs": {"name": "EPSG:4490"}}
    raw = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"WGBM": float(city.grid_a.code)}, "geometry": extra},
        {"type": "Feature", "properties": {"WGBM": int(city.grid_a2.code)}, "geometry": OTHER}]}).encode()
    result = boundaries_import(raw=raw, acting_user=staff)
    assert sorted(result.updated) == sorted([city.grid_a.code, city.grid_a2.code])
    assert outlines()[city.grid_a.code] == SQUARE and outlines()[city.grid_a2.code] == OTHER


# --- the admin page ------------------------------------------------------------------------

def browser(user, language="zh-hans"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


URL = reverse("admin:grid_area_import_boundaries")


def upload(content, name="grids.geojson"):
    return SimpleUploadedFile(name, content, content_type="application/geo+json")


def test_the_page_is_linked_from_the_places_list_and_shown_in_chinese(city, staff):
    client = browser(staff)
    listing = client.get(reverse("admin:grid_area_changelist")).content.decode()
    assert URL in listing and "导入边界" in listing

    page = client.get(URL)
    assert page.status_code == 200
    text = page.content.decode()
    assert "GeoJSON" in text and "网格编码" in text and 'enctype="multipart/form-data"' in text


def test_a_good_file_through_the_page_saves_inside_the_staffs_community(city, staff):
    response = browser(staff).post(URL, {"file": upload(collection(feature(city.grid_a.code)))})
    assert response.status_code == 302 and response["Location"] == reverse("admin:grid_area_changelist")
    assert outlines()[city.grid_a.code] == SQUARE and outlines()[city.grid_b.code] is None


def test_a_file_naming_a_place_outside_is_shown_back_with_its_errors(city, staff):
    response = browser(staff, "en").post(URL, {"file": upload(collection(feature(city.grid_a.code),
                                                                          feature(city.grid_b.code)))})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Nothing was imported" in text and "Feature 2" in text and city.grid_b.name not in text
    assert all(value is None for value in outlines().values())


@pytest.mark.parametrize("data", [{}, {"file": ""}])
def test_no_file_is_a_form_error_not_a_crash(city, staff, data):
    response = browser(staff).post(URL, data)
    assert response.status_code == 400


def test_a_file_too_large_is_refused_before_it_is_read(city, staff, monkeypatch):
    monkeypatch.setattr(services_boundaries, "MAX_BYTES", 10)
    with mock.patch.object(services_boundaries, "boundaries_import") as service:
        response = browser(staff, "en").post(URL, {"file": upload(collection(feature(city.grid_a.code)))})
    assert response.status_code == 400 and "larger than" in response.content.decode()
    assert service.call_count == 0  # the form refused it: the file was never read
    assert outlines()[city.grid_a.code] is None


def test_staff_who_manage_no_place_have_no_import_page(city, make_user):
    """Signed in to the admin, but no managing post (a grid worker's post is not one)."""
    worker = make_user(Role.GRID_WORKER, city.grid_a)
    worker.is_staff = True
    worker.save(update_fields=["is_staff"])
    client = browser(worker)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"file": upload(collection(feature(city.grid_a.code)))}).status_code == 403
    assert client.get(reverse("admin:grid_area_export_boundaries")).status_code == 403
    assert outlines()[city.grid_a.code] is None


def test_the_export_download_is_scoped_and_get_only(city, staff):
    boundaries_import(raw=collection(feature(city.grid_a.code)), acting_user=staff)
    Area.objects.filter(pk=city.grid_b.pk).update(boundary=OTHER)  # outside her community
    client = browser(staff)
    listing = client.get(reverse("admin:grid_area_changelist")).content.decode()
    export_url = reverse("admin:grid_area_export_boundaries")
    assert export_url in listing and "导出边界" in listing

    response = client.get(export_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    assert response["Content-Disposition"].startswith('attachment; filename="outlines-')
    document = json.loads(response.content)
    codes = [f["properties"]["code"] for f in document["features"]]
    assert city.grid_a.code in codes and city.grid_b.code not in codes
    assert city.grid_b.name not in response.content.decode()
    assert client.post(export_url).status_code == 405


def test_signed_out_goes_to_the_sign_in(city):
    response = Client().get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_superuser_imports_anywhere(city):
    root = UserFactory(is_superuser=True, is_staff=True)
    response = browser(root).post(URL, {"file": upload(collection(feature(city.grid_b.code),
                                                                  feature(city.other_district.code)))})
    assert response.status_code == 302
    assert outlines()[city.grid_b.code] == SQUARE and outlines()[city.other_district.code] == SQUARE


def test_the_places_list_says_which_places_have_an_outline(city, staff):
    client = browser(staff)
    cell = '<td class="field-outline"><img src="/static/admin/img/icon-yes.svg" alt="True"></td>'
    assert client.get(reverse("admin:grid_area_changelist")).content.decode().count(cell) == 0
    boundaries_import(raw=collection(feature(city.grid_a.code)), acting_user=staff)
    page = client.get(reverse("admin:grid_area_changelist")).content.decode()
    without = '<td class="field-outline"><img src="/static/admin/img/icon-no.svg"'
    assert page.count(cell) == 1 and page.count(without) == 2
