"""The case board's filters (django-filter), applied to cases.selectors.board_for(user).

The filters only narrow an already scoped queryset; they never widen it.
Dates are the reporting day in the portal's time zone, turned into an aware
range on `created_at` so the board indexes still serve the query.
"""

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grid.models import PATH_FIELDS, Area
from portal import fields

from .forms import category_tree
from .models import Channel, Status
from .selectors import judged_overdue_q, overdue_q

YES_NO = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]
OVERDUE_CHOICES = [("yes", _("Current stage past due")), ("judged", _("Past the judged deadline (已超期)")),
                   ("no", _("Current stage not past due"))]


class DateFilter(django_filters.DateFilter):
    """A day between 1900 and 2199: year 1 or 9999 overflows once a day or a time zone is added."""

    field_class = fields.DateField


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


class CaseFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=Status.choices, widget=forms.CheckboxSelectMultiple,
    )
    category = django_filters.ChoiceFilter(label=_("Category"), method="filter_category", empty_label=_("Any"))
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices, empty_label=_("Any"))
    # Two clocks: the current stage's due time (what to act on now) and the judged deadline (the
    # dashboards' 已超期 and 超期率). The same word for both made an official's figure uncheckable.
    overdue = django_filters.ChoiceFilter(label=_("Overdue"), choices=OVERDUE_CHOICES, empty_label=_("Any"),
                                          method="filter_overdue")
    supervised = django_filters.ChoiceFilter(label=_("Supervised (督办)"), choices=YES_NO[1:], empty_label=_("Any"),
                                             method="filter_supervised")
    reported_from = DateFilter(label=_("Reported from"), method="filter_from",
                                              widget=forms.DateInput(attrs={"type": "date"}))
    reported_to = DateFilter(label=_("Reported until"), method="filter_to",
                                            widget=forms.DateInput(attrs={"type": "date"}))
    number = django_filters.CharFilter(label=_("Case number"), method="filter_number")
    # A place of the user's subtree (a dashboard figure's drill-down): narrows the scoped board, so a
    # place outside the scope lists nothing rather than anything new.
    place = django_filters.NumberFilter(method="filter_place", widget=forms.HiddenInput)

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        options, self._heads = [], {}
        for code, name, children in category_tree():
            if children != [(code, name)]:
                # A family head stands for all its subcategories.
                self._heads[f"all:{code}"] = code
                children = [(f"all:{code}", _("%(name)s (all)") % {"name": name})] + children
            options.append((name, children))
        self.filters["category"].extra["choices"] = options
        for field in self.form.fields.values():
            field.optional_hint = False  # every filter is optional: no "(optional)" on each

    def filter_category(self, queryset, name, value):
        if value in self._heads:
            return queryset.filter(category__parent__code=self._heads[value])
        return queryset.filter(category__code=value)

    def filter_overdue(self, queryset, name, value):
        if value == "judged":
            return queryset.filter(judged_overdue_q(self.now))
        q = overdue_q(self.now)
        return queryset.filter(q) if value == "yes" else queryset.exclude(q)

    def filter_place(self, queryset, name, value):
        kind = Area.objects.filter(pk=value).values_list("kind", flat=True).first()
        if kind not in PATH_FIELDS:
            return queryset.none()
        return queryset.filter(**{f"{kind}_id": value})

    def filter_supervised(self, queryset, name, value):
        return queryset.filter(supervised_at__isnull=(value != "yes"))

    def filter_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_day_start(value))

    def filter_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=_day_start(value + timedelta(days=1)))

    def filter_number(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(number__startswith=value) if value else queryset
