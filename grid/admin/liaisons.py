"""The admin of 包片 assignments: managing staff assign district and street leaders to the
streets and communities they look after, and end the assignment (kept as history)."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .. import services_liaisons
from ..models import Liaison
from ..selectors import liaisons_visible_to
from .scoped import ScopedAdminMixin, adopt


@admin.register(Liaison)
class LiaisonAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(liaisons_visible_to)
    place_path = "area"
    list_display = ("user", "level", "area", "started_at", "ended_at")
    list_filter = ("level",)
    list_select_related = ("user", "area")
    autocomplete_fields = ("user", "area")
    actions = ("end",)
    refusal_fields = {"bad_place": "area", "forbidden": "area", "duplicate": "user", "inactive": "user",
                      "bad_level": "level"}

    def get_fields(self, request, obj=None):
        return ("user", "level", "area") if obj is None else ("user", "level", "area", "started_at", "ended_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("user", "level", "area", "started_at", "ended_at")

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        adopt(obj, services_liaisons.liaison_assign(user=data["user"], level=data["level"], area=data["area"],
                                                    acting_user=request.user, now=timezone.now()))

    def has_delete_permission(self, request, obj=None):
        return False

    def has_end_permission(self, request):
        return self.may_manage(request)

    @admin.action(permissions=["end"], description=gettext_lazy("End the selected assignments"))
    def end(self, request, queryset):
        if self.bulk_refused(request, queryset):
            return
        now = timezone.now()
        rows = list(queryset.filter(ended_at__isnull=True))
        self.write_all(request, [lambda r=r: services_liaisons.liaison_end(liaison=r, acting_user=request.user,
                                                                            now=now) for r in rows])
