"""The households' points card in the admin: a district's aspects (评分项目) and a community's
switch for stars on its notice boards. The cards themselves are written on the card page
(volunteers/views_household.py) through volunteers/household_points.py, never here.

Scoped like the catalogue: an aspect is reference data of its district, seen and changed
by those whose managing posts reach the district; a community's settings by its managers.
"""

from django.contrib import admin

from grid.admin import ScopedAdminMixin
from grid.selectors import scope_of

from .household_models import HouseholdPointsSettings, PointsAspect


class CardAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Reference data others hang on: kept, never deleted (switch an aspect off instead)."""

    actions = ()

    def has_delete_permission(self, request, obj=None):
        return False

    def scoped(self, user):
        if scope_of(user).unrestricted:
            return self.model._default_manager.all()
        return super().scoped(user)


@admin.register(PointsAspect)
class PointsAspectAdmin(CardAdmin):
    place_path = "district"
    list_display = ("name", "district", "order", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("district",)
    search_fields = ("name",)
    autocomplete_fields = ("district",)
    fields = ("district", "name", "order", "is_active")

    @staticmethod
    def selector(user):
        return PointsAspect.objects.filter(scope_of(user).areas_q("district__"))

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("district",)


@admin.register(HouseholdPointsSettings)
class HouseholdPointsSettingsAdmin(CardAdmin):
    place_path = "community"
    list_display = ("community", "stars_on_boards")
    list_select_related = ("community",)
    autocomplete_fields = ("community",)
    fields = ("community", "stars_on_boards")

    @staticmethod
    def selector(user):
        return HouseholdPointsSettings.objects.filter(scope_of(user).areas_q("community__"))

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("community",)
