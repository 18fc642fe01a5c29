from django.conf import settings

from .selectors import scope_of


def portal(request):
    user = getattr(request, "user", None)
    return {
        "portal_name": settings.PORTAL_NAME,
        # Called only by templates that ask (the nav's 报到 link); the scope is cached per request.
        "works_for_organisation": lambda: bool(user is not None and scope_of(user).organisation_ids),
    }
