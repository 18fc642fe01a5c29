"""Forms of the party pages. They collect input; the rules live in services.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from grid.models import Area, AreaKind

from .models import ServicePost, WishCategory


class ReportInForm(forms.Form):
    community = forms.ModelChoiceField(
        label=_("Community where you live"), empty_label=_("Choose…"),
        queryset=Area.objects.filter(kind=AreaKind.COMMUNITY, is_active=True).order_by("name"),
    )
    name = forms.CharField(label=_("Your name"), max_length=50)
    employer_name = forms.CharField(label=_("Employer unit"), max_length=100,
                                    help_text=_("The unit where you work (在职单位)."))
    posts = forms.MultipleChoiceField(label=_("Service posts"), choices=ServicePost.choices,
                                      widget=forms.CheckboxSelectMultiple)


class FulfilForm(forms.Form):
    note = forms.CharField(label=_("How it was fulfilled"), max_length=200,
                           widget=forms.TextInput(attrs={"placeholder": _("e.g. delivered on Saturday")}))


class WishForm(forms.Form):
    resident = forms.IntegerField(label=_("Resident"), widget=forms.Select)
    title = forms.CharField(label=_("Wish"), max_length=100)
    category = forms.ChoiceField(label=_("Category"), choices=WishCategory.choices)
    budget_cap = forms.DecimalField(label=_("Budget cap (yuan)"), max_digits=7, decimal_places=2)

    def __init__(self, *args, residents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resident"].widget.choices = [("", _("Choose…"))] + [
            (r.pk, f"{r.name} · {r.household}") for r in residents]


class HoursForm(forms.Form):
    hours = forms.DecimalField(label=_("Hours served"), max_digits=5, decimal_places=2, min_value=0)


class ServiceForm(forms.Form):
    """Staff record a confirmed member's service on a post (楼栋长助手, 志愿服务); services.py checks the rest."""

    report = forms.IntegerField(label=_("Member"), widget=forms.Select)
    post = forms.ChoiceField(label=_("Service post"), choices=[
        (ServicePost.BUILDING_HELPER, ServicePost.BUILDING_HELPER.label),
        (ServicePost.VOLUNTEER, ServicePost.VOLUNTEER.label)])
    content = forms.CharField(label=_("What the member did"), max_length=200)
    started_at = forms.DateTimeField(label=_("Started at"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                     widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                format="%Y-%m-%dT%H:%M"))
    hours = forms.DecimalField(label=_("Hours served"), max_digits=5, decimal_places=2)

    def __init__(self, *args, reports=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report"].widget.choices = [("", _("Choose…"))] + [
            (r.pk, f"{r.who} · {r.community.name} · {r.employer_name}") for r in reports]
