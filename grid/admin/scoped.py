"""The part every scoped admin shares: `ScopedAdminMixin` (scope, permissions,
service-backed writes and action forms), its read-only form `ReadOnlyScopedAdmin`
and `ReadOnlyInline`, and its helpers (`managing_view`, `takes_managing`,
`post_area`, `autocomplete_source`, `adopt`). The other apps' admins import these
through grid.admin."""

import copy
import inspect
from functools import cache

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.options import ActionLocation
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.forms import ModelChoiceField
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from mptt.fields import TreeForeignKey

from portal.admin_dates import FarDateSafeAdminMixin
from portal.errors import DomainError

from ..admin_forms import RefusedFormMixin
from ..selectors import can_manage_area, is_manager, scope_of


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
    if post.organisation_id:
        return post.organisation.seat
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

    def action_checkbox(self, obj):
        """Django's row checkbox, as the same markup without a template render per row
        (a CheckboxInput rendered through the form renderer cost ~0.2 ms a row: a fifth of
        the case list's time, issue #24)."""
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html('<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
                           helpers.ACTION_CHECKBOX_NAME, str(obj.pk), label)

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

    def write_all(self, request, writes, *, labels=None):
        """Run service calls all or nothing; a refusal becomes an error message and None.

        With `labels` (one per write), the message names the row that was refused and says that
        nothing was changed, so a bulk action over many rows tells which one to leave out."""
        done = []
        try:
            with transaction.atomic():
                for write in writes:
                    done.append(write())
                return done
        except DomainError as refusal:
            if labels is not None and len(writes) > 1:
                message = _("%(row)s: %(refusal)s Nothing was changed; leave that row out and try again.") % {
                    "row": labels[len(done)], "refusal": refusal.message}
            else:
                message = refusal.message
            self.message_user(request, message, messages.ERROR)
            return None

    @admin.action(permissions=["delete"], description=gettext_lazy("Delete selected %(verbose_name_plural)s"))
    def delete_selected(self, request, queryset):
        # Django's action, kept for its confirmation page, with its deletes going
        # through delete_queryset (one service call per object) in one transaction,
        # so a refusal halfway leaves everything, log entries included, as it was.
        if self.bulk_refused(request, queryset):
            return None
        try:
            with transaction.atomic():
                return django_delete_selected(self, request, queryset)
        except DomainError as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            return None

    def bulk_refused(self, request, queryset):
        """Refuse a bulk action on more rows than bulk_limit (as "select all" can ask for), or on none:
        rows chosen on one view of the list that its filter now leaves out (an action's second step
        posted where the filter differs) would otherwise be reported as "0 done"."""
        count = queryset.count()
        if count > self.bulk_limit:
            self.message_user(request, _("Choose at most %(n)d at a time.") % {"n": self.bulk_limit}, messages.ERROR)
            return True
        if count == 0:
            self.message_user(request, _("None of the chosen rows is in the list as it is filtered now; nothing "
                                         "was changed."), messages.WARNING)
            return True
        return False

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


# --- read-only: histories, logs and rows kept by the staff pages ---------------------

class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Scoped like any admin here, but nobody adds, changes or deletes a row, and no
    actions: the rows are written by the services (a timeline, a log, what the staff
    pages keep). Subclasses may still allow one action or an add form explicitly."""

    actions = ()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown on their parent's page and never added, changed or deleted there."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        # The parent page is scoped (404 outside); whoever sees it sees its rows.
        # Django also asks without an object while building the inline's rows, so
        # this cannot answer False for obj=None.
        return True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def adopt(obj, saved):
    """Point the admin's unsaved instance at the row a service created.

    The admin goes on to write its log entry and redirect with the object it
    passed to save_model, so that object must become the saved row.
    """
    obj.pk = saved.pk
    obj.refresh_from_db()
    obj._state.adding = False
