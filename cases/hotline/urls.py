"""The hotline system's JSON endpoint."""

from django.urls import path

from portal.lazy_views import view_modules

api = view_modules(__package__, "api")

app_name = "hotline"

urlpatterns = [
    path("api/hotline/v1/orders/", api.orders, name="orders"),
    path("api/hotline/v1/orders/<str:number>/", api.order, name="order"),
    path("api/hotline/v1/orders/<str:number>/visit/", api.order_visit, name="order_visit"),
    path("api/hotline/v1/replies/", api.replies, name="replies"),
]
