"""12345 work orders in the admin: read-only, scoped through the cases staff manage.
Replies, hand-backs and follow-ups are made on the case page (one service each)."""

from django.contrib import admin

from grid.admin import ReadOnlyScopedAdmin

from . import selectors
from .models import HotlineOrder


@admin.register(HotlineOrder)
class HotlineOrderAdmin(ReadOnlyScopedAdmin):
    selector = staticmethod(selectors.orders_visible_to)
    place_path = "case__grid"
    list_display = ("order_number", "case", "client", "received_at", "replied_at", "returned_at", "visit_result")
    list_filter = ("visit_result", ("replied_at", admin.EmptyFieldListFilter),
                   ("returned_at", admin.EmptyFieldListFilter))
    list_select_related = ("case", "client")
    search_fields = ("order_number",)
    readonly_fields = [f.name for f in HotlineOrder._meta.fields]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("case", "client")
