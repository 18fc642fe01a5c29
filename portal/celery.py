"""The Celery app, created on first use so that web processes never import Celery.

A web worker only ever sends tasks, and only after a commit: importing Celery,
kombu, amqp, billiard and yaml at start-up cost each gunicorn worker about 20 MB
of its memory for a path most requests never take (issue #24). So nothing here
imports Celery at module level:

- `celery -A portal worker` finds the app as `portal.celery.app` (a module
  attribute computed on first access);
- the tasks modules take `shared_task` from here, which creates the app first,
  so a task is never bound to Celery's unconfigured default app;
- `send_by_name` (what services use to enqueue on commit) creates the app on
  the first send.
"""

import os
from functools import cache
from importlib import import_module

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


@cache
def celery_app():
    from celery import Celery
    from django.conf import settings

    app = Celery("portal")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.beat_schedule = beat_schedule(settings.CELERY_BEAT_SCHEDULE)
    app.autodiscover_tasks()
    return app


def beat_schedule(entries):
    """settings.CELERY_BEAT_SCHEDULE with its `{"hour": …, "minute": …}` schedules as Celery crontabs
    (the settings module names them as plain dicts so that it imports no Celery)."""
    from celery.schedules import crontab

    return {
        key: {**entry, "schedule": crontab(**entry["schedule"])} if isinstance(entry["schedule"], dict) else entry
        for key, entry in entries.items()
    }


def __getattr__(name):
    if name == "app":
        return celery_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def shared_task(*args, **options):
    """celery.shared_task, after the portal's app exists (the tasks modules use this one)."""
    celery_app()
    from celery import shared_task as celery_shared_task

    return celery_shared_task(*args, **options)


def send_by_name(name, **options):
    """Enqueue the task registered as `name`: what `<task>.apply_async(**options)` does, for a
    module that the task's own module imports (a service enqueueing on commit the task that
    calls it), so neither imports the other both ways.

    The task is looked up in the app's registry, so eager mode in tests and patches of its
    `apply_async` apply as before. A web process has not necessarily imported every tasks
    module (the worker's autodiscovery does that), so a miss imports the module the name
    points into, once; nothing is imported when sending a registered task.
    """
    app = celery_app()
    try:
        task = app.tasks[name]
    except KeyError:
        import_module(name.rpartition(".")[0])
        task = app.tasks[name]
    return task.apply_async(**options)
