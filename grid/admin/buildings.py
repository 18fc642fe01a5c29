"""The admin of buildings and units."""

from functools import partial

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import services, services_compounds
from ..admin_forms import MoveBuildingsForm
from ..models import AreaKind, Building, Unit
from ..selectors import areas_visible_to, buildings_visible_to, units_visible_to
from .scoped import BOTH_LOCATIONS, ScopedAdminMixin, adopt


# --- buildings and units -------------------------------------------------------------

@admin.register(Building)
class BuildingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(buildings_visible_to)
    place_path = "grid"
    list_display = ("number", "name", "compound", "address", "grid", "community", "below")
    list_select_related = ("grid__parent", "compound")
    search_fields = ("number", "name", "address", "compound__name", "grid__name", "^grid__code")
    autocomplete_fields = ("grid", "compound")
    # Matches the (grid, number) unique index, so a page of 250,000 rows sorts by index.
    ordering = ("grid_id", "number")
    refusal_fields = {"clash": "number", "no_number": "number", "bad_parent": "grid",
                      "compound_community": "compound", "inactive": "compound"}
    editable_fields = ("number", "name", "address", "latitude", "longitude")
    actions = (*ScopedAdminMixin.actions, "move_buildings")

    def get_queryset(self, request):
        # The changelist skips list_select_related when get_queryset already
        # selects related rows, so everything the columns need is named here.
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_fields(self, request, obj=None):
        fields = ("grid", "compound", *self.editable_fields)
        return fields if obj is None else (*fields, "created_at")

    def get_readonly_fields(self, request, obj=None):
        # A building changes grid through the move action (building_move takes
        # the tree locks, carries what hangs on it and writes the history),
        # never by editing the field.
        return () if obj is None else ("grid", "created_at")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            building = services.building_add(
                grid=data["grid"], compound=data.get("compound"), acting_user=request.user,
                **{f: data[f] for f in self.editable_fields}
            )
            adopt(obj, building)
            return
        if "compound" in form.changed_data:
            # Joining or leaving a compound first: the number's uniqueness is checked where it lands.
            obj.compound_id = Building.objects.values_list("compound_id", flat=True).get(pk=obj.pk)
            services_compounds.building_set_compound(building=obj, compound=data.get("compound"),
                                                     acting_user=request.user)
            obj.refresh_from_db()
        fields = {f: data[f] for f in form.changed_data if f in self.editable_fields}
        if fields:
            services.building_update(building=obj, acting_user=request.user, **fields)

    def delete_model(self, request, obj):
        services.building_delete(building=obj, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        for building in queryset.select_related("grid"):
            services.building_delete(building=building, acting_user=request.user)

    @admin.display(description=gettext_lazy("community"), ordering="grid__parent__name")
    def community(self, obj):
        return obj.grid.parent

    @admin.action(permissions=["change"], description=gettext_lazy("Move to another grid…"), location=BOTH_LOCATIONS)
    def move_buildings(self, request, queryset):
        if self.bulk_refused(request, queryset):
            return None
        buildings = list(queryset.select_related("grid").order_by("grid_id", "number"))
        if not buildings:
            self.message_user(
                request,
                _("Items must be selected in order to perform actions on them. No items have been changed."),
                messages.WARNING,
            )
            return None
        grids = areas_visible_to(request.user, managing=True).filter(kind=AreaKind.GRID, is_active=True)
        form = MoveBuildingsForm(request.POST if "apply" in request.POST else None, grids=grids,
                                 admin_site=self.admin_site)
        if form.is_bound and form.is_valid():
            grid = form.cleaned_data["grid"]
            writes = [partial(services.building_move, building=b, grid=grid, acting_user=request.user)
                      for b in buildings]
            if self.write_all(request, writes) is not None:
                self.message_user(
                    request,
                    _("Moved %(buildings)s to %(grid)s.")
                    % {"buildings": "、".join(b.number for b in buildings), "grid": grid},
                    messages.SUCCESS,
                )
            return None
        return self.render_action_form(
            request,
            action="move_buildings",
            title=_("Move buildings to another grid"),
            intro=_("These buildings, with their units and everything attached to them, move to the grid you choose:"),
            objects=buildings,
            form=form,
            submit_label=_("Move"),
        )

    @admin.display(description=gettext_lazy("below"))
    def below(self, obj):
        url = reverse("admin:grid_unit_changelist") + f"?building__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("units"))


@admin.register(Unit)
class UnitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(units_visible_to)
    place_path = "building__grid"
    list_display = ("number", "building", "grid")
    list_select_related = ("building__grid",)
    search_fields = ("number", "building__number", "building__address", "building__grid__name")
    autocomplete_fields = ("building",)
    ordering = ("building_id", "number")
    fields = ("building", "number")
    refusal_fields = {"clash": "number", "no_number": "number", "too_long": "number"}

    def get_queryset(self, request):
        # str(unit) names its building: without this the autocomplete makes a query per row.
        return super().get_queryset(request).select_related("building__grid")

    def get_readonly_fields(self, request, obj=None):
        # A unit is an entrance of its building for good: no service moves one.
        return () if obj is None else ("building",)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            adopt(obj, services.unit_add(building=data["building"], number=data["number"], acting_user=request.user))
        elif "number" in form.changed_data:
            services.unit_update(unit=obj, number=data["number"], acting_user=request.user)

    def delete_model(self, request, obj):
        services.unit_delete(unit=obj, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        for unit in queryset.select_related("building__grid"):
            services.unit_delete(unit=unit, acting_user=request.user)

    def delete_blockers(self, obj):
        posts = obj.posts.count()
        return ["%s: %d" % (_("posts"), posts)] if posts else []

    @admin.display(description=gettext_lazy("grid"), ordering="building__grid__code")
    def grid(self, obj):
        return obj.building.grid
