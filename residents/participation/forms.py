"""Forms of the participation pages. They shape input; the rules live in services.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portal import fields

from .models import MeetingKind


class PlaceForm(forms.Form):
    place = forms.ModelChoiceField(label=_("Place"), queryset=None, empty_label=None)

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places


class ProposalForm(PlaceForm):
    title = forms.CharField(label=_("Title"), max_length=100)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    threshold = forms.IntegerField(label=_("Supports needed"), min_value=1, max_value=10000, initial=10,
                                   help_text=_("Reaching this many supports takes it to deliberation."))
    proposer = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class MeetingForm(PlaceForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=MeetingKind.choices)
    title = forms.CharField(label=_("Title"), max_length=100)
    held_at = fields.DateTimeField(label=_("Held at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    location = forms.CharField(label=_("Location"), max_length=100, required=False)


class ProjectForm(PlaceForm):
    title = forms.CharField(label=_("Title"), max_length=100)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    applicant = forms.CharField(label=_("Applicant"), max_length=100,
                                help_text=_("The compound or group applying, e.g. 幸福小区业委会."))
    budget = forms.DecimalField(label=_("Budget (yuan)"), required=False, min_value=0, max_digits=12,
                                decimal_places=2)
    proposal = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ProgressForm(forms.Form):
    note = forms.CharField(label=_("Progress"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    progress = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    photo = forms.FileField(label=_("Photo"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))
