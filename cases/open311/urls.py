"""Open311 GeoReport v2 under /open311/ and the JSON API under /api/v1/."""

from django.urls import path, register_converter

from portal.lazy_views import view_modules

jsonapi, views = view_modules(__package__, "jsonapi", "views")


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FormatConverter, "fmt")

app_name = "open311"

urlpatterns = [
    path("open311/discovery.<fmt:fmt>", views.discovery, name="discovery"),
    path("open311/v2/services.<fmt:fmt>", views.service_list, name="services"),
    path("open311/v2/services/<str:code>.<fmt:fmt>", views.service_definition, name="service"),
    path("open311/v2/requests.<fmt:fmt>", views.requests, name="requests"),
    path("open311/v2/requests/<str:request_id>.<fmt:fmt>", views.request_detail, name="request"),
    path("open311/v2/tokens/<str:token>.<fmt:fmt>", views.token, name="token"),
    path("open311/v2/servicerequestupdates.<fmt:fmt>", views.request_updates, name="updates"),
    # Last of the /open311/ paths: whatever else is asked there answers in the spec's error shape.
    path("open311/<path:rest>", views.unknown, name="unknown"),
    path("api/v1/openapi.json", jsonapi.openapi, name="openapi"),
    path("api/v1/cases/", jsonapi.case_list, name="api_cases"),
    path("api/v1/cases/<int:pk>/", jsonapi.case_detail, name="api_case"),
    path("api/v1/categories/", jsonapi.category_list, name="api_categories"),
    path("api/v1/places/", jsonapi.place_list, name="api_places"),
    path("api/v1/places/<int:pk>/", jsonapi.place_detail, name="api_place"),
    # Last of the /api/v1/ paths: anything else answers the API's JSON 404.
    path("api/v1/<path:rest>", jsonapi.unknown, name="api_unknown"),
]
