"""Forms of the import and export pages: shapes and choices only; the rules are in
residents/importing/ and residents/exporting.py."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from grid.models import Area, AreaKind

from .exporting import FORMATS
from .models import ImportJob, ResidentStatus
from .selectors import can_export_unmasked, resident_scope, tags_visible_to

# Above this many grids the place is typed as a grid code instead of chosen from a list.
GRID_CHOICES_MAX = 300


def grids_for(user):
    return Area.objects.filter(resident_scope(user).areas_q(), kind=AreaKind.GRID, is_active=True).order_by("code")


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_("CSV (UTF-8 or GBK, as Excel saves it) or XLSX, with the template's header row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-"
                                                         "officedocument.spreadsheetml.sheet"}),
    )
    grid = forms.ChoiceField(
        label=_("Grid"), required=False,
        help_text=_("For rows without a 网格编码 (grid code)."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        rows = list(grids_for(user).values_list("pk", "code", "name")[:GRID_CHOICES_MAX + 1])
        if len(rows) > GRID_CHOICES_MAX:
            self.fields["grid"] = forms.CharField(
                label=_("Grid code"), required=False, max_length=15,
                help_text=_("The 15-digit code of the grid, for rows without a 网格编码."),
            )
            self.grid_by_code = True
        else:
            self.fields["grid"].choices = [("", _("(each row gives its grid code)"))] + [
                (pk, f"{name}（{code}）") for pk, code, name in rows]
            self.grid_by_code = False
        self.user = user

    def clean_grid(self):
        value = (self.cleaned_data.get("grid") or "").strip()
        if not value:
            return None
        grids = grids_for(self.user)
        found = grids.filter(code=value).first() if self.grid_by_code else grids.filter(pk=value).first()
        if found is None:
            raise forms.ValidationError(_("No grid with this code in the places you look after."))
        return found


class ImportConfirmForm(forms.Form):
    mode = forms.ChoiceField(label=_("How to import"), choices=ImportJob.Mode.choices, widget=forms.RadioSelect)

    def __init__(self, *args, job=None, **kwargs):
        super().__init__(*args, **kwargs)
        skipped = job.total_rows - job.valid_rows if job is not None else 0
        if skipped:
            # Rows with errors are skipped only by a choice that says how many: nothing is preselected.
            self.fields["mode"].choices = [
                (ImportJob.Mode.VALID_ROWS, ngettext(
                    "Import the %(valid)d valid rows and skip the %(skipped)d row with errors",
                    "Import the %(valid)d valid rows and skip the %(skipped)d rows with errors", skipped,
                ) % {"valid": job.valid_rows, "skipped": skipped}),
                (ImportJob.Mode.ALL_OR_NOTHING, _("Import all rows or nothing (refused while any row has an error)")),
            ]


class ExportForm(forms.Form):
    file_format = forms.ChoiceField(label=_("File format"), choices=[(f, f.upper()) for f in FORMATS],
                                    initial="xlsx", widget=forms.RadioSelect)
    unmasked = forms.BooleanField(
        label=_("Full ID numbers and phones"), required=False,
        help_text=_("Only for a handover that needs them; written to the access log with your reason."),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)
    community = forms.IntegerField(required=False, widget=forms.HiddenInput)
    grid = forms.IntegerField(required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status"))] + list(ResidentStatus.choices))
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    name = forms.CharField(label=_("Name starts with"), required=False, max_length=50)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [("", _("Any tag"))] + list(tags_visible_to(user).values_list("pk", "name"))
        if not can_export_unmasked(user):
            del self.fields["unmasked"]
            del self.fields["reason"]

    def clean(self):
        data = super().clean()
        if data.get("unmasked") and len(" ".join((data.get("reason") or "").split())) < 2:
            self.add_error("reason", _("Say why you need the full values."))
        return data
