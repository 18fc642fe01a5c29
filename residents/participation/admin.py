"""Participation in the admin: read-only and scoped (managing posts). Every change goes
through the staff pages, i.e. through services.py and its timeline."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from grid.admin import ReadOnlyScopedAdmin

from . import selectors
from .models import Meeting, Project, Proposal, Track


class ReadOnlyParticipationAdmin(ReadOnlyScopedAdmin):
    def place_of(self, obj):
        return obj.place

    @admin.display(description=gettext_lazy("place"))
    def place(self, obj):
        return obj.place


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyParticipationAdmin):
    selector = staticmethod(selectors.proposals_visible_to)
    list_display = ("title", "place", "status", "support_count", "threshold", "origin", "created_at")
    list_filter = ("status", "origin")
    list_select_related = ("grid", "community")
    search_fields = ("title",)
    exclude = ("proposer",)


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyParticipationAdmin):
    selector = staticmethod(selectors.meetings_visible_to)
    list_display = ("title", "kind", "place", "held_at", "attendance", "closed_at")
    list_filter = ("kind",)
    list_select_related = ("grid", "community")
    search_fields = ("title",)


@admin.register(Track)
class TrackAdmin(ReadOnlyParticipationAdmin):
    selector = staticmethod(selectors.tracks_visible_to)
    list_display = ("proposal", "place", "stage", "responsible_level", "due_at", "escalation_count")
    list_filter = ("stage", "responsible_level")
    list_select_related = ("grid", "community", "proposal")


@admin.register(Project)
class ProjectAdmin(ReadOnlyParticipationAdmin):
    selector = staticmethod(selectors.projects_visible_to)
    list_display = ("title", "place", "applicant", "status", "progress", "rating_count", "created_at")
    list_filter = ("status",)
    list_select_related = ("grid", "community")
    search_fields = ("title", "applicant")
