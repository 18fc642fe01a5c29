"""Reading from a streaming replica (issue #24 item 3).

With `DATABASE_REPLICA_URL` set, the read-heavy pages — the dashboards and their exports, the
command screen, the case export and the printed notice boards — read from the replica, and
everything else from the primary. Writes always go to the primary. A user who has just changed
something (any unsafe request) reads from the primary for `REPLICA_STICKY_SECONDS` afterwards,
so the page after a save never shows the state before it; so does every request in which the
replica has fallen behind by more than `REPLICA_MAX_LAG_SECONDS`.

Without the setting there is no "replica" database and nothing here changes a query.
"""

from contextvars import ContextVar
from fnmatch import fnmatchcase
from time import time

import logging

from django.conf import settings
from django.db import DatabaseError, connections

ALIAS = "replica"
STICKY_COOKIE = "portal_primary_until"
_reading_replica = ContextVar("reading_replica", default=False)
log = logging.getLogger(__name__)


def replica_configured():
    return ALIAS in settings.DATABASES


class ReplicaRouter:
    """Reads go to the replica only inside a request the middleware marked; writes never do."""

    def db_for_read(self, model, **hints):
        if _reading_replica.get() and replica_configured():
            return ALIAS
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two servers

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != ALIAS  # the replica follows the primary's schema by streaming


def replica_lag_seconds():
    """How far the replica's replay is behind, in seconds (0 when idle and caught up); None
    without a replica, or when it cannot say (not PostgreSQL, not in recovery, not answering:
    a replica that is down sends the pages back to the primary instead of failing them)."""
    if not replica_configured():
        return None
    connection = connections[ALIAS]
    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() "
                "THEN 0 ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
            )
            in_recovery, lag = cursor.fetchone()
    except DatabaseError as exc:
        log.warning("replica not answering, reading from the primary: %s", exc)
        connection.close_if_unusable_or_obsolete()
        return None
    if not in_recovery:
        return None
    return max(0.0, float(lag or 0))


def reads_from_replica(request):
    """Does this request read from the replica? (Its view is one of REPLICA_VIEWS, it is safe,
    and its user has not written within REPLICA_STICKY_SECONDS.)"""
    if not replica_configured() or request.method not in ("GET", "HEAD"):
        return False
    match = getattr(request, "resolver_match", None)
    if match is None or not any(fnmatchcase(match.view_name, p) for p in settings.REPLICA_VIEWS):
        return False
    try:
        if float(request.COOKIES.get(STICKY_COOKIE, 0)) > time():
            return False
    except ValueError:
        pass
    lag = replica_lag_seconds()
    return lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS


def _on_replica(content):
    """A streamed body (the exports) reads its rows while the server sends it, after the view
    returned: it reads from the replica too."""
    _reading_replica.set(True)
    try:
        yield from content
    finally:
        _reading_replica.set(False)


class ReplicaMiddleware:
    """Marks the read-heavy views' requests for the router, and pins a user who just wrote
    to the primary for a while."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            response = self.get_response(request)
        finally:
            _reading_replica.set(False)  # never leaks into the thread's next request
        if getattr(request, "reads_replica", False) and response.streaming:
            response.streaming_content = _on_replica(response.streaming_content)
        if replica_configured() and request.method not in ("GET", "HEAD", "OPTIONS"):
            until = time() + settings.REPLICA_STICKY_SECONDS
            response.set_cookie(STICKY_COOKIE, f"{until:.0f}", max_age=settings.REPLICA_STICKY_SECONDS,
                                httponly=True, samesite="Lax", secure=request.is_secure())
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if reads_from_replica(request):
            _reading_replica.set(True)
            request.reads_replica = True
        return None


def context(request):
    """`replica_lag`: seconds the figures on a replica-read page may trail the primary (the
    dashboards' freshness note shows it); absent on pages read from the primary."""
    if not getattr(request, "reads_replica", False):
        return {}
    return {"replica_lag": replica_lag_seconds()}
