"""portal/celery.py: web processes do not import Celery and its transports (issue #24: ~20 MB
of every gunicorn worker), nor segno (the boards' QR codes, ~8 MB), nor tablib and charset_normalizer
(imports and exports); the worker, the tasks
modules and the first send still get the portal's configured app."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# tablib and charset_normalizer (~2.5 MB): only the imports, exports and the residents' template need them.
HEAVY = ("celery", "kombu", "amqp", "billiard", "yaml", "segno", "tablib", "charset_normalizer")


def run_python(code):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_importing_the_wsgi_app_imports_no_celery():
    loaded = run_python(
        "import sys; from portal.wsgi import application; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    assert loaded == "[]"


def test_the_url_conf_and_every_view_module_import_no_celery():
    # The URL conf names its views lazily (portal/lazy_views.py): load each one, as the pages do when
    # first asked for (and with them what they import: services, forms…).
    loaded = run_python(
        "import sys, django; django.setup(); from django.urls import get_resolver; "
        "from portal.lazy_views import lazy_views_in; "
        "assert len([v._load() for v in lazy_views_in(get_resolver())]) > 150; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    assert loaded == "[]"


def test_a_tasks_module_binds_to_the_portal_app():
    answer = run_python(
        "import django; django.setup(); import cases.tasks; from portal.celery import app; "
        "print(cases.tasks.register_intake.app is app, app.main, "
        "app.conf.beat_schedule['grid-verify-trees-nightly']['schedule'].hour)"
    )
    assert answer == "True portal {3}"


def test_the_worker_finds_the_app_as_celery_dash_a_portal():
    answer = run_python(
        "import django; django.setup(); from celery.app.utils import find_app; from portal.celery import app; "
        "print(find_app('portal') is app)"
    )
    assert answer == "True"
