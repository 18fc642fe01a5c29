"""Issue #20: every history table refuses UPDATE and DELETE in the database, on the
active backend (run this file on SQLite and on PostgreSQL).

The rows are written with made-up foreign keys: the database checks those only at
commit (Django's foreign keys are deferred), and the savepoint around each test is
rolled back before that, so no parent rows are needed.
"""

import datetime

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

AT = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)
MISSING = 987654321  # a parent id no fixture makes

HISTORY = {
    "cases.CaseEvent": {"case_id": MISSING, "action": "note", "at": AT},
    "cases.CaseDeadline": {"case_id": MISSING, "stage": "handle", "kind": "first", "due_at": AT, "at": AT},
    "cases.CaseRating": {"case_id": MISSING, "rating": 4, "at": AT},
    "residents.ResidentEvent": {"resident_id": MISSING, "action": "add", "at": AT},
    "cases.MediationPartyAccess": {"actor_id": MISSING, "party_id": MISSING, "field": "phone", "reason": "通知",
                                   "at": AT},
    "residents.AccessLog": {"actor_id": MISSING, "action": "export", "field": "all", "reason": "核对", "at": AT},
    "participation.Event": {"proposal_id": MISSING, "action": "create", "at": AT},
    "participation.ProjectUpdate": {"project_id": MISSING, "by_id": MISSING, "note": "进展", "progress": 10, "at": AT},
    "volunteers.LedgerTransaction": {"kind": "adjust", "memo": "测试", "at": AT},
    "volunteers.Entry": {"transaction_id": MISSING, "account_id": MISSING, "amount": 5, "at": AT},
    "risks.RiskAssessment": {"risk_id": MISSING, "method": "matrix", "likelihood": 4, "severity": 4, "score": 16,
                             "grade": "2orange", "review_on": AT.date(), "at": AT},
    "grid.AreaEvent": {"area_id": MISSING, "action": "rename", "at": AT, "details": {"name": "幸福社区"}},
}


@pytest.mark.django_db
@pytest.mark.parametrize("label", list(HISTORY))
def test_history_tables_refuse_update_and_delete_in_the_database(label):
    model = apps.get_model(label)
    table = connection.ops.quote_name(model._meta.db_table)
    with transaction.atomic():
        row = model.objects.create(**HISTORY[label])
        with pytest.raises(DatabaseError, match="append-only|immutable"), transaction.atomic():
            model.objects.filter(pk=row.pk).update(at=AT + datetime.timedelta(days=1))
        with pytest.raises(DatabaseError, match="append-only|immutable"), transaction.atomic():
            model.objects.filter(pk=row.pk).delete()
        with pytest.raises(DatabaseError, match="append-only|immutable"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [row.pk])
        assert model.objects.filter(pk=row.pk, at=AT).exists()
        transaction.set_rollback(True)  # before commit checks the made-up parents


@pytest.mark.django_db
def test_place_history_lets_go_of_a_deleted_place_and_nothing_else():
    """Deleting a place sets its events' area to NULL (on_delete=SET_NULL): that one UPDATE is allowed."""
    model = apps.get_model("grid.AreaEvent")
    with transaction.atomic():
        row = model.objects.create(area_id=MISSING, action="rename", at=AT, details={"name": "幸福社区"})
        model.objects.filter(pk=row.pk).update(area_id=None)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            model.objects.filter(pk=row.pk).update(area_id=MISSING)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            model.objects.filter(pk=row.pk).update(details={"name": "改写"})
        assert model.objects.get(pk=row.pk).details == {"name": "幸福社区"}
        transaction.set_rollback(True)
