"""The risk register and patrol log in the admin, for community, street and district staff.

Scoped through grid.admin.ScopedAdminMixin with risks/selectors.py (managing
posts only). Risks are entered on the risk pages (risks/views.py), where the
place, scores and photos are taken; here staff filter, export and change the
定人定责定措施 (through `risk_set_controls`). The grade, the scores and the
place are read-only: a grade changes only by a reassessment, kept as history
(the inline, read-only for everyone).
"""

import csv

from django import forms
from django.contrib import admin
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from grid.admin import ReadOnlyScopedAdmin, ScopedAdminMixin
from grid.selectors import scope_of
from portal.exports import spreadsheet_cell

from . import bands, duties, plans, selectors, services
from .models import (AdmittedService, Duty, Finding, InspectionPlan, MatrixBands, Patrol, Risk, RiskAssessment,
                     WorkKind)


class AssessmentInline(admin.TabularInline):
    model = RiskAssessment
    extra = 0
    can_delete = False
    fields = ("at", "by", "method", "likelihood", "exposure", "severity", "score", "grade", "previous_grade",
              "review_on", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Risk)
class RiskAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(selectors.risks_visible_to)
    list_display = ("title", "kind", "grade", "community", "grid", "building", "responsible", "review_on",
                    "review_overdue_since", "status")
    list_filter = ("grade", "status", "kind", ("review_overdue_since", admin.EmptyFieldListFilter))
    list_select_related = ("community", "grid", "building")
    search_fields = ("title", "responsible")
    fields = ("kind", "title", "description", "district", "street", "community", "grid", "building", "unit",
              "method", "score", "grade", "assessed_at", "responsible", "responsible_phone", "measures",
              "review_on", "review_overdue_since", "status", "case", "closed_at", "closed_by", "close_evidence")
    readonly_fields = tuple(f for f in fields if f not in ("responsible", "responsible_phone", "measures"))
    inlines = (AssessmentInline,)
    actions = ("export_csv",)

    def place_of(self, obj):
        return obj.place

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)

    def has_add_permission(self, request):
        return False  # entered on the risk pages, with its place, scores and photos

    def has_delete_permission(self, request, obj=None):
        return False  # a risk is closed (销号), never deleted

    def save_model(self, request, obj, form, change):
        services.risk_set_controls(risk=obj, responsible=obj.responsible, responsible_phone=obj.responsible_phone,
                                   measures=obj.measures, acting_user=request.user)

    @admin.action(description=gettext_lazy("Export the selected risks (CSV)"))
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="risks.csv"'
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(("id", "type", "title", "grade", "score", "responsible", "measures", "next review", "status"))
        for r in queryset:
            writer.writerow([spreadsheet_cell(v) for v in (r.pk, r.get_kind_display(), r.title, r.get_grade_display(),
                                                            r.score, r.responsible, r.measures, r.review_on,
                                                            r.get_status_display())])
        return response


class FindingInline(admin.TabularInline):
    model = Finding
    extra = 0
    can_delete = False
    fields = ("at", "kind", "building", "description", "risk", "case")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Patrol)
class PatrolAdmin(ReadOnlyScopedAdmin):
    """The patrol log, read-only: staff over the grid see who walked when, and what was found."""

    selector = staticmethod(selectors.patrols_visible_to)
    place_path = "grid"
    list_display = ("grid", "worker", "started_at", "ended_at", "track_consent", "route_flagged")
    list_filter = ("route_flagged", "track_consent")
    list_select_related = ("grid", "worker")
    fields = ("worker", "grid", "started_at", "ended_at", "track_consent", "route_flagged", "route", "note")
    readonly_fields = fields
    inlines = (FindingInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)


class DutyForm(forms.ModelForm):
    work_kinds = forms.MultipleChoiceField(label=gettext_lazy("work counted toward it"), choices=WorkKind.choices,
                                           required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Duty
        fields = ("district", "number", "name", "description", "work_kinds")


@admin.register(Duty)
class DutyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """十项基本职责: a district's officials keep its list (the default list, no district: administrators)."""

    selector = staticmethod(duties.duties_visible_to)
    place_path = "district"
    form = DutyForm
    list_display = ("number", "name", "district", "kinds")

    def get_list_filter(self, request):
        # A filter by district lists districts; only administrators reach more than their own.
        return ("district",) if scope_of(request.user).unrestricted else ()
    refusal_fields = {"bad_number": "number", "duplicate": "number", "bad_kind": "work_kinds",
                      "counted_twice": "work_kinds", "blank": "name", "too_long": "name"}
    actions = ()

    @admin.display(description=gettext_lazy("work counted toward it"))
    def kinds(self, obj):
        labels = dict(WorkKind.choices)
        return "、".join(str(labels.get(k, k)) for k in obj.work_kinds)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        duties.duty_save(duty=obj, acting_user=request.user)


@admin.register(AdmittedService)
class AdmittedServiceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """服务事项准入: the district's list of matters departments may hand to grid workers."""

    selector = staticmethod(duties.admitted_services_visible_to)
    place_path = "district"
    list_display = ("name", "department", "district", "duty", "admitted_on", "withdrawn_on")

    def get_list_filter(self, request):
        # As for duties: the district filter only for administrators, who reach every district.
        withdrawn = ("withdrawn_on", admin.EmptyFieldListFilter)
        return ("district", withdrawn) if scope_of(request.user).unrestricted else (withdrawn,)
    search_fields = ("name", "department")
    refusal_fields = {"duplicate": "name", "bad_dates": "withdrawn_on", "bad_duty": "duty"}
    actions = ()

    def has_delete_permission(self, request, obj=None):
        return False  # withdrawn with a date, never deleted

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "duty":
            kwargs["queryset"] = duties.duties_visible_to(request.user, managing=True)
            return db_field.formfield(**kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        duties.admitted_service_save(service=obj, acting_user=request.user)


@admin.register(InspectionPlan)
class InspectionPlanAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """巡查计划: community staff plan recurring inspections in their grids (risks/plans.py)."""

    selector = staticmethod(selectors.plans_visible_to)
    place_path = "grid"
    list_display = ("title", "grid", "building", "interval_days", "next_due", "last_done_at", "active")
    list_filter = ("active",)
    list_select_related = ("grid", "building")
    refusal_fields = {"bad_interval": "interval_days", "bad_building": "building", "bad_due": "next_due",
                      "blank": "title", "too_long": "title"}
    actions = ()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("grid", "building", "title", "interval_days", "next_due")
        return ("grid", "building", "title", "interval_days", "active", "next_due", "last_done_at", "last_patrol")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("grid", "building", "next_due", "last_done_at", "last_patrol")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)

    def has_delete_permission(self, request, obj=None):
        return False  # switched off, never deleted

    def save_model(self, request, obj, form, change):
        if change:
            plans.plan_update(plan=obj, title=obj.title, interval_days=obj.interval_days, active=obj.active,
                              acting_user=request.user)
        else:
            created = plans.plan_add(grid=obj.grid, building=obj.building, title=obj.title,
                                     interval_days=obj.interval_days, first_due=obj.next_due,
                                     acting_user=request.user)
            obj.pk = created.pk


@admin.register(MatrixBands)
class MatrixBandsAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """A district's own risk-matrix bands (risks/bands.py): its officials and administrators edit them;
    districts without a row grade by the portal's default. Grades given stay until a reassessment."""

    selector = staticmethod(bands.matrix_bands_visible_to)
    place_path = "district"
    list_display = ("district", "yellow_from", "orange_from", "red_from", "changed_by", "changed_at")
    readonly_fields = ("changed_by", "changed_at")
    refusal_fields = {"bad_edge": "yellow_from", "not_monotonic": "orange_from", "empty_band": "orange_from",
                      "forbidden": "district"}
    actions = ()

    def get_fields(self, request, obj=None):
        fields = ("district", "yellow_from", "orange_from", "red_from")
        return fields if obj is None else (*fields, "changed_by", "changed_at")

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is None else ("district", *self.readonly_fields)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "district":
            kwargs["queryset"] = selectors.warning_rule_districts(request.user)
            return db_field.formfield(**kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False  # set back to the default's edges instead: the change is kept with who and when

    def save_model(self, request, obj, form, change):
        saved = bands.matrix_bands_set(district=obj.district, yellow_from=obj.yellow_from,
                                       orange_from=obj.orange_from, red_from=obj.red_from,
                                       acting_user=request.user, now=timezone.now())
        obj.pk = saved.pk
