"""The root URLconf: the one place that mounts every app's pages (the top of the layers).

The officials' dashboards (dashboards/) and the worker's queue (hub/) left the
cases app for the top layer and keep their URL names in the `cases` namespace
(`cases:dashboard`, `cases:queue`), so they are mounted into it here.
"""

from django.contrib import admin
from django.urls import include, path

from cases import urls as cases_urls
from dashboards import urls as dashboards_urls
from hub import urls as hub_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("grid.urls")),
    path("", include("grid.privacy.urls")),
    path("", include((cases_urls.urlpatterns + hub_urls.cases_urlpatterns + dashboards_urls.urlpatterns,
                      cases_urls.app_name))),
    path("", include("cases.open311.urls")),
    path("", include("cases.hotline.urls")),
    path("", include("residents.urls")),
    path("", include("volunteers.urls")),
    path("", include("risks.urls")),
    path("", include("residents.participation.urls")),
    path("", include("residents.party.urls")),
]

# The portal's own 500 page: Chinese first, and it says when a report was not saved.
handler500 = "portal.error_pages.server_error"
handler400 = "portal.error_pages.bad_request"
handler403 = "portal.error_pages.permission_denied"
handler404 = "portal.error_pages.page_not_found"
