"""Two-factor sign-in (TOTP, django-otp) for staff who can reveal ID numbers (issue #20 item 2).

Who must use it: superusers, and anyone with an active post in
`OTP_REQUIRED_ROLES` (the roles residents.selectors.REVEAL_ROLES lets reveal
an ID number; tests/test_grid_twofactor.py keeps the two lists together), when
`OTP_REQUIRED` is on: by default in production (PORTAL_ENV=production) and off
in the demo. Anyone who enrolled a device on their own is asked for a code at
every sign-in, setting or not.

After the password (the portal's sign-in or the admin's, both counted by
django-axes) a user who must give a code is sent to enrol an authenticator app
(a QR code) or to type its current code; until then every page, the admin's
included, answers with that redirect. The decision is made at sign-in and kept
in the session, so a request costs no query for it.

Writes (enrol, confirm, verify) are here as services; the pages are
grid/views_twofactor.py.
"""

from urllib.parse import quote

import django_otp
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.errors import DomainError

from .selectors import active_posts

NEEDED_KEY = "portal_otp_needed"  # "required" (by role), "enrolled" (own choice) or "" (not asked)
DEVICE_NAME = "authenticator"


def required_by_role(user) -> bool:
    """Whether `user`'s posts oblige them to use a second factor (when OTP_REQUIRED is on)."""
    if user.is_superuser:
        return True
    return active_posts(user).filter(role__in=settings.OTP_REQUIRED_ROLES).exists()


def confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def need_for(user) -> str:
    if settings.OTP_REQUIRED and required_by_role(user):
        return "required"
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return "enrolled"
    return ""


@receiver(user_logged_in, dispatch_uid="grid.twofactor.decide")
def _on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[NEEDED_KEY] = need_for(user)


# --- services --------------------------------------------------------------------

def totp_enrol_start(*, user):
    """The user's unconfirmed device, made on first call (its secret shown until confirmed)."""
    if confirmed_device(user) is not None:
        raise DomainError("already enrolled", code="otp_enrolled")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def totp_enrol_confirm(*, request, user, token):
    """Confirm the enrolment with a first good code; the session counts as verified. None if wrong."""
    with transaction.atomic():
        device = (TOTPDevice.objects.select_for_update()
                  .filter(user=user, confirmed=False).order_by("pk").first())
        if device is None or not device.verify_token(_digits(token)):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    django_otp.login(request, device)
    return device


def totp_verify(*, request, user, token):
    """Verify a code from the user's confirmed device (django-otp throttles repeated failures)."""
    device = confirmed_device(user)
    if device is None:
        return None
    verified = django_otp.verify_token(user, device.persistent_id, _digits(token))
    if verified is not None:
        django_otp.login(request, verified)
    return verified


def _digits(token):
    return "".join(str(token or "").split())


# --- the gate --------------------------------------------------------------------

def _exempt_prefixes():
    return (
        reverse("twofactor_verify"), reverse("twofactor_enrol"), reverse("logout"), reverse("login"),
        reverse("admin:logout"), reverse("set_language"), settings.STATIC_URL, settings.MEDIA_URL,
    )


class TwoFactorMiddleware:
    """Sends a signed-in user who owes a code to enrol or verify, from every page but a few.

    Sits after django_otp's OTPMiddleware (which sets `request.user.is_verified()`).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            need = request.session.get(NEEDED_KEY)
            if need is None:  # a session from before the gate: decide once
                need = request.session[NEEDED_KEY] = need_for(user)
            if need and not user.is_verified() and not request.path.startswith(_exempt_prefixes()):
                target = "twofactor_verify" if need == "enrolled" or confirmed_device(user) else "twofactor_enrol"
                return HttpResponseRedirect(f"{reverse(target)}?next={quote(request.get_full_path())}")
        return self.get_response(request)


def safe_next(request, default="home"):
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return reverse(default)
