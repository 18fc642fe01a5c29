from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridConfig(AppConfig):
    name = "grid"
    verbose_name = _("Places and posts")

    def ready(self):
        # Sign-in receivers: the session's idle limit and whether it owes a second factor.
        from . import sessions, twofactor  # noqa: F401
