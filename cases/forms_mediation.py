"""Forms of the mediation file's pages.

They check the shape of what was typed; every rule (valid ID numbers, no held
session in the future, what an agreement needs) is cases/mediation.py's, whose
refusal `add_error_for` puts back on the field it concerns.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from portal import fields

from .models import (
    AGREEMENT_OUTCOMES,
    DisputeType,
    FileKind,
    MediationOutcome,
    MediationSource,
    PartyField,
    PartyRole,
    Performance,
    Referral,
    SessionState,
)

TEXTAREA = {"rows": 4}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


# A service's error code → the fields it may be about, the first one the form has wins.
ERROR_FIELDS = {
    "bad_type": ("dispute_type",),
    "bad_source": ("source",),
    "no_source_body": ("source_body",),
    "bad_date": ("reply_due_on", "performance_deadline", "applied_on"),
    "bad_room": ("room",),
    "bad_name": ("name",),
    "bad_role": ("role",),
    "bad_id_number": ("id_number",),
    "duplicate_party": ("id_number",),
    "bad_phone": ("phone",),
    "bad_address": ("address",),
    "bad_mediator": ("mediator",),
    "future": ("held_at",),
    "blank": ("notes", "note", "court", "receipt", "reason", "text"),
    "bad_outcome": ("outcome",),
    "no_agreement": ("agreement_text",),
    "no_consent": ("consent_recorded",),
    "no_deadline": ("performance_deadline",),
    "no_referral": ("referral",),
    "bad_kind": ("kind",),
    "no_file": ("file",),
    "file_too_large": ("file",),
    "bad_file_type": ("file",),
    "no_reason": ("reason",),
    "bad_performance": ("performance",),
    "before_agreement": ("note",),
    "no_date": ("held_at", "applied_on"),
}


def add_error_for(form, error):
    field = next((f for f in ERROR_FIELDS.get(error.code, ()) if f in form.fields), None)
    form.add_error(field, str(error))


def _with_blank(choices, label=_("— choose —")):
    return [("", label)] + list(choices)


class OpenForm(forms.Form):
    """受理: the dispute's type and what is asked; for a referral, who sent it and their reference."""

    dispute_type = forms.ChoiceField(label=_("Dispute type"), choices=_with_blank(DisputeType.choices))
    claims = forms.CharField(label=_("What the applicant asks (申请事项)"), required=False, max_length=20000,
                             widget=forms.Textarea(attrs=TEXTAREA))
    room = forms.TypedChoiceField(label=_("Mediation room"), required=False, coerce=int, empty_value=None)
    source = forms.ChoiceField(label=_("Source"), choices=MediationSource.choices, initial=MediationSource.DIRECT)
    source_body = forms.CharField(label=_("Referring body"), required=False, max_length=100,
                                  help_text=_("The court, police station or petition office."))
    source_ref = forms.CharField(label=_("Their reference"), required=False, max_length=64)
    reply_due_on = fields.DateField(label=_("Reply due on"), required=False, widget=DateInput())

    def __init__(self, *args, rooms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.rooms = {room.pk: room for room in rooms}
        self.fields["room"].choices = _with_blank([(pk, str(room)) for pk, room in self.rooms.items()],
                                                  _("— none —"))

    def clean_room(self):
        return self.rooms.get(self.cleaned_data.get("room"))


class PartyForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=PartyRole.choices)
    name = forms.CharField(label=_("Name"), max_length=50)
    id_number = forms.CharField(label=_("ID number"), required=False, max_length=30,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    phone = forms.CharField(label=_("Phone"), required=False, max_length=30,
                            widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}))
    address = forms.CharField(label=_("Address"), required=False, max_length=200)


class PartyCorrectForm(PartyForm):
    """更正: the party's details as they should read; a blank ID number or phone keeps the stored one."""

    clear_id_number = forms.BooleanField(label=_("Remove the recorded ID number"), required=False)
    clear_phone = forms.BooleanField(label=_("Remove the recorded phone"), required=False)
    reason = forms.CharField(label=_("Why it changes"), max_length=200,
                             help_text=_("For example: the name was mistyped at registration."))

    field_order = ["role", "name", "id_number", "clear_id_number", "phone", "clear_phone", "address", "reason"]

    def __init__(self, *args, party=None, **kwargs):
        if party is not None:
            kwargs.setdefault("initial", {"role": party.role, "name": party.name, "address": party.address})
        super().__init__(*args, **kwargs)
        self.fields["id_number"].label = _("New ID number")
        self.fields["id_number"].help_text = _("Leave empty to keep the one on file.")
        self.fields["phone"].label = _("New phone")
        self.fields["phone"].help_text = _("Leave empty to keep the one on file.")
        # Nothing to remove where nothing is recorded.
        if party is not None and not party.id_masked:
            del self.fields["clear_id_number"]
        if party is not None and not party.phone_masked:
            del self.fields["clear_phone"]


class PartyRemoveForm(forms.Form):
    reason = forms.CharField(label=_("Why the party is removed"), max_length=200,
                             help_text=_("For example: added to the wrong file. Their ID number and phone are "
                                         "erased; the name stays in the file's history."))

    def __init__(self, *args, party=None, **kwargs):
        super().__init__(*args, **kwargs)


class MediatorForm(forms.Form):
    mediator = forms.TypedChoiceField(label=_("Mediator"), coerce=int)

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {user.pk: user for user in candidates}
        self.fields["mediator"].choices = _with_blank([(pk, str(u)) for pk, u in self.candidates.items()])

    def clean_mediator(self):
        return self.candidates.get(self.cleaned_data.get("mediator"))


class SessionForm(forms.Form):
    # Recorded as held or scheduled; a session is cancelled only by the file's outcome.
    state = forms.ChoiceField(label=_("Session"), initial=SessionState.HELD, widget=forms.RadioSelect,
                              choices=[(v, label) for v, label in SessionState.choices if v != SessionState.CANCELLED])
    held_at = fields.DateTimeField(label=_("Date and time"), widget=DateTimeInput())
    room = forms.TypedChoiceField(label=_("Mediation room"), required=False, coerce=int, empty_value=None)
    location = forms.CharField(label=_("Other place"), required=False, max_length=100)
    attendees = forms.CharField(label=_("Attendees"), required=False, max_length=2000,
                                widget=forms.Textarea(attrs={"rows": 2}))
    notes = forms.CharField(label=_("What was said and agreed"), required=False, max_length=20000,
                            widget=forms.Textarea(attrs=TEXTAREA),
                            help_text=_("Required for a session held."))

    def __init__(self, *args, rooms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.rooms = {room.pk: room for room in rooms}
        self.fields["room"].choices = _with_blank([(pk, str(room)) for pk, room in self.rooms.items()],
                                                  _("— none —"))
        self.fields["notes"].optional_hint = False  # required for a session held, as its help says

    def clean(self):
        data = super().clean()
        if data.get("state") == SessionState.HELD and not (data.get("notes") or "").strip() \
                and "notes" not in self.errors:
            self.add_error("notes", _("Required for a session held."))
        return data

    def clean_room(self):
        return self.rooms.get(self.cleaned_data.get("room"))


class SessionHeldForm(forms.Form):
    attendees = forms.CharField(label=_("Attendees"), required=False, max_length=2000,
                                widget=forms.Textarea(attrs={"rows": 2}))
    notes = forms.CharField(label=_("What was said and agreed"), max_length=20000,
                            widget=forms.Textarea(attrs=TEXTAREA))


CONCLUSIONS = [(v, label) for v, label in MediationOutcome.choices if v != MediationOutcome.PENDING]


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CONCLUSIONS, widget=forms.RadioSelect)
    agreement_text = forms.CharField(label=_("Agreed terms (调解协议)"), required=False, max_length=20000,
                                     widget=forms.Textarea(attrs={"rows": 6}))
    performance_deadline = fields.DateField(label=_("To be performed by"), required=False, widget=DateInput())
    consent_recorded = forms.BooleanField(label=_("The parties consent to these terms"), required=False)
    referral = forms.ChoiceField(label=_("Referred to (no agreement)"), required=False,
                                 choices=_with_blank(Referral.choices))
    note = forms.CharField(label=_("Note"), required=False, max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    # The outcome ends the file's mediation: its parties, sessions and terms are final from then on.
    final = forms.BooleanField(
        label=_("I have checked the outcome: once recorded, it and the parties can only be changed by "
                "mediating again"),
        error_messages={"required": _("Tick the box to confirm the outcome.")})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Required by the outcome chosen, so not "(optional)": each says when it is needed.
        needed_for_agreement = _("Needed for an agreement, full or partial.")
        for name in ("agreement_text", "performance_deadline"):
            self.fields[name].optional_hint = False
            self.fields[name].help_text = needed_for_agreement
        self.fields["consent_recorded"].help_text = needed_for_agreement
        self.fields["referral"].optional_hint = False
        self.fields["referral"].help_text = _("Needed when no agreement was reached.")

    def clean(self):
        """Every field the chosen outcome needs, all at once (the service checks them again, and the rest)."""
        data = super().clean()
        outcome = data.get("outcome")
        missing = []
        if outcome in AGREEMENT_OUTCOMES:
            missing = [("agreement_text", _("Write the agreed terms.")),
                       ("performance_deadline", _("Give the date by which the agreement is to be performed.")),
                       ("consent_recorded", _("Record that the parties consent to the agreement."))]
        elif outcome == MediationOutcome.FAILED:
            missing = [("referral", _("Say where the dispute is referred: litigation, arbitration or an "
                                      "administrative ruling."))]
        for name, message in missing:
            if not data.get(name) and name not in self.errors:
                self.add_error(name, message)
        return data


class FileForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=FileKind.choices)
    file = forms.FileField(label=_("File (PDF or photo)"),
                           widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/*"}))
    description = forms.CharField(label=_("Description"), required=False, max_length=200)


class PartyRevealForm(forms.Form):
    """Show one full value of a party: the reason is required and goes to the access log."""

    field = forms.ChoiceField(choices=PartyField.choices, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why do you need the full value?"), max_length=200, min_length=2,
        help_text=_("Recorded in the access log with your name."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class PrintIdentitiesForm(forms.Form):
    """A printed document with the parties' full ID numbers: the reason goes to the access log."""

    reason = forms.CharField(
        label=_("Why print the full ID numbers?"), max_length=200, min_length=2,
        help_text=_("For example: the agreement to be signed and sent for judicial confirmation. Each "
                    "party's number is written to the access log with your name."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class FollowUpForm(forms.Form):
    performance = forms.ChoiceField(label=_("Was the agreement performed?"), choices=Performance.choices,
                                    widget=forms.RadioSelect)
    note = forms.CharField(label=_("What the parties said"), max_length=20000, widget=forms.Textarea(attrs=TEXTAREA))


class ConfirmationForm(forms.Form):
    court = forms.CharField(label=_("Court"), max_length=100)
    receipt = forms.CharField(label=_("Court's receipt number"), max_length=64)
    applied_on = fields.DateField(label=_("Applied on"), widget=DateInput())


class ReferralReceiptForm(forms.Form):
    body = forms.CharField(label=_("Receiving body (court, arbitration commission, office)"), max_length=100)
    receipt = forms.CharField(label=_("Its receipt number (回执)"), max_length=64)
    received_on = fields.DateField(label=_("Received on"), widget=DateInput())
    answer = forms.CharField(label=_("Its answer"), required=False, max_length=20000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Why it is mediated again"), max_length=20000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Reply to the referring body"), max_length=20000,
                           widget=forms.Textarea(attrs=TEXTAREA))
