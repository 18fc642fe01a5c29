"""Volunteers in the admin, for community, street and district staff: teams,
stations, volunteers, activities, service records, the points catalogue,
redemptions, orders, honours and the books.

Scoped through grid.admin.ScopedAdminMixin with the volunteers selectors
(managing posts only). Teams, stations, volunteers and activities are created
by one call into volunteers/services.py; what changes afterwards is plain
reference data (a leader, an address, "active"). Points never move here except
through volunteers/ledger.py (a voided record, a cancelled redemption), one
object at a time, all or nothing; the books themselves (accounts, transactions,
entries) are read-only for everyone, administrators included.
"""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from grid.admin import ReadOnlyInline, ScopedAdminMixin, adopt, is_manager, managing_view
from grid.models import Area, AreaKind, User
from grid.selectors import scope_of
from portal.errors import DomainError

from . import hooks, ledger, selectors, services
from .models import (
    Account,
    Activity,
    CatalogueItem,
    Entry,
    Honour,
    LedgerTransaction,
    Order,
    Redemption,
    ServiceRecord,
    Signup,
    Station,
    Team,
    Volunteer,
)


def transactions_visible_to(user):
    """Transactions touching an account the user sees (see selectors.accounts_visible_to)."""
    accounts = selectors.accounts_visible_to(user)
    return LedgerTransaction.objects.filter(
        Exists(Entry.objects.filter(transaction=OuterRef("pk"), account__in=accounts)))


def entries_visible_to(user):
    return Entry.objects.filter(account__in=selectors.accounts_visible_to(user))


def _area(pk):
    return Area.objects.filter(pk=pk).first() if pk else None


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=200, widget=forms.Textarea(attrs={"rows": 3}))


class VolunteersAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Common ground: no deleting (rows here are records others hang on), writes through services."""

    actions = ()

    def has_delete_permission(self, request, obj=None):
        return False

    def scoped(self, user):
        # Administrators see everything. (The volunteers selectors OR a person's
        # own rows onto the scope's Q(), and `Q() | Q(user=…)` is just the
        # second term, so they would show an administrator only their own rows.)
        if scope_of(user).unrestricted:
            return self.model._default_manager.all()
        return super().scoped(user)

    def in_scope(self, request, obj):
        return self.scoped(request.user).filter(pk=obj.pk).exists()

    def _each(self, request, queryset, write, done_message):
        if self.bulk_refused(request, queryset):
            return
        now = timezone.now()
        rows = list(queryset)
        results = self.write_all(request, [partial(write, row, now) for row in rows])
        if results is not None:
            self.message_user(request, done_message(len(results)), messages.SUCCESS)

    def _with_reason(self, request, queryset, *, action, title, intro, write, done):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(request, queryset, lambda row, now: write(row, now, reason), done)
            return None
        return self.render_action_form(request, action=action, title=title, intro=intro,
                                       objects=list(queryset[: self.bulk_limit]), form=form, submit_label=title)


class ReadOnlyVolunteersAdmin(VolunteersAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)


# --- teams and stations ---------------------------------------------------------------------

@admin.register(Team)
class TeamAdmin(VolunteersAdmin):
    selector = staticmethod(selectors.teams_visible_to)
    place_path = "area"
    list_display = ("name", "kind", "area", "leader", "is_active")
    list_filter = ("kind", "is_active")
    list_select_related = ("area", "leader")
    search_fields = ("name",)
    autocomplete_fields = ("area", "leader")
    refusal_fields = {"bad_kind": "kind", "blank": "name", "too_long": "name", "clash": "name"}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("area", "leader")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("area", "name", "kind", "kind_other")
        return ("area", "name", "kind", "kind_other", "leader", "is_active", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("area", "name", "kind", "kind_other", "created_at")

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["leader", "is_active"])
            return
        data = form.cleaned_data
        adopt(obj, services.team_add(area=data["area"], name=data["name"], kind=data["kind"],
                                     kind_other=data.get("kind_other", ""), acting_user=request.user,
                                     now=timezone.now()))


@admin.register(Station)
class StationAdmin(VolunteersAdmin):
    selector = staticmethod(selectors.stations_visible_to)
    place_path = "area"
    list_display = ("name", "area", "address", "is_active")
    list_filter = ("is_active",)
    list_select_related = ("area",)
    search_fields = ("name", "address")
    autocomplete_fields = ("area",)
    refusal_fields = {"blank": "name", "too_long": "name", "clash": "name"}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("area")

    def get_fields(self, request, obj=None):
        return ("area", "name", "address", "phone") if obj is None else (
            "area", "name", "address", "phone", "is_active")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("area", "name")

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["address", "phone", "is_active"])
            return
        data = form.cleaned_data
        adopt(obj, services.station_add(area=data["area"], name=data["name"], address=data.get("address", ""),
                                        phone=data.get("phone", ""), acting_user=request.user))


# --- volunteers -------------------------------------------------------------------------------

class VolunteerAddForm(forms.ModelForm):
    home = forms.ModelChoiceField(queryset=Area.objects.none(), label=gettext_lazy("home community or grid"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["name"].help_text = _("Leave empty to use the resident's or the user's name.")

    class Meta:
        model = Volunteer
        fields = ("user", "resident", "name", "skills", "availability", "teams", "stations")

    def clean(self):
        data = super().clean()
        if not data.get("user") and not data.get("resident"):
            raise forms.ValidationError(_("A volunteer is a resident or a user of the portal."))
        return data


@admin.register(Volunteer)
class VolunteerAdmin(VolunteersAdmin):
    selector = staticmethod(selectors.volunteers_visible_to)
    list_display = ("name", "community", "grid", "skills", "is_active", "joined_on", "certificate")
    list_filter = ("is_active",)
    list_select_related = ("community", "grid")
    search_fields = ("name", "skills")
    # Autocompletes, not raw ids: a raw-id box printed the name of any id typed into
    # ?user= or ?resident=, city-wide (issue #20). The autocompletes search through the
    # user and resident admins, and the fields below only accept what those show.
    autocomplete_fields = ("user", "resident")
    refusal_fields = {"duplicate": "user", "nobody": "user", "bad_place": "home", "blank": "name",
                      "too_long": "name"}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("community", "grid")

    def place_of(self, obj):
        return _area(obj.grid_id or obj.community_id)

    @admin.display(description=gettext_lazy("certificate of hours"))
    def certificate(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("volunteers:certificate", args=[obj.pk]), _("Print"))

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = VolunteerAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            places = self.admin_site.get_model_admin(Area).get_queryset(request).values("pk")
            homes = Area.objects.filter(pk__in=places).filter(
                kind__in=[AreaKind.COMMUNITY, AreaKind.GRID], is_active=True).order_by("code")
            form.base_fields["home"].queryset = homes
        return form

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("home", "user", "resident", "name", "skills", "availability", "teams", "stations")
        return ("name", "user", "resident", "district", "street", "community", "grid", "skills", "availability",
                "teams", "stations", "is_active", "joined_on")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("name", "user", "resident", "district", "street", "community", "grid", "joined_on")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            # People holding a post under the staff member's places (the user admin's scope);
            # anyone else registers themselves on the public pages.
            users = self.admin_site.get_model_admin(User).get_queryset(request)
            kwargs.setdefault("queryset", users.filter(is_active=True))
        elif db_field.name == "resident":
            kwargs.setdefault("queryset", hooks.residents_visible_to(managing_view(request.user)))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Only teams and stations the staff member runs can be chosen.
        if db_field.name == "teams":
            kwargs["queryset"] = self.admin_site.get_model_admin(Team).get_queryset(request).order_by("name")
        elif db_field.name == "stations":
            kwargs["queryset"] = self.admin_site.get_model_admin(Station).get_queryset(request).order_by("name")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["skills", "availability", "is_active"])
            return
        data = form.cleaned_data
        adopt(obj, services.volunteer_register(
            home=data["home"], user=data.get("user"), resident=data.get("resident"), name=data.get("name", ""),
            skills=data.get("skills", ""), availability=data.get("availability", ""), acting_user=request.user,
            now=timezone.now()))

    def save_related(self, request, form, formsets, change):
        if change:
            # Teams and stations outside this user's reach stay as they were.
            obj = form.instance
            for name, model in (("teams", Team), ("stations", Station)):
                if name not in form.changed_data:
                    continue
                reachable = set(self.admin_site.get_model_admin(model).get_queryset(request)
                                .values_list("pk", flat=True))
                keep = set(getattr(obj, name).exclude(pk__in=reachable).values_list("pk", flat=True))
                getattr(obj, name).set(keep | {x.pk for x in form.cleaned_data[name]})
            for formset in formsets:
                self.save_formset(request, form, formset, change=change)
            return
        super().save_related(request, form, formsets, change)


# --- activities and records -------------------------------------------------------------------

class SignupInline(ReadOnlyInline):
    model = Signup
    fields = ("volunteer", "status", "signed_up_at", "checked_in_at", "checked_out_at")
    readonly_fields = fields
    ordering = ("signed_up_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("volunteer")


@admin.register(Activity)
class ActivityAdmin(VolunteersAdmin):
    selector = staticmethod(selectors.activities_visible_to)
    place_path = "area"
    list_display = ("title", "area", "team", "starts_at", "ends_at", "capacity", "status")
    list_filter = ("status",)
    list_select_related = ("area", "team")
    search_fields = ("title", "location")
    date_hierarchy = "starts_at"
    autocomplete_fields = ("area", "team")
    inlines = (SignupInline,)
    refusal_fields = {"bad_times": "ends_at", "bad_capacity": "capacity", "bad_points": "points_per_hour",
                      "blank": "title"}
    ADD_FIELDS = ("area", "team", "title", "description", "location", "starts_at", "ends_at", "capacity",
                  "points_per_hour")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("area", "team")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def get_fields(self, request, obj=None):
        return self.ADD_FIELDS if obj is None else (*self.ADD_FIELDS, "organiser", "status", "created_at")

    def get_readonly_fields(self, request, obj=None):
        # Times and places are promises made to those who signed up: changed only by a service.
        return () if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        adopt(obj, services.activity_add(
            area=data["area"], team=data.get("team"), title=data["title"], description=data.get("description", ""),
            location=data["location"], starts_at=data["starts_at"], ends_at=data["ends_at"],
            capacity=data["capacity"], points_per_hour=data["points_per_hour"], acting_user=request.user,
            now=timezone.now()))


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ReadOnlyVolunteersAdmin):
    selector = staticmethod(selectors.records_visible_to)
    list_display = ("volunteer", "activity", "order", "started_at", "hours", "confirmed_by", "voided_at")
    list_filter = (("voided_at", admin.EmptyFieldListFilter),)
    list_select_related = ("volunteer", "activity", "order", "confirmed_by")
    search_fields = ("volunteer__name", "content")
    date_hierarchy = "started_at"
    fields = ("volunteer", "activity", "order", "started_at", "ended_at", "hours", "content", "confirmed_by",
              "confirmed_at", "voided_at", "void_reason")
    actions = ("void_records",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("volunteer", "activity", "order", "confirmed_by")

    def place_of(self, obj):
        return obj.activity.area if obj.activity_id else _area(obj.volunteer.community_id)

    def has_void_permission(self, request):
        return is_manager(request.user)

    @admin.action(permissions=["void"], description=gettext_lazy("Void the selected records (points reversed)…"))
    def void_records(self, request, queryset):
        return self._with_reason(
            request, queryset, action="void_records", title=_("Void service records"),
            intro=_("The records stay on file, marked void with your reason; their points are reversed."),
            write=lambda r, now, reason: services.record_void(record=r, reason=reason, acting_user=request.user,
                                                              now=now),
            done=lambda n: ngettext("%d record voided.", "%d records voided.", n) % n,
        )


# --- the catalogue and redemptions ---------------------------------------------------------------

class CatalogueItemForm(forms.ModelForm):
    # The stock as it was when the page was drawn: saving moves the stock by
    # the difference, so redemptions made meanwhile stay taken.
    stock_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = CatalogueItem
        fields = ("community", "name", "kind", "price", "stock", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["stock_seen"].initial = self.instance.stock


@admin.register(CatalogueItem)
class CatalogueItemAdmin(VolunteersAdmin):
    """A community's offer: its managers keep names, prices and stock as reference data."""

    place_path = "community"
    list_display = ("name", "community", "kind", "price", "stock", "is_active")
    list_filter = ("kind", "is_active")
    list_select_related = ("community",)
    search_fields = ("name",)
    autocomplete_fields = ("community",)
    form = CatalogueItemForm
    fields = ("community", "name", "kind", "price", "stock", "is_active", "stock_seen")

    @staticmethod
    def selector(user):
        # A community's offer is reference data of the community: its managers (and those above) see it.
        return CatalogueItem.objects.filter(scope_of(user).areas_q("community__"))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("community")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("community",)

    def save_model(self, request, obj, form, change):
        if not self.may_manage_place(request, form.cleaned_data.get("community") or obj.community):
            raise DomainError(_("You do not manage this community."), code="forbidden")
        if not change:
            obj.save()
            return
        fields = [f for f in form.changed_data if f in ("name", "kind", "price", "is_active")]
        obj.stock = form.initial["stock"]  # never written from the form as a number
        try:
            with transaction.atomic():
                if fields:
                    obj.save(update_fields=fields)
                seen = form.cleaned_data.get("stock_seen")
                if seen is None:
                    seen = form.initial["stock"]
                delta = form.cleaned_data["stock"] - seen
                if delta:
                    # A delta, not the number on the form: redemptions since the page
                    # was drawn have taken stock, and must stay taken.
                    CatalogueItem.objects.filter(pk=obj.pk).update(stock=F("stock") + delta)
        except IntegrityError:
            raise DomainError(_("The stock cannot go below what is left."), code="stock") from None
        obj.refresh_from_db()

    refusal_fields = {"stock": "stock"}


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyVolunteersAdmin):
    selector = staticmethod(selectors.redemptions_visible_to)
    place_path = "item__community"
    list_display = ("volunteer", "household", "item", "quantity", "points", "status", "requested_at",
                    "picked_up_at")
    list_filter = ("status",)
    list_select_related = ("volunteer", "household__unit__building", "item", "item__community")
    search_fields = ("volunteer__name", "item__name")
    date_hierarchy = "requested_at"
    fields = ("volunteer", "household", "item", "quantity", "points", "status", "requested_at", "picked_up_at",
              "confirmed_by")
    actions = ("mark_picked_up", "cancel_redemptions")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("volunteer", "item", "item__community", "confirmed_by")

    def has_handover_permission(self, request):
        return is_manager(request.user)

    @admin.action(permissions=["handover"], description=gettext_lazy("Mark the selected as picked up"))
    def mark_picked_up(self, request, queryset):
        self._each(request, queryset,
                   lambda r, now: ledger.redemption_pickup(redemption=r, acting_user=request.user, now=now),
                   lambda n: ngettext("%d redemption picked up.", "%d redemptions picked up.", n) % n)

    @admin.action(permissions=["handover"], description=gettext_lazy("Cancel the selected (points returned)…"))
    def cancel_redemptions(self, request, queryset):
        return self._with_reason(
            request, queryset, action="cancel_redemptions", title=_("Cancel redemptions"),
            intro=_("The points go back to the volunteer and the items back into stock."),
            write=lambda r, now, reason: ledger.redemption_cancel(redemption=r, reason=reason,
                                                                   acting_user=request.user, now=now),
            done=lambda n: ngettext("%d redemption cancelled.", "%d redemptions cancelled.", n) % n,
        )


# --- orders and honours ----------------------------------------------------------------------------

@admin.register(Order)
class OrderAdmin(ReadOnlyVolunteersAdmin):
    selector = staticmethod(selectors.orders_visible_to)
    list_display = ("tracking_code", "kind", "status", "community", "grid", "placed_at", "claim_due_at",
                    "claimed_by")
    list_filter = ("status", "kind")
    list_select_related = ("community", "grid", "claimed_by")
    search_fields = ("=tracking_code", "description")
    date_hierarchy = "placed_at"
    fields = ("tracking_code", "kind", "status", "description", "district", "street", "community", "grid",
              "building", "address", "resident", "contact_name_masked", "contact_phone_masked", "contact_erased_at",
              "placed_by", "placed_at", "claim_due_at", "claimed_by", "claimed_at", "done_at", "confirmed_at",
              "escalated_at", "points")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("community", "grid", "claimed_by")

    def place_of(self, obj):
        return _area(obj.grid_id or obj.community_id)


@admin.register(Honour)
class HonourAdmin(VolunteersAdmin):
    selector = staticmethod(selectors.honours_visible_to)
    place_path = "area"
    list_display = ("title", "volunteer", "area", "period", "confirmed_by", "confirmed_at")
    list_filter = ("period",)
    list_select_related = ("volunteer", "area", "confirmed_by")
    search_fields = ("title", "volunteer__name")
    autocomplete_fields = ("volunteer", "area")
    fields = ("title", "volunteer", "area", "period", "citation", "confirmed_by", "confirmed_at")

    def get_readonly_fields(self, request, obj=None):
        # A confirmed honour keeps who, what, where and when; only its citation is edited
        # (a wrong one is withdrawn and awarded again).
        if obj is None:
            return ("confirmed_by", "confirmed_at")
        return ("title", "volunteer", "area", "period", "confirmed_by", "confirmed_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("volunteer", "area", "confirmed_by")

    def has_delete_permission(self, request, obj=None):
        # An honour given in error is withdrawn; it carries no points.
        return self.may_manage(request, obj)

    def save_model(self, request, obj, form, change):
        if not self.may_manage_place(request, obj.area):
            raise DomainError(_("You do not manage “%(place)s”.") % {"place": obj.area}, code="forbidden")
        if change:
            obj.save(update_fields=["citation"])
            return
        # Whoever saves it confirms it (a staff-confirmed award), through the service.
        adopt(obj, services.honour_award(volunteer=obj.volunteer, title=obj.title, area=obj.area, period=obj.period,
                                         citation=obj.citation, acting_user=request.user, now=timezone.now()))

    refusal_fields = {"forbidden": "area", "not_here": "volunteer", "already_awarded": "title",
                      "bad_period": "period", "blank": "title", "too_long": "title"}


# --- the books: read-only for everyone ---------------------------------------------------------------

class BooksAdmin(VolunteersAdmin):
    """Points move only through volunteers/ledger.py: nobody adds, edits or deletes a row here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def may_manage(self, request, obj=None):
        if obj is None:
            return is_manager(request.user)
        return is_manager(request.user) and self.in_scope(request, obj)


class EntryInline(ReadOnlyInline):
    model = Entry
    fields = ("account", "amount", "at")
    readonly_fields = fields
    ordering = ("id",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account__community", "account__volunteer")


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(BooksAdmin):
    selector = staticmethod(transactions_visible_to)
    list_display = ("id", "at", "kind", "memo", "actor", "reverses")
    list_filter = ("kind",)
    list_select_related = ("actor", "reverses")
    search_fields = ("memo",)
    date_hierarchy = "at"
    fields = ("kind", "at", "actor", "memo", "idempotency_key", "reverses", "service_record", "order", "case",
              "redemption")
    readonly_fields = fields
    inlines = (EntryInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "reverses")

    def lookup_allowed(self, lookup, value, request=None):
        # The account page links here with ?entries__account__id__exact=<id>.
        return lookup == "entries__account__id__exact" or super().lookup_allowed(lookup, value, request)


@admin.register(Account)
class AccountAdmin(BooksAdmin):
    selector = staticmethod(selectors.accounts_visible_to)
    list_display = ("__str__", "kind", "community", "volunteer", "balance")
    list_filter = ("kind",)
    list_select_related = ("community", "volunteer")
    search_fields = ("volunteer__name", "community__name")
    fields = ("kind", "community", "volunteer", "balance", "latest_entries", "all_transactions")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("community", "volunteer")

    @admin.display(description=gettext_lazy("latest entries"))
    def latest_entries(self, obj):
        rows = selectors.statement(obj, limit=50)
        if not rows:
            return _("No entries yet.")
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("at"), _("points"), _("memo"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                             ((timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M"), f"{e.amount:+d}",
                               e.transaction.memo)
                              for e in rows)),
        )

    @admin.display(description=gettext_lazy("transactions"))
    def all_transactions(self, obj):
        url = reverse("admin:volunteers_ledgertransaction_changelist") + f"?entries__account__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("all transactions of this account"))

from . import admin_household  # noqa: E402,F401  (the households' points card)
