"""Keeping dashboards.models.CaseRollup current.

`rollups_refresh` reads the case timeline (CaseEvent) past the stored
watermark, finds the (place, day) buckets of the cases it touched and
recomputes exactly those buckets from the case table. A bucket is always
recomputed whole, never incremented, so running twice (or re-reading events)
changes nothing: the task is idempotent. `rollups_rebuild` recomputes every
bucket (`manage.py rebuild_rollups`, and nightly: a subtree moved or merged by
grid/services.py changes cases' stored paths without a timeline event).

Both hold the RollupState row lock, so two workers never interleave.
"""

from collections import defaultdict
from datetime import timedelta
from itertools import batched

from django.db import transaction
from django.db.models import F, Max
from django.db.models.functions import Coalesce, TruncDate

from cases.models import Case, CaseEvent

from .figures import TZ, case_aggregates, day_start
from .models import CaseRollup, Grain, RollupState

# Events may commit out of id order (ids are taken before commit); re-reading
# this many ids behind the watermark catches the late ones (harmless: recomputes are idempotent).
OVERLAP_EVENTS = 500
BATCH_EVENTS = 20_000
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


@transaction.atomic
def rollups_refresh(*, now, batch=BATCH_EVENTS):
    """Bring the buckets touched by new timeline events up to date. Returns the buckets recomputed.

    While a rebuild (or another refresh) runs, this one steps aside: the next minute's run catches up.
    """
    state = _state(wait=False)
    if state is None:
        return 0
    newest = CaseEvent.objects.aggregate(newest=Max("id"))["newest"] or 0
    if newest <= state.last_event_id:
        state.refreshed_at = now
        state.save(update_fields=["refreshed_at"])
        return 0
    events = CaseEvent.objects.filter(id__gt=max(0, state.last_event_id - OVERLAP_EVENTS)).order_by("id")
    read = list(events.values_list("id", "case_id")[:batch])
    buckets = _paths({case_id for _, case_id in read})
    recompute(buckets)
    state.last_event_id = max(state.last_event_id, read[-1][0])
    # The figures are as fresh as now only once the timeline is read to its end.
    if state.last_event_id >= newest:
        state.refreshed_at = now
    state.save(update_fields=["last_event_id", "refreshed_at"])
    return len(buckets)


@transaction.atomic
def rollups_rebuild(*, now):
    """Recompute every bucket from the case table. Returns the rows written."""
    state = _state()
    newest = CaseEvent.objects.aggregate(newest=Max("id"))["newest"] or 0
    CaseRollup.objects.all().delete()
    written = sum(_insert(_rows(Case.objects.all(), grain)) for grain in Grain)
    state.last_event_id = newest
    state.refreshed_at = state.rebuilt_at = now
    state.save()
    return written


def freshness():
    """When the rollups last caught up with the timeline (None: never built)."""
    state = RollupState.objects.filter(pk=1).first()
    return state.refreshed_at if state else None
