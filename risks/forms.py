"""The forms of the risk and patrol pages. They read input; the services decide (and refuse)."""

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from grid.models import Area, Building

from . import hooks
from .grading import LEC_C_MEANS, LEC_E_MEANS, LEC_L_MEANS, MATRIX_LIKELIHOOD, MATRIX_SEVERITY, Method
from .models import RiskType


def add_domain_error(form, error):
    form.add_error(None, error.message)


class PhotoInput(forms.ClearableFileInput):
    def __init__(self, attrs=None):
        super().__init__({"accept": "image/*", "capture": "environment", **(attrs or {})})


def _number(value):
    return f"{value:g}"


def _options(means):
    """Each step of a scale as "3 · possible", highest first as the published tables list them."""
    return [(_number(v), format_lazy("{} · {}", _number(v), means[v])) for v in sorted(means, reverse=True)]


class ScoresForm(forms.Form):
    """Likelihood and severity on the matrix, or L, E and C for LEC. Both scores are needed for a grade.

    The likelihood and severity lists hold both methods' steps, one group each, each step with its
    meaning; the same number means different things in each, so the group of the method chosen comes
    first (a re-shown form selects the number in the first group holding it)."""

    method = forms.ChoiceField(label=_("Scored by"), choices=Method.choices, initial=Method.MATRIX,
                               widget=forms.RadioSelect)
    likelihood = forms.ChoiceField(label=_("Likelihood (L)"), required=False)
    severity = forms.ChoiceField(label=_("Severity (S), or consequence (C) for LEC"), required=False)
    exposure = forms.ChoiceField(label=_("Exposure (E), LEC only"), required=False,
                                 choices=[("", "—")] + _options(LEC_E_MEANS))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        method = (self.data.get(self.add_prefix("method")) if self.is_bound
                  else self.initial.get("method", Method.MATRIX))
        for name, matrix, lec in (("likelihood", MATRIX_LIKELIHOOD, LEC_L_MEANS),
                                  ("severity", MATRIX_SEVERITY, LEC_C_MEANS)):
            groups = [(Method.MATRIX.label, _options(matrix)), (Method.LEC.label, _options(lec))]
            if method == Method.LEC:
                groups.reverse()
            self.fields[name].choices = [("", "—")] + groups
            # Not "(optional)": a grade needs both; the service says which is missing for the method chosen.
            self.fields[name].optional_hint = False

    def scores(self):
        return scores_of(self.cleaned_data)


def scores_of(data):
    return {"method": data["method"], "likelihood": data.get("likelihood") or None,
            "severity": data.get("severity") or None, "exposure": data.get("exposure") or None}


class ReassessForm(ScoresForm):
    note = forms.CharField(label=_("What changed"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class RiskForm(ScoresForm):
    """A new risk: what, where, how bad, who answers for it and how it is controlled."""

    kind = forms.ChoiceField(label=_("Type"), choices=[("", "—")] + RiskType.choices)
    title = forms.CharField(label=_("Title"), max_length=80)
    description = forms.CharField(label=_("Description"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text=_("What and where; no names or ID numbers of residents."))
    responsible = forms.CharField(label=_("Responsible person or organisation"), max_length=100)
    responsible_phone = forms.CharField(label=_("Their phone"), max_length=20, required=False)
    measures = forms.CharField(label=_("Control measures"), max_length=4000,
                               widget=forms.Textarea(attrs={"rows": 2}))
    photo = forms.FileField(label=_("Photo"), required=False, widget=PhotoInput)

    field_order = ["kind", "place", "title", "description", "method", "likelihood", "severity", "exposure",
                   "responsible", "responsible_phone", "measures", "photo"]

    def __init__(self, *args, grids, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        choices = []
        for grid in grids:
            options = [(f"g{grid.pk}", _("%(grid)s (no particular building)") % {"grid": grid.name})]
            options += [(f"b{b.pk}", str(b)) for b in buildings if b.grid_id == grid.pk]
            choices.append((grid.name, options))
        self.fields["place"] = forms.ChoiceField(label=_("Where"), choices=[("", "—")] + choices)
        self.order_fields(self.field_order)

    def clean(self):
        cleaned = super().clean()
        value = cleaned.get("place") or ""
        cleaned["grid"] = cleaned["building"] = None
        if value[1:].isdigit():
            if value.startswith("g"):
                cleaned["grid"] = Area.objects.filter(pk=int(value[1:])).first()
            else:
                cleaned["building"] = Building.objects.filter(pk=int(value[1:])).first()
        return cleaned

    def risk_fields(self):
        data = self.cleaned_data
        return {**self.scores(), "kind": data["kind"], "title": data["title"], "description": data["description"],
                "responsible": data["responsible"], "responsible_phone": data["responsible_phone"],
                "measures": data["measures"], "photos": [data["photo"]] if data.get("photo") else []}


class CloseForm(forms.Form):
    evidence = forms.CharField(label=_("Evidence that the risk is gone"), max_length=4000,
                               widget=forms.Textarea(attrs={"rows": 2}))
    photo = forms.FileField(label=_("Photo of the evidence"), widget=PhotoInput)


class CaseForm(forms.Form):
    category = forms.ChoiceField(label=_("What kind of matter"))
    description = forms.CharField(label=_("Description"), max_length=1000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + hooks.case_category_choices()


class StartForm(forms.Form):
    grid = forms.ModelChoiceField(label=_("Grid"), queryset=Area.objects.none(), empty_label=None)
    track = forms.BooleanField(label=_("Record my route on this patrol"), required=False,
                               help_text=_("Optional. Kept only with this patrol and never shown to residents."))

    def __init__(self, *args, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids


class EndForm(forms.Form):
    route = forms.JSONField(required=False, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class FixedForm(forms.Form):
    """即时处置: what she fixed, where, a photo before and after."""

    description = forms.CharField(label=_("What you fixed"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    building = forms.ModelChoiceField(label=_("Building"), queryset=Building.objects.none(), required=False)
    before = forms.FileField(label=_("Photo before"), widget=PhotoInput)
    after = forms.FileField(label=_("Photo after"), widget=PhotoInput)

    def __init__(self, *args, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings


class WarningNoteForm(forms.Form):
    """Acknowledge with a note, or dismiss with a reason: the text is required either way."""

    note = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class WarningRuleForm(forms.Form):
    """One rule's threshold and window for a district. Zero is refused here and by the database."""

    threshold = forms.IntegerField(label=_("Threshold"), min_value=1, max_value=1000)
    window_days = forms.IntegerField(label=_("Within days"), min_value=1, max_value=366)
    growth_percent = forms.IntegerField(label=_("Growth over the same weeks last year (%)"), min_value=1,
                                        max_value=10000, required=False)
    enabled = forms.BooleanField(label=_("Enabled"), required=False)

    def __init__(self, *args, kind=None, **kwargs):
        super().__init__(*args, **kwargs)
        if kind != "report_rise":
            del self.fields["growth_percent"]


def risk_label(risk):
    """A risk told apart from its look-alikes in a list: its grade, kind and title, building, found on."""
    place = f" · {risk.building.name or risk.building}" if risk.building_id else ""
    found = timezone.localtime(risk.created_at).strftime("%Y-%m-%d") if risk.created_at else ""
    return f"{risk.get_grade_display()} · {risk}{place} · {found}"


class WarningAssignForm(forms.Form):
    """Assign a warning: a new case of a category, or one of the open risks offered; a note either way."""

    category = forms.ChoiceField(label=_("Open a case of kind"), required=False)
    risk = forms.TypedChoiceField(label=_("Or enter it under the risk"), required=False, coerce=int,
                                  empty_value=None)
    note = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, risks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + hooks.case_category_choices()
        self.fields["risk"].choices = [("", "—")] + [(r.pk, risk_label(r)) for r in risks]
        self.risks = {r.pk: r for r in risks}
