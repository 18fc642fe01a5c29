"""Forms of the organisation track: the class at registration, referral, dispatch to
organisations (and the ruling on a return), and the organisation's reply and return.

Forms check shapes only; the services (cases/services_orgs.py) refuse what the domain
refuses, with the message the page shows.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from grid.forms import parse_id

from . import routing_orgs, services
from .forms import NoteForm, ReasonForm
from .models import ReferralTarget, Status, Triage

CLASS_CHOICES = [(Triage.SMALL, _("Small matter: grid and community (小事)")),
                 (Triage.PUBLIC, _("Big matter: the street sends it to an organisation (大事)"))]


class RegisterRouteForm(NoteForm):
    """Register and route: the dispatcher sees the proposed class and may change it, with a reason."""

    needs_case = True

    def __init__(self, *args, case, user, **kwargs):
        from .forms import CategoryField

        super().__init__(*args, **kwargs)
        self.fields["category"] = CategoryField(label=_("Correct the category"), required=False)
        proposal = routing_orgs.propose(case) if case.status == Status.REPORTED else None
        initial = Triage.SMALL
        if proposal is not None and proposal.to_command_centre:
            initial = Triage.PUBLIC
        # Left out (an older page, a script), the proposal stands.
        self.fields["triage"] = forms.ChoiceField(label=_("Class (三事分流)"), choices=CLASS_CHOICES, initial=initial,
                                                  required=False)
        self.fields["reason"] = forms.CharField(
            label=_("Reason for changing the proposed class"), required=False, max_length=services.NOTE_MAX,
            widget=forms.Textarea(attrs={"rows": 2}))
        self.order_fields(["triage", "reason", "category", "note"])


class ReferForm(forms.Form):
    needs_case = False
    referred_to = forms.ChoiceField(label=_("Refer to"), choices=ReferralTarget.choices)
    told = forms.CharField(label=_("What the resident was told"), max_length=services.NOTE_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(label=_("Reason for changing the proposed class"), required=False,
                             max_length=services.NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2}))


class ReclassifyForm(ReasonForm):
    triage = forms.ChoiceField(label=_("New class"), choices=CLASS_CHOICES)
    field_order = ["triage", "reason"]


class OrgDispatchForm(forms.Form):
    """Lead (主办) and co-handlers (协办) among the active organisations covering the place."""

    needs_case = True
    reason_required = False

    def __init__(self, *args, case, user, **kwargs):
        super().__init__(*args, **kwargs)
        organisations = list(routing_orgs.covering(case).order_by("function", "name").values_list("pk", "name"))
        choices = [(str(pk), name) for pk, name in organisations]
        proposal = routing_orgs.propose(case) if case.triage_class == Triage.PUBLIC else None
        proposed = proposal.organisation.pk if proposal is not None and proposal.organisation else None
        self.fields["lead"] = forms.ChoiceField(label=_("Lead organisation (主办)"),
                                                choices=[("", "—")] + choices, initial=proposed and str(proposed))
        self.fields["co_handlers"] = forms.MultipleChoiceField(
            label=_("Co-handlers (协办)"), choices=choices, required=False, widget=forms.CheckboxSelectMultiple)
        self.fields["reason"] = forms.CharField(
            label=_("Reason for the ruling") if self.reason_required else _("Note for the organisation"),
            required=self.reason_required, max_length=services.NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        cleaned = super().clean()
        cleaned["lead_id"] = parse_id(cleaned.get("lead"))
        cleaned["co_ids"] = [pk for pk in (parse_id(v) for v in cleaned.get("co_handlers") or ()) if pk]
        return cleaned


class OrgRuleForm(OrgDispatchForm):
    reason_required = True


class OrgReplyForm(NoteForm):
    from .forms import PhotoField

    note = forms.CharField(label=_("What was done"), max_length=services.NOTE_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}))
    photo = PhotoField(label=_("Photo of the result"))
    del PhotoField
