"""A resident's report is its own connection check (cases/services_intake.py, `_on_live_connection`).

Django checks a persistent connection with a `SELECT 1` at its first use in each request. The
report page skips that round trip and lets the report's INSERT find a dead connection instead:
the report is then written on a new connection, never refused. Real PostgreSQL sessions are
terminated here, as a database restart or failover terminates them.
"""

import logging
from unittest import mock

import pytest
from django.db import OperationalError, connection, connections

from cases import services_intake
from cases.models import Case, Channel, Intake

from .cases_factories import MONDAY, category

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def receive(city, code):
    return services_intake.intake_receive(
        category=code, description="小区东门有一堆暴露垃圾", channel=Channel.WEB, building=city.building_a,
        reporter_name="李四", reporter_phone="13912345678", now=MONDAY,
    )


def kept(received):
    """The report's tracking code, once, whether it still waits or the worker (eager in tests) registered it."""
    return (list(Intake.objects.values_list("tracking_code", flat=True))
            + list(Case.objects.values_list("tracking_code", flat=True))) == [received.tracking_code]


def next_request():
    """What a new request does to a persistent connection (request_started → close_old_connections):
    it is to be checked again at its first use. Django's test client leaves that signal out."""
    connection.ensure_connection()
    connection.health_check_done = False


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def terminate(pid):
    """End the session `pid` from another connection, and wait until the server has let it go."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            for _ in range(200):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone()[0] == 0:
                    return
            pytest.fail(f"session {pid} was not terminated")
    finally:
        other.close()


def test_a_report_on_a_connection_that_died_since_the_last_request_is_kept(city, caplog):
    code = category().code
    pid = backend_pid()
    next_request()
    terminate(pid)

    with caplog.at_level(logging.WARNING, logger="cases.services_intake"):
        received = receive(city, code)

    assert "connection was gone" in caplog.text  # the first INSERT did meet the dead session
    assert kept(received)
    assert backend_pid() != pid


def test_a_report_on_a_live_connection_makes_no_separate_check(city):
    code = category().code
    next_request()
    wrapper = connections["default"]
    with mock.patch.object(wrapper, "is_usable", wraps=wrapper.is_usable) as checked:
        received = receive(city, code)
    assert checked.call_count == 0
    assert kept(received)


def test_an_error_on_a_live_connection_is_raised_not_retried(city):
    code = category().code
    next_request()
    timeout = OperationalError("canceling statement due to statement timeout")
    with mock.patch.object(services_intake, "_insert_checked", side_effect=timeout) as insert:
        with pytest.raises(OperationalError):
            receive(city, code)
    assert insert.call_count == 1


def test_a_connection_still_unusable_after_the_retry_gives_the_error(city):
    """A server that is down for good: the report fails with the database's error (the page's
    error handling takes it from there), after one new connection was tried, not in a loop."""
    code = category().code
    next_request()
    down = OperationalError("server closed the connection unexpectedly")
    wrapper = connections["default"]
    with mock.patch.object(services_intake, "_insert_checked", side_effect=down) as insert, \
            mock.patch.object(wrapper, "is_usable", return_value=False):
        with pytest.raises(OperationalError):
            receive(city, code)
    assert insert.call_count == 2


def test_a_session_cut_between_the_commit_and_its_answer_keeps_the_report_once(city):
    """The INSERT committed, then the session was cut before its answer arrived (a fast shutdown):
    the retry meets the report's own tracking code, which means it was kept, not refused."""
    code = category().code
    next_request()
    real = services_intake._insert_checked
    tries = []

    def committed_then_cut(intake, category_code, place):
        tries.append(intake.tracking_code)
        saved = real(intake, category_code, place)
        if len(tries) == 1:
            terminate(backend_pid())
            raise OperationalError("server closed the connection unexpectedly")
        return saved

    with mock.patch.object(services_intake, "_insert_checked", side_effect=committed_then_cut):
        received = receive(city, code)

    assert tries == [received.tracking_code, received.tracking_code]
    assert kept(received)
