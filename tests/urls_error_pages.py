"""The portal's URLs plus one view that fails, for tests/test_portal_error_pages.py."""

from django.urls import path

from portal.urls import handler500, urlpatterns as portal_urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", boom), *portal_urlpatterns]
