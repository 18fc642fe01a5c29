"""URLs of party building: the reported-in member's phone page and the community staff's page."""

from django.urls import path

from portal.lazy_views import view_modules

views = view_modules(__package__, "views")

app_name = "party"

urlpatterns = [
    path("party/me/", views.me, name="me"),
    path("party/me/report-in/", views.report_in, name="report_in"),
    path("party/me/end/", views.report_end, name="report_end"),
    path("party/wishes/<int:pk>/adopt/", views.wish_adopt, name="wish_adopt"),
    path("party/wishes/<int:pk>/fulfil/", views.wish_fulfil, name="wish_fulfil"),
    path("party/", views.staff, name="staff"),
    path("party/wishes/new/", views.wish_new, name="wish_new"),
    path("party/wishes/<int:pk>/confirm/", views.wish_confirm, name="wish_confirm"),
    path("party/wishes/<int:pk>/withdraw/", views.wish_withdraw, name="wish_withdraw"),
    path("party/reports/<int:pk>/confirm/", views.report_confirm, name="report_confirm"),
    path("party/services/new/", views.service_new, name="service_new"),
]
