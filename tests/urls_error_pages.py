"""The portal's URLs plus one view that fails, for tests/test_portal_error_pages.py."""

from django.urls import path

from portal.urls import handler400, handler403, handler404, handler500  # noqa: F401
from portal.urls import urlpatterns as portal_urlpatterns


def boom(request, **kwargs):
    raise RuntimeError("boom")


def forbidden(request):
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied


def malformed(request):
    from django.core.exceptions import SuspiciousOperation

    raise SuspiciousOperation("malformed")


urlpatterns = [path("boom/", boom), path("forbidden/", forbidden), path("malformed/", malformed),
               path("open311/v2/boom.<str:fmt>", boom), path("api/v1/boom/", boom),
               path("api/hotline/v1/boom/", boom), *portal_urlpatterns]
