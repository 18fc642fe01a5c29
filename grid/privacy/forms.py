from django import forms
from django.utils.translation import gettext_lazy as _


class RevealForm(forms.Form):
    """Show one full value: the reason is required and goes to the reveal log."""

    field = forms.CharField(max_length=40, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why do you need the full value?"), max_length=200, min_length=2,
        help_text=_("Recorded in the access log with your name."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if len(reason) < 2:
            raise forms.ValidationError(_("Say why you need to see the full value."), code="no_reason")
        return reason
