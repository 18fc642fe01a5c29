"""The admin of compounds (小区/院落): community staff keep their compounds, whether each has
property management (有物业/无物业) with its 物业 and 业委会, and its party branch."""

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import services_compounds
from ..models import Compound
from ..selectors import compounds_visible_to
from .scoped import ScopedAdminMixin, adopt

FIELDS = ("address", "has_property_management", "property_company", "owners_committee", "party_branch")


@admin.register(Compound)
class CompoundAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(compounds_visible_to)
    place_path = "community"
    list_display = ("name", "community", "has_property_management", "property_company", "building_count",
                    "is_active")
    list_filter = ("has_property_management", "is_active")
    list_select_related = ("community", "property_company")
    search_fields = ("name", "address", "community__name")
    autocomplete_fields = ("community", "property_company", "owners_committee")
    ordering = ("community_id", "name")
    refusal_fields = {"clash": "name", "no_name": "name", "name_too_long": "name", "bad_parent": "community",
                      "bad_property_company": "property_company", "bad_owners_committee": "owners_committee",
                      "has_buildings": "is_active"}

    def get_queryset(self, request):
        return (super().get_queryset(request).select_related(*self.list_select_related)
                .annotate(building_total=Count("buildings")))

    def get_fields(self, request, obj=None):
        fields = ("community", "name", *FIELDS)
        return fields if obj is None else (*fields, "is_active", "created_at")

    def get_readonly_fields(self, request, obj=None):
        # A compound stays in its community (a community merge carries it along).
        return () if obj is None else ("community", "created_at")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            adopt(obj, services_compounds.compound_add(
                community=data["community"], name=data["name"], acting_user=request.user,
                **{f: data[f] for f in FIELDS}))
            return
        changed = {f: data[f] for f in form.changed_data if f in (*FIELDS, "name", "is_active")}
        if changed:
            services_compounds.compound_update(compound=obj, acting_user=request.user, **changed)

    def has_delete_permission(self, request, obj=None):
        # Matters and residents' addresses name the compound: it is closed (is_active), never deleted.
        return False

    @admin.display(description=gettext_lazy("buildings"), ordering="building_total")
    def building_count(self, obj):
        url = reverse("admin:grid_building_changelist") + f"?compound__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("%(n)d buildings") % {"n": obj.building_total})
