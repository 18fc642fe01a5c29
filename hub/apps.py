from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubConfig(AppConfig):
    """Where the domain apps meet: pages that show several of them, and the wiring that lets one
    react to another (hub/wiring.py). A top-layer app: nothing below imports it."""

    name = "hub"
    verbose_name = _("Hub")

    def ready(self):
        from . import wiring

        wiring.connect()
