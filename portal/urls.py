from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("grid.urls")),
    path("", include("cases.urls")),
    path("", include("cases.open311.urls")),
    path("", include("residents.urls")),
    path("", include("volunteers.urls")),
    path("", include("residents.participation.urls")),
]

# The portal's own 500 page: Chinese first, and it says when a report was not saved.
handler500 = "portal.error_pages.server_error"
