from django.conf import settings

from .models import AreaKind, MANAGING_ROLES
from .selectors import scope_of


def portal(request):
    user = getattr(request, "user", None)

    # Lazy (templates call callables): the nav asks only on pages that show it; the scope is cached.
    def works_for_organisation():
        return bool(user is not None and user.is_authenticated and scope_of(user).organisation_ids)

    def runs_command_centre():
        if user is None or not user.is_authenticated:
            return False
        scope = scope_of(user)
        return scope.unrestricted or any(s.kind in (AreaKind.STREET, AreaKind.DISTRICT) and s.role in MANAGING_ROLES
                                         for s in scope.spans)

    return {"portal_name": settings.PORTAL_NAME, "works_for_organisation": works_for_organisation,
            "runs_command_centre": runs_command_centre}
