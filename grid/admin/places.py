"""The admin of places (区/街道/社区/网格): add, rename, move, merge, split."""

import json
from functools import partial

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import services, services_boundaries
from ..admin_forms import (
    AreaAddForm,
    AreaChangeForm,
    BoundaryImportForm,
    MergeForm,
    SplitGridForm,
)
from ..models import Area, AreaKind
from ..selectors import areas_visible_to, buildings_visible_to
from .scoped import BOTH_LOCATIONS, ScopedAdminMixin, adopt, autocomplete_source

# --- places -------------------------------------------------------------------------

def _parent_path(area):
    names = []
    node = area.parent
    while node is not None:
        names.append(node.name)
        node = node.parent
    return " / ".join(reversed(names))


@admin.register(Area)
class AreaAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(areas_visible_to)
    list_display = ("name", "kind", "code", "parent_path", "is_active", "outline", "below")
    # Kind and active have a handful of values; a filter listing places would list thousands.
    list_filter = ("kind", "is_active")
    search_fields = ("name", "^code")
    # Tree order uses the (tree_id, lft) index and reads like the hierarchy.
    ordering = ("tree_id", "lft")
    autocomplete_fields = ("parent",)
    actions = (*ScopedAdminMixin.actions, "merge_places", "split_grid")
    refusal_fields = {
        "bad_parent": "parent",
        "cycle": "parent",
        "bad_code": "code_suffix",
        "code_clash": "code_suffix",
        "no_name": "name",
        "too_long": "name",
        "bad_kind": "kind",
    }

    change_list_template = "admin/grid/area/change_list.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("import-boundaries/", wrap(self.import_boundaries_view), name="grid_area_import_boundaries"),
                path("export-boundaries/", wrap(self.export_boundaries_view), name="grid_area_export_boundaries"),
                *super().get_urls()]

    def export_boundaries_view(self, request):
        """导出边界: the managed places' outlines (and codes without one) as a GeoJSON file to draw in."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        collection = services_boundaries.boundaries_export(request.user)
        response = HttpResponse(json.dumps(collection, ensure_ascii=False), content_type="application/geo+json")
        response["Content-Disposition"] = f'attachment; filename="outlines-{timezone.localdate():%Y%m%d}.geojson"'
        return response

    def changelist_view(self, request, extra_context=None):
        context = {"may_import_boundaries": self.has_change_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context=context)

    def import_boundaries_view(self, request):
        """导入边界: a GeoJSON file's outlines for the places the user manages, all or nothing."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        posted = request.method == "POST"
        form = BoundaryImportForm(request.POST, request.FILES) if posted else BoundaryImportForm()
        errors, more = [], 0
        if posted and form.is_valid():
            try:
                result = services_boundaries.boundaries_import(raw=form.cleaned_data["file"].read(),
                                                               acting_user=request.user)
            except services_boundaries.BoundaryImportError as error:
                form.add_error(None, error.message)
                errors, more = error.errors, error.total - len(error.errors)
            else:
                self.message_user(request, _("Outlines imported: %(updated)d changed, %(unchanged)d already as in "
                                             "the file.") % {"updated": len(result.updated),
                                                             "unchanged": len(result.unchanged)}, messages.SUCCESS)
                return redirect("admin:grid_area_changelist")
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "form": form, "errors": errors,
            "more": more, "code_keys": "、".join(services_boundaries.CODE_KEYS),
            "title": _("Import outlines (GeoJSON)"),
        }
        return TemplateResponse(request, "admin/grid/area/import_boundaries.html", context,
                                status=400 if form.errors else 200)

    def get_queryset(self, request):
        # Three levels of parents is the whole path (district → street →
        # community above a grid); the GeoJSON boundaries are never shown here.
        return (
            super()
            .get_queryset(request)
            .select_related("parent__parent__parent")
            .defer("boundary", "parent__boundary", "parent__parent__boundary", "parent__parent__parent__boundary")
            # Whether it has an outline, without reading the outline.
            .annotate(has_outline=ExpressionWrapper(Q(boundary__isnull=False), output_field=BooleanField()))
        )

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        source = autocomplete_source(request)
        if source is not None:
            # A merged place takes nothing new: no children, buildings, posts or merges.
            queryset = queryset.filter(is_active=True)
            if source == Area._meta.get_field("parent"):
                queryset = queryset.exclude(kind=AreaKind.GRID)
        return queryset, may_have_duplicates

    # -- permissions ----------------------------------------------------------------

    def has_change_permission(self, request, obj=None):
        # A merged place stays as history: read-only.
        if obj is not None and not obj.is_active:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return super().has_delete_permission(request)
        # Deleting a place changes its parent, so the parent's managers decide
        # (as area_delete does); a district has no parent and decides for itself.
        return self.may_manage_place(request, obj.parent or obj)

    # -- the form -------------------------------------------------------------------

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("kind", "parent", "name", "code_suffix")
        return ("name", "parent", "kind", "code", "parent_path", "is_active", "merged_into", "created_at", "history")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        readonly = ["kind", "code", "parent_path", "is_active", "merged_into", "created_at", "history"]
        if obj.kind == AreaKind.DISTRICT:
            readonly.append("parent")  # a district is the root of its tree and never moves
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = AreaChangeForm if obj is not None else AreaAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            area = services.area_add(
                kind=data["kind"],
                name=data["name"],
                parent=data.get("parent"),
                code=data.get("code_suffix") or None,
                acting_user=request.user,
            )
            adopt(obj, area)
            return
        # A rename and a move are two writes; the admin's transaction makes them one.
        if "name" in form.changed_data:
            services.area_rename(area=obj, name=data["name"], acting_user=request.user)
        if "parent" in form.changed_data:
            services.area_move(area=obj, new_parent=data["parent"], acting_user=request.user)
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.area_delete(area=obj, acting_user=request.user)

    def delete_queryset(self, request, queryset):
        # Deepest first, so a place and the empty places under it can go together.
        for area in queryset.order_by("-level", "-lft"):
            services.area_delete(area=area, acting_user=request.user)

    def delete_blockers(self, obj):
        return ["%s: %d" % (label, count) for label, count in services.attached_to(obj)]

    # -- columns --------------------------------------------------------------------

    @admin.display(description=gettext_lazy("parent path"))
    def parent_path(self, obj):
        return _parent_path(obj)

    @admin.display(description=gettext_lazy("outline"), boolean=True, ordering="has_outline")
    def outline(self, obj):
        return obj.has_outline

    @admin.display(description=gettext_lazy("below"))
    def below(self, obj):
        # Drill-down links instead of a filter listing every place.
        links = []
        if obj.kind == AreaKind.GRID:
            links.append((reverse("admin:grid_building_changelist") + f"?grid__id__exact={obj.pk}", _("buildings")))
        else:
            links.append((reverse("admin:grid_area_changelist") + f"?parent__id__exact={obj.pk}", _("places under it")))
            if obj.is_active:
                add = reverse("admin:grid_area_add") + f"?parent={obj.pk}&kind={obj.child_kind}"
                links.append((add, _("add %(kind)s") % {"kind": AreaKind(obj.child_kind).label}))
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    @admin.display(description=gettext_lazy("place history"))
    def history(self, obj):
        url = reverse("admin:grid_areaevent_changelist") + f"?area__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("show the history of this place"))

    # -- merge and split --------------------------------------------------------------

    @admin.action(permissions=["change"], description=gettext_lazy("Merge into another place…"), location=BOTH_LOCATIONS)
    def merge_places(self, request, queryset):
        if self.bulk_refused(request, queryset):
            return None
        sources = list(queryset.order_by("tree_id", "lft"))
        if not sources:
            self.message_user(
                request,
                _("Items must be selected in order to perform actions on them. No items have been changed."),
                messages.WARNING,
            )
            return None
        targets = self.get_queryset(request).filter(is_active=True)
        form = MergeForm(request.POST if "apply" in request.POST else None, targets=targets, admin_site=self.admin_site)
        if form.is_bound and form.is_valid():
            target = form.cleaned_data["target"]
            writes = [partial(services.area_merge, source=s, target=target, acting_user=request.user) for s in sources]
            if self.write_all(request, writes) is not None:
                self.message_user(
                    request,
                    _("Merged %(sources)s into %(target)s.")
                    % {"sources": "、".join(s.name for s in sources), "target": target},
                    messages.SUCCESS,
                )
            return None
        return self.render_action_form(
            request,
            action="merge_places",
            title=_("Merge places"),
            intro=_("These places will be merged into the place you choose and kept, inactive, as history:"),
            objects=sources,
            form=form,
            submit_label=_("Merge"),
        )

    @admin.action(permissions=["change"], description=gettext_lazy("Split a grid…"), location=BOTH_LOCATIONS)
    def split_grid(self, request, queryset):
        chosen = list(queryset[:2])
        if len(chosen) != 1 or chosen[0].kind != AreaKind.GRID:
            self.message_user(request, _("Choose exactly one grid to split."), messages.WARNING)
            return None
        grid = chosen[0]
        buildings = buildings_visible_to(request.user, managing=True).filter(grid=grid).order_by("number")
        form = SplitGridForm(request.POST if "apply" in request.POST else None, buildings=buildings)
        if form.is_bound and form.is_valid():
            write = partial(
                services.grid_split,
                grid=grid,
                name=form.cleaned_data["name"],
                buildings=list(form.cleaned_data["buildings"]),
                acting_user=request.user,
            )
            done = self.write_all(request, [write])
            if done is not None:
                self.message_user(
                    request,
                    _("Split %(grid)s: the new grid %(new)s took %(n)d buildings.")
                    % {"grid": grid, "new": done[0], "n": len(form.cleaned_data["buildings"])},
                    messages.SUCCESS,
                )
            return None
        return self.render_action_form(
            request,
            action="split_grid",
            title=_("Split a grid"),
            intro=_("A new grid beside this one takes the buildings you choose, with everything attached to them:"),
            objects=[grid],
            form=form,
            submit_label=_("Split"),
        )
