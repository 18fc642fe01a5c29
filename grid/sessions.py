"""How long a sign-in lasts without use, by role (issue #20 item 2).

Staff whose posts reach residents' personal data are signed out sooner when
they leave a screen alone: a community office PC left signed in opens every
resident's record to whoever sits down. The limits are settings
(`SESSION_IDLE_MINUTES_BY_ROLE`, keyed by `grid.models.Role` values plus
"superuser"); anyone else keeps Django's `SESSION_COOKIE_AGE`. A user with
several posts gets the shortest of their limits.

The limit is worked out once, at sign-in (the posts are read then), and kept in
the session with the time of the last request. Every request compares the two
without a query; the time of use is written back at most once a minute
(`SESSION_ACTIVITY_RESOLUTION`), so an idle session ends between the limit and
the limit plus that minute, and a busy page costs no session write per request.
`set_expiry` keeps the cookie and the stored session on the same clock (two
minutes longer, so this check ends the sign-in first and says why), so a
browser or `clearsessions` drops the session even if it never comes back.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .selectors import active_posts

IDLE_KEY = "portal_idle_limit"  # seconds this sign-in may stay unused
SEEN_KEY = "portal_seen_at"  # unix time of the last request that refreshed the session
SUPERUSER = "superuser"


def idle_limit_for(user) -> int:
    """Seconds `user`'s sign-in may stay unused: the shortest limit of their roles, else SESSION_COOKIE_AGE."""
    limits = settings.SESSION_IDLE_MINUTES_BY_ROLE
    roles = set(active_posts(user).values_list("role", flat=True).distinct())
    if user.is_superuser:
        roles.add(SUPERUSER)
    minutes = [limits[role] for role in roles if role in limits]
    return int(min(minutes) * 60) if minutes else int(settings.SESSION_COOKIE_AGE)


def start(request, user, *, now=None):
    """Stamp a new sign-in with its limit and its first use."""
    limit = idle_limit_for(user)
    request.session[IDLE_KEY] = limit
    request.session[SEEN_KEY] = int(now if now is not None else time.time())
    request.session.set_expiry(stored_lifetime(limit))


def stored_lifetime(limit):
    """How long the cookie and the stored session live: past the idle limit by the resolution
    (twice, for the write that lags), so this middleware ends the sign-in first and says why."""
    return limit + 2 * settings.SESSION_ACTIVITY_RESOLUTION


@receiver(user_logged_in, dispatch_uid="grid.sessions.start")
def _on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        start(request, user)


class SessionLifetimeMiddleware:
    """Ends a sign-in unused for longer than its limit; slides the limit on use.

    Sits after AuthenticationMiddleware and MessageMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response = self._check(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def _check(self, request, user):
        session = request.session
        now = int(time.time())
        limit, seen = session.get(IDLE_KEY), session.get(SEEN_KEY)
        if limit is None or seen is None:
            # A session from before this check existed: start its clock now.
            start(request, user, now=now)
            return None
        if now - seen > limit:
            logout(request)  # flushes the session; a new, anonymous one carries the message
            messages.info(request, _("You were signed out after %(minutes)d minutes without use, "
                                     "to protect residents' personal data. Please sign in again.")
                          % {"minutes": limit // 60})
            in_admin = request.path.startswith(reverse("admin:index"))
            login_url = resolve_url("admin:login" if in_admin else settings.LOGIN_URL)
            return HttpResponseRedirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
        if now - seen >= settings.SESSION_ACTIVITY_RESOLUTION:
            session[SEEN_KEY] = now
            session.set_expiry(stored_lifetime(limit))
        return None
