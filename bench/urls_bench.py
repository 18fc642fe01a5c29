"""The portal's URLs plus a bare view, served by the same gunicorn for comparison."""

import os
import pickle
from pathlib import Path

from django.db import connections
from django.http import Http404, HttpResponse
from django.urls import include, path


def bare(request):
    """Nothing but the middleware stack and a response: the ceiling for any page."""
    return HttpResponse(b"ok", content_type="text/plain")


_REPLAYS = {}


def replay(request, name):
    """A page's own SQL statements, recorded in-process by the bench runner and replayed through a bare
    cursor (BENCH_REPLAY_DIR/<name>.pickle): the raw-SQL floor of that page, served like it.
    `?db=replica` replays it on the replica (bench/replica_bench.py), to compare like with like."""
    if name not in _REPLAYS:
        folder = os.environ.get("BENCH_REPLAY_DIR")
        file = Path(folder or "/nonexistent") / f"{name}.pickle"
        if not folder or not file.is_file() or not name.isidentifier():
            raise Http404
        _REPLAYS[name] = pickle.loads(file.read_bytes())
    alias = "replica" if request.GET.get("db") == "replica" and "replica" in connections.settings else "default"
    with connections[alias].cursor() as cursor:
        for sql, params in _REPLAYS[name]:
            cursor.execute(sql, params)
            if cursor.description:
                cursor.fetchall()
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("bench/replay/<slug:name>/", replay, name="bench_replay"),
    path("", include("portal.urls")),
]
