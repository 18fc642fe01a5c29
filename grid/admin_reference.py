"""City-wide reference data in the admin: managers read it, administrators and
district officials change it (categories, the working calendar, residents' tags).

The working calendar (portal.workcalendar) sits below grid and knows nothing of
posts, so its admin is registered here; grid/admin/__init__.py imports this module.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from portal.admin_dates import FarDateSafeAdminMixin
from portal.workcalendar.models import CalendarDay, DaySource, WorkingPeriod

from .models import Role
from .selectors import is_manager, scope_of


def is_calendar_editor(user):
    """Administrators and district officials keep the city-wide reference data."""
    scope = scope_of(user)  # cached per request: the admin asks once per model and action
    return scope.unrestricted or any(span.role == Role.DISTRICT_OFFICIAL for span in scope.spans)


class ReferenceDataAdmin(FarDateSafeAdminMixin, admin.ModelAdmin):
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
    """Holidays and 调休 days. `manage.py sync_holidays` fills them from the chinese-calendar
    package; a row saved here becomes staff's, and the sync leaves it alone from then on."""

    list_display = ("date", "kind", "name", "source")
    list_filter = ("kind", "source")
    date_hierarchy = "date"
    ordering = ("-date",)
    readonly_fields = ("source",)
    fieldsets = ((None, {
        "fields": ("date", "kind", "name", "source"),
        "description": gettext_lazy(
            "For a year the chinese-calendar package does not have yet, enter the State Council General "
            "Office's notice (国务院办公厅关于部分节假日安排的通知, out around November) one day per row: every "
            "day off of each holiday as a public holiday, weekend days of the break and 1 January included, "
            "and every weekend day worked in exchange as a working day in exchange (调休). Rows saved here are "
            "staff's: sync_holidays never changes or removes them (a package row deleted here comes back at "
            "the next sync)."),
    }),)

    def save_model(self, request, obj, form, change):
        # Staff's rows win over the package (see DaySource): an edited package row becomes staff's.
        obj.source = DaySource.STAFF
        super().save_model(request, obj, form, change)
