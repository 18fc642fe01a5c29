"""Running behind PgBouncer in transaction mode (issue #24 item 4; README "Connection pooling").

In transaction mode PgBouncer hands a server connection to a client for one transaction only; the
next transaction of the same client may run on another server connection, and another client may
run on this one. Whatever lives in a server *session* across transactions is therefore unsafe:

- server-side cursors held across transactions (Django's `.iterator()` outside a transaction
  declares one WITH HOLD and fetches from it in later statements): DISABLE_SERVER_SIDE_CURSORS;
- prepared statements: SQL-level PREPARE/EXECUTE (the intake's `_fetch_one_prepared`) is invisible to
  PgBouncer, so it runs unprepared behind it; protocol-level prepared statements (psycopg's
  `prepare=True`) work with PgBouncer >= 1.21 and `max_prepared_statements` > 0, which
  DATABASE_POOLER_PREPARED_STATEMENTS says the pooler has; otherwise psycopg never prepares
  (Django's default `prepare_threshold=None`);
- session-level SET and advisory locks: the portal takes transaction-level ones only
  (`pg_advisory_xact_lock`, `SET LOCAL`).
"""

PGBOUNCER = "pgbouncer"
# With prepared statements on the pooler, psycopg prepares only what asks for it (prepare=True):
# a threshold no statement reaches by repetition.
ONLY_WHEN_ASKED = 2**31 - 1


def configure(databases, pooler, *, prepared_statements=False):
    """Adjust the PostgreSQL entries of DATABASES for `pooler` ("" or "pgbouncer"), in place."""
    if not pooler:
        return databases
    if pooler != PGBOUNCER:
        raise ValueError(f"DATABASE_POOLER must be empty or {PGBOUNCER!r}, not {pooler!r}")
    for database in databases.values():
        if database["ENGINE"] != "django.db.backends.postgresql":
            continue
        database["POOLER"] = pooler  # read by prepared_statements(); Django ignores the key
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
        options = database.setdefault("OPTIONS", {})
        options["prepare_threshold"] = ONLY_WHEN_ASKED if prepared_statements else None
        options.pop("pool", None)  # one pool is enough: PgBouncer's
    return databases


def prepared_statements(connection):
    """How `connection` may keep a statement prepared: "sql" (PREPARE/EXECUTE, straight to
    PostgreSQL), "protocol" (psycopg's prepare=True, PgBouncer >= 1.21) or None (not at all)."""
    settings_dict = connection.settings_dict
    if not settings_dict.get("POOLER"):
        return "sql"
    return "protocol" if settings_dict["OPTIONS"].get("prepare_threshold") == ONLY_WHEN_ASKED else None
