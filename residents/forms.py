"""Forms of the residents' pages: what a grid worker or a staff member types in
before one call into residents/services.py.

The forms check the shape of the input only (a date that is a date, a choice
from the list). Every rule of the domain (valid ID numbers, one head per
household, who may change what) stays in the services, whose refusals
`add_domain_error` puts back beside the field they concern.

Full ID numbers and phones are never put into a form as initial values: the
edit form shows the masked value as a hint and takes a new value, or nothing.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import fields
from portal.errors import DomainError

from . import hooks
from .models import AccessField, Gender, Registration, Relation, ResidentStatus

# Which field a service's refusal is about (by DomainError.code).
ERROR_FIELDS = {
    "bad_name": "name",
    "bad_id_number": "id_number",
    "duplicate_id_number": "id_number",
    "bad_phone": "phone",
    "two_heads": "relation",
    "bad_birth_date": "birth_date",
    "bad_choice": None,
    "bad_number": "number",
    "bad_date": "on",
    "no_reason": "reason",
    "bad_field": "field",
    "no_notes": "notes",
    "unknown_category": "category",
}


def add_domain_error(form, error: DomainError):
    """Show a service's refusal on the form, beside its field when the form has one."""
    field = ERROR_FIELDS.get(error.code)
    if field not in form.fields:
        field = None
    if error.code == "bad_date" and "visited_at" in form.fields:
        field = "visited_at"
    form.add_error(field, str(error))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class TagsField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, tag):
        return tag.name


def _no_future(value, message):
    if value and value > timezone.localdate():
        raise forms.ValidationError(message, code="future")
    return value


class HouseholdAddForm(forms.Form):
    """A household (户) in one of the units the user looks after."""

    unit = forms.TypedChoiceField(label=_("Building and unit"), coerce=int)
    number = forms.CharField(label=_("Room number"), max_length=20, help_text=_("e.g. 301"))

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        # units: [(grid name, [(unit id, "1号楼 1单元"), ...]), ...]
        self.fields["unit"].choices = [("", _("— choose —"))] + list(units)


class ResidentFieldsMixin:
    """The plain fields both the add and the edit form have."""

    def _setup(self, tags):
        self.fields["tags"].queryset = tags
        for name in ("gender", "relation", "registration"):
            self.fields[name].widget.attrs.setdefault("autocomplete", "off")

    def clean_birth_date(self):
        return _no_future(self.cleaned_data.get("birth_date"), _("The date of birth is in the future."))

    def clean_moved_in_on(self):
        return _no_future(self.cleaned_data.get("moved_in_on"), _("The date is in the future."))


class ResidentAddForm(ResidentFieldsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    id_number = forms.CharField(
        label=_("ID number"), max_length=30, required=False,
        help_text=_("18 characters. Gender and date of birth are taken from it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "spellcheck": "false"}),
    )
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}))
    relation = forms.ChoiceField(label=_("Relation to the head of household"), choices=Relation.choices,
                                 initial=Relation.OTHER)
    gender = forms.ChoiceField(label=_("Gender"), choices=[("", _("—"))] + Gender.choices, required=False,
                               help_text=_("Only needed without an ID number."))
    birth_date = fields.DateField(label=_("Date of birth"), required=False, widget=DateInput(),
                                 help_text=_("Only needed without an ID number."))
    registration = forms.ChoiceField(label=_("Registration"), choices=Registration.choices,
                                     initial=Registration.LOCAL)
    registered_address = forms.CharField(label=_("Registered address"), max_length=200, required=False,
                                         help_text=_("户籍地址, when it is not this household."))
    moved_in_on = fields.DateField(label=_("Moved in on"), required=False, widget=DateInput())
    tags = TagsField(label=_("Tags"), queryset=None, required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, tags, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup(tags)


class ResidentEditForm(ResidentFieldsMixin, forms.Form):
    """The record without its personal values; a new ID number or phone replaces the old one."""

    name = ResidentAddForm.base_fields["name"]
    new_id_number = forms.CharField(
        label=_("New ID number"), max_length=30, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    clear_id_number = forms.BooleanField(label=_("Remove the recorded ID number"), required=False)
    new_phone = forms.CharField(label=_("New phone"), max_length=30, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}))
    clear_phone = forms.BooleanField(label=_("Remove the recorded phone"), required=False)
    relation = ResidentAddForm.base_fields["relation"]
    gender = ResidentAddForm.base_fields["gender"]
    birth_date = ResidentAddForm.base_fields["birth_date"]
    registration = ResidentAddForm.base_fields["registration"]
    registered_address = ResidentAddForm.base_fields["registered_address"]
    moved_in_on = ResidentAddForm.base_fields["moved_in_on"]
    tags = TagsField(label=_("Tags"), queryset=None, required=False)
    note = ResidentAddForm.base_fields["note"]

    PLAIN = ("name", "relation", "gender", "birth_date", "registration", "registered_address", "moved_in_on",
             "note")

    def __init__(self, *args, tags, id_masked="", phone_masked="", **kwargs):
        super().__init__(*args, **kwargs)
        self._setup(tags)
        keep = _("Leave empty to keep %(masked)s.")
        if id_masked:
            self.fields["new_id_number"].help_text = keep % {"masked": id_masked}
        else:
            self.fields["new_id_number"].label = _("ID number")
            del self.fields["clear_id_number"]
        if phone_masked:
            self.fields["new_phone"].help_text = keep % {"masked": phone_masked}
        else:
            self.fields["new_phone"].label = _("Phone")
            del self.fields["clear_phone"]

    def clean(self):
        cleaned = super().clean()
        for value, clear in (("new_id_number", "clear_id_number"), ("new_phone", "clear_phone")):
            if cleaned.get(value, "").strip() and cleaned.get(clear):
                self.add_error(clear, _("Either type a new value or remove it, not both."))
        return cleaned

    def service_kwargs(self):
        """Keywords for services.resident_update: personal values only when they change."""
        data = self.cleaned_data
        kwargs = {name: data[name] for name in self.PLAIN}
        kwargs["tags"] = list(data["tags"])
        for value, clear, key in (("new_id_number", "clear_id_number", "id_number"),
                                  ("new_phone", "clear_phone", "phone")):
            typed = data.get(value, "").strip()
            if typed:
                kwargs[key] = typed
            elif data.get(clear):
                kwargs[key] = ""
        return kwargs


class LeaveForm(forms.Form):
    """Moved out or died: the record stays, with the date."""

    status = forms.ChoiceField(
        label=_("What happened"), widget=forms.RadioSelect,
        choices=[(ResidentStatus.MOVED_OUT, _("Moved out")), (ResidentStatus.DECEASED, _("Deceased"))],
    )
    on = fields.DateField(label=_("On"), required=False, widget=DateInput(), help_text=_("Empty: today."))
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def clean_on(self):
        return _no_future(self.cleaned_data.get("on"), _("The date is in the future."))


class ReturnForm(forms.Form):
    on = fields.DateField(label=_("Moved back in on"), required=False, widget=DateInput(),
                         help_text=_("Empty: today."))

    def clean_on(self):
        return _no_future(self.cleaned_data.get("on"), _("The date is in the future."))


class RevealForm(forms.Form):
    """Show one full value: the reason is required and goes to the access log."""

    field = forms.ChoiceField(choices=[(AccessField.ID_NUMBER, _("ID number")), (AccessField.PHONE, _("phone"))],
                              widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why do you need the full value?"), max_length=200, min_length=2,
        help_text=_("Recorded in the access log with your name."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class VisitForm(forms.Form):
    """A care visit (走访) to a resident."""

    visited_at = fields.DateTimeField(label=_("Visited at"), required=False, widget=DateTimeInput(),
                                     help_text=_("Empty: now."))
    notes = forms.CharField(label=_("What the visit was about"), max_length=4000,
                            widget=forms.Textarea(attrs={"rows": 4}))
    findings = forms.CharField(label=_("What was found"), required=False, max_length=4000,
                               widget=forms.Textarea(attrs={"rows": 3}))
    follow_up = forms.BooleanField(label=_("Follow-up needed"), required=False)

    def clean_visited_at(self):
        value = self.cleaned_data.get("visited_at")
        if value and value > timezone.now():
            raise forms.ValidationError(_("A visit cannot be in the future."), code="future")
        return value


class VisitToCaseForm(forms.Form):
    """One click on a visit needing follow-up: choose the category, the case is opened."""

    category = forms.ChoiceField(label=_("Category"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("— choose —"))] + hooks.case_category_choices()


class LookupForm(forms.Form):
    """Find a resident by a full ID number or phone: posted, so the value never sits in a URL."""

    number = forms.CharField(
        label=_("ID number or phone"), max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
    )
