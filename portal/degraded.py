"""Running with a service down: log it once a while, and stop asking a dead cache for a moment.

A resident's report, the tracking page and Open311 must not depend on Redis
(issue #25): callers that use the shared cache on a public path catch its
errors, log through `cache_failed` and carry on without it. At 3 requests a
second a log line per request would bury everything else, so each topic logs
at most once every WARN_EVERY_SECONDS, with the count of what it held back.

After a failure the cache is left alone for CACHE_PAUSE_SECONDS in this
process: a black-holed Redis costs each call its socket timeout, and the
request is better off skipping it (the same reasoning as the broker pause in
cases/notifications.py).
"""

import logging
import threading
import time

log = logging.getLogger("portal.degraded")

WARN_EVERY_SECONDS = 60.0
CACHE_PAUSE_SECONDS = 5.0

_lock = threading.Lock()
_warned = {}  # topic -> [last logged at (monotonic), held back since]
_cache = {"down_until": 0.0}


def warn_throttled(topic, message, *args, clock=time.monotonic, level=logging.WARNING, logger=None):
    """log.warning(message % args), at most once every WARN_EVERY_SECONDS for `topic`.

    Returns whether it logged. `level` and `logger` make it an INFO line of another module.
    """
    now = clock()
    with _lock:
        last, held = _warned.get(topic, (float("-inf"), 0))
        if now - last < WARN_EVERY_SECONDS:
            _warned[topic] = (last, held + 1)
            return False
        _warned[topic] = (now, 0)
    if held:
        message += " (%d more like this not logged)"
        args = (*args, held)
    (logger or log).log(level, message, *args)
    return True


def cache_usable(clock=time.monotonic):
    """False for a few seconds after a cache call failed in this process."""
    return clock() >= _cache["down_until"]


def cache_failed(what, exc, clock=time.monotonic):
    """Note a failed cache call: pause the cache here, and log (throttled) what went without it."""
    _cache["down_until"] = clock() + CACHE_PAUSE_SECONDS
    warn_throttled("cache", "cache unavailable, %s went without it: %s: %s", what, type(exc).__name__, exc)


def reset():
    """Forget earlier failures (tests; an operator after fixing Redis)."""
    with _lock:
        _warned.clear()
    _cache["down_until"] = 0.0
