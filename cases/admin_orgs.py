"""Admin of the organisation track: routing rules, the 准入 list, organisations' own limits,
and the organisation queue as a filter of the case list. Writes go through
cases/routing_orgs.py; a refusal (an inactive organisation...) is shown on the form.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from grid.admin import ScopedAdminMixin
from grid.models import OrgKind
from grid.selectors import organisations_visible_to, scope_of

from . import routing_orgs
from .models import GridExclusion, OrgLimit, RoutingRule
from .selectors import QUEUE_STATUSES


def _in_districts(model, user, field="district_id"):
    scope = scope_of(user)
    rows = model.objects.all()
    return rows if scope.unrestricted else rows.filter(**{f"{field}__in": routing_orgs._districts_of(scope)})


def routing_rules_visible_to(user, *, managing=True):
    return _in_districts(RoutingRule, user)


def grid_exclusions_visible_to(user, *, managing=True):
    return _in_districts(GridExclusion, user)


def org_limits_visible_to(user, *, managing=True):
    return OrgLimit.objects.filter(organisation__in=organisations_visible_to(user, managing=True))


class OrganisationQueueFilter(admin.SimpleListFilter):
    """The organisation's queue in the admin: its matters to sign in or in hand."""

    title = gettext_lazy("organisation queue")
    parameter_name = "org_queue"

    def lookups(self, request, model_admin):
        rows = organisations_visible_to(request.user, managing=True).filter(
            kind__in=(OrgKind.DEPARTMENT, OrgKind.UTILITY)).order_by("name").values_list("pk", "name")[:100]
        return [(str(pk), name) for pk, name in rows]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(organisation_id=int(value), status__in=QUEUE_STATUSES).order_by("due_at", "pk")
        return queryset


@admin.register(RoutingRule)
class RoutingRuleAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(routing_rules_visible_to)
    place_path = "district"
    list_display = ("category", "district", "street", "function", "organisation")
    list_select_related = ("category", "category__parent", "district", "street", "organisation")
    list_filter = ("function",)
    fields = ("district", "street", "category", "function", "organisation")
    # Scoped autocompletes (a district holds thousands of 物业): the organisation and place admins search.
    autocomplete_fields = ("district", "street", "organisation")
    refusal_fields = {"inactive_organisation": "organisation", "bad_organisation": "organisation",
                      "bad_target": "function", "bad_street": "street", "duplicate": "category"}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation":
            kwargs["queryset"] = organisations_visible_to(request.user, managing=True).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = routing_orgs.routing_rule_save(
            district=data["district"], street=data.get("street"), category=data["category"],
            function=data.get("function") or "", organisation=data.get("organisation"), acting_user=request.user,
            rule=obj if change else None)
        obj.pk = saved.pk


@admin.register(GridExclusion)
class GridExclusionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(grid_exclusions_visible_to)
    place_path = "district"
    list_display = ("category", "district", "reason")
    list_select_related = ("category", "category__parent", "district")
    fields = ("district", "category", "reason")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            GridExclusion.objects.filter(pk=obj.pk).update(reason=data.get("reason", ""))
            return
        obj.pk = routing_orgs.grid_exclusion_add(district=data["district"], category=data["category"],
                                                 reason=data.get("reason", ""), acting_user=request.user).pk


@admin.register(OrgLimit)
class OrgLimitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(org_limits_visible_to)
    place_path = "organisation__seat"
    list_display = ("organisation", "category", "sign_in_limit", "sign_in_limit_unit", "handle_limit",
                    "handle_limit_unit")
    list_select_related = ("organisation", "category")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        obj.pk = routing_orgs.org_limit_save(
            organisation=data["organisation"], category=data["category"],
            sign_in=(data["sign_in_limit"], data["sign_in_limit_unit"]),
            handle=(data["handle_limit"], data["handle_limit_unit"]), acting_user=request.user).pk
