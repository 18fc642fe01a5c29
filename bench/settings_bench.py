"""Settings for the case benchmarks (bench/cases_bench.py): the portal's own
settings, with the bench URL conf (the portal's URLs plus a bare view) and the
public report's rate limit off, so one client address can measure throughput.

Everything else comes from the environment as usual (DATABASE_URL,
CELERY_BROKER_URL, DATABASE_CONN_MAX_AGE); the runner sets those.
"""

from portal.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls_bench"
CASE_REPORT_RATE = (0, 0)
CASE_TRACK_MISS_RATE = (0, 0)
# As in production: no per-request look-up of changed static files.
WHITENOISE_AUTOREFRESH = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
