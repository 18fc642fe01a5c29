"""Import and export pages, under /residents/imports/ (namespace "residents")."""

from django.urls import path

from portal.lazy_views import view_modules

views_import = view_modules(__package__, "views_import")

urlpatterns = [
    path("", views_import.import_list, name="import_list"),
    path("new/", views_import.import_upload, name="import_upload"),
    path("template.<str:file_format>", views_import.import_template, name="import_template"),
    path("<int:pk>/", views_import.import_detail, name="import_detail"),
    path("<int:pk>/confirm/", views_import.import_confirm, name="import_confirm"),
    path("<int:pk>/status.json", views_import.import_status, name="import_status"),
    path("export/", views_import.export, name="export"),
]
