"""One view for bench/settings_floor.py: the session, the cache and the database, nothing of the portal."""

# The field-encryption library's fields, as the residents' models import them: that, not the package
# alone, is what imports cryptography (until 2026-12-06 the floor imported only the package).
import encrypted_fields.fields  # noqa: F401
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.urls import path


def floor(request):
    request.session.get("x")
    cache.get("bench-floor")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", floor), path("bench/floor/", floor)]
