"""Place history (区划变更记录): read-only, scoped like the places."""


from django.contrib import admin
from django.utils.translation import gettext_lazy, ngettext


from ..models import AreaEvent
from ..selectors import area_events_visible_to
from .scoped import ReadOnlyScopedAdmin


# --- place history -----------------------------------------------------------------------

def _event_summary(event):
    d = event.details
    if event.action == AreaEvent.Action.RENAME:
        return f"{d.get('old_name', '')} → {d.get('name', '')}"
    if event.action == AreaEvent.Action.MOVE and "building_id" in d:
        return f"{d.get('number', '')}：{d.get('from_grid', '')} → {d.get('to_grid', '')}"
    if event.action == AreaEvent.Action.MOVE:
        return f"{d.get('name', '')}：{d.get('old_code', '')} → {d.get('code', '')}"
    if event.action == AreaEvent.Action.MERGE:
        return f"{d.get('name', '')} → {d.get('into_name', '')}"
    if event.action == AreaEvent.Action.SPLIT:
        count = len(d.get("buildings", []))
        return ngettext(
            "%(name)s: %(n)d building to a new grid", "%(name)s: %(n)d buildings to a new grid", count
        ) % {"name": d.get("name", ""), "n": count}
    return f"{d.get('name', '')}（{d.get('code', '')}）"


@admin.register(AreaEvent)
class AreaEventAdmin(ReadOnlyScopedAdmin):
    selector = staticmethod(area_events_visible_to)
    place_path = "area"
    list_display = ("at", "action", "area", "actor", "summary")
    list_filter = ("action",)
    list_select_related = ("area", "actor")
    search_fields = ("area__name", "^area__code")
    fields = ("at", "action", "area", "actor", "summary", "details")
    readonly_fields = fields

    # History is written by the services that change places, and never edited (ReadOnlyScopedAdmin).
    def get_queryset(self, request):
        return super().get_queryset(request).select_related("area", "actor")

    @admin.display(description=gettext_lazy("summary"))
    def summary(self, obj):
        return _event_summary(obj)
