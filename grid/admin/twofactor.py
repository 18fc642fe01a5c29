"""Authenticator devices in the admin, for administrators only: see who enrolled, and
remove a lost phone's device so its owner can enrol a new one (grid/twofactor.py).

django-otp's own device admin offers a raw-id user box that names any user in the
city and a form that makes a device with its secret on screen: it is replaced by
this list, which only reads and deletes. Devices are made by their owners on the
enrol page, never here.
"""

from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django_otp.plugins.otp_totp.models import TOTPDevice

try:
    admin.site.unregister(TOTPDevice)
except NotRegistered:
    pass


@admin.register(TOTPDevice)
class AuthenticatorDeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    search_fields = ("user__username",)
    list_select_related = ("user",)
    fields = ("user", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

