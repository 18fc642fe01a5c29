"""URLs of resident participation (staff pages) and the public board of a community."""

from django.urls import path

from portal.lazy_views import view_modules

views = view_modules(__package__, "views")

app_name = "participation"

urlpatterns = [
    path("participation/", views.index, name="index"),
    path("participation/proposals/new/", views.proposal_new, name="proposal_new"),
    path("participation/proposals/<int:pk>/", views.proposal_detail, name="proposal"),
    path("participation/proposals/<int:pk>/<slug:action>/", views.proposal_act, name="proposal_act"),
    path("participation/clusters/", views.clusters, name="clusters"),
    path("participation/clusters/make/", views.cluster_make, name="cluster_make"),
    path("participation/meetings/new/", views.meeting_new, name="meeting_new"),
    path("participation/meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("participation/meetings/<int:pk>/<slug:action>/", views.meeting_act, name="meeting_act"),
    path("participation/tracks/<int:pk>/", views.track_detail, name="track"),
    path("participation/tracks/<int:pk>/<slug:action>/", views.track_act, name="track_act"),
    path("participation/projects/new/", views.project_new, name="project_new"),
    path("participation/projects/<int:pk>/", views.project_detail, name="project"),
    path("participation/projects/<int:pk>/<slug:action>/", views.project_act, name="project_act"),
    path("board/<int:pk>/participation/", views.board, name="board"),
]
