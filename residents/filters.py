"""The resident list's filters (django-filter), applied to residents_visible_to(user).

They only narrow an already scoped queryset. Full ID numbers and phones are
not filters here: they would sit in the URL (and in every server log). The
list page looks them up through a POSTed form instead (views.resident_list).
"""

import django_filters
from django import forms
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

from grid.models import Area, AreaKind, Building

from .models import ResidentStatus


def grids_in(scope, *, limit=500):
    """[(id, "community › grid")] of the active grids in a scope, for a select (capped)."""
    return [
        (pk, f"{community} › {name}")
        for pk, name, community in Area.objects.filter(scope.areas_q(), kind=AreaKind.GRID, is_active=True)
        .order_by("code").values_list("pk", "name", "parent__name")[:limit]
    ]


class ResidentFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(label=_("Name"), method="filter_name")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ResidentStatus.choices, empty_label=_("Any"))
    tag = django_filters.ModelChoiceFilter(label=_("Tag"), field_name="tags", queryset=None, empty_label=_("Any"))
    grid = django_filters.ChoiceFilter(label=_("Grid"), field_name="grid_id", empty_label=_("Any"))
    building = django_filters.ChoiceFilter(label=_("Building"), field_name="building_id", empty_label=_("Any"))

    def __init__(self, data=None, *args, tags, grids, **kwargs):
        # Living residents unless the user asks for others (status= asks for everyone).
        data = data.copy() if data is not None else {}
        if "status" not in data:
            data["status"] = ResidentStatus.LIVING
        super().__init__(data, *args, **kwargs)
        self.filters["tag"].queryset = tags
        self.filters["grid"].extra["choices"] = grids
        grid_id = self._chosen_grid(grids)
        buildings = []
        if grid_id is not None:
            buildings = list(Building.objects.filter(grid_id=grid_id).order_by(Length("number"), "number", "pk")
                             .values_list("pk", "number"))
        elif len(grids) == 1:
            buildings = list(Building.objects.filter(grid_id=grids[0][0])
                             .order_by(Length("number"), "number", "pk").values_list("pk", "number"))
        self.filters["building"].extra["choices"] = buildings
        for field in self.form.fields.values():
            field.optional_hint = False
        self.form.fields["name"].widget.attrs.update({"autocomplete": "off", "type": "search"})
        if not buildings:
            self.form.fields["building"].widget = forms.HiddenInput()

    def _chosen_grid(self, grids):
        raw = (self.data or {}).get("grid")
        try:
            value = int(raw)
        except (TypeError, ValueError):
            return None
        return value if any(pk == value for pk, _label in grids) else None

    def filter_name(self, queryset, name, value):
        value = " ".join(value.split())
        return queryset.filter(name__contains=value) if value else queryset
