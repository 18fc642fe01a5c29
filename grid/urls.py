from django.contrib.auth import views as auth_views
from django.urls import path

from portal.lazy_views import view_modules

views, views_twofactor = view_modules(__package__, "views", "views_twofactor")

urlpatterns = [
    path("", views.home, name="home"),
    path("places/<int:pk>/", views.place_detail, name="place"),
    path("buildings/<int:pk>/", views.building_detail, name="building"),
    # Sign-in lives with the people it signs in (grid.User); only these two of
    # django.contrib.auth's views: no self-service password reset by e-mail.
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The second factor (grid/twofactor.py): enrol an authenticator app, then its code at each sign-in.
    path("accounts/two-factor/enrol/", views_twofactor.enrol, name="twofactor_enrol"),
    path("accounts/two-factor/verify/", views_twofactor.verify, name="twofactor_verify"),
]
