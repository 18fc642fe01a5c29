"""Time grid/search.py at a city's scale (issue #21): 336,000 buildings, 1,008,000 units, 4,421 places.

    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE portal_where_bench"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_where_bench .venv/bin/python manage.py migrate
    psql -h 127.0.0.1 -U postgres -d portal_where_bench -f bench/place_search_bench.sql
    DATABASE_URL=... PYTHONPATH=. .venv/bin/python bench/place_search_bench.py explain

Each figure is the median (and worst) of 7 calls of the portal function, in process.
"""
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
import django  # noqa: E402

django.setup()
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from grid import search  # noqa: E402

QUERIES = ["建朝花园", "旗谊路120号", "明放路", "桥河小区 9号楼", "文金社区", "胜金第3网格", "12号楼", "不存在的地址", "建朝", "旗谊", "花园"]

def timed(fn):
    runs = []
    for _ in range(7):
        t = time.perf_counter(); fn(); runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs), max(runs)

label = sys.argv[1] if len(sys.argv) > 1 else ""
for q in QUERIES:
    med, worst = timed(lambda: search.search_buildings(q))
    print(f"{label} search {q!r:22} hits={len(search.search_buildings(q)):2d} median={med:7.1f} ms max={worst:7.1f} ms")
med, worst = timed(lambda: search.buildings_near("31.4512", "104.6533"))
print(f"{label} near  hits={len(search.buildings_near('31.4512', '104.6533'))} median={med:.1f} ms max={worst:.1f} ms")
if label == "explain":
    with CaptureQueriesContext(connection) as c:
        search.search_buildings("建朝花园")
    sql = c.captured_queries[-1]["sql"]
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        print("\n".join(r[0] for r in cur.fetchall()))
