"""Households, residents, tags, care visits and the personal-data access log in
the admin, for community staff who work in it all day.

The rules of grid.admin's ScopedAdminMixin (grid/admin/scoped.py) hold here: rows come from the
residents selectors (managing posts only), anything outside answers 404, and
every write is one call into residents/services.py whose refusal is shown on
the form. On top of that, for personal data (PIPL):

- The encrypted columns (ID number, phone) are never in a list, a form or a
  query of this module: querysets defer them and the columns shown are the
  stored masks. A new value can be typed in; the old one is never shown.
- Searching by a full ID number or phone finds the person through the blind
  index, and the page does not repeat the number: the search is turned into a
  filter on the index before the list is shown (`PersonalIndexFilter`).
- History (ResidentEvent) and the access log are read-only for everyone.
- Tags are city-wide reference data: administrators and district officials
  change them; other staff read them.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import SEARCH_VAR
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from grid.admin import ReadOnlyInline, ReadOnlyScopedAdmin, ScopedAdminMixin, adopt, is_manager
from grid.admin_reference import is_calendar_editor
from portal import fields
from portal.errors import DomainError

from . import services
from .identity import blind_index, normalize_phone, parse_id_number
from .models import AccessLog, CareVisit, Household, Resident, ResidentEvent, ResidentStatus, Tag
from .selectors import (
    access_log_visible_to,
    households_visible_to,
    resident_events_visible_to,
    residents_visible_to,
    visits_visible_to,
)

ENCRYPTED = ("id_number", "phone")


def personal_index(term):
    """("id" | "phone", blind index) when a search term is a full ID number or phone, else None.

    Raises DomainError for a term that looks like an ID number but is not a valid one.
    """
    compact = "".join(str(term or "").split()).replace("-", "")
    if not compact:
        return None
    if len(compact) == 18 and compact[:17].isdigit():
        return "id", blind_index("id", parse_id_number(compact).value)
    if compact.isdigit() and len(compact) >= 7:
        try:
            phone = normalize_phone(term)
        except DomainError:
            return None
        return "phone", blind_index("phone", phone)
    return None


class PersonalIndexFilter(admin.SimpleListFilter):
    """The residents found by a full ID number or phone, by its blind index (never the number itself)."""

    title = gettext_lazy("found by number")
    parameter_name = "pidx"

    def lookups(self, request, model_admin):
        value = self.value()
        if not value:
            return ()
        kind = value.split(":", 1)[0]
        label = _("this ID number") if kind == "id" else _("this phone")
        return ((value, label),)

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        kind, _sep, index = value.partition(":")
        if kind not in ("id", "phone") or len(index) != 64:
            return queryset.none()
        return queryset.filter(**{f"{kind}_index": index})


class ResidentStatusFilter(admin.SimpleListFilter):
    """The residents living here, unless another status (or all) is chosen: the list opened on the
    deceased and moved-out of the first grid, since "deceased" sorts first. The living are what a
    community counts as its 实有人口; the others stay one click away. A search (by name, or by a
    full number) looks at everyone unless a status is chosen: a person is found whatever their status."""

    title = gettext_lazy("status")
    parameter_name = "status"
    ALL = "all"

    def __init__(self, request, params, model, model_admin):
        self.searching = bool(request.GET.get(SEARCH_VAR) or request.GET.get(PersonalIndexFilter.parameter_name))
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return ResidentStatus.choices

    def value(self):
        value = super().value()
        if value is None:
            return self.ALL if self.searching else ResidentStatus.LIVING.value
        return value

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.ALL:
            return queryset
        if value not in ResidentStatus.values:
            raise IncorrectLookupParameters(value)
        return queryset.filter(status=value)

    def choices(self, changelist):
        value = self.value()
        yield {"selected": value == self.ALL, "display": _("All"),
               "query_string": changelist.get_query_string({self.parameter_name: self.ALL})}
        for lookup, title in self.lookup_choices:
            yield {"selected": value == lookup, "display": title,
                   "query_string": changelist.get_query_string({self.parameter_name: lookup})}


class HistoryAdmin(ReadOnlyScopedAdmin):
    """History and logs: written by the services, never edited, by anyone; an entry is
    shown only if the selector lists it (not merely if its place is managed)."""

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return is_manager(request.user)
        return self.get_queryset(request).filter(pk=obj.pk).exists()


# --- households ----------------------------------------------------------------------

class ResidentInline(ReadOnlyInline):
    """The household's residents, masked, read-only (changes go through the resident's own page)."""

    model = Resident
    fields = ("name", "relation", "gender", "birth_date", "id_masked", "phone_masked", "status")
    readonly_fields = fields
    show_change_link = True
    ordering = ("status", "relation", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*ENCRYPTED)

    def has_view_permission(self, request, obj=None):
        return obj is not None


@admin.register(Household)
class HouseholdAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(households_visible_to)
    place_path = "grid"
    list_display = ("__str__", "grid", "community", "living")
    search_fields = ("number", "building__number", "building__address")
    autocomplete_fields = ("unit",)
    ordering = ("grid_id", "building_id", "unit_id", "number")
    refusal_fields = {"bad_number": "number", "forbidden": "unit"}
    actions = ()
    inlines = (ResidentInline,)

    def get_queryset(self, request):
        return (super().get_queryset(request)
                .select_related("unit__building", "grid", "community")
                .annotate(living_count=Count("residents", filter=Q(residents__status=ResidentStatus.LIVING))))

    def get_fields(self, request, obj=None):
        return ("unit", "number") if obj is None else ("unit", "number", "grid", "community", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        # No service renumbers a household: it is read here, its residents change on their own pages.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        adopt(obj, services.household_add(unit=data["unit"], number=data["number"], acting_user=request.user,
                                          now=timezone.now()))

    @admin.display(description=gettext_lazy("living here"), ordering="living_count")
    def living(self, obj):
        return obj.living_count


# --- residents --------------------------------------------------------------------------

class ResidentAdminForm(forms.ModelForm):
    """The record without its personal values; a typed ID number or phone replaces the stored one."""

    new_id_number = forms.CharField(label=gettext_lazy("ID number"), max_length=30, required=False,
                                    widget=forms.TextInput(attrs={"autocomplete": "off"}))
    clear_id_number = forms.BooleanField(label=gettext_lazy("remove the recorded ID number"), required=False)
    new_phone = forms.CharField(label=gettext_lazy("phone"), max_length=30, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    clear_phone = forms.BooleanField(label=gettext_lazy("remove the recorded phone"), required=False)

    class Meta:
        model = Resident
        fields = ["household", "name", "relation", "gender", "birth_date", "registration", "registered_address",
                  "moved_in_on", "tags", "note"]
        widgets = {"tags": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk:
            # The recorded (masked) value is shown above as 身份证号 / 电话: these boxes replace it.
            self.fields["new_id_number"].label = _("replace the ID number")
            self.fields["new_phone"].label = _("replace the phone")
            keep = _("Leave empty to keep %(masked)s.")
            if instance.id_masked:
                self.fields["new_id_number"].help_text = keep % {"masked": instance.id_masked}
            if instance.phone_masked:
                self.fields["new_phone"].help_text = keep % {"masked": instance.phone_masked}

    def _not_future(self, name, message):
        # A friendly message beside the field; the service refuses it anyway.
        value = self.cleaned_data.get(name)
        if value and value > timezone.localdate():
            raise forms.ValidationError(message, code="future")
        return value

    def clean_birth_date(self):
        return self._not_future("birth_date", _("The date of birth is in the future."))

    def clean_moved_in_on(self):
        return self._not_future("moved_in_on", _("The move-in date is in the future."))

    def clean(self):
        cleaned = super().clean()
        for value, clear in (("new_id_number", "clear_id_number"), ("new_phone", "clear_phone")):
            if (cleaned.get(value) or "").strip() and cleaned.get(clear):
                self.add_error(clear, _("Either type a new value or remove it, not both."))
        return cleaned

    def personal_values(self):
        """id_number/phone keywords for the services: only what the user typed or removed."""
        data, values = self.cleaned_data, {}
        for value, clear, key in (("new_id_number", "clear_id_number", "id_number"),
                                  ("new_phone", "clear_phone", "phone")):
            typed = (data.get(value) or "").strip()
            if typed:
                values[key] = typed
            elif data.get(clear):
                values[key] = ""
        return values


class LeaveActionForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("what happened"), widget=forms.RadioSelect, choices=[
        (ResidentStatus.MOVED_OUT, gettext_lazy("Moved out")), (ResidentStatus.DECEASED, gettext_lazy("Deceased"))])
    on = fields.DateField(label=gettext_lazy("on"), required=False, help_text=gettext_lazy("Empty: today."),
                         widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=gettext_lazy("note"), required=False, max_length=200)


PLAIN_FIELDS = ("name", "relation", "gender", "birth_date", "registration", "registered_address", "moved_in_on",
                "note")


@admin.register(Resident)
class ResidentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(residents_visible_to)
    place_path = "grid"
    form = ResidentAdminForm
    list_display = ("name", "gender", "birth_date", "id_masked", "phone_masked", "relation", "status", "household",
                    "grid", "visit_due_on")
    list_filter = (PersonalIndexFilter, ResidentStatusFilter, "relation", "registration", "gender", "tags")
    search_fields = ("name",)
    search_help_text = gettext_lazy("A name, or a full ID number or phone (found exactly, never shown).")
    autocomplete_fields = ("household",)
    ordering = ("grid_id", "status", "name", "id")
    actions = ("record_leaving",)
    refusal_fields = {
        "bad_name": "name",
        "bad_id_number": "new_id_number",
        "duplicate_id_number": "new_id_number",
        "bad_phone": "new_phone",
        "two_heads": "relation",
        "bad_birth_date": "birth_date",
        "not_living": "household",
        "forbidden": "household",
    }
    readonly_on_change = ("id_masked", "phone_masked", "status", "left_on", "visit_due_on", "last_visited_at",
                          "created_at", "updated_at", "links")

    def get_queryset(self, request):
        return (super().get_queryset(request).defer(*ENCRYPTED)
                .select_related("household__unit__building", "grid"))

    def get_fieldsets(self, request, obj=None):
        record = ["household", "name", "relation", "gender", "birth_date", "registration", "registered_address",
                  "moved_in_on", "tags", "note"]
        personal = ["new_id_number", "new_phone"]
        if obj is not None:
            personal = ["id_masked", "new_id_number", "clear_id_number", "phone_masked", "new_phone", "clear_phone"]
        sets = [(None, {"fields": record}), (_("ID number and phone"), {"fields": personal})]
        if obj is not None:
            sets.append((_("Status"), {"fields": ["status", "left_on", "visit_due_on", "last_visited_at",
                                                   "created_at", "updated_at", "links"]}))
        return sets

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_on_change

    def has_delete_permission(self, request, obj=None):
        # Nobody is deleted: moving out and death are statuses with a date.
        return False

    # -- search by name, or exactly by a full number without repeating it ---------------------

    def get_search_results(self, request, queryset, search_term):
        try:
            found = personal_index(search_term)
        except DomainError as error:
            self.message_user(request, str(error), messages.ERROR)
            return queryset.none(), False
        if found is not None:
            kind, index = found
            return queryset.filter(**{f"{kind}_index": index}), False
        return super().get_search_results(request, queryset, search_term)

    def changelist_view(self, request, extra_context=None):
        term = request.GET.get(SEARCH_VAR, "")
        try:
            found = personal_index(term)
        except DomainError as error:
            self.message_user(request, str(error), messages.ERROR)
            query = request.GET.copy()
            query.pop(SEARCH_VAR)
            return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")
        if found is not None:
            # The number would be echoed in the search box and in every link of the page:
            # search by its blind index instead.
            query = request.GET.copy()
            query.pop(SEARCH_VAR)
            query["pidx"] = "%s:%s" % found
            return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")
        return super().changelist_view(request, extra_context)

    # -- writes through the services ---------------------------------------------------------

    def save_model(self, request, obj, form, change):
        data, now = form.cleaned_data, timezone.now()
        personal = form.personal_values()
        plain = {name: data[name] for name in PLAIN_FIELDS}
        if not change:
            resident = services.resident_add(household=data["household"], tags=list(data["tags"]),
                                             acting_user=request.user, now=now, **plain, **personal)
            adopt(obj, resident)
        else:
            if "household" in form.changed_data:
                services.resident_move(resident=obj, household=data["household"], acting_user=request.user, now=now)
                plain.pop("relation")  # resident_move set it for the new household
            resident = services.resident_update(resident=obj, tags=list(data["tags"]), acting_user=request.user,
                                                now=now, **plain, **personal)
        if getattr(resident, "warning", ""):
            self.message_user(request, resident.warning, messages.WARNING)

    def save_related(self, request, form, formsets, change):
        # Tags were set by the service (with the visit round refreshed); nothing else to save.
        pass

    # -- columns --------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("history and access"))
    def links(self, obj):
        history = reverse("admin:residents_residentevent_changelist") + f"?resident__id__exact={obj.pk}"
        access = reverse("admin:residents_accesslog_changelist") + f"?resident__id__exact={obj.pk}"
        visits = reverse("admin:residents_carevisit_changelist") + f"?resident__id__exact={obj.pk}"
        # The full values only through the resident page's logged reveal (with a reason).
        reveal = reverse("residents:resident", args=[obj.pk]) + "#personal-title"
        return format_html('<a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
                           reveal, _("reveal the ID number or phone"), history, _("history"), visits,
                           _("care visits"), access, _("access log"))

    # -- leaving: moved out or died ----------------------------------------------------------

    @admin.action(permissions=["change"], description=gettext_lazy("Record as moved out or deceased…"))
    def record_leaving(self, request, queryset):
        if self.bulk_refused(request, queryset):
            return None
        residents = list(queryset)
        form = LeaveActionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            write = (services.resident_decease if data["status"] == ResidentStatus.DECEASED
                     else services.resident_move_out)
            now = timezone.now()
            done = self.write_all(request, [
                lambda r=r: write(resident=r, on=data["on"], note=data["note"], acting_user=request.user, now=now)
                for r in residents
            ])
            if done is not None:
                self.message_user(request, ngettext("%d resident recorded.", "%d residents recorded.", len(done))
                                  % len(done), messages.SUCCESS)
            return None
        return self.render_action_form(
            request, action="record_leaving", title=_("Moved out or deceased"),
            intro=_("These residents are kept as history with the date:"), objects=residents, form=form,
            submit_label=_("Record it"),
        )


def _may_edit_tags(request):
    """Asked once per request: the admin's sidebar asks each permission of each model."""
    cached = getattr(request, "_residents_tag_editor", None)
    if cached is None:
        cached = request._residents_tag_editor = is_calendar_editor(request.user)
    return cached


# --- tags ------------------------------------------------------------------------------

@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """City-wide care tags: managers read them; administrators and district officials change them."""

    list_display = ("name", "code", "visit_interval_days", "sensitive", "key_person", "builtin", "ordering")
    list_filter = ("sensitive", "key_person", "builtin")
    search_fields = ("name", "code")
    ordering = ("ordering", "id")

    def has_module_permission(self, request):
        return is_manager(request.user)

    def has_view_permission(self, request, obj=None):
        return is_manager(request.user)

    def has_add_permission(self, request):
        return _may_edit_tags(request)

    def has_change_permission(self, request, obj=None):
        return _may_edit_tags(request)

    def has_delete_permission(self, request, obj=None):
        # A tag carries residents' history; a built-in one is part of the portal.
        return False

    def get_readonly_fields(self, request, obj=None):
        return ("code", "builtin") if obj is not None else ("builtin",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "visit_interval_days" in form.changed_data:
            # The visiting round follows the new interval (set-based, in chunks).
            ids = list(obj.residents.filter(status=ResidentStatus.LIVING).values_list("pk", flat=True))
            services.refresh_visit_due(ids, today=timezone.localdate())


# --- care visits ----------------------------------------------------------------------------

class CareVisitAdminForm(forms.ModelForm):
    class Meta:
        model = CareVisit
        fields = ["resident", "visited_at", "notes", "findings", "follow_up"]


@admin.register(CareVisit)
class CareVisitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(visits_visible_to)
    place_path = "resident__grid"
    form = CareVisitAdminForm
    list_display = ("visited_at", "resident", "visited_by", "follow_up", "case")
    list_filter = ("follow_up",)
    search_fields = ("resident__name",)
    autocomplete_fields = ("resident",)
    ordering = ("-visited_at", "-id")
    actions = ()
    refusal_fields = {"no_notes": "notes", "bad_date": "visited_at", "forbidden": "resident"}

    def get_queryset(self, request):
        return (super().get_queryset(request)
                .select_related("resident__grid", "visited_by", "case")
                .defer(*(f"resident__{f}" for f in ENCRYPTED)))

    def get_fields(self, request, obj=None):
        fields = ["resident", "visited_at", "notes", "findings", "follow_up"]
        return fields if obj is None else [*fields, "visited_by", "case", "recorded_at"]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("visited_at", timezone.now())
        return initial

    def has_change_permission(self, request, obj=None):
        # A visit is a record of what happened; no service rewrites it.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        adopt(obj, services.care_visit_log(resident=data["resident"], notes=data["notes"], findings=data["findings"],
                                           follow_up=data["follow_up"], visited_at=data["visited_at"],
                                           acting_user=request.user, now=timezone.now()))


# --- history and the access log (read-only) --------------------------------------------------

@admin.register(ResidentEvent)
class ResidentEventAdmin(HistoryAdmin):
    selector = staticmethod(resident_events_visible_to)
    place_path = "resident__grid"
    list_display = ("at", "action", "resident", "actor", "summary")
    list_filter = ("action",)
    search_fields = ("resident__name",)
    fields = ("at", "action", "resident", "actor", "summary")
    readonly_fields = fields
    ordering = ("-at", "-id")

    def get_queryset(self, request):
        return (super().get_queryset(request).select_related("resident", "actor")
                .defer(*(f"resident__{f}" for f in ENCRYPTED)))

    @admin.display(description=gettext_lazy("details"))
    def summary(self, obj):
        details = obj.details or {}
        if details.get("fields"):
            names = {f.name: str(f.verbose_name) for f in Resident._meta.get_fields() if hasattr(f, "verbose_name")}
            return "、".join(names.get(f, f) for f in details["fields"])
        return " · ".join(str(details[k]) for k in ("on", "note") if details.get(k))


@admin.register(AccessLog)
class AccessLogAdmin(HistoryAdmin):
    selector = staticmethod(access_log_visible_to)
    place_path = "grid"
    list_display = ("at", "actor", "action", "resident", "whom_masked", "field", "reason", "rows")
    list_filter = ("action", "field")
    search_fields = ("reason", "actor__full_name", "actor__username", "resident__name")
    fields = ("at", "actor", "action", "resident", "whom_masked", "field", "reason", "rows", "community", "grid")
    readonly_fields = fields
    ordering = ("-at", "-id")

    def get_queryset(self, request):
        return (super().get_queryset(request).select_related("actor", "resident", "community", "grid")
                .defer(*(f"resident__{f}" for f in ENCRYPTED)))

    @admin.display(description=gettext_lazy("ID number"))
    def whom_masked(self, obj):
        return obj.resident.id_masked if obj.resident_id else ""

    @admin.display(description=gettext_lazy("rows"))
    def rows(self, obj):
        return (obj.details or {}).get("rows", "")
