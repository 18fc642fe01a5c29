from django.contrib import admin

from grid.admin.scoped import ReadOnlyScopedAdmin
from grid.selectors import is_manager

from .models import PersonalDataAccess
from .selectors import reveals_visible_to


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyScopedAdmin):
    """The reveal log of reporters and orderers: written by the reveal, never edited, by anyone."""

    selector = staticmethod(reveals_visible_to)
    place_path = "grid"
    list_display = ("at", "actor", "record_type", "record_label", "field", "reason", "community", "grid")
    list_filter = ("record_type", "field")
    list_select_related = ("actor", "community", "grid")
    search_fields = ("reason", "record_label", "actor__full_name", "actor__username")
    fields = ("at", "actor", "record_type", "record_id", "record_label", "field", "reason", "district", "street",
              "community", "grid")
    readonly_fields = fields
    ordering = ("-at", "-id")

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return is_manager(request.user)
        return self.get_queryset(request).filter(pk=obj.pk).exists()
