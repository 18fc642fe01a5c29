"""The mediation files and rooms in the admin, for community and street staff.

A file is read here (scoped through mediations_visible_to, managing posts
only) and worked on its own page (cases:mediation), where every write goes
through cases/mediation.py; the admin links to it. Parties show masked only.
Rooms (调解室) are added and changed here, through `mediation_room_save`.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from grid.admin import ReadOnlyInline, ScopedAdminMixin

from .mediation import mediation_room_save
from .mediation_docking import mediation_referrer_save
from .mediation_selectors import mediations_visible_to, referrers_visible_to, rooms_visible_to
from .models import Mediation, MediationFile, MediationParty, MediationReferrer, MediationRoom, MediationSession


class PartyInline(ReadOnlyInline):
    model = MediationParty
    fields = ("role", "name", "id_masked", "phone_masked", "address", "removed_at", "removal_reason")
    readonly_fields = fields

    def get_queryset(self, request):
        # Never the encrypted columns: the admin shows the masked ones only.
        return super().get_queryset(request).defer("id_number", "phone")


class SessionInline(ReadOnlyInline):
    model = MediationSession
    fields = ("held_at", "state", "room", "location", "attendees", "notes")
    readonly_fields = fields


class FileInline(ReadOnlyInline):
    model = MediationFile
    fields = ("kind", "name", "open_file", "description", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("file"))
    def open_file(self, obj):
        # Through the mediation file's scoped download (404 outside the user's files), never /media/.
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("cases:mediation_file", args=[obj.mediation.case_id, obj.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, gettext_lazy("Open the file"))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("mediation")


@admin.register(Mediation)
class MediationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(mediations_visible_to)
    list_display = ("__str__", "case", "dispute_type", "outcome", "source", "committee", "opened_at")
    list_filter = ("outcome", "source", "dispute_type")
    search_fields = ("=case__number", "source_ref")
    list_select_related = ("case", "committee")
    ordering = ("-case__created_at",)
    inlines = (PartyInline, SessionInline, FileInline)
    fields = ("file_page", "case", "committee", "year", "serial", "opened_at", "dispute_type", "claims", "room",
              "source", "source_body", "source_ref", "reply_due_on", "mediators", "outcome", "agreement_text",
              "performance_deadline", "consent_recorded", "referral", "referral_body", "referral_receipt",
              "referral_received_on", "referral_answer", "outcome_note", "concluded_at")
    readonly_fields = fields
    actions = ()

    @admin.display(description=gettext_lazy("Mediation file"))
    def file_page(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("cases:mediation", args=[obj.pk]),
                           gettext_lazy("Open the mediation file"))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("case", "committee")

    def may_manage(self, request, obj=None):
        from grid.admin import is_manager

        if obj is None:
            return is_manager(request.user)
        return mediations_visible_to(request.user, managing=True).filter(pk=obj.pk).exists()

    def has_add_permission(self, request):
        return False  # a file comes with its dispute case

    def has_change_permission(self, request, obj=None):
        return False  # worked on its own page

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MediationRoom)
class MediationRoomAdmin(ScopedAdminMixin, admin.ModelAdmin):
    selector = staticmethod(rooms_visible_to)
    place_path = "area"
    list_display = ("name", "area", "address", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "address")
    list_select_related = ("area",)
    fields = ("area", "name", "address", "is_active")
    autocomplete_fields = ("area",)
    refusal_fields = {"bad_area": "area", "duplicate_room": "name"}
    actions = ()

    def save_model(self, request, obj, form, change):
        mediation_room_save(room=obj, acting_user=request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # sessions name their room; a closed room is made inactive


@admin.register(MediationReferrer)
class MediationReferrerAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Which API keys push referrals (/api/mediation/v1/), as which court, police station or petition office."""

    selector = staticmethod(referrers_visible_to)
    place_path = "client__area"
    list_display = ("body", "source", "client")
    list_filter = ("source",)
    search_fields = ("body", "client__name")
    list_select_related = ("client",)
    autocomplete_fields = ()
    refusal_fields = {"bad_client": "client", "forbidden": "client", "bad_source": "source", "blank": "body",
                      "too_long": "body"}
    actions = ()

    def get_fields(self, request, obj=None):
        return ("client", "source", "body")

    def get_readonly_fields(self, request, obj=None):
        return ("client",) if obj is not None else ()

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "source":
            kwargs["choices"] = [(v, label) for v, label in db_field.choices if v != "direct"]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        mediation_referrer_save(referrer=obj, acting_user=request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # the files it pushed keep it (PROTECT)
