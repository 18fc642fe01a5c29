"""The hub's pages. portal/urls.py mounts them in the namespace they had before they
moved up here, so `cases:queue` still reverses to /cases/queue/."""

from django.urls import path

from portal.lazy_views import view_modules

views = view_modules(__package__, "views")

# In the `cases` namespace.
cases_urlpatterns = [
    path("cases/queue/", views.queue, name="queue"),
    path("work-records/", views.work_records, name="work_records"),
    path("work-records/<int:user_id>/", views.work_record, name="work_record"),
]
