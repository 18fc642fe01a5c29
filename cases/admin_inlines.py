"""Read-only inlines shared by the cases admin modules."""

from django.contrib import admin


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        # The case page itself is scoped (404 outside); whoever sees the case
        # sees its timeline. Django also asks without an object while building
        # the inline's rows, so this cannot answer False for obj=None.
        return True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
