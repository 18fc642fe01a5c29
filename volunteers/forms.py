"""Forms of the volunteer's phone pages (buttons that post, the redeem form with its one-time token)
and of the residents' order pages (place an order, look one up)."""

import re
import secrets

from django import forms
from django.utils.translation import gettext_lazy as _

from grid.forms import PlaceCascadeMixin, ReporterFieldsMixin
from grid.models import Area, AreaKind
from portal import fields
from portal.errors import DomainError

from .models import OrderKind

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


ORDER_CODE = re.compile(r"^[0-9A-F]{12}$")
PUBLIC_KINDS = (OrderKind.ERRAND, OrderKind.OPINION, OrderKind.HARD_MATTER)


def normalise_order_code(raw):
    """What a resident types (spaces, dashes, lower case) → the stored code."""
    return re.sub(r"[\s\-]", "", str(raw or "")).upper()[:40]


class OrderForm(PlaceCascadeMixin, ReporterFieldsMixin, forms.Form):
    """A resident's order (下单): what, where (the QR board's building, or chosen), and whom to call.

    The token is made when the page is drawn: a double-clicked or replayed
    submit places the order once (services.order_place `request_key`).
    """

    kind = forms.ChoiceField(
        label=_("What do you need?"), widget=forms.RadioSelect,
        choices=[(kind.value, kind.label) for kind in PUBLIC_KINDS],
        error_messages={"required": _("Choose what you need."), "invalid_choice": _("Choose what you need.")},
    )
    description = forms.CharField(
        label=_("Tell us more"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("e.g. pick up my medicine at the clinic before 5 pm."),
        error_messages={"required": _("Say what you need done.")},
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, building=None, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("token", secrets.token_hex(16))
        super().__init__(*args, **kwargs)
        self.fixed_building = building
        if building is None:
            self.setup_places(roots=Area.objects.all(), start=AreaKind.STREET)
        self.fields["address"] = forms.CharField(
            label=_("Door"), required=False, max_length=200,
            help_text=_("Unit and flat, e.g. unit 2, flat 501."))
        self.add_reporter_fields(name_label=_("Your name"), phone_label=_("Your phone"), required=True)
        self.fields["reporter_phone"].help_text = _("Only the volunteer who takes the order and staff see it.")
        self.fields["reporter_name"].error_messages["required"] = _("Say whom the volunteer should ask for.")
        self.fields["reporter_phone"].error_messages["required"] = _("Give a phone the volunteer can call.")

    def clean(self):
        cleaned = super().clean()
        if not TOKEN.match(cleaned.get("token") or ""):
            # A hidden field: the message goes on top of the form, where it is seen.
            self.add_error(None, _("This form is out of date; please try again."))
        if self.fixed_building is not None:
            cleaned["grid"], cleaned["building"] = None, self.fixed_building
        else:
            cleaned["grid"], cleaned["building"] = self.clean_place()
        return cleaned


class OrderLookupForm(forms.Form):
    code = forms.CharField(
        label=_("Tracking code"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def clean_code(self):
        code = normalise_order_code(self.cleaned_data["code"])
        if not ORDER_CODE.match(code):
            raise forms.ValidationError(_("An order's tracking code has 12 letters and digits, like 3FA9C20B71DE."))
        return code


class CertificateForm(forms.Form):
    """The period a certificate of hours covers (dates inclusive)."""

    since = fields.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}),
                            error_messages={"invalid": _("Enter a date like 2026-01-01.")})
    until = fields.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}),
                            error_messages={"invalid": _("Enter a date like 2026-12-31.")})

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until:
            if since > until:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (until - since).days > 366 * 10:
                raise forms.ValidationError(_("A certificate covers at most ten years."))
        return cleaned


class HonoursFilterForm(forms.Form):
    """Which place and period the rankings and honours page shows."""

    place = forms.TypedChoiceField(label=_("Place"), coerce=int, choices=())
    period = forms.CharField(label=_("Period"), max_length=10,
                             help_text=_("A year (2026), a quarter (2026-Q3) or a month (2026-11)."))

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [(a.pk, a.name) for a in places]
        self.fields["place"].error_messages["invalid_choice"] = _("Choose a place from the list.")

    def clean_period(self):
        from .periods import normalise_period

        try:
            return normalise_period(self.cleaned_data["period"])
        except DomainError as error:
            raise forms.ValidationError(str(error)) from None


class HonourForm(forms.Form):
    """Staff confirm an honour for a volunteer of the place and period shown."""

    title = forms.CharField(label=_("Honour"), max_length=50,
                            widget=forms.TextInput(attrs={"list": "honour-titles"}),
                            error_messages={"required": _("Name the honour.")})
    citation = forms.CharField(label=_("Citation"), required=False, max_length=2000,
                               widget=forms.Textarea(attrs={"rows": 2}))
    volunteer = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    place = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    period = forms.CharField(widget=forms.HiddenInput, max_length=10)
