"""Received reports registered in batches (cases/services_intake.py `_register_batch`) write
exactly what registering them one by one through `case_report` writes.

The heart is `test_a_batch_writes_what_one_by_one_writes`: the same varied reports are
received and registered twice, in rolled-back savepoints, once by each path, and every
table of the database is compared row by row. Rows are compared without their ids:
a reference to a row written in the run is replaced by that row's own contents, an
encrypted column by what it decrypts to (so a plain value stored where a token belongs
differs), and each new case number by its case's tracking code (the batch numbers its
own rows before the rows it hands to case_report). The sabotage test shows the
comparison notices when the batch leaves something out. Runs on SQLite and, with
DATABASE_URL set, on PostgreSQL.
"""

import itertools
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from django.test import override_settings
from encrypted_fields.fields import EncryptedFieldMixin

from cases import services, services_intake, services_report
from cases.models import (
    Case,
    CaseEvent,
    CaseNumberCounter,
    CasePhoto,
    Category,
    Channel,
    Delivery,
    GridExclusion,
    Intake,
    RoutingRule,
)
from cases.open311 import services as open311_services
from grid import services as grid_services
from grid.models import Area, AreaKind, OrgFunction
from portal.identity import UndecryptableError, decrypt_token
from portal.personal import mask_any_phone, mask_name

from .cases_factories import MONDAY, at, category, fresh_calendar, people, png  # noqa: F401
from .open311_factories import issue

# The worker's clock while it registers (after every report was received).
WORKER_NOW = MONDAY + timedelta(hours=3)


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


class Rollback(Exception):
    pass


# --- the database as rows without ids ----------------------------------------------------------

def _tables():
    """{table: (pk column, {fk column: target table}, {encrypted columns})} for the models' tables."""
    meta = {}
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        fks = {f.column: f.related_model._meta.db_table for f in opts.concrete_fields
               if f.is_relation and f.many_to_one or f.one_to_one
               if f.target_field.primary_key}
        encrypted = {f.column for f in opts.concrete_fields if isinstance(f, EncryptedFieldMixin)}
        meta[opts.db_table] = (opts.pk.column, fks, encrypted)
    for (table, column), target in SOFT_REFERENCES.items():
        if table in meta:
            meta[table][1][column] = target
    return meta


# Columns that hold another row's id without a foreign key: the rollups' backlog, written
# by a PostgreSQL trigger for each statement that adds timeline events (dashboards 0002).
SOFT_REFERENCES = {("dashboards_rollupbacklog", "case_id"): "cases_case"}


def _dump():
    """Every row of every table in the database: {table: {key: {column: value}}}."""
    quote = connection.ops.quote_name
    models = _tables()
    dump = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {quote(table)}")
            columns = [d[0] for d in cursor.description]
            pk = models[table][0] if table in models else None
            rows = {}
            for values in cursor.fetchall():
                row = dict(zip(columns, (bytes(v) if isinstance(v, memoryview) else v for v in values)))
                rows[row[pk] if pk in row else tuple(values)] = row
            dump[table] = rows
    return dump


def _written(before, after):
    """What a run wrote: {table: sorted rows that are new, changed or gone}, rows without ids."""
    models = _tables()
    case_pk = models[Case._meta.db_table][0]
    number_of = {row["number"]: f"<number of {row['tracking_code']}>"
                 for key, row in after[Case._meta.db_table].items()
                 if key not in before[Case._meta.db_table]}
    assert number_of, "the run made no case"
    assert case_pk == "id"

    def plain(value):
        if isinstance(value, str):
            for number, token in number_of.items():
                value = value.replace(number, token)
        return value

    memo = {}

    def canon(table, key):
        if (table, key) in memo:
            return memo[table, key]
        memo[table, key] = ("cycle", table)
        pk, fks, encrypted = models.get(table, (None, {}, set()))
        row = after[table][key]
        out = []
        for column, value in sorted(row.items()):
            if column == pk:
                continue
            if column in fks and value is not None:
                target = fks[column]
                if value in before.get(target, {}):
                    value = ("existing", value)
                elif value in after.get(target, {}):
                    value = ("written", canon(target, value))
                else:
                    value = ("dangling", value)
            elif column in encrypted and value is not None:
                try:
                    value = ("token of", plain(decrypt_token(value)))
                except UndecryptableError:
                    value = ("not a token", value)
            else:
                value = plain(value)
            out.append((column, value))
        memo[table, key] = tuple(out)
        return memo[table, key]

    written = {}
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, {}), after.get(table, {})
        rows = [("new", canon(table, key)) for key in new if key not in old]
        rows += [("changed", repr(key), canon(table, key)) for key in new if key in old and new[key] != old[key]]
        rows += [("gone", repr(key)) for key in old if key not in new]
        if rows:
            written[table] = sorted(rows, key=repr)
    return written


# --- the reports -------------------------------------------------------------------------------

def _reference(city):
    """Categories of each class (小事/大事/私事), a routing rule, a 准入 list and a sensitive category."""
    RoutingRule.objects.create(district=city.district, category=category("E0201"),
                               function=OrgFunction.URBAN_MANAGEMENT, created_at=MONDAY)
    GridExclusion.objects.create(district=city.district, category=category("E0301"), reason="执法事项",
                                 created_at=MONDAY)
    Category.objects.filter(code="E0802").update(is_sensitive=True)


def _receive_all(city, client, spare_grid):
    """Receive one report of each kind the worker meets; returns their tracking codes in order."""
    saturday_night = at(2026, 11, 28, 22, 40)  # outside working hours: the dispatch clock waits for Monday
    web = {"channel": Channel.WEB, "reporter_name": "李四", "reporter_phone": "13912345678"}
    specs = [
        {**web, "category": "E0101", "building": city.building_a, "photo": png()},       # 大事, photo
        {**web, "category": "E0105", "building": city.building_a2},                      # 小事
        {"channel": Channel.QR, "category": "E0303", "grid": city.grid_a2},              # 小事, QR, nobody named
        {**web, "category": "E0201", "building": city.building_b, "reporter_name": ""},   # 大事 with a rule
        {**web, "category": "E0301", "grid": city.grid_a, "reporter_phone": ""},         # on the 准入 list
        {**web, "category": "E0802", "building": city.building_a},                       # sensitive
        {**web, "category": "E0502", "building": city.building_a},                       # 私事 (a mediation)
        {**web, "category": "E0501", "building": city.building_b},                       # mediation
        {**web, "category": "C0101", "building": city.building_a2, "now": saturday_night, "photo": png("b.png")},
        {**web, "category": "E0102", "building": city.building_b},                       # category withdrawn below
        {**web, "category": "E0103", "grid": spare_grid},                                # grid merged below
    ]
    codes = []
    for n, spec in enumerate(specs):
        spec = {"description": f"第{n}件：小区门口有情况", "now": MONDAY + timedelta(minutes=n), **spec}
        codes.append(services_intake.intake_receive(**spec).tracking_code)
    # Open311: a filing at a building, and one at the client's community (an address only).
    community_client, _key = client
    for n, filing in enumerate([{"address_id": str(city.building_a.pk), "phone": "13700000000", "first_name": "王"},
                                {"address_string": "幸福路口", "lat": "31.460001", "long": "104.680001"}]):
        filed, _created = open311_services.request_file(
            client=community_client, service_code="E0104", description=f"Open311 第{n}件",
            now=MONDAY + timedelta(minutes=30 + n), **filing)
        codes.append(filed.tracking_code)
    # Changed since received: the worker cannot take these as they are.
    Category.objects.filter(code="E0102").update(is_active=False)
    Area.objects.filter(pk=spare_grid.pk).update(is_active=False)
    return codes


def _run(setup, register, media):
    """Receive the reports, register them with `register`, and return what that wrote (rolled back)."""
    city, client, spare_grid = setup
    result = {}
    codes = (f"TEST{n:08d}" for n in itertools.count(1))
    tokens = (f"{n:032x}" for n in itertools.count(1))
    with (mock.patch.object(services, "new_tracking_code", lambda: next(codes)),
          mock.patch.object(open311_services.secrets, "token_hex", lambda _n: next(tokens)),
          mock.patch.object(services_intake, "_kick"),
          mock.patch.object(services_report, "case_report", wraps=services_report.case_report) as one_by_one,
          override_settings(MEDIA_ROOT=media)):
        try:
            with transaction.atomic():
                before_receiving = _dump()
                received = _receive_all(city, client, spare_grid)
                with time_machine.travel(WORKER_NOW, tick=False):
                    result["made"] = register()
                result["written"] = _written(before_receiving, _dump())
                result["numbers"] = sorted(Case.objects.values_list("number", flat=True))
                result["through_case_report"] = one_by_one.call_count
                result["received"] = received
                raise Rollback
        except Rollback:
            pass
    return result


@pytest.fixture
def reports_setup(city, people, settings):
    settings.NOTIFY_CHAT_WEBHOOK_URL = ""
    _reference(city)
    spare_grid = grid_services.area_add(kind=AreaKind.GRID, name="和平第二网格", parent=city.community_b)
    return city, issue(city.community_a), spare_grid


def _one_by_one():
    return services_intake.intake_register_one_by_one()


def _batched():
    return services_intake.intake_register_pending(batch_size=50)


# --- the equivalence ---------------------------------------------------------------------------

@time_machine.travel(MONDAY, tick=False)
def test_a_batch_writes_what_one_by_one_writes(reports_setup, tmp_path):
    single = _run(reports_setup, _one_by_one, tmp_path / "a")
    batch = _run(reports_setup, _batched, tmp_path / "b")

    # Not a vacuous comparison: the one-by-one path wrote every kind of row a received report
    # leaves (case, timeline, photo, outbox, counter, set-aside rows, the Open311 link), and the
    # batch took most rows itself.
    tables = set(single["written"])
    for model in (Case, CaseEvent, CasePhoto, Delivery, CaseNumberCounter, Intake):
        assert model._meta.db_table in tables, model
    assert "open311_servicerequest" in tables
    # 13 reports; the withdrawn category and the merged grid are set aside by both paths.
    assert single["made"] == batch["made"] == 11
    assert single["through_case_report"] == 13
    # The batch hands case_report only the two mediations (私事 and a dispute) and the two
    # rows it cannot take as they are.
    assert batch["through_case_report"] == 4
    assert single["numbers"] == batch["numbers"]

    assert set(batch["written"]) == tables
    for table in sorted(tables):
        assert batch["written"][table] == single["written"][table], table


def test_the_reporter_is_encrypted_and_masked(city, people):
    services_intake.intake_receive(category="E0101", description="垃圾", channel=Channel.WEB,
                                   building=city.building_a, reporter_name="欧阳娜娜", reporter_phone="139 1234 5678",
                                   now=MONDAY)
    assert services_intake.intake_register_pending() == 1
    case = Case.objects.get()
    assert (case.reporter_name, case.reporter_phone) == ("欧阳娜娜", "139 1234 5678")
    assert (case.reporter_name_masked, case.reporter_phone_masked) == (mask_name("欧阳娜娜"),
                                                                       mask_any_phone("139 1234 5678"))
    assert case.reporter_name_masked.startswith("欧*") and "1234" not in case.reporter_phone_masked
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_name, reporter_phone FROM cases_case")
        stored = cursor.fetchone()
    assert "欧阳" not in stored[0] and "5678" not in stored[1]
    assert decrypt_token(stored[0]) == "欧阳娜娜"


# --- the comparison notices what a batch leaves out ---------------------------------------------

def _silent(*_args, **_kwargs):
    return None


SABOTAGE = {
    # what the batch leaves out: (patch, the table the comparison must find different)
    "outbox rows": (lambda: mock.patch.object(services_intake, "_notify_batch", _silent), "cases_delivery"),
    "masked reporter": (lambda: mock.patch.object(
        services_intake, "reporter_columns",
        lambda *, name, phone: {"reporter_name": name or None, "reporter_name_masked": "",
                                "reporter_phone": phone or None, "reporter_phone_masked": ""}), "cases_case"),
    "dispatch deadline": (lambda: mock.patch.object(services, "_deadline", lambda _c, _s, now: now), "cases_case"),
    "photos": (lambda: mock.patch.object(CasePhoto.objects, "bulk_create", _silent), "cases_casephoto"),
    "Open311 link": (lambda: mock.patch.object(services_intake, "filings_registered", _silent),
                     "open311_servicerequest"),
}


@time_machine.travel(MONDAY, tick=False)
def test_the_comparison_notices_what_a_batch_leaves_out(reports_setup, tmp_path):
    single = _run(reports_setup, _one_by_one, tmp_path / "single")
    for n, (what, (patch, table)) in enumerate(SABOTAGE.items()):
        with patch():
            broken = _run(reports_setup, _batched, tmp_path / f"broken{n}")
        assert broken["through_case_report"] == 4, what  # the batch itself ran
        assert broken["written"].get(table) != single["written"][table], what


# --- failures: nothing lost, nothing doubled ------------------------------------------------------

def _receive(city, n, **overrides):
    fields = {"category": "E0101", "channel": Channel.WEB, "building": city.building_a, "reporter_name": "李四",
              "reporter_phone": "13912345678", "now": MONDAY}
    fields.update(overrides)
    with mock.patch.object(services_intake, "_kick"):
        return [services_intake.intake_receive(description=f"垃圾 {i}", **fields).tracking_code for i in range(n)]


def test_a_worker_dying_mid_batch_leaves_every_report_waiting(city, people):
    _receive(city, 4)
    _receive(city, 1, category="E0501")  # a mediation: case_report after the batch's own rows
    with mock.patch.object(services_intake, "_register", side_effect=KeyboardInterrupt), \
            pytest.raises(KeyboardInterrupt):
        services_intake.intake_register_pending()
    # The claim, the cases, the counter and the outbox were one transaction: all rolled back.
    assert not Case.objects.exists() and not CaseEvent.objects.exists() and not Delivery.objects.exists()
    assert not CaseNumberCounter.objects.exists()
    assert Intake.objects.filter(failed_at__isnull=True).count() == 5
    # The next run registers them all, numbered from 1.
    assert services_intake.intake_register_pending() == 5
    assert sorted(int(n[-5:]) for n in Case.objects.values_list("number", flat=True)) == [1, 2, 3, 4, 5]


def test_a_failing_batch_rolls_back_and_its_rows_go_one_by_one(city, people):
    codes = _receive(city, 3)
    with mock.patch.object(services_intake, "_notify_batch", side_effect=RuntimeError("outbox refused")), \
            mock.patch.object(services_report, "case_report", wraps=services_report.case_report) as one_by_one:
        assert services_intake.intake_register_pending() == 3
    assert one_by_one.call_count == 3
    assert set(Case.objects.values_list("tracking_code", flat=True)) == set(codes)
    # The batch's numbers were given back with its savepoint: no gap.
    assert sorted(int(n[-5:]) for n in Case.objects.values_list("number", flat=True)) == [1, 2, 3]
    assert CaseEvent.objects.count() == 3
    assert Delivery.objects.filter(user=people.community).count() == 6  # inbox and e-mail, per case
    assert not Intake.objects.exists()


def test_batches_of_any_size_register_each_report_once(city, people):
    codes = _receive(city, 7)
    assert services_intake.intake_register_pending(batch_size=3) == 7
    assert services_intake.intake_register_pending(batch_size=3) == 0  # idempotent: nothing waits
    assert sorted(Case.objects.values_list("tracking_code", flat=True)) == sorted(codes)
    assert sorted(int(n[-5:]) for n in Case.objects.values_list("number", flat=True)) == list(range(1, 8))
    assert CaseEvent.objects.filter(action=CaseEvent.Action.REPORT).count() == 7


def test_a_report_registered_already_goes_one_by_one_and_is_not_doubled(city, people):
    first, second = _receive(city, 2)
    row = Intake.objects.get(tracking_code=first)
    services_intake._case_from(row)  # a worker died after the case, before deleting the row
    with mock.patch.object(services_report, "case_report", wraps=services_report.case_report) as one_by_one:
        assert services_intake.intake_register_pending() == 1
    assert one_by_one.call_count == 1  # only the taken code left the batch
    assert Case.objects.filter(tracking_code=first).count() == 1
    assert Case.objects.filter(tracking_code=second).exists()
    assert not Intake.objects.exists()


def test_a_report_whose_category_was_withdrawn_is_set_aside_and_the_batch_goes_on(city, people):
    gone, = _receive(city, 1, category="E0102")
    fine, = _receive(city, 1, category="E0302")
    Category.objects.filter(code="E0102").update(is_active=False)
    assert services_intake.intake_register_pending() == 1
    assert Case.objects.filter(tracking_code=fine).exists()
    left = Intake.objects.get()
    assert left.tracking_code == gone and left.failed_at is not None and left.failure
