"""The real client address behind the portal's own reverse proxies (issue #20, part 3).

Behind the compose TLS proxy every request's REMOTE_ADDR is the proxy's, so the
rate limits and the sign-in lockout counted the whole city as one client. Each
reverse proxy appends the address it received the request from to
X-Forwarded-For (nginx: `proxy_add_x_forwarded_for`), so with N trusted proxies
in front (settings.TRUSTED_PROXY_COUNT) the client is the N-th entry from the
right; anything further left was written by the client and proves nothing.

Why not django-ipware: its `proxy_count` counts the proxies listed inside the
header, not the proxies in front of the portal, and for one nginx it answered
None for a plain "X-Forwarded-For: <client>" and the left-most (spoofable) entry
for a longer one (tried with django-ipware 8.0 / python-ipware 4.1). The rule
here is the one nginx's realip module applies, in a few lines.
"""

import ipaddress

from django.conf import settings


def client_address(request):
    """The client's address: REMOTE_ADDR, or the N-th X-Forwarded-For entry from the right behind
    N trusted proxies. A header shorter than N entries, or an entry that is not an address, means
    the request did not come through our proxies as configured: REMOTE_ADDR then."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if trusted <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < trusted:
        return remote
    candidate = hops[-trusted]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
