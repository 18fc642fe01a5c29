"""Helpers for tests that start real processes (Celery workers, their supervisor)."""

import time

import pytest


def wait_for_worker(process, log, *, what, timeout=60):
    """Wait until the Celery worker writing to `log` says it is ready; fail with the log's tail
    if `process` exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while b" ready." not in (log.read_bytes() if log.exists() else b""):
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
