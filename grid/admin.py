"""The Django admin for community staff (社区工作人员): places, buildings, units,
posts, people and place history.

Two rules hold for every admin here, through `ScopedAdminMixin`:

- What a staff member sees comes from one selector in grid/selectors.py, asked
  with `managing=True` (their managing posts only: district official, street
  staff, community staff); permissions come from those posts, not from
  Django's permission table. Anything outside answers 404, the same as a row
  that does not exist.
- Every structural write is one call into grid/services.py. A refusal
  (DomainError) is shown on the page in the user's language and the
  transaction around the request leaves the database as it was.

Built for a city of 10,000 grids and 250,000 buildings: every foreign key is an
autocomplete, changelists select their related rows in the same query, and no
page renders the whole tree.
"""

import copy
import inspect
from functools import cache, partial

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.options import ActionLocation
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.forms import ModelChoiceField
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from mptt.fields import TreeForeignKey

from portal.admin_dates import FarDateSafeAdminMixin
from portal.errors import DomainError

from . import services
from .admin_forms import (
    AreaAddForm,
    AreaChangeForm,
    MergeForm,
    MoveBuildingsForm,
    PostGrantForm,
    RefusedFormMixin,
    SplitGridForm,
    UserInviteForm,
)
from .models import MANAGING_ROLES, Area, AreaEvent, AreaKind, Building, Post, Unit, User
from .selectors import (
    active_posts,
    area_events_visible_to,
    areas_visible_to,
    buildings_visible_to,
    can_manage_area,
    is_manager,
    posts_visible_to,
    scope_of,
    units_visible_to,
    users_visible_to,
)

BOTH_LOCATIONS = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


# --- who counts as a manager (is_manager: grid.selectors, imported above) -----------

def managing_view(user):
    """Transitional: `user` carrying only the managing part of their scope.

    Only for selectors of other apps that do not take `managing=` yet
    (cases.admin calls `cases_visible_to(managing_view(user))`); grid's own
    selectors take `managing=True` and never see this. It leans on
    `scope_of` caching the scope on the user object (`_portal_scope`), so
    remove it once `cases_visible_to` has the keyword.
    """
    scope = scope_of(user)
    managing = scope.managing()
    if managing == scope:
        return user
    clone = copy.copy(user)
    clone._portal_scope = managing
    return clone


@cache
def takes_managing(selector):
    """Does this selector take the `managing` keyword (every selector in grid/selectors.py does)?"""
    return "managing" in inspect.signature(selector).parameters


def post_area(post):
    """The place that decides who manages a post: its area, or the grid of its building or unit."""
    if post.area_id:
        return post.area
    if post.building_id:
        return post.building.grid
    return post.unit.building.grid


def autocomplete_source(request):
    """The relation an admin autocomplete request is filling in, or None for any other page."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.url_name != "autocomplete":
        return None
    try:
        model = apps.get_model(request.GET["app_label"], request.GET["model_name"])
        return model._meta.get_field(request.GET["field_name"])
    except (KeyError, LookupError, FieldDoesNotExist):
        return None


# --- the mixin every scoped admin uses ------------------------------------------

class ScopedAdminMixin(FarDateSafeAdminMixin):
    """Scope, permissions and service-backed writes for a ModelAdmin.

    Put it first in the bases (`class CaseAdmin(ScopedAdminMixin, admin.ModelAdmin)`)
    and set:

    - `selector`: the app's scoping function, `staticmethod(cases_visible_to)`.
      It is called as `selector(user, managing=True)`, so only managing posts
      count (a selector without that keyword gets `managing_view(user)`
      until it grows one).
    - `place_path`: how to reach, from an object, the place whose managers
      may change it ("" for a place itself, "grid", "building__grid"), or
      override `place_of(obj)` / `may_manage(request, obj)`.
    - `refusal_fields`: DomainError codes mapped to the form field the refusal
      belongs beside (others show above the form).

    Then write through services in save_model / delete_model / delete_queryset
    and let DomainError propagate: the change and delete views catch it after
    their transaction has rolled back. Actions call services through
    `write_all` (all or nothing, refusal as a message); an action that needs
    more input renders `render_action_form`. Overriding get_queryset to add
    select_related: name list_select_related's fields there too, because the
    changelist ignores list_select_related once the queryset selects any.
    """

    selector = None
    place_path = ""
    # DomainError.code -> the form field the refusal is shown beside.
    refusal_fields = {}
    # Counting a scoped table of 250,000 rows twice per page helps nobody.
    show_full_result_count = False
    actions = ("delete_selected",)
    # Bulk actions call one service per object in one transaction; beyond a
    # page of rows that is a job for a command, not a click.
    bulk_limit = 100

    # -- scope --------------------------------------------------------------------

    def get_queryset(self, request):
        if not is_manager(request.user):
            return self.model._default_manager.none()
        queryset = self.scoped(request.user)
        ordering = self.get_ordering(request)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return queryset

    def scoped(self, user):
        """The selector's rows for `user`'s managing posts."""
        if takes_managing(self.selector):
            return self.selector(user, managing=True)
        return self.selector(managing_view(user))

    def place_of(self, obj):
        node = obj
        for name in filter(None, self.place_path.split("__")):
            node = getattr(node, name)
            if node is None:
                return None
        return node

    def may_manage_place(self, request, place):
        user = request.user
        if not is_manager(user):
            return False
        if scope_of(user).unrestricted:
            return True
        return place is not None and can_manage_area(user, place)

    def may_manage(self, request, obj=None):
        if obj is None:
            return is_manager(request.user)
        return self.may_manage_place(request, self.place_of(obj))

    # Django's permission table plays no part: posts decide.
    def has_module_permission(self, request):
        return is_manager(request.user)

    def has_view_permission(self, request, obj=None):
        return self.may_manage(request, obj)

    def has_add_permission(self, request):
        return is_manager(request.user)

    def has_change_permission(self, request, obj=None):
        return self.may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.may_manage(request, obj)

    def get_object(self, request, object_id, from_field=None):
        # Django's admin redirects with "doesn't exist" for a missing row and
        # would answer 403 for a row it can load but not show; both are 404
        # here, so the answer does not tell whether the row exists.
        obj = super().get_object(request, object_id, from_field)
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # The choices a form accepts are the rows the related admin shows this
        # user, so a hand-edited POST cannot point at a place outside the scope.
        try:
            related_admin = self.admin_site.get_model_admin(db_field.remote_field.model)
        except NotRegistered:
            related_admin = None
        if isinstance(related_admin, ScopedAdminMixin) and "queryset" not in kwargs:
            kwargs["queryset"] = related_admin.get_queryset(request)
        if isinstance(db_field, TreeForeignKey):
            # MPTT's TreeNodeChoiceField labels options by walking the tree; the
            # autocomplete widget only needs a plain field that checks one id.
            kwargs.setdefault("form_class", ModelChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # -- service refusals -----------------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as refusal:
            if request.method != "POST" or getattr(request, "_grid_refusal", None) is not None:
                raise
            # The transaction around the POST is rolled back by now (the log
            # entry too). Build the page again from the same POST with the
            # refusal on the form, so the user sees their input and the reason.
            request._grid_refusal = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_grid_refusal", None)
        if refusal is None:
            return form
        attrs = {"refusal": refusal.message, "refusal_field": self.refusal_fields.get(refusal.code)}
        return type(form.__name__, (RefusedFormMixin, form), attrs)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as refusal:
            # delete_view's own transaction has rolled back the deletion and its log entry.
            self.message_user(request, refusal.message, messages.ERROR)
            info = (self.opts.app_label, self.opts.model_name)
            return HttpResponseRedirect(reverse("admin:%s_%s_change" % info, args=[object_id]))

    def get_deleted_objects(self, objs, request):
        # Django's collector walks every related row (under a district: every
        # place, building, case and resident) to list what a delete would take
        # along. Services refuse to delete anything with rows attached, so the
        # page lists the objects themselves and what still blocks them.
        # A bulk selection may hold a place together with the empty places
        # under it, which only block each other until deleted deepest first, so
        # there the services alone decide, all or nothing.
        objs = list(objs)
        blockers = self.delete_blockers(objs[0]) if len(objs) == 1 else []
        return [str(obj) for obj in objs], {self.opts.verbose_name_plural: len(objs)}, set(), blockers

    def delete_blockers(self, obj):
        """Lines naming what still hangs on `obj`, shown before a delete is confirmed."""
        return []

    def write_all(self, request, writes):
        """Run service calls all or nothing; a refusal becomes an error message and None."""
        try:
            with transaction.atomic():
                return [write() for write in writes]
        except DomainError as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            return None

    @admin.action(permissions=["delete"], description=gettext_lazy("Delete selected %(verbose_name_plural)s"))
    def delete_selected(self, request, queryset):
        # Django's action, kept for its confirmation page, with its deletes going
        # through delete_queryset (one service call per object) in one transaction,
        # so a refusal halfway leaves everything, log entries included, as it was.
        if self.too_many(request, queryset):
            return None
        try:
            with transaction.atomic():
                return django_delete_selected(self, request, queryset)
        except DomainError as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            return None

    def too_many(self, request, queryset):
        """Refuse a bulk action on more rows than bulk_limit (as "select all" can ask for)."""
        if queryset.count() <= self.bulk_limit:
            return False
        self.message_user(request, _("Choose at most %(n)d at a time.") % {"n": self.bulk_limit}, messages.ERROR)
        return True

    def render_action_form(self, request, *, action, title, intro, objects, form, submit_label):
        """The intermediate page of an action that needs more input (merge, split, move)."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "intro": intro,
            "opts": self.opts,
            "objects": objects,
            "form": form,
            "action": action,
            "submit_label": submit_label,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/grid/action_form.html", context)


def adopt(obj, saved):
    """Point the admin's unsaved instance at the row a service created.

    The admin goes on to write its log entry and redirect with the object it
    passed to save_model, so that object must become the saved row.
    """
    obj.pk = saved.pk
    obj.refresh_from_db()
    obj._state.adding = False


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
    list_display = ("name", "kind", "code", "parent_path", "is_active", "below")
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

    def get_queryset(self, request):
        # Three levels of parents is the whole path (district → street →
        # community above a grid); the GeoJSON boundaries are never shown here.
        return (
            super()
            .get_queryset(request)
            .select_related("parent__parent__parent")
            .defer("boundary", "parent__boundary", "parent__parent__boundary", "parent__parent__parent__boundary")
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
        if self.too_many(request, queryset):
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


# --- buildings and units -------------------------------------------------------------

@admin.register(Building)
class BuildingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(buildings_visible_to)
    place_path = "grid"
    list_display = ("number", "name", "address", "grid", "community", "below")
    list_select_related = ("grid__parent",)
    search_fields = ("number", "name", "address", "grid__name", "^grid__code")
    autocomplete_fields = ("grid",)
    # Matches the (grid, number) unique index, so a page of 250,000 rows sorts by index.
    ordering = ("grid_id", "number")
    refusal_fields = {"clash": "number", "no_number": "number", "bad_parent": "grid"}
    editable_fields = ("number", "name", "address", "latitude", "longitude")
    actions = (*ScopedAdminMixin.actions, "move_buildings")

    def get_queryset(self, request):
        # The changelist skips list_select_related when get_queryset already
        # selects related rows, so everything the columns need is named here.
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_fields(self, request, obj=None):
        fields = ("grid", *self.editable_fields)
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
                grid=data["grid"], acting_user=request.user, **{f: data[f] for f in self.editable_fields}
            )
            adopt(obj, building)
            return
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
        if self.too_many(request, queryset):
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


# --- posts ------------------------------------------------------------------------------

class PostStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", _("active")), ("ended", _("ended"))]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(ended_at__isnull=True)
        if self.value() == "ended":
            return queryset.filter(ended_at__isnull=False)
        return queryset


POST_RELATED = ("user", "area", "building__grid", "unit__building__grid")


@admin.register(Post)
class PostAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(posts_visible_to)
    list_display = ("user", "role", "place", "started_at", "ended_at")
    list_filter = ("role", PostStatusFilter)
    list_select_related = POST_RELATED
    search_fields = ("user__username", "user__full_name", "user__phone", "area__name", "^area__code")
    autocomplete_fields = ("user", "area", "building", "unit")
    ordering = ("-id",)
    form = PostGrantForm
    actions = ("end_posts",)
    refusal_fields = {"bad_role": "role", "duplicate": "user"}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*POST_RELATED)

    def place_of(self, obj):
        return post_area(obj)

    def has_view_permission(self, request, obj=None):
        # posts_visible_to lists one's own posts wherever they are; they open too.
        if obj is not None and obj.user_id == request.user.pk and is_manager(request.user):
            return True
        return super().has_view_permission(request, obj)

    # A post is granted and ended, never edited or deleted: its history is the record.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_end_permission(self, request, obj=None):
        return self.may_manage(request, obj)

    def get_fields(self, request, obj=None):
        fields = ("user", "role", "area", "building", "unit")
        return fields if obj is None else (*fields, "started_at", "ended_at")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        post = services.post_grant(user=data["user"], role=data["role"], place=form.place, acting_user=request.user)
        adopt(obj, post)

    @admin.action(permissions=["end"], description=gettext_lazy("End selected posts"), location=BOTH_LOCATIONS)
    def end_posts(self, request, queryset):
        if self.too_many(request, queryset):
            return None
        posts = list(queryset.filter(ended_at__isnull=True))
        if not posts:
            self.message_user(request, _("None of the selected posts is active."), messages.WARNING)
            return None
        writes = [partial(services.post_end, post=post, acting_user=request.user) for post in posts]
        if self.write_all(request, writes) is not None:
            count = len(posts)
            self.message_user(
                request,
                ngettext("Ended %(count)d post.", "Ended %(count)d posts.", count) % {"count": count},
                messages.SUCCESS,
            )
        return None


# --- people ------------------------------------------------------------------------------

class PostInline(admin.TabularInline):
    """A person's posts on their page, read-only: posts change through grant and end."""

    model = Post
    fk_name = "user"
    fields = ("role", "place", "started_at", "ended_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        if not is_manager(request.user):
            return Post.objects.none()
        return posts_visible_to(request.user, managing=True).select_related(*POST_RELATED).order_by("-id")

    def has_view_permission(self, request, obj=None):
        return is_manager(request.user)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    selector = staticmethod(users_visible_to)
    list_display = ("username", "full_name", "phone", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff")
    search_fields = ("username", "full_name", "phone", "email")
    ordering = ("username",)
    inlines = (PostInline,)
    actions = ()
    # Administrators add accounts with Django's own form (any account, with or
    # without a post); staff invite someone onto a place they manage.
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "full_name", "phone", "usable_password", "password1", "password2")}),
    )
    invite_fieldsets = (
        (None, {"fields": ("username", "full_name", "phone")}),
        (gettext_lazy("First post"), {
            "fields": ("role", "area", "building", "unit"),
            "description": gettext_lazy(
                "Choose one place: a district, street, community or grid for the roles held on places, "
                "a building for a building chief, a unit for a unit chief."
            ),
        }),
    )
    invite_form_template = "admin/grid/user/invite_form.html"
    refusal_fields = {
        "no_username": "username", "bad_username": "username", "taken": "username",
        "no_full_name": "full_name", "bad_role": "role", "bad_place": "role",
    }
    superuser_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("full_name", "phone", "email")}),
        (gettext_lazy("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (gettext_lazy("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    # Staff edit contact details; rights come from posts, never from these flags.
    staff_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("full_name", "phone", "email")}),
        (gettext_lazy("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    def get_inline_instances(self, request, obj=None):
        # A new account has no posts to list yet (the invite's first post is in the form).
        return [] if obj is None else super().get_inline_instances(request, obj)

    def invites(self, request):
        """Does the add page invite through user_invite (staff) or use Django's form (administrators)?"""
        return not request.user.is_superuser

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.invite_fieldsets if self.invites(request) else self.add_fieldsets
        return self.superuser_fieldsets if request.user.is_superuser else self.staff_fieldsets

    def get_form(self, request, obj=None, **kwargs):
        if obj is None and self.invites(request):
            user = request.user
            kwargs["form"] = UserInviteForm.for_places(
                areas=areas_visible_to(user, managing=True).filter(is_active=True),
                buildings=buildings_visible_to(user, managing=True),
                units=units_visible_to(user, managing=True),
                admin_site=self.admin_site,
            )
        return super().get_form(request, obj, **kwargs)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        response = super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
        if add and self.invites(request):
            response.template_name = self.invite_form_template
        return response

    def save_model(self, request, obj, form, change):
        if change or not self.invites(request):
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        user = services.user_invite(
            username=data["username"], full_name=data["full_name"], phone=data["phone"],
            role=data["role"], place=form.place, acting_user=request.user,
        )
        # Django's UserAdmin goes on to the new account's page, where its
        # password is set through the (scoped) password page.
        adopt(obj, user)

    def get_readonly_fields(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return ()
        return ("username", "last_login", "date_joined")

    def has_view_permission(self, request, obj=None):
        return is_manager(request.user)  # the selector decides which people

    def has_add_permission(self, request):
        # Staff invite people onto places they manage (user_invite checks the place).
        return is_manager(request.user)

    def has_change_permission(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return is_manager(request.user)
        return is_manager(request.user) and self.may_change_person(request, obj)

    def has_delete_permission(self, request, obj=None):
        # People hold posts and history; an account is switched off, not deleted.
        return False

    def may_change_person(self, request, person):
        """Staff may edit (and reset the password of) someone only if every
        active post of that person lies under the staff member's managing posts,
        and a managing post of theirs strictly below: a colleague on the same
        community, or anyone above it, is not theirs to take over."""
        cached = getattr(person, "_admin_may_change", None)
        if cached is not None:
            return cached
        user = request.user
        if person.pk == user.pk:
            allowed = True
        elif person.is_superuser:
            allowed = False
        else:
            spans = scope_of(user).managing().spans
            posts = active_posts(person).select_related(*POST_RELATED[1:])
            allowed = all(
                any(
                    span.contains(area) and (post.role not in MANAGING_ROLES or span.area_id != area.pk)
                    for span in spans
                )
                for post in posts
                for area in [post_area(post)]
            )
        person._admin_may_change = allowed
        return allowed


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
class AreaEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(area_events_visible_to)
    place_path = "area"
    list_display = ("at", "action", "area", "actor", "summary")
    list_filter = ("action",)
    list_select_related = ("area", "actor")
    search_fields = ("area__name", "^area__code")
    fields = ("at", "action", "area", "actor", "summary", "details")
    readonly_fields = fields
    actions = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("area", "actor")

    # History is written by the services that change places, and never edited.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("summary"))
    def summary(self, obj):
        return _event_summary(obj)


# City-wide reference data and the working calendar's admin (a module of its own).
from . import admin_reference  # noqa: E402, F401
