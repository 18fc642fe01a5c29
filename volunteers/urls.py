"""URLs of the residents' order pages and a volunteer's phone pages."""

from django.urls import path

from portal.lazy_views import view_modules

(pages, public, public_location, views, views_household) = view_modules(
    __package__, "pages", "public", "public_location", "views", "views_household")

app_name = "volunteers"

urlpatterns = [
    # Residents (no sign-in): orders (下单).
    path("order/", public.place, name="order_place"),
    path("order/b/<int:building_id>/", public.place, name="order_place_building"),
    path("order/where/", public_location.order_where, name="order_where"),
    path("order/track/", public.track_lookup, name="order_track_lookup"),
    path("order/track/<str:code>/", public.track, name="order_track"),
    path("order/track/<str:code>/confirm/", public.confirm, name="order_confirm"),
    # Volunteers.
    path("volunteers/me/", views.me, name="me"),
    path("volunteers/activities/", views.activities, name="activities"),
    path("volunteers/activities/<int:pk>/signup/", views.signup, name="signup"),
    path("volunteers/signups/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("volunteers/orders/<int:pk>/claim/", views.claim, name="claim"),
    path("volunteers/orders/<int:pk>/done/", views.done, name="done"),
    path("volunteers/orders/<int:pk>/contact/", views.order_contact, name="order_contact"),
    path("volunteers/catalogue/", views.catalogue, name="catalogue"),
    path("volunteers/catalogue/<int:pk>/redeem/", views.redeem, name="redeem"),
    path("volunteers/<int:pk>/certificate/", pages.certificate, name="certificate"),
    path("volunteers/honours/", pages.honours, name="honours"),
    path("volunteers/honours/award/", pages.honour_award, name="honour_award"),
    # The households' points card (staff).
    path("points/households/<int:pk>/", views_household.card, name="household_card"),
    path("points/households/<int:pk>/entries/", views_household.entry_add, name="household_entry_add"),
    path("points/households/<int:pk>/redeem/", views_household.redeem, name="household_redeem"),
    path("points/households/figures/", views_household.figures, name="household_figures"),
    path("points/communities/<int:pk>/stars/", views_household.stars_switch, name="household_stars"),
]
