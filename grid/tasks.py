import logging

from portal.celery import shared_task

from .integrity import tree_problems

log = logging.getLogger(__name__)


@shared_task
def verify_trees():
    """Nightly: report any corruption of the place trees (reads only)."""
    problems = tree_problems()
    for problem in problems:
        log.error("place tree: %s", problem)
    return len(problems)
