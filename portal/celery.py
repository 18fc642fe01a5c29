import os
from importlib import import_module

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()



def send_by_name(name, **options):
    """Enqueue the task registered as `name`: what `<task>.apply_async(**options)` does, for a
    module that the task's own module imports (a service enqueueing on commit the task that
    calls it), so neither imports the other both ways.

    The task is looked up in the app's registry, so eager mode in tests and patches of its
    `apply_async` apply as before. A web process has not necessarily imported every tasks
    module (the worker's autodiscovery does that), so a miss imports the module the name
    points into, once; nothing is imported when sending a registered task.
    """
    try:
        task = app.tasks[name]
    except KeyError:
        import_module(name.rpartition(".")[0])
        task = app.tasks[name]
    return task.apply_async(**options)
