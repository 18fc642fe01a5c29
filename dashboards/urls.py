"""The officials' dashboards: the city for administrators, then any place they manage.

Mounted by portal/urls.py in the `cases` namespace, where these names were
before the dashboards left the cases app (`cases:dashboard`, ...): templates,
bookmarks and tests reverse them unchanged.
"""

from django.urls import path

from portal.lazy_views import view_modules

views = view_modules(__package__, "views")

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/chart.json", views.dashboard_chart, name="dashboard_chart"),
    path("dashboard/shapes.geojson", views.dashboard_shapes, name="dashboard_shapes"),
    path("dashboard/export/<slug:table>.<str:fmt>", views.dashboard_export, name="dashboard_export"),
    path("dashboard/people/", views.dashboard_people, name="dashboard_people"),
    path("dashboard/organisations/", views.dashboard_organisations, name="dashboard_organisations"),
    path("dashboard/<int:area_id>/organisations/", views.dashboard_organisations,
         name="dashboard_place_organisations"),
    path("dashboard/screen/", views.command_screen, name="command_screen"),
    path("dashboard/screen.json", views.command_screen_data, name="command_screen_data"),
    path("dashboard/<int:area_id>/", views.dashboard_place, name="dashboard_place"),
    path("dashboard/<int:area_id>/screen/", views.command_screen, name="command_screen_place"),
    path("dashboard/<int:area_id>/screen.json", views.command_screen_data, name="command_screen_place_data"),
    path("dashboard/mediation/", views.dashboard_mediation, name="dashboard_mediation"),
    path("dashboard/compounds/", views.dashboard_compounds, name="dashboard_compounds"),
    path("dashboard/<int:area_id>/compounds/", views.dashboard_compounds, name="dashboard_place_compounds"),
    path("dashboard/<int:area_id>/mediation/", views.dashboard_mediation, name="dashboard_place_mediation"),
    path("dashboard/<int:area_id>/people/", views.dashboard_people, name="dashboard_place_people"),
    path("dashboard/party/", views.dashboard_party, name="dashboard_party"),
    path("dashboard/<int:area_id>/party/", views.dashboard_party, name="dashboard_place_party"),
    path("dashboard/hotline/", views.dashboard_hotline, name="dashboard_hotline"),
    path("dashboard/<int:area_id>/hotline/", views.dashboard_hotline, name="dashboard_place_hotline"),
    path("dashboard/<int:area_id>/chart.json", views.dashboard_chart, name="dashboard_place_chart"),
    path("dashboard/<int:area_id>/shapes.geojson", views.dashboard_shapes, name="dashboard_place_shapes"),
    path("dashboard/<int:area_id>/export/<slug:table>.<str:fmt>", views.dashboard_export,
         name="dashboard_place_export"),
]
