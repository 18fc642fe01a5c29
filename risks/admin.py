"""The risk register and patrol log in the admin, for community, street and district staff.

Scoped through grid.admin.ScopedAdminMixin with risks/selectors.py (managing
posts only). Risks are entered on the risk pages (risks/views.py), where the
place, scores and photos are taken; here staff filter, export and change the
定人定责定措施 (through `risk_set_controls`). The grade, the scores and the
place are read-only: a grade changes only by a reassessment, kept as history
(the inline, read-only for everyone).
"""

import csv

from django.contrib import admin
from django.http import HttpResponse
from django.utils.translation import gettext_lazy

from grid.admin import ScopedAdminMixin
from portal.exports import spreadsheet_cell

from . import selectors, services
from .models import Finding, Patrol, Risk, RiskAssessment


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
class PatrolAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The patrol log, read-only: staff over the grid see who walked when, and what was found."""

    selector = staticmethod(selectors.patrols_visible_to)
    place_path = "grid"
    list_display = ("grid", "worker", "started_at", "ended_at", "track_consent", "route_flagged")
    list_filter = ("route_flagged", "track_consent")
    list_select_related = ("grid", "worker")
    fields = ("worker", "grid", "started_at", "ended_at", "track_consent", "route_flagged", "route", "note")
    readonly_fields = fields
    inlines = (FindingInline,)
    actions = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
