"""A resident's order by location (issue #21): find the building by search or by "use my
location" (grid/views_location.py), then order at it through the building's own form
(/order/b/<id>/, the notice-board route). The grid follows from the building."""

from django.urls import reverse
from django.utils.translation import gettext as _

from grid.views_location import where_page


def order_where(request):
    return where_page(
        request,
        title=_("Ask a volunteer"),
        lead=_("First, where do you live? Search your building or address, or use your location."),
        choose_url=lambda building_id: reverse("volunteers:order_place_building", args=[building_id]),
        list_url=reverse("volunteers:order_place"),
    )
