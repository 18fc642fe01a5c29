"""City-wide reference data in the admin: managers read it, administrators and
district officials change it (categories, the working calendar, residents' tags).

The working calendar (portal.workcalendar) sits below grid and knows nothing of
posts, so its admin is registered here; grid/admin.py imports this module.
"""

from django.contrib import admin

from portal.workcalendar.models import CalendarDay, WorkingPeriod

from .admin import is_manager
from .models import Role
from .selectors import scope_of


def is_calendar_editor(user):
    """Administrators and district officials keep the city-wide reference data."""
    scope = scope_of(user)  # cached per request: the admin asks once per model and action
    return scope.unrestricted or any(span.role == Role.DISTRICT_OFFICIAL for span in scope.spans)


class ReferenceDataAdmin(admin.ModelAdmin):
    """Managers read it; administrators and district officials change it."""

    def has_module_permission(self, request):
        return is_manager(request.user)

    def has_view_permission(self, request, obj=None):
        return is_manager(request.user)

    def has_add_permission(self, request):
        return is_calendar_editor(request.user)

    def has_change_permission(self, request, obj=None):
        return is_calendar_editor(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_calendar_editor(request.user)


@admin.register(WorkingPeriod)
class WorkingPeriodAdmin(ReferenceDataAdmin):
    list_display = ("starts", "ends")
    ordering = ("starts",)


@admin.register(CalendarDay)
class CalendarDayAdmin(ReferenceDataAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"
    ordering = ("-date",)
