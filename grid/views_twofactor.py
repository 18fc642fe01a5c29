"""Two-factor pages: enrol an authenticator app (a QR code), then type its code at sign-in.

Phone width first: community staff enrol with the phone that will hold the app.
The policy, the services and the gate are grid/twofactor.py.
"""

from base64 import b32encode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from . import twofactor


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=_("Six-digit code from the authenticator app"), regex=r"^\s*\d{6}\s*$", max_length=12,
        error_messages={"invalid": _("Enter the six digits the app shows now.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code",
                                      "autofocus": True, "size": 8}),
    )


WRONG_CODE = _("That code is wrong or has expired. Type the six digits the app shows now; "
               "after several wrong codes you must wait a little longer each time.")


def _key_groups(device):
    """The secret in base32, in groups of four, for apps that cannot scan."""
    key = b32encode(device.bin_key).decode()
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


@never_cache
@login_required
def enrol(request):
    if twofactor.confirmed_device(request.user) is not None:
        # Already enrolled: a new device only after an administrator removed the old one.
        return HttpResponseRedirect(twofactor.safe_next(request) if request.user.is_verified()
                                    else f"{reverse('twofactor_verify')}?{request.GET.urlencode()}")
    device = twofactor.totp_enrol_start(user=request.user)
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if twofactor.totp_enrol_confirm(request=request, user=request.user,
                                            token=form.cleaned_data["token"]) is not None:
                request.session[twofactor.NEEDED_KEY] = request.session.get(twofactor.NEEDED_KEY) or "enrolled"
                return HttpResponseRedirect(twofactor.safe_next(request))
            form.add_error("token", WRONG_CODE)
        status = 400
    import segno  # only when a QR code is drawn: web processes stay lean (issue #24)

    qr = segno.make(device.config_url, error="m", micro=False)
    return render(request, "registration/twofactor_enrol.html", {
        "form": form, "qr": mark_safe(qr.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr")),  # noqa: S308
        "key": _key_groups(device), "next": twofactor.safe_next(request),
    }, status=status)


@never_cache
@login_required
def verify(request):
    if twofactor.confirmed_device(request.user) is None:
        return HttpResponseRedirect(f"{reverse('twofactor_enrol')}?{request.GET.urlencode()}")
    if request.user.is_verified():
        return HttpResponseRedirect(twofactor.safe_next(request))
    form = TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            if twofactor.totp_verify(request=request, user=request.user,
                                     token=form.cleaned_data["token"]) is not None:
                return HttpResponseRedirect(twofactor.safe_next(request))
            form.add_error("token", WRONG_CODE)
        status = 400
    return render(request, "registration/twofactor_verify.html",
                  {"form": form, "next": twofactor.safe_next(request)}, status=status)
