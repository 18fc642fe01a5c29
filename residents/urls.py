"""The residents' pages. Each part has its own module so the parts stay apart."""

from django.urls import include, path

app_name = "residents"

urlpatterns = [
    path("residents/", include("residents.urls_people")),
    path("residents/imports/", include("residents.urls_imports")),
    path("", include("residents.urls_boards")),
]
