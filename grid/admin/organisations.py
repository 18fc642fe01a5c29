"""The admin of organisations (职能部门, utilities, 物业, 业委会...) with their jurisdiction.

District officials administer the organisations seated in their district, street staff
those of their street, community staff the 物业 and 业委会 of their community. Writes go
through grid/services_orgs.py; staff join an organisation in the posts admin.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.utils.translation import gettext_lazy as _

from .. import services_orgs
from ..models import Area, Building, Jurisdiction, Organisation, Post
from ..selectors import areas_visible_to, buildings_visible_to, organisations_visible_to
from .scoped import ScopedAdminMixin, adopt


class OrganisationForm(forms.ModelForm):
    """The organisation with its jurisdiction chosen from the places and buildings one manages."""

    # Declared here so the admin knows them; their choices are the user's managed places, set below.
    areas = forms.ModelMultipleChoiceField(queryset=Area.objects.none(), required=False)
    buildings = forms.ModelMultipleChoiceField(queryset=Building.objects.none(), required=False)

    class Meta:
        model = Organisation
        fields = ["name", "code", "kind", "function", "seat", "phone", "duty_phone", "address"]

    def __init__(self, *args, request=None, admin_site=None, **kwargs):
        super().__init__(*args, **kwargs)
        user = request.user
        initial_areas = initial_buildings = None
        if self.instance.pk:
            rows = list(self.instance.jurisdiction.all())
            initial_areas = [r.area_id for r in rows if r.area_id]
            initial_buildings = [r.building_id for r in rows if r.building_id]
        # The autocompletes search the same scoped admins as every other chooser.
        self.fields["areas"] = forms.ModelMultipleChoiceField(
            queryset=areas_visible_to(user, managing=True).filter(is_active=True),
            required=False, label=_("Places covered"), initial=initial_areas,
            widget=AutocompleteSelectMultiple(Jurisdiction._meta.get_field("area"), admin_site),
            help_text=_("Communities or streets (with everything under them) the organisation covers."),
        )
        self.fields["buildings"] = forms.ModelMultipleChoiceField(
            queryset=buildings_visible_to(user, managing=True),
            required=False, label=_("Buildings covered"), initial=initial_buildings,
            widget=AutocompleteSelectMultiple(Jurisdiction._meta.get_field("building"), admin_site),
            help_text=_("For a 物业 or 业委会: the buildings of the compounds it serves."),
        )

    def validate_constraints(self):
        # organisation_create refuses the same input in words; the constraints are the backstop.
        pass


class StaffInline(admin.TabularInline):
    """Who works for the organisation (read here; granted and ended in the posts admin)."""

    model = Post
    fk_name = "organisation"
    fields = ("user", "role", "started_at", "ended_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("staff")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Organisation)
class OrganisationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(organisations_visible_to)
    place_path = "seat"
    form = OrganisationForm
    list_display = ("name", "kind", "function", "seat", "phone", "is_active")
    list_filter = ("kind", "function", "is_active")
    list_select_related = ("seat",)
    search_fields = ("name", "^code", "phone")
    autocomplete_fields = ("seat",)
    ordering = ("seat_id", "function", "name")
    inlines = (StaffInline,)
    actions = ("deactivate", "reactivate")
    refusal_fields = {
        "no_name": "name", "no_phone": "phone", "no_code": "code", "duplicate": "code", "bad_seat": "seat",
        "bad_function": "function", "bad_kind": "kind", "bad_jurisdiction": "areas",
    }

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("seat")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        site = self.admin_site

        class Bound(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, request=request, admin_site=site, **kw)

        Bound.__name__ = form.__name__
        return Bound

    def get_fields(self, request, obj=None):
        fields = ["name", "code", "kind", "function", "seat", "phone", "duty_phone", "address", "areas", "buildings"]
        return fields if obj is None else [*fields, "is_active", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # An organisation keeps its code and seat: the matters it took name it.
        return () if obj is None else ("code", "seat", "is_active", "created_at")

    # An organisation is deactivated, never deleted: its matters and posts are history.
    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {f: data[f] for f in ("name", "kind", "function", "phone", "duty_phone", "address")}
        if not change:
            organisation = services_orgs.organisation_create(
                code=data["code"], seat=data["seat"], areas=data["areas"], buildings=data["buildings"],
                acting_user=request.user, **fields,
            )
            adopt(obj, organisation)
            return
        services_orgs.organisation_update(
            organisation=obj, areas=data["areas"], buildings=data["buildings"], acting_user=request.user, **fields
        )

    def save_related(self, request, form, formsets, change):
        # The jurisdiction is written by the service; the staff inline is read-only.
        pass

    @admin.action(permissions=["change"], description=_("Deactivate selected organisations"))
    def deactivate(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(permissions=["change"], description=_("Reactivate selected organisations"))
    def reactivate(self, request, queryset):
        self._set_active(request, queryset, True)

    def _set_active(self, request, queryset, active):
        if self.bulk_refused(request, queryset):
            return
        writes = [
            (lambda o=o: services_orgs.organisation_set_active(organisation=o, active=active,
                                                               acting_user=request.user))
            for o in queryset.select_related("seat")
        ]
        if self.write_all(request, writes) is not None:
            self.message_user(request, _("Done."))

