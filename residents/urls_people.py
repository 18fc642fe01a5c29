"""The residents' pages, at /residents/ (namespace "residents")."""

from django.urls import path

from portal.lazy_views import view_modules

views = view_modules(__package__, "views")

urlpatterns = [
    path("", views.resident_list, name="list"),
    path("households/add/", views.household_add, name="household_add"),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("households/<int:household_pk>/add/", views.resident_add, name="resident_add"),
    path("<int:pk>/", views.resident_detail, name="resident"),
    path("<int:pk>/edit/", views.resident_edit, name="resident_edit"),
    path("<int:pk>/reveal/", views.resident_reveal, name="resident_reveal"),
    path("<int:pk>/leave/", views.resident_leave, name="resident_leave"),
    path("<int:pk>/return/", views.resident_return, name="resident_return"),
    path("<int:pk>/visits/add/", views.visit_add, name="visit_add"),
    path("visits/<int:pk>/case/", views.visit_to_case, name="visit_to_case"),
    path("visits/due/", views.visits_due_page, name="visits_due"),
    path("access-log/", views.access_log, name="access_log"),
]
