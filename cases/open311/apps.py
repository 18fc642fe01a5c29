from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Open311Config(AppConfig):
    name = "cases.open311"
    label = "open311"
    verbose_name = _("Open311 and API")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The intake worker (cases/services_intake.py) calls this when a filing becomes a case.
        from cases import services_intake

        from . import services

        services_intake.filing_registered.register(services.request_registered)
        services_intake.filings_registered.register(services.requests_registered)
