"""Fixed-window rate limits in the shared cache, failing open (限流).

One counter per (bucket, client, window) in the cache: cheap, shared by every
web process when the cache is Redis, good enough to stop a script flooding a
public form or guessing tracking codes. It guards against abuse; it is not what
a resident's report depends on. When the cache is down (issue #25: Redis
stopped for a minute and every report in that minute answered 500) the limit
is not counted and the request goes on: a minute without flood protection
costs less than a minute of refused reports. The outage is logged, throttled
(portal/degraded.py).

Every public limit goes through `over_limit`: the report and tracking pages
(cases/views_public.py), the residents' orders (volunteers/public.py) and the Open311
API keys (cases/open311/views.py).
"""

import time

from django.conf import settings
from django.core.cache import cache

from . import degraded
from .client_address import client_address


def over_limit(*, bucket, ident, limit, window, now=None):
    """Count one hit for `ident` in `bucket`; True once the count passes `limit` within `window` seconds.

    A limit or window of 0 turns the limit off. Never raises: with the cache
    unreachable it answers False (fail open).
    """
    if limit <= 0 or window <= 0:
        return False
    if not degraded.cache_usable():
        return False
    now = time.time() if now is None else now
    key = f"rate:{bucket}:{ident}:{int(now // window)}"
    try:
        if cache.add(key, 1, window):
            return limit < 1
        try:
            return cache.incr(key) > limit
        except ValueError:  # expired between add and incr
            cache.add(key, 1, window)
            return False
    except Exception as exc:  # noqa: BLE001 — redis, socket and OS errors alike: fail open
        degraded.cache_failed(f"the {bucket} rate limit", exc)
        return False


def rate_setting(name, default):
    """(limit, window seconds) from the setting `name`, else `default`; (0, 0) or None turns it off."""
    limit, window = getattr(settings, name, default) or (0, 0)
    return int(limit), int(window)


def over_rate(request, bucket, setting, default):
    """`over_limit` per client address (the real one behind trusted proxies), with the limit from a
    (limit, window) setting."""
    limit, window = rate_setting(setting, default)
    return over_limit(bucket=bucket, ident=client_address(request), limit=limit, window=window)
