"""Forms behind the grid admin: what staff type in before one service call.

They check the shape of the input only (a field left empty, two places chosen
for one post). Every rule of the domain (parent kinds, codes, who may change
what) stays in grid/services.py, whose refusals the admin shows on the form.
"""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.translation import gettext_lazy as _

from .models import Area, Building, Post, Role, Unit, User


class RefusedFormMixin:
    """Puts a service's refusal back on the form that was submitted.

    The admin calls a service only after the form validated; when the service
    refuses, the admin builds the form again from the same POST with this
    mixin, so the page shows the user's input with the refusal beside the
    field it concerns and nothing is saved.
    """

    refusal = None
    refusal_field = None

    def clean(self):
        cleaned = super().clean()
        field = self.refusal_field if self.refusal_field in self.fields else None
        self.add_error(field, str(self.refusal))
        return cleaned


class AreaAddForm(forms.ModelForm):
    code_suffix = forms.CharField(
        label=_("code"),
        required=False,
        max_length=6,
        help_text=_(
            "For a district: its 6-digit administrative division code. Below a district: "
            "an optional 3-digit suffix; leave it empty and the next free one is used."
        ),
    )

    class Meta:
        model = Area
        fields = ["kind", "parent", "name"]


class AreaChangeForm(forms.ModelForm):
    class Meta:
        model = Area
        fields = ["name", "parent"]


class OnePlaceMixin:
    """A post's place from three fields (area, building, unit), exactly one filled in."""

    def clean(self):
        cleaned = super().clean()
        # Which kind of place fits which role is the service's rule; here we only
        # make sure the staff member pointed at exactly one place.
        chosen = [name for name in ("area", "building", "unit", "organisation") if cleaned.get(name)]
        if len(chosen) != 1:
            raise forms.ValidationError(
                _("Choose exactly one place for the post: a place, a building, a unit or an organisation."),
                code="one_place",
            )
        return cleaned

    @property
    def place(self):
        data = self.cleaned_data
        return data.get("area") or data.get("building") or data.get("unit") or data.get("organisation")


class PostGrantForm(OnePlaceMixin, forms.ModelForm):
    class Meta:
        model = Post
        fields = ["user", "role", "area", "building", "unit", "organisation"]

    def validate_constraints(self):
        # The database's constraints on posts name no field a person would
        # recognise ("post_place_matches_role is violated"); post_grant refuses
        # the same input in words, and the constraints stay as the backstop.
        pass


class MergeForm(forms.Form):
    """Step two of the merge action: the place the selected ones merge into."""

    def __init__(self, *args, targets, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        # The chooser searches through the admin's scoped autocomplete (on the
        # `merged_into` relation, which points at the place merged into), so it
        # never renders a select box with every place of the city.
        self.fields["target"] = forms.ModelChoiceField(
            queryset=targets,
            label=_("Merge into"),
            widget=AutocompleteSelect(Area._meta.get_field("merged_into"), admin_site),
            help_text=_("Their places, buildings, people and history move to this place."),
        )


class SplitGridForm(forms.Form):
    """Step two of the split action: the new grid's name and the buildings it takes."""

    name = forms.CharField(label=_("Name of the new grid"), max_length=100)

    def __init__(self, *args, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        # One grid holds tens of buildings (400–700 households), so a checkbox
        # list stays short.
        self.fields["buildings"] = forms.ModelMultipleChoiceField(
            queryset=buildings,
            label=_("Buildings that move to the new grid"),
            widget=forms.CheckboxSelectMultiple,
        )


class MoveBuildingsForm(forms.Form):
    """Step two of the move action: the grid the selected buildings move to."""

    def __init__(self, *args, grids, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        # Searched through the admin's scoped autocomplete on Building.grid,
        # whose limit_choices_to keeps it to grids.
        self.fields["grid"] = forms.ModelChoiceField(
            queryset=grids,
            label=_("Move to grid"),
            widget=AutocompleteSelect(Building._meta.get_field("grid"), admin_site),
            help_text=_("Their units and the posts on them go along; so do their cases."),
        )


class UserInviteForm(OnePlaceMixin, forms.ModelForm):
    """A new account and its first post: the input of services.user_invite.

    The place fields search through the admin's scoped autocompletes on the
    post's relations (Post.area, Post.building, Post.unit), so staff only
    find places they manage. Build it per request with `for_places`.
    """

    role = forms.ChoiceField(label=_("role"), choices=Role.choices)
    # Placeholders: modelform_factory wants every non-model field of the
    # fieldsets declared; __init__ puts the scoped ones in their place.
    area = forms.ModelChoiceField(queryset=Area.objects.none(), required=False)
    building = forms.ModelChoiceField(queryset=Building.objects.none(), required=False)
    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), required=False)

    places = {}
    admin_site = None

    class Meta:
        model = User
        fields = ["username", "full_name", "phone"]

    @classmethod
    def for_places(cls, *, areas, buildings, units, admin_site):
        attrs = {"places": {"area": areas, "building": buildings, "unit": units}, "admin_site": admin_site}
        return type(cls.__name__, (cls,), attrs)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].required = True
        for name, queryset in self.places.items():
            relation = Post._meta.get_field(name)
            self.fields[name] = forms.ModelChoiceField(
                queryset=queryset,
                required=False,
                label=relation.verbose_name,
                widget=AutocompleteSelect(relation, self.admin_site),
            )


class BoundaryImportForm(forms.Form):
    """The GeoJSON file of place outlines (grid/services_boundaries.py checks what is in it)."""

    file = forms.FileField(label=_("GeoJSON file"), help_text=_("A FeatureCollection exported from your GIS, "
                                                                "longitude first, in degrees."),
                           widget=forms.ClearableFileInput(attrs={"accept": ".geojson,.json,application/geo+json"}))

    def clean_file(self):
        from .services_boundaries import MAX_BYTES

        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_BYTES // (1024 * 1024)})
        return upload
