from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    """The officials' dashboards (数据驾驶舱): pages, exports and the rollups behind them.

    A top-layer app: it reads cases, residents and volunteers; nothing below imports it.
    """

    name = "dashboards"
    verbose_name = _("Dashboards")
