from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "volunteers"
    verbose_name = _("Volunteers")

    def ready(self):
        # Declares its personal data to the register and the retention sweep (grid/privacy).
        from . import privacy  # noqa: F401
