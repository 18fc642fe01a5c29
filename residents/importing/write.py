"""Resident import, part 3: the jobs and the write (居民信息导入 · 写入).

`import_preview`, `import_confirm`, `import_claim` and `import_run` move an
ImportJob through its states; `_write` is the one transaction that loads a
checked Plan (households, residents, tags, events, the access log).
"""

import json
import logging
import time
from collections import defaultdict

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import Area, AreaKind, Unit
from grid.services import lock_trees, path_values
from portal.celery import send_by_name
from portal.errors import DomainError

from ..identity import blind_index, mask_id_number, mask_phone
from ..models import (
    AccessAction,
    AccessField,
    AccessLog,
    Household,
    ImportJob,
    Registration,
    Relation,
    Resident,
    ResidentEvent,
    ResidentStatus,
    Tag,
)
from ..selectors import can_edit_residents, resident_scope, tags_visible_to
from ..services import refresh_visit_due
from .parse import _too_large, read_sheet
from .validate import PLAIN, _chunks, check

log = logging.getLogger(__name__)

BATCH = 1000


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
                # SET LOCAL, in a transaction of its own: a session-level SET would stay on the server
                # connection for PgBouncer's next client (transaction pooling, README).
                cursor.execute("BEGIN")
                try:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                    cursor.execute(self.sql, [processed, self.job_id, ImportJob.Status.RUNNING])
                except DatabaseError:
                    cursor.execute("ROLLBACK")
                    raise
                cursor.execute("COMMIT")
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
