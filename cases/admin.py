"""Cases in the admin, for community, street and district staff.

Scoped through grid.admin.ScopedAdminMixin with cases.selectors.cases_visible_to
(managing posts only). A case's fields are all read-only here: its status and
its people change only through cases/services.py, which the admin actions call
one case at a time, all or nothing. The timeline is shown inline, read-only.

Categories are city-wide data: district officials and administrators edit them;
other staff read them (grid/admin_reference.py, which also has the working calendar).
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from grid.admin import ReadOnlyInline, ScopedAdminMixin, is_manager
from grid.admin_reference import ReferenceDataAdmin
from grid.selectors import scope_of
from portal.admin_dates import FarDateSafeChangeList
from portal.admin_paging import CappedCountPaginator

from . import admin_workflow, oversight, services, services_intake
from .models import (
    Case,
    CaseEvent,
    CasePhoto,
    Category,
    Delivery,
    ExtensionRequest,
    Intake,
    Notification,
)
from .selectors import cases_visible_to, intakes_visible_to
from .tracking import normalise_tracking_code

# YYYYMMDD and five digits: a shorter run of digits is searched as a number's end.
CASE_NUMBER_DIGITS = 13


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ("at", "action", "from_status", "to_status", "actor", "note", "is_public")
    readonly_fields = fields
    ordering = ("at", "id")
    verbose_name_plural = gettext_lazy("timeline")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class CasePhotoInline(ReadOnlyInline):
    model = CasePhoto
    # A thumbnail through the scoped photo view (cases/admin_workflow.py), never the /media/ URL.
    fields = ("thumbnail", "stage", "uploaded_at")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("photo"))
    def thumbnail(self, obj):
        return admin_workflow.photo_thumbnail(obj)


class ExtensionInline(ReadOnlyInline):
    model = ExtensionRequest
    fk_name = "case"
    fields = ("requested_at", "requested_by", "value", "unit", "reason", "status", "decided_by", "decided_at")
    readonly_fields = fields


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=200, widget=forms.Textarea(attrs={"rows": 3}))


class OverdueFilter(admin.SimpleListFilter):
    title = gettext_lazy("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return (("yes", _("Overdue")), ("supervised", _("Supervised (督办)")), ("carried", _("Carried over (挂账)")))

    def queryset(self, request, queryset):
        value = self.value()
        if value == "yes":
            from .selectors import overdue_q

            return queryset.filter(overdue_q(timezone.now()))
        if value == "supervised":
            return queryset.filter(supervised_at__isnull=False)
        if value == "carried":
            return queryset.filter(carried_over_at__isnull=False)
        return queryset


# What the change list shows, and the columns it needs for that (with the
# related rows' __str__): not the case's other forty columns, nor the places'
# boundaries, which select_related would otherwise fetch for every row.
LIST_RELATED = ("category", "category__parent", "assignee", "community")
LIST_COLUMNS = (
    "number", "status", "responsible_level", "due_at", "channel", "created_at",
    "category__name", "category__parent__name",
    "assignee__username", "assignee__full_name", "community__name", "community__code",
)


class CaseChangeList(FarDateSafeChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        return queryset.select_related(None).select_related(*LIST_RELATED).only(*LIST_COLUMNS)


@admin.register(Case)
class CaseAdmin(admin_workflow.CaseWorkflowAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(cases_visible_to)
    list_display = ("number", "category", "status", "responsible_level", "assignee", "due_at", "channel",
                    "created_at", "community")
    # A date filter rather than date_hierarchy: the hierarchy asks the database
    # for the distinct years (or months) of every case in scope on each view of
    # the list (SELECT DISTINCT DATE_TRUNC over a district's or the city's rows:
    # 650–860 ms at 2.1 M cases); the filter's choices cost no query.
    list_filter = ("status", OverdueFilter, "channel", "kind", "responsible_level",
                   "triage_class", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=number", "description", "address")
    ordering = ("-created_at", "-id")
    list_select_related = LIST_RELATED
    paginator = CappedCountPaginator
    # A page of 50 like the case board: the change list renders each cell through
    # admin's display helpers, most of the page's time at 100 rows.
    list_per_page = 50
    inlines = (CaseEventInline, CasePhotoInline, ExtensionInline)
    actions = ("register_cases", "supervise_cases", "close_cases", "carry_over_cases", "lift_carry_over_cases",
               "reject_cases")
    fieldsets = (
        (None, {"fields": ("number", "status", "kind", "category", "description", "channel", "external_ref")}),
        (gettext_lazy("Place"), {"fields": ("district", "street", "community", "grid", "building", "unit",
                                            "address", "latitude", "longitude")}),
        (gettext_lazy("Responsibility and clock"), {"fields": (
            "responsible_level", "assignee", "due_at", "handle_due_at", "supervised_at", "supervised_by",
            "carried_over_at", "carried_over_reason", "duplicate_of",
            "rework_count", "extension_count", "escalation_count", "alarm_count")}),
        (gettext_lazy("Organisations (三事分流)"), {"fields": (
            "triage_class", "organisation", "org_assignment", "returned_at", "org_supervised_due", "referred_to")}),
        (gettext_lazy("Reporter"), {"fields": ("reporter_kind", "reporter", "reporter_name_masked",
                                                "reporter_phone_masked", "reporter_erased_at")}),
        (gettext_lazy("Dates and rating"), {"fields": (
            "created_at", "registered_at", "accepted_at", "resolved_at", "resolved_by", "closed_at",
            "rating", "rating_comment", "rated_at")}),
    )

    def get_changelist(self, request, **kwargs):
        return CaseChangeList

    def get_search_results(self, request, queryset, search_term):
        """The search fields, or the codes a caller or the hotline reads out: a tracking code (any case,
        dashes or spaces), a 12345 work-order number or external reference, a case number's last digits."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term or len(term) > 64:
            return results, may_have_duplicates
        codes = Q(external_ref=term) | Q(hotline_order__order_number=term)
        tracking = normalise_tracking_code(term)
        if len(tracking) == services.TRACKING_LENGTH:
            codes |= Q(tracking_code=tracking)
        if term.isascii() and term.isdigit() and 4 <= len(term) < CASE_NUMBER_DIGITS:
            codes |= Q(number__endswith=term)
        return results | queryset.filter(codes), may_have_duplicates

    def get_readonly_fields(self, request, obj=None):
        # Every field: a case changes only through its transitions.
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(
            "category", "category__parent", "assignee", "community", "grid", "street", "district",
        )

    def has_add_permission(self, request):
        # Intake is the report, hotline and patrol pages (services_report.case_report).
        return False

    def has_delete_permission(self, request, obj=None):
        # A case is a public record: rejected or closed, never deleted.
        return False

    def may_manage(self, request, obj=None):
        if obj is None:
            return is_manager(request.user)
        return cases_visible_to(request.user, managing=True).filter(pk=obj.pk).exists()

    # -- actions: one service call per case, all or nothing --------------------------

    def _each(self, request, queryset, write, done_message):
        now = timezone.now()
        # The change list's queryset loads only the listed columns; the services get whole cases.
        cases = list(queryset.defer(None))
        results = self.write_all(request, [lambda c=c: write(c, now) for c in cases],
                                 labels=[_("Case %(number)s") % {"number": c.number} for c in cases])
        if results is not None:
            self.message_user(request, done_message(len(results)), messages.SUCCESS)

    @admin.action(description=gettext_lazy("Register (and route) the selected reports"))
    def register_cases(self, request, queryset):
        self._each(request, queryset,
                   lambda c, now: services.case_register(case=c, acting_user=request.user, now=now),
                   lambda n: ngettext("%d case registered.", "%d cases registered.", n) % n)

    @admin.action(description=gettext_lazy("Supervise (督办) the selected cases"))
    def supervise_cases(self, request, queryset):
        self._each(request, queryset,
                   lambda c, now: oversight.case_supervise(case=c, acting_user=request.user, now=now),
                   lambda n: ngettext("%d case supervised.", "%d cases supervised.", n) % n)

    @admin.action(description=gettext_lazy("Close the selected verified cases"))
    def close_cases(self, request, queryset):
        self._each(request, queryset,
                   lambda c, now: services.case_close(case=c, acting_user=request.user, now=now),
                   lambda n: ngettext("%d case closed.", "%d cases closed.", n) % n)

    @admin.action(description=gettext_lazy("Lift the carry-over of the selected cases"))
    def lift_carry_over_cases(self, request, queryset):
        self._each(request, queryset,
                   lambda c, now: oversight.case_lift_carry_over(case=c, acting_user=request.user, now=now),
                   lambda n: ngettext("%d case back on the clock.", "%d cases back on the clock.", n) % n)

    def _with_reason(self, request, queryset, *, action, title, write, done):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(request, queryset, lambda c, now: write(c, now, reason), done)
            return None
        return self.render_action_form(
            request, action=action, title=title, intro=_("Give the reason; it goes on each case's timeline."),
            objects=list(queryset), form=form, submit_label=title,
        )

    @admin.action(description=gettext_lazy("Carry over (挂账) the selected cases"))
    def carry_over_cases(self, request, queryset):
        return self._with_reason(
            request, queryset, action="carry_over_cases", title=_("Carry over (挂账)"),
            write=lambda c, now, reason: oversight.case_carry_over(case=c, acting_user=request.user, reason=reason,
                                                                   now=now),
            done=lambda n: ngettext("%d case carried over.", "%d cases carried over.", n) % n,
        )

    @admin.action(description=gettext_lazy("Reject the selected reports (not a matter)"))
    def reject_cases(self, request, queryset):
        return self._with_reason(
            request, queryset, action="reject_cases", title=_("Reject"),
            write=lambda c, now, reason: services.case_reject(case=c, acting_user=request.user, reason=reason,
                                                              now=now),
            done=lambda n: ngettext("%d report rejected.", "%d reports rejected.", n) % n,
        )


@admin.register(Intake)
class IntakeAdmin(admin_workflow.IntakePhotoAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Residents' reports not registered yet: normally for a second or two, longer only
    when the worker could not register one (its place merged, its category withdrawn
    meanwhile). Staff choose the right category or place here; saving registers it."""

    selector = staticmethod(intakes_visible_to)
    list_display = ("tracking_code", "received_at", "category", "grid", "building", "failed_at", "failure")
    list_filter = (("failed_at", admin.EmptyFieldListFilter),)
    list_select_related = ("category", "grid", "building")
    ordering = ("id",)
    autocomplete_fields = ("grid", "building")
    refusal_fields = {"unknown_category": "category", "bad_place": "grid", "no_place": "grid"}
    actions = ("register_intakes",)
    fieldsets = (
        (None, {"fields": ("tracking_code", "received_at", "channel", "failed_at", "failure")}),
        (gettext_lazy("Place and category: correct them, then save to register the case"),
         {"fields": ("category", "grid", "building")}),
        (gettext_lazy("Report"), {"fields": ("description", "photo_thumbnail", "reporter_name_masked",
                                             "reporter_phone_masked")}),
    )
    # Masked: the full values only by a logged reveal (cases/privacy.py), never on an admin page.
    # The photo through the scoped view (cases/admin_workflow.py), never the /media/ URL.
    readonly_fields = ("tracking_code", "received_at", "channel", "failed_at", "failure", "description",
                       "photo_thumbnail", "reporter_name_masked", "reporter_phone_masked")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("category", "grid", "building")

    def place_of(self, obj):
        return obj.building.grid if obj.building_id else obj.grid

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # A resident's report becomes a case (or is rejected as one); it is never dropped here.
        return False

    def save_model(self, request, obj, form, change):
        # Only what staff changed: the form shows the row's building, which would otherwise
        # win over a grid newly chosen beside it.
        data = {name: form.cleaned_data.get(name) for name in ("category", "grid", "building")
                if name in form.changed_data}
        if "grid" in data and "building" not in data and obj.building_id is not None:
            data["building"] = None
        services_intake.intake_retry(intake=obj, acting_user=request.user, **{
            key: value for key, value in data.items() if value is not None})

    def response_change(self, request, obj):
        # The row is gone: it is a case now.
        self.message_user(request, _("The report is registered as a case."), messages.SUCCESS)
        return self.response_post_save_change(request, obj)

    @admin.action(description=gettext_lazy("Register the selected reports as cases"))
    def register_intakes(self, request, queryset):
        rows = list(queryset)
        results = self.write_all(request, [
            lambda row=row: services_intake.intake_retry(intake=row, acting_user=request.user) for row in rows
        ])
        if results is not None:
            self.message_user(request, ngettext("%d report registered.", "%d reports registered.", len(results))
                              % len(results), messages.SUCCESS)


@admin.register(Category)
class CategoryAdmin(ReferenceDataAdmin):
    list_display = ("code", "name", "parent", "family", "triage", "dispatch_limit", "dispatch_limit_unit",
                    "accept_limit", "accept_limit_unit", "handle_limit", "handle_limit_unit", "is_mediation",
                    "is_active")
    list_filter = ("family", "triage", "is_mediation", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    ordering = ("sort_order", "code")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = Category.objects.filter(parent__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # Cases keep their category (PROTECT); retire a category with "active" instead.
        return False


# --- notifications (read-only) -----------------------------------------------------------

class ReadOnlyAdmin(admin.ModelAdmin):
    def has_module_permission(self, request):
        return is_manager(request.user)

    def has_view_permission(self, request, obj=None):
        return is_manager(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "case", "message", "read_at")
    list_select_related = ("user", "case")
    ordering = ("-created_at",)

    def get_queryset(self, request):
        # One's own inbox; administrators see all.
        rows = super().get_queryset(request)
        return rows if scope_of(request.user).unrestricted else rows.filter(user=request.user)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "channel", "user", "case", "subject", "status", "attempts", "next_attempt_at",
                    "last_error")
    list_filter = ("status", "channel")
    list_select_related = ("user", "case")
    ordering = ("-created_at",)

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if scope_of(request.user).unrestricted:
            return rows
        visible = cases_visible_to(request.user, managing=True).values("pk")
        return rows.filter(Q(case__in=visible) | Q(user=request.user))

# The mediation file and rooms (imported for registration).
from . import admin_mediation  # noqa: E402,F401

# The organisation track's admin (rules, 准入, limits) and its queue filter on the case list.
from . import admin_orgs  # noqa: E402

CaseAdmin.list_filter += (admin_orgs.OrganisationQueueFilter,)

# The staff's case work, first on the admin index (portal/admin_site.py).
if hasattr(admin.site, "register_todo"):
    admin.site.register_todo(admin_workflow.case_todo)
