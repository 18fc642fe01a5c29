"""Open311 in the admin: staff issue and revoke API keys for client systems bound
to places they manage (scoped through grid.admin.ScopedAdminMixin); the
questions (attributes) of each service are reference data like categories.

A new key is shown once, on the page right after "Save"; only its hash is kept.
"""

from functools import partial

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cases.admin import ReferenceDataAdmin
from grid.admin import ScopedAdminMixin, adopt

from . import selectors, services
from .models import ApiClient, PublicReads, ServiceAttribute


@admin.register(ApiClient)
class ApiClientAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(selectors.clients_visible_to)
    place_path = "area"
    list_display = ("name", "area", "key_prefix", "rate_limit", "is_hotline", "created_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("area",)
    search_fields = ("name", "key_prefix")
    autocomplete_fields = ("area",)
    actions = ("revoke",)
    refusal_fields = {"clash": "name", "blank": "name", "too_long": "name", "bad_place": "area",
                      "forbidden": "area", "bad_rate_limit": "rate_limit"}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("area")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "contact", "area", "rate_limit", "is_hotline")
        return ("name", "contact", "area", "rate_limit", "is_hotline", "key_prefix", "created_at", "created_by", "revoked_at",
                "revoked_by")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("name", "area", "key_prefix", "created_at", "created_by", "revoked_at", "revoked_by")

    def has_delete_permission(self, request, obj=None):
        # Filed requests keep their client (PROTECT); revoke instead.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["contact", "rate_limit", "is_hotline"])
            return
        data = form.cleaned_data
        client, key = services.client_issue(name=data["name"], area=data["area"], rate_limit=data["rate_limit"],
                                            contact=data.get("contact", ""), acting_user=request.user,
                                            is_hotline=data.get("is_hotline", False),
                                            now=timezone.now())
        adopt(obj, client)
        request._open311_key = key

    def response_add(self, request, obj, post_url_continue=None):
        key = getattr(request, "_open311_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {**self.admin_site.each_context(request), "title": _("API key issued"), "subtitle": None,
                   "opts": self.opts, "client": obj, "key": key}
        request.current_app = self.admin_site.name
        response = TemplateResponse(request, "admin/open311/key_issued.html", context)
        # The key must not linger in any cache between here and the browser.
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(permissions=["change"], description=gettext_lazy("Revoke the selected keys"))
    def revoke(self, request, queryset):
        if self.bulk_refused(request, queryset):
            return
        now = timezone.now()
        rows = list(queryset.select_related("area"))
        results = self.write_all(request, [partial(services.client_revoke, client=row, acting_user=request.user,
                                                   now=now) for row in rows])
        if results is not None:
            count = sum(results)
            self.message_user(request, ngettext("%(n)d key revoked.", "%(n)d keys revoked.", count) % {"n": count},
                              messages.SUCCESS)


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(ReferenceDataAdmin):
    list_display = ("category", "code", "datatype", "required", "order", "description")
    list_filter = ("datatype", "required")
    list_select_related = ("category",)
    search_fields = ("code", "description", "category__code", "category__name")
    autocomplete_fields = ("category",)
    ordering = ("category__code", "order", "code")

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.services_touched(category_ids=[obj.category_id])

    def delete_queryset(self, request, queryset):
        category_ids = set(queryset.values_list("category_id", flat=True))
        super().delete_queryset(request, queryset)
        services.services_touched(category_ids=category_ids)


@admin.register(PublicReads)
class PublicReadsAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Per district: may anyone read its matters over Open311 without a key (with OPEN311_PUBLIC_READS on)."""

    selector = staticmethod(selectors.public_reads_visible_to)
    place_path = "district"
    list_display = ("district", "enabled", "changed_at")
    list_select_related = ("district",)
    autocomplete_fields = ("district",)
    actions = ()
    refusal_fields = {"bad_place": "district", "forbidden": "district"}

    def get_fields(self, request, obj=None):
        return ("district", "enabled") if obj is None else ("district", "enabled", "changed_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("district", "changed_at")

    def has_delete_permission(self, request, obj=None):
        # Turn it off instead (no row and a row turned off mean the same).
        return False

    def save_model(self, request, obj, form, change):
        row = services.public_reads_set(district=obj.district, enabled=form.cleaned_data["enabled"],
                                        acting_user=request.user, now=timezone.now())
        adopt(obj, row)
