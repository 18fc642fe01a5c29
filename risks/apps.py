from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RisksConfig(AppConfig):
    """风险隐患台账 and 巡查日志: the grid worker's register of risks and patrol log (issue #19).

    A domain app: it names no other domain app. Opening a case for a risk or a
    patrol finding goes through risks/hooks.py, provided by hub/wiring.py.
    """

    name = "risks"
    verbose_name = _("Risks and patrols")
