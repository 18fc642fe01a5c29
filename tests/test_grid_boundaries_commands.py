"""The outline import and export as management commands (`import_boundaries`, `export_boundaries`):
the same all-or-nothing service as the places admin's page, as a named user, with that user's reach."""

import io
import json
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from grid.models import Area, AreaEvent, Role

from .factories import UserFactory
from .test_grid_boundaries import OTHER, SQUARE, collection, feature, outlines


@pytest.fixture
def staff(city, make_user):
    return make_user(Role.COMMUNITY_STAFF, city.community_a)


@pytest.fixture
def geojson(tmp_path):
    def write(*features, raw=None):
        path = tmp_path / "outlines.geojson"
        path.write_bytes(raw if raw is not None else collection(*features))
        return str(path)
    return write


def run(*args, stdin=None):
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        if stdin is not None:
            with mock.patch("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin))):
                call_command(*args, stdout=out, stderr=err)
        else:
            call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_sets_the_outlines_of_the_users_places_and_logs_them_under_the_user(city, staff, geojson):
    out, _err = run("import_boundaries", geojson(feature(city.grid_a.code), feature(city.grid_a2.code, OTHER)),
                    "--as", staff.username)

    assert "2 outline(s) changed, 0 already as the file has them." in out
    saved = outlines()
    assert saved[city.grid_a.code] == SQUARE and saved[city.grid_a2.code] == OTHER
    assert set(AreaEvent.objects.filter(action=AreaEvent.Action.BOUNDARY).values_list("actor_id", flat=True)) \
        == {staff.pk}


def test_a_place_outside_the_users_reach_refuses_the_whole_file_with_its_error(city, staff, geojson):
    before = outlines()
    with pytest.raises(CommandError, match="Nothing was imported: the file has 1 error"):
        run("import_boundaries", geojson(feature(city.grid_a.code), feature(city.grid_b.code)), "--as", staff.username)

    assert outlines() == before
    assert not AreaEvent.objects.filter(action=AreaEvent.Action.BOUNDARY).exists()


def test_the_errors_are_written_out_one_a_line(city, staff, geojson):
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError):
        call_command("import_boundaries", geojson(feature(city.grid_b.code), feature("NO-SUCH-CODE")),
                     "--as", staff.username, stderr=err)

    lines = err.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Feature 1: no place with code") and city.grid_b.code in lines[0]
    assert lines[1].startswith("Feature 2: no place with code NO-SUCH-CODE")


def test_a_superuser_reaches_every_place(city, geojson):
    admin = UserFactory(is_superuser=True, is_staff=True)

    run("import_boundaries", geojson(feature(city.grid_a.code), feature(city.grid_b.code)), "--as", admin.username)

    saved = outlines()
    assert saved[city.grid_a.code] == SQUARE and saved[city.grid_b.code] == SQUARE


def test_a_dry_run_checks_and_reports_but_changes_nothing(city, staff, geojson):
    before = outlines()

    out, _err = run("import_boundaries", geojson(feature(city.grid_a.code)), "--as", staff.username, "--dry-run")

    assert "nothing changed (--dry-run): 1 outline(s) would change" in out
    assert outlines() == before and not AreaEvent.objects.filter(action=AreaEvent.Action.BOUNDARY).exists()


def test_a_dry_run_of_a_bad_file_still_lists_its_errors(city, staff, geojson):
    with pytest.raises(CommandError, match="the file has 1 error"):
        run("import_boundaries", geojson(feature(city.grid_b.code)), "--as", staff.username, "--dry-run")


def test_the_file_can_come_on_standard_input(city, staff):
    out, _err = run("import_boundaries", "-", "--as", staff.username, stdin=collection(feature(city.grid_a.code)))

    assert "1 outline(s) changed" in out and outlines()[city.grid_a.code] == SQUARE


@pytest.mark.parametrize("raw, message", [
    (b"\xff\xfe not text", "not GeoJSON text"),
    (b'{"type": "FeatureCollection", "features": []}', "no features"),
    (b'[1, 2, 3]', "must be a GeoJSON FeatureCollection"),
    (b"", "not GeoJSON text"),
])
def test_a_file_that_is_no_feature_collection_is_refused_clearly(city, staff, geojson, raw, message):
    before = outlines()
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_boundaries", geojson(raw=raw), "--as", staff.username, stderr=err)

    assert message in err.getvalue()
    assert outlines() == before


def test_a_file_over_the_limit_is_read_no_further_and_refused(city, staff):
    stream = io.BytesIO(collection(feature(city.grid_a.code)))
    stdin = io.TextIOWrapper(stream)  # held here: dropping it would close the stream
    with mock.patch("grid.management.commands.import_boundaries.MAX_BYTES", 20), \
            mock.patch("grid.services_boundaries.MAX_BYTES", 20), \
            mock.patch("sys.stdin", stdin), \
            translation.override("en"), pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_boundaries", "-", "--as", staff.username, stdout=io.StringIO(), stderr=io.StringIO())

    assert stream.tell() == 21  # one byte past the limit, not the whole file
    assert outlines()[city.grid_a.code] is None


def test_a_missing_file_says_so(city, staff, tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*missing.geojson: No such file"):
        run("import_boundaries", str(tmp_path / "missing.geojson"), "--as", staff.username)


@pytest.mark.parametrize("command", [["import_boundaries", "x.geojson"], ["export_boundaries"]])
def test_an_unknown_or_inactive_user_is_refused(city, staff, command):
    staff.is_active = False
    staff.save(update_fields=["is_active"])
    for username in (staff.username, "nobody-of-that-name"):
        with pytest.raises(CommandError, match=f"No active user named '{username}'"):
            run(*command, "--as", username)


def test_export_writes_only_the_users_places_to_a_file(city, staff, tmp_path):
    Area.objects.filter(pk=city.grid_a.pk).update(boundary=SQUARE)
    Area.objects.filter(pk=city.grid_b.pk).update(boundary=OTHER)
    target = tmp_path / "out.geojson"

    _out, err = run("export_boundaries", "--as", staff.username, "-o", str(target))

    document = json.loads(target.read_text(encoding="utf-8"))
    codes = {f["properties"]["code"]: f["geometry"] for f in document["features"]}
    assert city.grid_a.code in codes and codes[city.grid_a.code] == SQUARE
    assert codes[city.grid_a2.code] is None
    assert city.grid_b.code not in codes and city.community_b.code not in codes
    assert f"{len(codes)} place(s) written" in err


def test_export_round_trips_through_import(city, staff):
    Area.objects.filter(pk=city.grid_a.pk).update(boundary=SQUARE)
    out, _err = run("export_boundaries", "--as", staff.username)

    again, _err = run("import_boundaries", "-", "--as", staff.username, stdin=out.encode())

    assert "0 outline(s) changed, 1 already as the file has them." in again


def test_export_to_an_unwritable_place_says_so(city, staff, tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        run("export_boundaries", "--as", staff.username, "-o", str(tmp_path / "no-such-dir" / "out.geojson"))
