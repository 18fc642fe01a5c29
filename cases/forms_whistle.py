"""Forms of 吹哨报到: the whistle (on the case page), the report-in and the rating.

They check the shape of what was typed; every rule (who may whistle, which
organisations cover the place, who reports in, who rates) is in cases/whistles.py.
"""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from . import whistles
from .models import WhistleSituation
from .selectors_whistle import summonable_organisations

RATING_CHOICES = [(5, _("5 · excellent")), (4, _("4 · good")), (3, _("3 · acceptable")),
                  (2, _("2 · poor")), (1, _("1 · did not help"))]


class OrganisationChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} · {obj.duty_phone or obj.phone}"


class WhistleForm(forms.Form):
    """Blow the whistle from the case page: the organisations covering the matter's place."""

    needs_case = True

    situation = forms.ChoiceField(label=_("Situation"), choices=WhistleSituation.choices,
                                  initial=WhistleSituation.PRESSING)
    urgent = forms.BooleanField(label=_("Urgent"), required=False)
    minutes = forms.IntegerField(
        label=_("Report in within (minutes)"), required=False, min_value=1, max_value=whistles.MINUTES_MAX,
        help_text=_("Empty: %(urgent)d minutes when urgent, else %(normal)d.")
        % {"urgent": settings.WHISTLE_URGENT_REPORT_IN_MINUTES, "normal": settings.WHISTLE_REPORT_IN_MINUTES},
    )
    reason = forms.CharField(label=_("Why the whistle"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, case, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The field offers those covering the place; a posted id outside it is refused by the
        # service with the clear message (so the choices accept any id, checked there).
        self.fields["organisations"] = OrganisationChoiceField(
            label=_("Summon"), queryset=summonable_organisations(case), widget=forms.CheckboxSelectMultiple,
            error_messages={"invalid_choice": _("%(value)s does not cover this matter's place."),
                            "required": _("Choose at least one organisation to summon.")},
        )
        self.order_fields(["organisations", "situation", "urgent", "minutes", "reason"])


class ReportInForm(forms.Form):
    note = forms.CharField(label=_("Who is on site"), max_length=200, required=False)


class RatingForm(forms.Form):
    """One rating per summoned organisation of a whistle (fields rating_<id>, comment_<id>)."""

    def __init__(self, *args, summonses, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for summons in summonses:
            if summons.rated_at is not None:
                continue
            rating = forms.TypedChoiceField(label=summons.organisation.name, coerce=int, choices=RATING_CHOICES,
                                            widget=forms.RadioSelect)
            comment = forms.CharField(label=_("Comment"), max_length=1000, required=False)
            self.fields[f"rating_{summons.pk}"] = rating
            self.fields[f"comment_{summons.pk}"] = comment
            self.rows.append(summons)

    def ratings(self):
        return {s.pk: (self.cleaned_data[f"rating_{s.pk}"], self.cleaned_data[f"comment_{s.pk}"]) for s in self.rows}
