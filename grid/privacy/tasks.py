from portal.celery import shared_task

from .services import retention_run


@shared_task(name="grid.privacy.tasks.anonymise_expired")
def anonymise_expired():
    """Beat, nightly: anonymise personal data kept past its retention period (idempotent)."""
    return retention_run()
