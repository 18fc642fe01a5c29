"""Cyclic garbage collected between requests, not in the middle of them (issue #24: worker memory).

A page leaves cycles behind when it ends: a dashboard ~3,900 unreachable objects, among them
the classes `lazy()` builds each time a cached figure with a translated label is unpickled.
CPython's automatic collector runs every 2,000 new objects, so mostly in the middle of a
request, while that request's objects are still in use: they survive, are promoted, and end in
the oldest generation, which is only collected once it has grown by a quarter of the ~1 M
objects a worker holds after start-up. A worker's RSS grew ~20 MB over 500 pages that way
without holding more live data (measured with `gc.collect()` after each request: flat).

So a web process (portal/wsgi.py installs this; tests and the Celery worker keep CPython's
defaults) raises the automatic threshold, so a page rarely triggers a collection midway, and
collects the young generation when a response has been sent, when all of the request's
objects are unreachable. Everything alive after the first request (modules, URL patterns,
the compiled templates) is frozen once, so the occasional full collection walks only what was
created since.

Costs, measured: the first request's full collection ~60 ms, later ones ≤ ~1 ms, after the last
byte is written (gunicorn closes the response, which sends request_finished, before it closes
the socket). What the first request still references when it is frozen (a few dozen objects,
and the first database connection's) is never collected if it later becomes garbage: a few KB,
once per worker.
"""

import gc

from django.core.signals import request_finished

# A request allocating more than this many container objects is collected midway as before.
AUTOMATIC_THRESHOLD = 20_000
# Below this many new objects the collection is not worth its fixed cost; they wait for the next request.
YOUNG_ENOUGH = 700

_state = {"served": 0}


def collect_after_response(**_kwargs):
    _state["served"] += 1
    if _state["served"] == 1:
        gc.collect()
        gc.freeze()
        return
    young, middle, old = gc.get_count()
    if young < YOUNG_ENOUGH:
        return
    gc.collect(2 if old >= 10 else 1 if middle >= 10 else 0)


def install():
    _first, middle, old = gc.get_threshold()
    gc.set_threshold(AUTOMATIC_THRESHOLD, middle, old)
    request_finished.connect(collect_after_response, dispatch_uid="portal.collector")
