"""Keeping dashboards.models.CaseRollup current.

`rollups_refresh` takes the cases listed in the rollup backlog (RollupBacklog:
a database trigger adds each new timeline event's case in the event's own
transaction), finds their (place, day) buckets and recomputes exactly those
buckets from the case table. A bucket is always recomputed whole, never
incremented, so running twice (or reading a case twice) changes nothing: the
task is idempotent. `rollups_rebuild` recomputes every bucket (`manage.py
rebuild_rollups`, and nightly: a subtree moved or merged by grid/services.py
changes cases' stored paths without a timeline event).

Why a backlog and not a watermark on event ids (issue #25): ids are taken
before commit, so a sweep batch (2,000 events in one transaction) can commit
after a refresh has read past its ids. A backlog row commits with its event, so
the refresh sees it exactly when the case change is visible, however late that
is. It deletes the rows it reads in one statement (DELETE … RETURNING) before
reading any case, so every case it takes is read afterwards at least as new as
the event that listed it; rows of transactions still open are neither read nor
deleted, and come up at the next run. The same code runs on SQLite, whose
single writer makes the race impossible there anyway.

Both hold the RollupState row lock, so two workers never interleave.
"""

from collections import defaultdict
from datetime import timedelta
from itertools import batched

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, TruncDate

from cases.models import Case

from .figures import TZ, case_aggregates, day_start
from .models import CaseRollup, Grain, RollupBacklog, RollupState

# Backlog rows taken per refresh; the rest wait for the next minute's run.
BATCH_BACKLOG = 20_000
INSERT_BATCH = 5_000


# Per grain: the bucket's place key and the columns the rows group by.
GRAIN_KEYS = {
    Grain.COMMUNITY: (Coalesce("community_id", "street_id", "district_id"),
                      ("district_id", "street_id", "community_id")),
    Grain.STREET: (Coalesce("street_id", "district_id"), ("district_id", "street_id")),
    Grain.FACET: (F("district_id"), ("district_id", "root_category", "category__triage", "channel")),
    Grain.HANDLER: (F("district_id"), ("district_id", "resolved_by_id")),
}


def _bucketed(cases, grain=Grain.COMMUNITY):
    place, _columns = GRAIN_KEYS[grain]
    return cases.annotate(place_key=place, day_key=TruncDate("created_at", tzinfo=TZ))


def _rows(cases, grain, places=None):
    """Rollup rows (unsaved) of `cases` at `grain`; only the buckets of `places` if given."""
    place, columns = GRAIN_KEYS[grain]
    if places is not None:
        cases = cases.alias(bucket_place=place).filter(bucket_place__in=places)
    if grain == Grain.FACET:
        cases = cases.annotate(root_category=Coalesce("category__parent_id", "category_id"))
    grouped = _bucketed(cases, grain).values("place_key", "day_key", *columns)
    for row in grouped.annotate(**case_aggregates()).order_by().iterator(chunk_size=INSERT_BATCH):
        fields = {"grain": grain, "place_id": row.pop("place_key"), "day": row.pop("day_key"),
                  "district_id": row.pop("district_id"), "street_id": row.pop("street_id", None),
                  "community_id": row.pop("community_id", None)}
        if grain == Grain.FACET:
            fields.update(category_id=row.pop("root_category"), triage=row.pop("category__triage"),
                          channel=row.pop("channel"))
        if grain == Grain.HANDLER:
            fields["handler_id"] = row.pop("resolved_by_id")
        yield CaseRollup(**fields, **row)


def _insert(rows):
    count = 0
    for chunk in batched(rows, INSERT_BATCH):
        CaseRollup.objects.bulk_create(chunk)
        count += len(chunk)
    return count


def _state(*, wait=True):
    """The state row, locked; None if another run holds it and `wait` is False."""
    RollupState.objects.get_or_create(pk=1)
    return RollupState.objects.select_for_update(skip_locked=not wait).filter(pk=1).first()


def recompute(paths):
    """Recompute, at every grain, the buckets of the given {(day, district, street, community)}."""
    by_day = defaultdict(lambda: defaultdict(set))
    for day, district, street, community in paths:
        keys = by_day[day]
        keys[Grain.COMMUNITY].add(community or street or district)
        keys[Grain.STREET].add(street or district)
        keys[Grain.FACET].add(district)
        keys[Grain.HANDLER].add(district)
    for day, keys in sorted(by_day.items()):
        cases = Case.objects.filter(created_at__gte=day_start(day),
                                    created_at__lt=day_start(day + timedelta(days=1)))
        for grain, places in keys.items():
            CaseRollup.objects.filter(grain=grain, day=day, place_id__in=places).delete()
            _insert(_rows(cases, grain, places))
    return len(paths)


def _paths(case_ids):
    paths = set()
    for chunk in batched(sorted(case_ids), 5_000):
        rows = _bucketed(Case.objects.filter(pk__in=chunk)).values_list(
            "day_key", "district_id", "street_id", "community_id")
        paths.update(rows)
    return paths


def _take_backlog(limit):
    """Delete the oldest `limit` backlog rows and return them as [case id], in one statement.

    Deleting before any case is read is what makes the refresh sound: a row is
    taken only once its event has committed, and every case read afterwards sees
    that commit. Rows of transactions still open are invisible here and stay.
    """
    table = connection.ops.quote_name(RollupBacklog._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} ORDER BY id LIMIT %s) "
                       "RETURNING case_id", [limit])
        return [case_id for (case_id,) in cursor.fetchall()]


@transaction.atomic
def rollups_refresh(*, now, batch=BATCH_BACKLOG):
    """Bring the buckets of the cases in the backlog up to date. Returns the buckets recomputed.

    While a rebuild (or another refresh) runs, this one steps aside: the next minute's run catches up.
    """
    state = _state(wait=False)
    if state is None:
        return 0
    taken = _take_backlog(batch)
    buckets = _paths(set(taken))
    recompute(buckets)
    # The figures are as fresh as now only once the backlog is emptied (of what has committed).
    if len(taken) < batch:
        state.refreshed_at = now
        state.save(update_fields=["refreshed_at"])
    return len(buckets)


@transaction.atomic
def rollups_rebuild(*, now):
    """Recompute every bucket from the case table. Returns the rows written."""
    state = _state()
    # Before reading any case (see _take_backlog): what this rebuild covers, and only that, leaves the backlog.
    RollupBacklog.objects.all().delete()
    CaseRollup.objects.all().delete()
    written = sum(_insert(_rows(Case.objects.all(), grain)) for grain in Grain)
    state.refreshed_at = state.rebuilt_at = now
    state.save()
    return written


def freshness():
    """When the rollups last caught up with the timeline (None: never built)."""
    state = RollupState.objects.filter(pk=1).first()
    return state.refreshed_at if state else None
