"""grid.seeding's bulk-load helpers for the city-scale seeders: indexes built after the load
(trusted_bulk_load(indexes_after=True)), COPY text made without a connection, planning in worker processes."""

import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from grid.models import Unit
from grid.seeding import SeedingError, copy_text, planned_in_workers, trusted_bulk_load
from residents.models import Household, Resident

from .factories import build_city


def index_definitions(*tables):
    """Every index and unique constraint of `tables`, as PostgreSQL would write them again."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relname = ANY(%s) ORDER BY 1",
            [list(tables)],
        )
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE t.relname = ANY(%s) AND c.contype IN ('u', 'p') ORDER BY 1",
            [list(tables)],
        )
        return indexes, cursor.fetchall()


def insert_unit(building, number):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO grid_unit (building_id, number, created_at) VALUES (%s, %s, %s)",
            [building.pk, number, timezone.now()],
        )


def test_every_index_and_unique_constraint_comes_back(db, on_postgres):
    tables = [Household._meta.db_table, Resident._meta.db_table, Unit._meta.db_table]
    before = index_definitions(*tables)
    assert len(before[0]) >= 15  # the residents' name, place and blind indexes, the units' unique number
    with transaction.atomic():
        with trusted_bulk_load([Household, Resident, Unit], indexes_after=True):
            during, constraints = index_definitions(*tables)
            # Only the primary keys are left while loading.
            assert sorted(during) == sorted(d for d in before[0] if "_pkey " in d)
            assert [name for name, _ in constraints] == sorted(
                name for name, definition in before[1] if definition.startswith("PRIMARY KEY"))
        assert index_definitions(*tables) == before
        transaction.set_rollback(True)


def test_a_duplicate_loaded_in_the_block_fails_the_rebuild(db, on_postgres):
    city = build_city()  # building_a has its 1单元 already
    before = index_definitions(Unit._meta.db_table)
    with pytest.raises(IntegrityError, match="unit_number_unique_in_building"), transaction.atomic():
        with trusted_bulk_load([Unit], indexes_after=True):
            insert_unit(city.building_a, "1单元")  # no index to refuse it yet
    # The failed transaction rolled the drop back with the rows.
    assert index_definitions(Unit._meta.db_table) == before
    assert list(Unit.objects.filter(building=city.building_a).values_list("number", flat=True)) == ["1单元"]


def test_the_rows_loaded_are_indexed_afterwards(db, on_postgres):
    city = build_city()
    with transaction.atomic():
        with trusted_bulk_load([Unit], indexes_after=True):
            insert_unit(city.building_a, "2单元")
            insert_unit(city.building_a, "3单元")
        # The rebuilt unique constraint refuses another 2单元 at once.
        with pytest.raises(IntegrityError, match="unit_number_unique_in_building"), transaction.atomic():
            insert_unit(city.building_a, "2单元")
        assert Unit.objects.filter(building=city.building_a).count() == 3
        transaction.set_rollback(True)


def test_a_broken_key_is_still_found(db, on_postgres):
    city = build_city()
    with pytest.raises(SeedingError, match="987654321"), transaction.atomic():
        with trusted_bulk_load([Unit], indexes_after=True):
            insert_unit(type(city.building_a)(pk=987_654_321), "1单元")


def test_elsewhere_nothing_is_dropped(db):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite's path: PostgreSQL's is tested above")
    city = build_city()
    with transaction.atomic():
        with trusted_bulk_load([Unit], indexes_after=True):
            # SQLite keeps its constraints throughout: the duplicate fails at once.
            with pytest.raises(IntegrityError), transaction.atomic():
                insert_unit(city.building_a, "1单元")
        transaction.set_rollback(True)


def test_copy_text_escapes_what_copy_would_misread():
    from datetime import date

    row = ("a\tb\\c\nd\re", None, True, False, 42, date(2026, 1, 2), {"note": "x\ty", "n": 1})
    assert copy_text([row]) == (
        "a\\tb\\\\c\\nd\\re\t\\N\tt\tf\t42\t2026-01-02\t{\"note\": \"x\\\\ty\", \"n\": 1}\n".encode())
    assert copy_text([]) == b""


def test_copy_text_reads_back_as_written(db, on_postgres):
    from datetime import UTC, date, datetime

    moment = datetime(2026, 6, 1, 3, 4, 5, 678000, tzinfo=UTC)
    rows = [("王\t芳\\", None, True, 7, date(1980, 5, 17), moment, {"渠道": "12345", "a\tb": [1, "\\"]}),
            ("", "x\ny", False, -1, None, None, None)]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copied (a text, b text, c boolean, d integer, e date, f timestamptz, "
                       "g jsonb)")
        with cursor.copy("COPY copied FROM STDIN") as copy:
            copy.write(copy_text(rows))
        cursor.execute("SELECT a, b, c, d, e, f, g FROM copied ORDER BY d DESC")
        # Django reads jsonb as its text (the JSONField decodes it).
        assert [(*r[:6], r[6] and json.loads(r[6])) for r in cursor.fetchall()] == rows
        cursor.execute("DROP TABLE copied")


def _square(n):
    return n * n


def _query(_):
    return Unit.objects.count()


def test_workers_return_in_order(db):
    timing = {}
    assert list(planned_in_workers(_square, range(12), workers=2, depth=2, timing=timing)) == [
        n * n for n in range(12)]
    assert timing["wait"] >= 0


def test_a_worker_may_not_use_the_parents_connection(db):
    with pytest.raises(RuntimeError, match="must not use the parent's database connection"):
        list(planned_in_workers(_query, [1], workers=2))
    # The parent's connection is untouched.
    assert Unit.objects.count() == 0
