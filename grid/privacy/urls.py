from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("privacy/register/", views.processing_register, name="register"),
]
