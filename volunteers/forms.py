"""Forms of the volunteer's phone pages: buttons that post, and the redeem form with its one-time token."""

import re
import secrets

from django import forms
from django.utils.translation import gettext_lazy as _

TOKEN = re.compile(r"^[0-9a-f]{32}$")


class ButtonForm(forms.Form):
    """A button that posts nothing but its CSRF token."""


class RedeemForm(forms.Form):
    """How many, plus a token made when the page was drawn: a double-clicked or
    replayed submit carries the same token, and the ledger books it once."""

    quantity = forms.IntegerField(
        label=_("How many"), min_value=1, max_value=99, initial=1,
        error_messages={
            "invalid": _("Enter a whole number."),
            "min_value": _("Choose at least one."),
            "max_value": _("Choose at most %(limit_value)s at a time."),
            "required": _("Say how many."),
        },
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=32)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("token", secrets.token_hex(16))
        super().__init__(*args, **kwargs)

    def clean_token(self):
        token = self.cleaned_data["token"]
        if not TOKEN.match(token):
            raise forms.ValidationError(_("This form is out of date; please try again."))
        return token
