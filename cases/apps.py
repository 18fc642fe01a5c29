from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from . import calendar
        from .models import CalendarDay, WorkingPeriod

        # Cache invalidation only (no business rule): deadlines must see staff's calendar edits.
        def forget(**kwargs):
            calendar.invalidate()

        for model in (WorkingPeriod, CalendarDay):
            post_save.connect(forget, sender=model, weak=False, dispatch_uid=f"cases-calendar-{model.__name__}-save")
            post_delete.connect(forget, sender=model, weak=False, dispatch_uid=f"cases-calendar-{model.__name__}-delete")
