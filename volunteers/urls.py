"""URLs of a volunteer's phone pages."""

from django.urls import path

from . import views

app_name = "volunteers"

urlpatterns = [
    path("volunteers/me/", views.me, name="me"),
    path("volunteers/activities/", views.activities, name="activities"),
    path("volunteers/activities/<int:pk>/signup/", views.signup, name="signup"),
    path("volunteers/signups/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("volunteers/orders/<int:pk>/claim/", views.claim, name="claim"),
    path("volunteers/orders/<int:pk>/done/", views.done, name="done"),
    path("volunteers/catalogue/", views.catalogue, name="catalogue"),
    path("volunteers/catalogue/<int:pk>/redeem/", views.redeem, name="redeem"),
]
