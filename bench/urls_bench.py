"""The portal's URLs plus a bare view, served by the same gunicorn for comparison."""

from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    """Nothing but the middleware stack and a response: the ceiling for any page."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("", include("portal.urls")),
]
