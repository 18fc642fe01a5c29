from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkCalendarConfig(AppConfig):
    name = "portal.workcalendar"
    label = "workcalendar"
    verbose_name = _("Working calendar")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from . import calendar
        from .models import CalendarDay, WorkingPeriod

        # Cache invalidation only (no business rule): deadlines must see staff's calendar edits.
        def forget(**kwargs):
            calendar.invalidate()

        for model in (WorkingPeriod, CalendarDay):
            uid = f"workcalendar-{model.__name__}"
            post_save.connect(forget, sender=model, weak=False, dispatch_uid=f"{uid}-save")
            post_delete.connect(forget, sender=model, weak=False, dispatch_uid=f"{uid}-delete")
