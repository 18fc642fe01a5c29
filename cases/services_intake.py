"""Residents' reports: received in one insert, registered as cases by a worker (收件 → 案卷建立).

`intake_receive` is what the public report page calls. It checks everything a
case would refuse (the form has already read the category and the place), keeps
the report as one row of cases.Intake and returns its tracking code; nothing
else is written, so the request costs one INSERT. On commit it asks Celery,
at most once per INTAKE_KICK_SECONDS, to run `intake_register_pending` a moment
later; the beat runs it too (every INTAKE_SWEEP_SECONDS), so a report received
while the broker is down waits in the table, never lost.

`intake_register_pending` turns rows into cases in batches (`_register_batch`):
it claims up to INTAKE_BATCH_SIZE rows with SKIP LOCKED (so workers running it
at once register each report once), reads their categories and places in a few
queries, and writes what `services_report.case_report` writes for a resident's report
(case number, path, reporter encrypted and masked, timeline, photo, outbox,
Open311 link) with one statement per table for the whole batch, then deletes
the rows, all in one transaction. A report the batch cannot take as it is (its
category or place changed since it was received, a mediation, text the form
would now refuse, a tracking code already on a case) goes through `case_report`
one by one (`_register`), which registers it or sets it aside with the reason;
so does the whole batch if its savepoint fails. tests/test_cases_intake_batch.py
compares every table the two paths write, row by row. One by one, a worker
registered 84–89 reports a second (issue #24); bench/cases_bench.py --only
register measures both.
"""

import hashlib
import logging
import time
import weakref

from django.core.cache import cache
from django.db import Error, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind, Building
from grid.selectors import can_manage_area
from grid.services import lock_trees
from portal import degraded, pooler
from portal.celery import send_by_name
from portal.errors import DomainError
from portal.hooks import Hook

from . import notifications, routing, services, services_report
from .models import (
    Case,
    CaseEvent,
    CaseKind,
    CaseNumberCounter,
    CasePhoto,
    Category,
    Channel,
    Intake,
    PhotoStage,
    Status,
)
from .privacy import reporter_columns
from .selectors import intakes_visible_to

log = logging.getLogger(__name__)

# Provided by cases.open311 (its AppConfig.ready()): links the Open311 filing to its new case.
filing_registered = Hook("cases.filing_registered", "filing_registered(*, case): a client's filing became `case`.")
# The same for a batch's filings at once (one statement, not one per filing).
filings_registered = Hook("cases.filings_registered",
                          "filings_registered(*, cases): a batch of clients' filings became these cases.")

PUBLIC_CHANNELS = (Channel.WEB, Channel.QR)
# Residents' channels that wait as received reports: the report page and Open311 client systems.
RECEIVED_CHANNELS = (*PUBLIC_CHANNELS, Channel.OPEN311)
# One Celery message per window however many reports arrive in it; the task runs
# when the window closes, so it finds every report of the window committed.
INTAKE_KICK_SECONDS = 1
INTAKE_KICK_KEY = "cases:intake-kick"
# Cases one run registers at most; the next run goes on.
INTAKE_BATCH = 2000
# Reports registered per transaction, with one statement per table.
INTAKE_BATCH_SIZE = 500


def intake_receive(*, category, description, channel, grid=None, building=None, community=None, street=None,
                   reporter_name="", reporter_phone="", photo=None, address="", latitude=None, longitude=None,
                   external_ref="", now=None):
    """Keep a resident's report and return it as an Intake (its `tracking_code` is the resident's).

    `category` is a code (or a Category); the place is a `building` or a `grid`
    (ids or instances), and the `community` and `street` the resident chose
    above it, if any, which it must lie under. The category must be active and
    the place an active grid or a building in one; all of it is checked by the INSERT itself (one statement,
    `_insert_checked`). Refusals are DomainErrors, as from `case_report`, and
    nothing is saved then.

    Open311 filings come here too (channel open311, cases/open311/services.py),
    with the `address`, point and `external_ref` (their token) the client gave,
    already checked; their `grid` may be the community the key serves.
    """
    now = now or timezone.now()
    if channel not in RECEIVED_CHANNELS:
        raise DomainError(_("Unknown channel."), code="bad_channel")
    code = category.code if isinstance(category, Category) else str(category or "")
    description = services.clean_text(description, field=_("description"), limit=services.DESCRIPTION_MAX)
    reporter_name = services.clean_text(reporter_name, field=_("name"), required=False, limit=50)
    reporter_phone = services.clean_text(reporter_phone, field=_("phone"), required=False, limit=20)
    services_report.check_reporter_phone(reporter_phone)
    place = {"building": _pk(building), "grid": _pk(grid), "community": _pk(community), "street": _pk(street)}
    if place["building"] is None and place["grid"] is None:
        raise DomainError(_("Choose where the matter is: a building, or at least the grid."), code="no_place")
    if photo:
        services.validate_photo(photo)
        photo = services.without_metadata(photo)
    address = services.clean_text(address, field=_("address"), required=False, limit=200)
    intake = Intake(
        tracking_code=services.new_tracking_code(), received_at=now, channel=channel, description=description,
        address=address, latitude=latitude, longitude=longitude, external_ref=(external_ref or "")[:64],
        **reporter_columns(name=reporter_name, phone=reporter_phone),
    )
    if photo:
        intake.photo.save(getattr(photo, "name", "") or "photo", photo, save=False)
    try:
        saved = _on_live_connection(lambda: _insert_checked(intake, code, place), landed=lambda: _landed(intake))
        if not saved:
            raise _refusal(code, place)
    except Exception:
        if intake.photo:
            intake.photo.delete(save=False)
        raise
    transaction.on_commit(_kick)
    return intake


def _on_live_connection(run, *, landed):
    """`run()`, the report's one statement, without Django's health check, on a connection retried once if dead.

    A persistent connection is checked at its first use in each request (CONN_HEALTH_CHECKS): a
    `SELECT 1` round trip, ~12 % of a report (issue #24). Outside a transaction the report's INSERT
    is the only statement, so the INSERT itself is the check: if it fails and the connection is no
    longer usable (the server restarted, failed over, or cut the session), the connection is closed
    and the statement run once more on a new one. An error on a live connection (a refused value,
    a timeout) is raised as before. A session cut between the INSERT's commit and its answer leaves
    the report kept: the retry then meets its own tracking code, and `landed()` (the code is
    stored) makes that a success rather than an error. `run()` runs as it is inside a transaction
    (BEGIN has checked the connection), on a new connection and on one already checked this request.
    """
    if (connection.in_atomic_block or connection.connection is None or connection.health_check_done
            or not connection.settings_dict.get("CONN_HEALTH_CHECKS")):
        return run()
    connection.health_check_done = True
    try:
        return run()
    except Error:
        if connection.is_usable():
            raise
        log.warning("The database connection was gone when a report arrived; reporting on a new connection.")
        connection.close()
    try:
        return run()
    except IntegrityError:
        if landed():
            return True
        raise


def _landed(intake):
    """Whether the report's tracking code is stored, waiting or already registered; sets `intake.pk` if waiting."""
    intake.pk = Intake.objects.filter(tracking_code=intake.tracking_code).values_list("pk", flat=True).first()
    if intake.pk is not None:
        intake._state.adding = False
        return True
    return Case.objects.filter(tracking_code=intake.tracking_code).exists()


def _pk(value):
    return getattr(value, "pk", value)


# The report, its category and its place in one statement: the row is written only
# if the category is active (and its family head too) and the place is an active
# grid (or a building in one) under the community and street given. The public report page
# is the busiest write the portal has; this keeps it to one round trip.
_INSERT = """
    INSERT INTO cases_intake (tracking_code, received_at, channel, category_id, grid_id, building_id,
                              description, address, latitude, longitude, external_ref,
                              reporter_name, reporter_name_masked, reporter_phone,
                              reporter_phone_masked, photo, failure)
    SELECT %(tracking_code)s, %(received_at)s, %(channel)s, cat.id, {grid_value}, {building_value},
           %(description)s, %(address)s, %(latitude)s, %(longitude)s, %(external_ref)s,
           %(reporter_name)s, %(reporter_name_masked)s, %(reporter_phone)s,
           %(reporter_phone_masked)s, %(photo)s, ''
    FROM cases_category cat
    LEFT JOIN cases_category head ON head.id = cat.parent_id
    CROSS JOIN {place_from}
    JOIN grid_area above ON above.id = g.parent_id
    WHERE cat.code = %(code)s AND cat.is_active AND (cat.parent_id IS NULL OR head.is_active)
      AND g.is_active AND (g.kind = 'grid' OR (%(channel)s = 'open311' AND g.kind = 'community')) {place_where}
    RETURNING id
"""


def _insert_checked(intake, code, place):
    """INSERT the row if category and place check out; sets `intake.pk`. Returns whether it did."""
    if place["building"] is not None:
        place_from = "grid_building b JOIN grid_area g ON g.id = b.grid_id"
        wheres = ["b.id = %(building)s"]
        grid_value, building_value = "NULL", "b.id"
        if place["grid"] is not None:
            wheres.append("g.id = %(grid)s")
    else:
        place_from = "grid_area g"
        wheres = ["g.id = %(grid)s"]
        grid_value, building_value = "g.id", "NULL"
    # The community and street chosen above the grid.
    if place["community"] is not None:
        wheres.append("g.parent_id = %(community)s")
    if place["street"] is not None:
        wheres.append("above.parent_id = %(street)s")
    sql = _INSERT.format(grid_value=grid_value, building_value=building_value, place_from=place_from,
                         place_where="".join(f" AND {w}" for w in wheres))
    fields = {f.attname: f for f in Intake._meta.concrete_fields}
    params = {name: fields[name].get_db_prep_save(getattr(intake, name), connection)
              for name in ("tracking_code", "received_at", "channel", "description", "address", "latitude",
                           "longitude", "external_ref", "reporter_name", "reporter_name_masked", "reporter_phone",
                           "reporter_phone_masked")}
    params["photo"] = intake.photo.name or ""
    params.update(code=code, **{k: v for k, v in place.items() if v is not None})
    row = _fetch_one_prepared(sql, params)
    if row is None:
        return False
    intake.pk = row[0]
    intake._state.adding = False
    intake._state.db = connection.alias
    return True


# Types of the statement's parameters, for PREPARE (an INSERT … SELECT does not infer them).
_PARAM_TYPES = {
    "tracking_code": "varchar", "received_at": "timestamptz", "channel": "varchar", "description": "text",
    "address": "varchar", "latitude": "numeric", "longitude": "numeric", "external_ref": "varchar",
    "reporter_name": "text", "reporter_name_masked": "varchar", "reporter_phone": "text",
    "reporter_phone_masked": "varchar", "photo": "varchar", "code": "varchar",
    "building": "bigint", "grid": "bigint", "community": "bigint", "street": "bigint",
}
# Statements prepared on each PostgreSQL session (a new connection starts with none).
_prepared = weakref.WeakKeyDictionary()


def _fetch_one_prepared(sql, params):
    """Run `sql` (%(name)s placeholders) as a prepared statement on PostgreSQL; its first row.

    Planning the five-table INSERT took longer than running it (0.76 ms against
    0.45 ms a report, measured on the large city); a statement prepared once per
    session is planned once. Django's client-side binding cannot prepare, so
    straight to PostgreSQL this does it in SQL: PREPARE (once per connection and
    shape; it survives rollbacks) and EXECUTE. Behind PgBouncer in transaction
    mode a session's SQL PREPARE is not the next transaction's (portal/pooler.py):
    there psycopg prepares it through the protocol, which PgBouncer >= 1.21 with
    max_prepared_statements tracks, or, with an older PgBouncer, it runs unprepared.
    Other databases run the statement as it is.
    """
    how = pooler.prepared_statements(connection) if connection.vendor == "postgresql" else None
    if how == "protocol":
        import psycopg

        connection.ensure_connection()
        # Server-side binding (Django's cursors bind client-side, which never prepares); Django's
        # error classes as from any cursor, so a duplicate tracking code is an IntegrityError.
        typed = sql
        for name, type_ in _PARAM_TYPES.items():  # typed as PREPARE types them: one type per parameter
            typed = typed.replace(f"%({name})s", f"%({name})s::{type_}")
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(typed, params, prepare=True)
            return cursor.fetchone()
    with connection.cursor() as cursor:
        if how == "sql":
            _execute_sql_prepared(cursor, sql, params)
        else:
            cursor.execute(sql, params)
        return cursor.fetchone()


def _execute_sql_prepared(cursor, sql, params):
    names = [name for name in _PARAM_TYPES if f"%({name})s" in sql]
    statement = "portal_intake_" + hashlib.sha1(sql.encode()).hexdigest()[:16]
    done = _prepared.setdefault(connection.connection, set())
    if statement not in done:
        positional = sql
        for number, name in enumerate(names, 1):
            positional = positional.replace(f"%({name})s", f"${number}")
        types = ", ".join(_PARAM_TYPES[name] for name in names)
        cursor.execute(f"PREPARE {statement} ({types}) AS {positional}")
        done.add(statement)
    cursor.execute(f"EXECUTE {statement} ({', '.join(['%s'] * len(names))})", [params[name] for name in names])


def _refusal(code, place):
    """Why the checked INSERT wrote nothing, as the form would say it (a second query, on refusals only)."""
    active = Q(parent__isnull=True) | Q(parent__is_active=True)
    if not Category.objects.filter(active, code=code, is_active=True).exists():
        return DomainError(_("Choose a category from the list."), code="unknown_category")
    return DomainError(_("This place does not fit the choices above it: choose again."), code="bad_place")


# The process that opened the shared window knows it stays open until then (monotonic clock; set from
# before the add, so it ends no later than the key): until that moment the add would be refused anyway,
# and a report skips the round trip to Redis (issue #24: a report costs one INSERT, not one more call).
_window_opened_here_until = 0.0
_clock = time.monotonic


def _kick():
    """Ask for a registration run unless one was asked for within the window. Never raises."""
    global _window_opened_here_until
    moment = _clock()
    if moment < _window_opened_here_until:
        return
    if degraded.cache_usable():
        try:
            if not cache.add(INTAKE_KICK_KEY, 1, timeout=INTAKE_KICK_SECONDS):
                return
            _window_opened_here_until = moment + INTAKE_KICK_SECONDS
        except Exception as exc:  # noqa: BLE001 — a cache outage only costs an extra message
            degraded.cache_failed("the intake kick's once-a-second window", exc)
    notifications.try_enqueue(
        # By name: cases.tasks imports this module.
        lambda: send_by_name("cases.tasks.register_intake", countdown=INTAKE_KICK_SECONDS, retry=False), 1,
        what="report(s)",
    )


def intake_register_pending(*, limit=INTAKE_BATCH, batch_size=INTAKE_BATCH_SIZE):
    """Register waiting reports as cases, oldest first, in batches; returns how many became cases."""
    registered = taken = 0
    while taken < limit:
        outcome = _register_batch(min(batch_size, limit - taken))
        if outcome is None:
            break
        claimed, made = outcome
        taken += claimed
        registered += made
    return registered


def intake_register_one_by_one(*, limit=INTAKE_BATCH):
    """Register waiting reports through `case_report`, one transaction each: what the batch does
    for the rows it cannot take (the equivalence test and the bench compare the two paths)."""
    registered = 0
    for _step in range(limit):
        outcome = _register_next()
        if outcome is None:
            break
        registered += outcome
    return registered


@transaction.atomic
def _register_batch(size):
    """Claim up to `size` waiting rows and register them: (rows claimed, cases made), or None if none waits.

    Everything happens in this one transaction: a worker that dies half-way leaves
    the rows claimed by nobody and the counter of case numbers where it was.
    """
    intakes = list(Intake.objects.select_for_update(skip_locked=True, of=("self",))
                   .filter(failed_at__isnull=True).order_by("pk")[:size])
    if not intakes:
        return None
    fast, slow = _plan_batch(intakes)
    made = 0
    if fast:
        try:
            with transaction.atomic():
                made = _write_batch(fast)
        except Exception:  # noqa: BLE001 — a tracking code taken meanwhile, a database refusal…
            # The savepoint is rolled back (case numbers included): each row then goes
            # through case_report, which registers it or sets it aside with the reason.
            log.warning("a batch of %d received reports went one by one", len(fast), exc_info=True)
            made = 0
            slow = sorted([row.intake for row in fast] + slow, key=lambda intake: intake.pk)
    for intake in slow:
        made += _register(intake)
    return len(intakes), made


class _Row:
    """One report the batch takes as it is: the intake and the case's fields, as case_report sets them."""

    __slots__ = ("intake", "category", "fields")

    def __init__(self, intake, category, fields):
        self.intake, self.category, self.fields = intake, category, fields


def _plan_batch(intakes):
    """([_Row], [Intake]): the rows the batch writes itself and those left to case_report.

    A row is taken only if case_report would accept it unchanged: an active,
    non-mediation category; an active grid (or, for Open311, community) in a
    district tree locked here as case_report locks it; text and coordinates it
    would keep as they are; a tracking code on no case yet.
    """
    categories = {c.pk: c for c in Category.objects.filter(pk__in={i.category_id for i in intakes})}
    buildings = {b.pk: b for b in Building.objects.filter(pk__in={i.building_id for i in intakes if i.building_id})}
    area_of = {i.pk: buildings[i.building_id].grid_id if i.building_id in buildings else i.grid_id for i in intakes}
    # The district trees' shared locks first, then the places' paths read under them: a
    # tree move or merge waits for the batch, as for case_report (services_report._place).
    trees = dict(Area.objects.filter(pk__in=set(area_of.values())).values_list("pk", "tree_id"))
    locked = lock_trees(*trees.values(), shared=True)
    areas = Area.objects.filter(pk__in=set(trees)).select_related(services_report._CHAIN).in_bulk()
    taken = set(Case.objects.filter(tracking_code__in=[i.tracking_code for i in intakes])
                .values_list("tracking_code", flat=True))
    fast, slow = [], []
    for intake in intakes:
        category = categories.get(intake.category_id)
        area = areas.get(area_of[intake.pk])
        building = buildings.get(intake.building_id)
        takeable = (
            category is not None and category.is_active and not category.is_mediation
            and area is not None and area.is_active and area.kind in (AreaKind.GRID, AreaKind.COMMUNITY)
            and (not locked or area.tree_id == trees.get(area.pk))
            and (intake.building_id is None or building is not None)
            and intake.channel in RECEIVED_CHANNELS and intake.tracking_code not in taken
        )
        fields = None
        if takeable:
            try:
                fields = _case_fields(intake, category, area, building)
            except Exception:  # noqa: BLE001 — case_report meets it again in its savepoint and says why
                log.warning("received report %s left to case_report", intake.pk, exc_info=True)
        if fields is None:
            slow.append(intake)
        else:
            taken.add(intake.tracking_code)
            fast.append(_Row(intake, category, fields))
    return fast, slow


def _case_fields(intake, category, area, building):
    """The case's fields as case_report would write them, or None where it might say otherwise."""
    try:
        description = services.clean_text(intake.description, field="", limit=services.DESCRIPTION_MAX)
        address = services.clean_text(intake.address, field="", required=False, limit=200)
        name = services.clean_text(intake.reporter_name, field="", required=False, limit=50)
        phone = services.clean_text(intake.reporter_phone, field="", required=False, limit=20)
        latitude = services_report._coordinate(intake.latitude, -90, 90, "")
        longitude = services_report._coordinate(intake.longitude, -180, 180, "")
    except DomainError:
        return None
    try:
        services_report.check_reporter_phone(phone)
    except DomainError:
        return None
    if not address and building is not None:
        address = building.address or str(building)
    path = dict.fromkeys(("district_id", "street_id", "community_id", "grid_id"), None)
    node = area
    while node is not None:
        path[f"{node.kind}_id"] = node.pk
        node = node.parent if node.parent_id else None
    now = intake.received_at
    return dict(
        tracking_code=intake.tracking_code, kind=CaseKind.ORDINARY, channel=intake.channel,
        external_ref=(intake.external_ref or "")[:64],
        reporter_kind=services_report.REPORTER_BY_CHANNEL[intake.channel], reporter=None,
        **reporter_columns(name=name, phone=phone), category=category, description=description,
        address=address, building=building, unit=None, latitude=latitude, longitude=longitude,
        status=Status.REPORTED, responsible_level=AreaKind.COMMUNITY if path["community_id"] else AreaKind.GRID,
        due_at=services._deadline(category, "dispatch", now), created_at=now, **path,
    )


def _case_numbers(days):
    """{day: [numbers]} for `days` ({day: how many}): services.next_case_number's counter, counted on
    by the whole batch in one statement a day (the row stays locked until the transaction ends)."""
    quote = connection.ops.quote_name
    table, day_column, last_column = (quote(CaseNumberCounter._meta.db_table),
                                      quote(CaseNumberCounter._meta.get_field("day").column),
                                      quote(CaseNumberCounter._meta.get_field("last").column))
    numbers = {}
    with connection.cursor() as cursor:
        for day, count in sorted(days.items()):
            cursor.execute(
                f"INSERT INTO {table} ({day_column}, {last_column}) VALUES (%s, %s) "
                f"ON CONFLICT ({day_column}) "
                f"DO UPDATE SET {last_column} = {table}.{last_column} + EXCLUDED.{last_column} "
                f"RETURNING {last_column}",
                [day, count],
            )
            last = cursor.fetchone()[0]
            numbers[day] = [f"{day:%Y%m%d}{n:05d}" for n in range(last - count + 1, last + 1)]
    return numbers


def _write_batch(fast):
    """The batch's cases, timeline events, photos, outbox rows and Open311 links; its rows deleted.

    One statement per table (one per day for the counter). Returns how many cases.
    """
    days = {}
    for row in fast:
        day = timezone.localdate(row.intake.received_at)
        days[day] = days.get(day, 0) + 1
    numbers = {day: iter(numbered) for day, numbered in _case_numbers(days).items()}
    cases = Case.objects.bulk_create([
        Case(number=next(numbers[timezone.localdate(row.intake.received_at)]), **row.fields) for row in fast
    ])
    if any(case.pk is None for case in cases):
        raise RuntimeError("the database did not return the new cases' ids")
    events = CaseEvent.objects.bulk_create([
        CaseEvent(case=case, action=CaseEvent.Action.REPORT, from_status="", to_status=Status.REPORTED, actor=None,
                  at=case.created_at, note="", is_public=True, data={"channel": case.channel})
        for case in cases
    ])
    photos = [CasePhoto(case=case, event=event, stage=PhotoStage.REPORT, image=row.intake.photo.name,
                        uploaded_at=case.created_at)
              for row, case, event in zip(fast, cases, events) if row.intake.photo]
    if photos:
        CasePhoto.objects.bulk_create(photos)
    _notify_batch(cases)
    filings = [case for case in cases if case.channel == Channel.OPEN311]
    if filings:
        filings_registered(cases=filings)
    Intake.objects.filter(pk__in=[row.intake.pk for row in fast]).delete()
    return len(cases)


def _notify_batch(cases):
    """What case_report tells the staff responsible for each new report, the batch's in one write."""
    staff = routing.recipients_by_area({(c.responsible_level, getattr(c, f"{c.responsible_level}_id"))
                                        for c in cases})
    rows = []
    for case in cases:
        recipients = staff.get((case.responsible_level, getattr(case, f"{case.responsible_level}_id")), ())
        rows += notifications.build_rows(
            recipients=recipients, case_id=case.pk, now=case.created_at,
            subject=_("New report to register: %(number)s") % {"number": case.number},
            body=services._case_link_text(case),
        )
    notifications.save_rows(rows)


@transaction.atomic
def _register_next():
    """Claim the oldest waiting row and register it: 1 if a case was made, 0 if not, None if none waits."""
    intake = (Intake.objects.select_for_update(skip_locked=True, of=("self",)).select_related("category")
              .filter(failed_at__isnull=True).order_by("pk").first())
    if intake is None:
        return None
    return _register(intake)


def _register(intake):
    try:
        with transaction.atomic():
            _case_from(intake)
    except DomainError as error:
        _fail(intake, str(error))
        return 0
    except IntegrityError as error:
        # Registered already (SQLite has no SKIP LOCKED: two runs can read the same row)?
        if not Case.objects.filter(tracking_code=intake.tracking_code, created_at=intake.received_at,
                                   description=intake.description).exists():
            log.exception("received report %s: integrity error while registering", intake.pk)
            _fail_unexpected(intake, error)
            return 0
        Intake.objects.filter(pk=intake.pk).delete()
        return 0
    except Exception as error:  # noqa: BLE001 — one bad row must not stop every later report
        # The savepoint is rolled back; mark the row so the next run goes on to the others
        # and staff see it under Received reports.
        log.exception("received report %s: unexpected error while registering", intake.pk)
        _fail_unexpected(intake, error)
        return 0
    Intake.objects.filter(pk=intake.pk).delete()
    return 1


def _case_from(intake):
    """The case of a received report: its tracking code, its time, its photo file as stored.

    An Open311 filing's case is handed to `filing_registered` in the same transaction,
    so the client's token answers with the case number from the moment the case exists.
    """
    case = services_report.case_report(
        category=intake.category, description=intake.description, channel=intake.channel,
        grid=intake.grid if intake.building_id is None else None, building=intake.building,
        address=intake.address, latitude=intake.latitude, longitude=intake.longitude,
        external_ref=intake.external_ref,
        reporter_name=intake.reporter_name, reporter_phone=intake.reporter_phone,
        stored_photos=[intake.photo.name] if intake.photo else (), tracking_code=intake.tracking_code,
        now=intake.received_at,
    )
    if intake.channel == Channel.OPEN311:
        filing_registered(case=case)
    return case


def _fail_unexpected(intake, error):
    _fail(intake, _("It could not be registered (%(error)s); place it by hand.") % {"error": type(error).__name__})


def _fail(intake, reason):
    log.warning("received report %s could not be registered: %s", intake.pk, reason)
    Intake.objects.filter(pk=intake.pk).update(failed_at=timezone.now(), failure=reason[:300])


@transaction.atomic
def intake_retry(*, intake, acting_user, category=None, grid=None, building=None):
    """Staff place a report the worker could not register (new category or place) and register it.

    Returns the new case; a refusal (DomainError) leaves the row as it was.
    """
    row = intakes_visible_to(acting_user).select_for_update(of=("self",)).filter(pk=intake.pk).first()
    if row is None:
        raise DomainError(_("This report has been registered already or is not yours to place."), code="gone")
    if building is not None and grid is not None and building.grid_id != grid.pk:
        raise DomainError(_("That building is not in the chosen grid."), code="bad_place")
    if category is not None:
        row.category = category
    if building is not None:
        row.building, row.grid = building, None
    elif grid is not None:
        row.grid, row.building = grid, None
    place = row.building.grid if row.building_id else row.grid
    if not can_manage_area(acting_user, place):
        raise DomainError(_("You may not report for this place."), code="forbidden")
    case = _case_from(row)
    Intake.objects.filter(pk=row.pk).delete()
    return case
