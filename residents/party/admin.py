"""Party building in the admin, for community, street and district staff.

Scoped through grid.admin.ScopedAdminMixin (managing posts only). Party membership
is sensitive: the people's names show masked, nothing is searched by name, and the
resident and user pickers are the residents' and users' scoped autocompletes. A
membership is added by one call into services.py (which refuses anyone outside the
staff member's places); everything else is read-only here, with the staff pages'
actions (confirm a report-in, withdraw a wish) as admin actions through the services.
"""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from grid.admin import ReadOnlyScopedAdmin, ScopedAdminMixin, adopt, managing_view
from grid.models import Area, User
from residents.selectors import residents_visible_to

from . import selectors, services
from .models import EmployerUnit, Membership, PartyOrg, ReportIn, ReportStatus, Service, Wish, WishStatus


def _place(obj):
    pk = obj.grid_id or obj.community_id or obj.street_id
    return Area.objects.filter(pk=pk).first() if pk else None


class PartyAdmin(ReadOnlyScopedAdmin):
    """Read-only unless a model's admin says otherwise (a membership's add form, the actions)."""

    def place_of(self, obj):
        return _place(obj)


@admin.register(PartyOrg)
class PartyOrgAdmin(PartyAdmin):
    selector = staticmethod(selectors.orgs_visible_to)
    list_display = ("name", "kind", "street", "community", "grid", "is_active")
    list_filter = ("kind", "is_active")
    list_select_related = ("street", "community", "grid")
    search_fields = ("name",)
    fields = ("name", "kind", "district", "street", "community", "grid", "compound", "building", "units",
              "is_active", "created_at")


@admin.register(Membership)
class MembershipAdmin(PartyAdmin):
    selector = staticmethod(selectors.memberships_visible_to)
    list_display = ("member", "org", "role", "joined_at", "ended_at")
    list_filter = ("role",)
    list_select_related = ("org",)
    autocomplete_fields = ("org", "resident", "user")
    refusal_fields = {"forbidden": "resident", "elsewhere": "resident", "duplicate": "resident",
                      "nobody": "resident", "secretary": "role"}

    @admin.display(description=gettext_lazy("member"))
    def member(self, obj):
        return selectors.masked(obj.name)

    def has_add_permission(self, request):
        return ScopedAdminMixin.has_add_permission(self, request)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("org", "resident", "user", "role")
        return ("member", "org", "role", "joined_at", "ended_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("member", "org", "role", "joined_at", "ended_at")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs.setdefault("queryset", self.admin_site.get_model_admin(User).get_queryset(request)
                              .filter(is_active=True))
        elif db_field.name == "resident":
            kwargs.setdefault("queryset", residents_visible_to(managing_view(request.user), include_left=False))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        adopt(obj, services.membership_add(org=data["org"], resident=data.get("resident"), user=data.get("user"),
                                           role=data["role"], acting_user=request.user, now=timezone.now()))


@admin.register(EmployerUnit)
class EmployerUnitAdmin(PartyAdmin):
    selector = staticmethod(selectors.employer_units_visible_to)
    list_display = ("name", "street", "registered_at")
    list_select_related = ("street",)
    search_fields = ("name",)
    fields = ("name", "street", "registered_at")


@admin.register(ReportIn)
class ReportInAdmin(PartyAdmin):
    selector = staticmethod(selectors.reports_visible_to)
    list_display = ("member", "community", "employer_name", "status", "registered_at", "confirmed_at")
    list_filter = ("status",)
    list_select_related = ("community",)
    fields = ("member", "community", "employer_name", "employer", "post_building_helper", "post_volunteer",
              "post_wishes", "status", "registered_at", "confirmed_at", "confirmed_by_whom", "ended_at",
              "ended_by_whom")
    readonly_fields = ("member", "confirmed_by_whom", "ended_by_whom")
    actions = ("confirm", "end")

    @admin.display(description=gettext_lazy("member"))
    def member(self, obj):
        return selectors.masked(obj.name)

    def _who(self, obj, user_id, user):
        """Staff by name; the member (who ends their own report-in, or is staff too) never by name:
        membership is sensitive."""
        if user_id is None:
            return self.get_empty_value_display()  # a display method's None would show as "None"
        return gettext("the member themself") if user_id == obj.user_id else str(user)

    @admin.display(description=gettext_lazy("confirmed by"))
    def confirmed_by_whom(self, obj):
        return self._who(obj, obj.confirmed_by_id, obj.confirmed_by)

    @admin.display(description=gettext_lazy("ended by"))
    def ended_by_whom(self, obj):
        return self._who(obj, obj.ended_by_id, obj.ended_by)

    def has_confirm_permission(self, request):
        return self.may_manage(request)

    @admin.action(permissions=["confirm"], description=gettext_lazy("Confirm the selected reports-in"))
    def confirm(self, request, queryset):
        if self.bulk_refused(request, queryset):
            return
        now = timezone.now()
        rows = list(queryset.filter(status=ReportStatus.PENDING))
        self.write_all(request, [lambda r=r: services.report_confirm(report=r, acting_user=request.user, now=now)
                                 for r in rows])

    def has_end_permission(self, request):
        return self.may_manage(request)

    @admin.action(permissions=["end"], description=gettext_lazy("End the selected reports-in"))
    def end(self, request, queryset):
        if self.bulk_refused(request, queryset):
            return
        now = timezone.now()
        rows = list(queryset.filter(status__in=(ReportStatus.PENDING, ReportStatus.CONFIRMED)))
        self.write_all(request, [lambda r=r: services.report_end(report=r, acting_user=request.user, now=now)
                                 for r in rows])


@admin.register(Wish)
class WishAdmin(PartyAdmin):
    selector = staticmethod(selectors.wishes_visible_to)
    list_display = ("title", "community", "beneficiary", "category", "budget_cap", "status", "posted_at")
    list_filter = ("status", "category")
    list_select_related = ("community", "resident")
    search_fields = ("title",)
    fields = ("title", "beneficiary", "community", "category", "budget_cap", "status", "posted_by", "posted_at",
              "adopted_at", "fulfil_note", "fulfilled_at", "confirmed_by", "confirmed_at", "withdrawn_by",
              "withdrawn_at")
    readonly_fields = ("beneficiary",)
    actions = ("withdraw",)

    @admin.display(description=gettext_lazy("resident"))
    def beneficiary(self, obj):
        return selectors.masked(obj.resident.name)

    def has_withdraw_permission(self, request):
        return self.may_manage(request)

    @admin.action(permissions=["withdraw"], description=gettext_lazy("Withdraw the selected open wishes"))
    def withdraw(self, request, queryset):
        if self.bulk_refused(request, queryset):
            return
        rows = list(queryset.filter(status=WishStatus.POSTED))
        self.write_all(request, [lambda w=w: services.wish_withdraw(wish=w, acting_user=request.user)
                                 for w in rows])


@admin.register(Service)
class ServiceAdmin(PartyAdmin):
    selector = staticmethod(selectors.services_visible_to)
    list_display = ("member", "post", "hours", "started_at", "confirmed_at")
    list_filter = ("post",)
    list_select_related = ("report",)
    fields = ("member", "post", "wish", "content", "started_at", "ended_at", "hours", "confirmed_at")
    readonly_fields = ("member",)

    @admin.display(description=gettext_lazy("member"))
    def member(self, obj):
        return selectors.masked(obj.report.name)

    def place_of(self, obj):
        return Area.objects.filter(pk=obj.report.community_id).first()
