"""Settings for the fault run (bench/faults.py): the portal's own, with the public
limits counted in Redis as in production but set out of reach of one client
address at 3 reports a second, and the tasks on a queue of the run's own.

Everything else comes from the environment as usual (DATABASE_URL, REDIS_URL,
CELERY_BROKER_URL); the runner sets those.
"""

import os

from portal.settings import *  # noqa: F401,F403

CASE_REPORT_RATE = (1_000_000, 600)
CASE_TRACK_MISS_RATE = (1_000_000, 600)
# A broker shared with others (the local RabbitMQ) must not hand our tasks to their workers.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("FAULTS_QUEUE", "celery")
WHITENOISE_AUTOREFRESH = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"stamped": {"format": "[%(asctime)s: %(levelname)s/%(name)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "stamped"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.request": {"level": "ERROR"}, "django.db.backends": {"level": "INFO"}},
}
