import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from .test_dashboard_cache import *  # noqa

def test_probe(city, official, client, settings):
    settings.DASHBOARD_CACHE_SECONDS = 0
    page(client, city.district)
    with CaptureQueriesContext(connection) as q:
        page(client, city.district)
    with open("/tmp/probe.txt", "w") as f:
        for x in q.captured_queries:
            f.write(x["sql"][:300].replace("\n", " ") + "\n")
    print(len(q))
