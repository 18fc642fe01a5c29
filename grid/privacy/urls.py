from django.urls import path

from portal.lazy_views import view_modules

views = view_modules(__package__, "views")

app_name = "privacy"

urlpatterns = [
    path("privacy/register/", views.processing_register, name="register"),
]
