"""Form fields shared by the apps.

Django's DateField and DateTimeField accept any year from 1 to 9999. Year 1 and
year 9999 overflow once a time zone or a day is added (a 500 rather than an
error message), and no matter in this portal lies outside 1900–2199, so these
fields refuse such dates with a clear message.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

FIRST_YEAR, LAST_YEAR = 1900, 2199


def _check_year(value):
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise forms.ValidationError(
            _("Give a date between the years %(first)d and %(last)d."),
            code="year_out_of_range", params={"first": FIRST_YEAR, "last": LAST_YEAR},
        )


class DateField(forms.DateField):
    def validate(self, value):
        super().validate(value)
        _check_year(value)


class DateTimeField(forms.DateTimeField):
    def validate(self, value):
        super().validate(value)
        _check_year(value)


def files_not_kept(form, files):
    """After a refused form: say on each file field whose upload was sent that it must be chosen again.

    The page comes back with what was typed, but no browser refills a file input, so a photo taken
    on a phone would otherwise be silently lost behind an error about another field."""
    for name, field in form.fields.items():
        if isinstance(field, forms.FileField) and files.get(form.add_prefix(name)) and not form.has_error(name):
            form.add_error(name, _("Not kept, because of the errors on this form: choose the file again."))
