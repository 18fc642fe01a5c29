"""Let the database keep the points ledger honest, whatever the code does.

- Entries and transactions are append-only: UPDATE and DELETE are refused
  (PostgreSQL: also DELETE; SQLite: UPDATE only, so Django's flush, which
  deletes row by row there, still works for the zero-install default).
- An account's cached balance is maintained by a trigger on entry insert, so
  it cannot drift from the entries; the accounts' check constraints then refuse
  a negative balance on a person's account inside the same statement.
- PostgreSQL only: a deferred constraint trigger refuses, at commit, any
  transaction whose entries do not sum to zero.

Note for later migrations: on SQLite, altering these tables rebuilds them and
drops the triggers; such a migration must call add_triggers again.
"""

from django.db import migrations

POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION volunteers_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'the points ledger is append-only (%)', TG_TABLE_NAME;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION volunteers_entry_to_balance() RETURNS trigger AS $$
    BEGIN
        UPDATE volunteers_account SET balance = balance + NEW.amount WHERE id = NEW.account_id;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION volunteers_transaction_balanced() RETURNS trigger AS $$
    DECLARE total bigint;
    BEGIN
        SELECT COALESCE(SUM(amount), 0) INTO total FROM volunteers_entry WHERE transaction_id = NEW.transaction_id;
        IF total <> 0 THEN
            RAISE EXCEPTION 'points transaction % does not balance (sum %)', NEW.transaction_id, total;
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS volunteers_entry_no_change ON volunteers_entry",
    """CREATE TRIGGER volunteers_entry_no_change BEFORE UPDATE OR DELETE ON volunteers_entry
       FOR EACH ROW EXECUTE FUNCTION volunteers_append_only()""",
    "DROP TRIGGER IF EXISTS volunteers_transaction_no_change ON volunteers_ledgertransaction",
    """CREATE TRIGGER volunteers_transaction_no_change BEFORE UPDATE OR DELETE ON volunteers_ledgertransaction
       FOR EACH ROW EXECUTE FUNCTION volunteers_append_only()""",
    "DROP TRIGGER IF EXISTS volunteers_entry_balance ON volunteers_entry",
    """CREATE TRIGGER volunteers_entry_balance AFTER INSERT ON volunteers_entry
       FOR EACH ROW EXECUTE FUNCTION volunteers_entry_to_balance()""",
    "DROP TRIGGER IF EXISTS volunteers_entry_balanced ON volunteers_entry",
    """CREATE CONSTRAINT TRIGGER volunteers_entry_balanced AFTER INSERT ON volunteers_entry
       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION volunteers_transaction_balanced()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS volunteers_entry_no_change ON volunteers_entry",
    "DROP TRIGGER IF EXISTS volunteers_transaction_no_change ON volunteers_ledgertransaction",
    "DROP TRIGGER IF EXISTS volunteers_entry_balance ON volunteers_entry",
    "DROP TRIGGER IF EXISTS volunteers_entry_balanced ON volunteers_entry",
    "DROP FUNCTION IF EXISTS volunteers_append_only()",
    "DROP FUNCTION IF EXISTS volunteers_entry_to_balance()",
    "DROP FUNCTION IF EXISTS volunteers_transaction_balanced()",
]
SQLITE = [
    "DROP TRIGGER IF EXISTS volunteers_entry_no_update",
    """CREATE TRIGGER volunteers_entry_no_update BEFORE UPDATE ON volunteers_entry
       BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only'); END""",
    "DROP TRIGGER IF EXISTS volunteers_transaction_no_update",
    """CREATE TRIGGER volunteers_transaction_no_update BEFORE UPDATE ON volunteers_ledgertransaction
       BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only'); END""",
    "DROP TRIGGER IF EXISTS volunteers_entry_balance",
    """CREATE TRIGGER volunteers_entry_balance AFTER INSERT ON volunteers_entry
       BEGIN UPDATE volunteers_account SET balance = balance + NEW.amount WHERE id = NEW.account_id; END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS volunteers_entry_no_update",
    "DROP TRIGGER IF EXISTS volunteers_transaction_no_update",
    "DROP TRIGGER IF EXISTS volunteers_entry_balance",
]


def add_triggers(apps, schema_editor):
    for sql in {"postgresql": POSTGRES, "sqlite": SQLITE}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def drop_triggers(apps, schema_editor):
    for sql in {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0001_initial")]

    operations = [migrations.RunPython(add_triggers, drop_triggers)]
