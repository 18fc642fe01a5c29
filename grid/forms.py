"""Form pieces every app's pages share: the place cascade (street › community › grid ›
building), contact fields, row ids from user input, and a service's refusal put back on
the field it concerns (`add_domain_error`).

Forms check the shape of what was typed; the rules stay in the services, whose
DomainError `add_domain_error` shows beside the field it is about.
"""

from django import forms
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

from portal.errors import DomainError
from portal.identity import check_callback_phone

from .models import Area, AreaKind, Building

# Levels of the place cascade, top-down; the building comes last.
CASCADE = (
    ("street", AreaKind.STREET),
    ("community", AreaKind.COMMUNITY),
    ("grid", AreaKind.GRID),
)
CASCADE_LABELS = {
    "street": _("Street (town)"),
    "community": _("Community (village)"),
    "grid": _("Grid"),
    "building": _("Building"),
}

# Which field a service's refusal is about (by DomainError.code).
ERROR_FIELDS = {
    "unknown_category": "category",
    "no_place": "grid",
    "bad_place": "grid",
    "photo_too_large": "photo",
    "not_an_image": "photo",
    "too_many_photos": "photo",
    "no_photo": "photo",
    "bad_phone": "reporter_phone",
}


def add_domain_error(form, error):
    """Show a service's refusal on the form, next to the field it concerns when we know it."""
    field = ERROR_FIELDS.get(error.code)
    if field == "grid" and "grid" not in form.fields:
        field = "building" if "building" in form.fields else "place"
    if field not in form.fields:
        field = None
    form.add_error(field, str(error))


MAX_ID = 2**63 - 1


def parse_id(value):
    """A row id from user input, or None (also for ids no bigint column can hold)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def buildings_of(grid_id):
    return (
        Building.objects.filter(grid_id=grid_id)
        .order_by(Length("number"), "number", "pk")
        .values_list("pk", "number", "name", "address")
    )


def building_label(number, name, address):
    label = f"{number} {name}".strip()
    return f"{label}（{address}）" if address else label


class CascadeField(forms.ChoiceField):
    """A place select whose options are read only when the form is shown.

    Submitted values are not checked against the options one by one: the
    form checks the whole chain (street → community → grid → building) in
    one query instead (`PlaceCascadeMixin.clean_place`).
    """

    def valid_value(self, value):
        return True


class PlaceCascadeMixin:
    """street → community → grid → building selects, each offering the places inside the one above.

    The first level offers `roots` (grouped by their parent); every other level
    offers the children of the value chosen above it. Options are read only
    when the form is rendered; a submitted chain is checked in one query, so a
    tampered or stale combination is refused. Without JavaScript the page
    re-renders with the next level filled ("refine"); with it, static/js/cases.js
    fills the next select from the JSON endpoint.
    """

    def setup_places(self, *, roots, start=AreaKind.STREET, restricted=False, building_required=False):
        levels = CASCADE[[kind for _n, kind in CASCADE].index(start):]
        self.place_levels = levels
        self.place_fields = []
        self.place_roots = roots if restricted else None
        blank = [("", _("— choose —"))]
        parent_id = None
        for index, (name, kind) in enumerate(levels):
            field = CascadeField(label=CASCADE_LABELS[name], required=False,
                                 choices=self._level_options(index, kind, parent_id, roots, blank))
            field.widget.attrs.update({"data-cascade": kind, "autocomplete": "off"})
            # Not required one by one, but the place as a whole is: no "(optional)" hint.
            field.optional_hint = False
            self.fields[name] = field
            self.place_fields.append(name)
            parent_id = parse_id(self._raw_value(name))
        building_blank = blank if building_required else [("", _("Not sure / not at a building"))]

        def buildings(grid_id=parent_id):
            if not grid_id:
                return building_blank
            return building_blank + [(str(pk), building_label(n, nm, a)) for pk, n, nm, a in buildings_of(grid_id)]

        self.fields["building"] = CascadeField(label=CASCADE_LABELS["building"], required=False, choices=buildings)
        self.fields["building"].widget.attrs.update({"data-cascade": "building", "autocomplete": "off"})
        self.place_fields.append("building")
        self.building_required = building_required

    @staticmethod
    def _level_options(index, kind, parent_id, roots, blank):
        def options():
            if index == 0:
                groups = {}
                rows = roots.filter(kind=kind, is_active=True).select_related("parent").order_by("parent__code", "code")
                for area in rows:
                    groups.setdefault(area.parent.name if area.parent_id else "", []).append((str(area.pk), area.name))
                return blank + list(groups.items())
            if not parent_id:
                return blank
            return blank + [
                (str(pk), n) for pk, n in Area.objects.filter(parent_id=parent_id, kind=kind, is_active=True)
                .order_by("code").values_list("pk", "name")
            ]

        return options

    def _raw_value(self, name):
        source = self.data if self.is_bound else self.initial
        value = source.get(name)
        return "" if value is None else str(value)

    def place_ids(self):
        """({level: id}, building id) as submitted, or (None, None) with the error on the form.

        Only the shape is checked here (every level chosen, each a row id);
        `clean_place`, or the public report's INSERT, checks the chain.
        """
        cleaned = self.cleaned_data
        ids = {name: parse_id(cleaned.get(name)) for name, _kind in self.place_levels}
        building_id = parse_id(cleaned.get("building"))
        if not ids.get("grid"):
            self.add_error("grid", _("Choose where the matter is: the grid, and the building if you know it."))
            return None, None
        if self.building_required and not building_id:
            self.add_error("building", _("Choose the building."))
            return None, None
        if any(value is None for value in ids.values()) or (cleaned.get("building") and building_id is None):
            self.add_error("grid", _("This place does not fit the choices above it: choose again."))
            return None, None
        return ids, building_id

    def clean_place(self):
        """(grid, building) from the cascade, checked as one chain in one query; errors on the fields."""
        ids, building_id = self.place_ids()
        if ids is None:
            return None, None
        # The grid, under the chosen community, under the chosen street (as far as the cascade goes).
        chain = {"pk": ids["grid"], "kind": AreaKind.GRID, "is_active": True}
        if "community" in ids:
            chain["parent_id"] = ids["community"]
        if "street" in ids:
            chain["parent__parent_id"] = ids["street"]
        if self.place_roots is not None:
            top_name, top_kind = self.place_levels[0]
            path = {"grid": "pk", "community": "parent", "street": "parent__parent"}[top_name]
            chain[f"{path}__in"] = self.place_roots.filter(kind=top_kind).values("pk")
        if building_id:
            building = Building.objects.select_related("grid").filter(
                pk=building_id, **{f"grid__{key}": value for key, value in chain.items() if key != "pk"},
                grid_id=ids["grid"],
            ).first()
            grid = building.grid if building is not None else None
        else:
            building, grid = None, Area.objects.filter(**chain).first()
        if grid is None:
            self.add_error("grid", _("This place does not fit the choices above it: choose again."))
            return None, None
        return grid, building

    def cascade_rows(self):
        return [self[name] for name in self.place_fields]


class ReporterFieldsMixin:
    def add_reporter_fields(self, *, name_label, phone_label, required=False):
        self.fields["reporter_name"] = forms.CharField(label=name_label, required=required, max_length=50)
        self.fields["reporter_phone"] = forms.CharField(
            label=phone_label, required=required, max_length=20,
            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        )

    def clean_reporter_phone(self):
        """The services' check, here too, so a bad number is named beside its field with the other errors."""
        phone = self.cleaned_data["reporter_phone"]
        try:
            check_callback_phone(phone)
        except DomainError as error:
            raise forms.ValidationError(error.message, code=error.code) from None
        return phone
