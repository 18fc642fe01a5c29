from django.urls import path

from portal.lazy_views import view_modules

views, warning_views = view_modules(__package__, "views", "warning_views")

app_name = "risks"

urlpatterns = [
    path("risks/day/", views.day, name="day"),
    path("risks/patrols/start/", views.patrol_start, name="patrol_start"),
    path("risks/patrols/<int:pk>/end/", views.patrol_end, name="patrol_end"),
    path("risks/patrols/<int:pk>/fixed/", views.patrol_fixed, name="patrol_fixed"),
    path("risks/patrols/<int:pk>/case/", views.patrol_case, name="patrol_case"),
    path("risks/plans/<int:pk>/done/", views.plan_done, name="plan_done"),
    path("risks/findings/<int:pk>/<slug:which>/", views.finding_photo, name="finding_photo"),
    path("risks/", views.risk_list, name="list"),
    path("risks/export.csv", views.risk_export, name="export"),
    path("risks/new/", views.risk_new, name="new"),
    path("risks/<int:pk>/", views.risk_detail, name="detail"),
    path("risks/<int:pk>/reassess/", views.risk_reassess, name="reassess"),
    path("risks/<int:pk>/close/", views.risk_close, name="close"),
    path("risks/<int:pk>/case/", views.risk_case, name="case"),
    path("risks/<int:pk>/photos/<int:photo_id>/", views.risk_photo, name="photo"),
    path("risks/warnings/", warning_views.warnings_panel, name="warnings"),
    path("risks/warnings/<int:pk>/", warning_views.warning_detail, name="warning"),
    path("risks/warnings/<int:pk>/acknowledge/", warning_views.warning_acknowledge, name="warning_acknowledge"),
    path("risks/warnings/<int:pk>/assign/", warning_views.warning_assign, name="warning_assign"),
    path("risks/warnings/<int:pk>/dismiss/", warning_views.warning_dismiss, name="warning_dismiss"),
    path("risks/warnings/rules/<int:district_id>/", warning_views.warning_rules, name="warning_rules"),
]
