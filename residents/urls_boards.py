"""Notice boards (公示牌) and grid health; included at the site root in the "residents" namespace."""

from django.urls import path

from portal.lazy_views import view_modules

views_boards = view_modules(__package__, "views_boards")

urlpatterns = [
    path("buildings/<int:pk>/notice-board/", views_boards.board, name="board"),
    path("places/<int:pk>/notice-boards/", views_boards.community_boards, name="community_boards"),
    path("places/<int:pk>/grid-health/", views_boards.grid_health, name="health"),
]
