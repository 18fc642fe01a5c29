"""URLs of the case pages, the intake channels and the alarm webhook."""

from django.urls import path

from . import api, views, views_dashboard

app_name = "cases"

urlpatterns = [
    # Residents (no sign-in).
    path("report/", views.report, name="report"),
    path("report/b/<int:building_id>/", views.report, name="report_building"),
    path("report/done/<str:code>/", views.report_done, name="report_done"),
    path("report/places/", views.places, name="places"),
    path("track/", views.track_lookup, name="track_lookup"),
    path("track/<str:code>/", views.track, name="track"),
    path("track/<str:code>/rate/", views.track_rate, name="track_rate"),
    path("track/<str:code>/photos/<int:photo_id>/", views.track_photo, name="track_photo"),
    # Grid workers (phone) and staff.
    path("cases/", views.board, name="board"),
    path("cases/export.csv", views.export, name="export"),
    path("cases/queue/", views.queue, name="queue"),
    path("cases/patrol/", views.patrol, name="patrol"),
    path("cases/hotline/", views.hotline, name="hotline"),
    path("cases/<int:pk>/", views.detail, name="detail"),
    path("cases/<int:pk>/act/<slug:name>/", views.act, name="act"),
    path("cases/<int:pk>/photos/<int:photo_id>/", views.photo, name="photo"),
    # Officials' dashboards (the city for administrators, then any place they manage).
    path("dashboard/", views_dashboard.dashboard, name="dashboard"),
    path("dashboard/chart.json", views_dashboard.dashboard_chart, name="dashboard_chart"),
    path("dashboard/export/<slug:table>.<str:fmt>", views_dashboard.dashboard_export, name="dashboard_export"),
    path("dashboard/people/", views_dashboard.dashboard_people, name="dashboard_people"),
    path("dashboard/<int:area_id>/", views_dashboard.dashboard_place, name="dashboard_place"),
    path("dashboard/<int:area_id>/people/", views_dashboard.dashboard_people, name="dashboard_place_people"),
    path("dashboard/<int:area_id>/chart.json", views_dashboard.dashboard_chart, name="dashboard_place_chart"),
    path("dashboard/<int:area_id>/export/<slug:table>.<str:fmt>", views_dashboard.dashboard_export,
         name="dashboard_place_export"),
    # Cameras and one-click alarms (微天网).
    path("api/alarms/", api.alarm, name="alarm"),
]
