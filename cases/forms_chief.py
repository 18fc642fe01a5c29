"""The 三长's "report what I see" form (楼栋长/单元长, issue #21): what, where in my building, a line, a photo.

Building and unit chiefs are the field reports' eyes ("发现问题迅速上报社区") but patrol no
grid: they get this short form instead of the grid worker's patrol report. The place
choices are only the chief's own building (and its units) or unit.
"""

from django import forms
from django.utils.translation import gettext as _

from .forms import CategoryField, DescriptionField, PhotoField, UploadsMixin


class ChiefReportForm(UploadsMixin, forms.Form):
    def __init__(self, *args, places, **kwargs):
        """`places`: [(value, label, building, unit)] the chief may report for ("b<id>" / "u<id>")."""
        super().__init__(*args, **kwargs)
        self.places = {value: (building, unit) for value, _label, building, unit in places}
        self.fields["category"] = CategoryField()
        choices = [(value, label) for value, label, _b, _u in places]
        self.fields["place"] = forms.ChoiceField(
            label=_("Where"), choices=([("", _("— choose —"))] if len(choices) > 1 else []) + choices,
        )
        self.fields["place"].error_messages["invalid_choice"] = _("Choose your building or unit.")
        self.fields["description"] = DescriptionField(label=_("What you see"),
                                                      widget=forms.Textarea(attrs={"rows": 3}))
        self.fields["photo"] = PhotoField()

    def clean(self):
        cleaned = super().clean()
        cleaned["building"], cleaned["unit"] = self.places.get(cleaned.get("place") or "", (None, None))
        return cleaned
