"""Admin change lists that answer a far date in the date hierarchy with Django's
"invalid lookup" redirect (?e=1) instead of a 500.

`?created_at__year=9999&created_at__month=12&created_at__day=31` makes the
change list add a day to 9999-12-31, which overflows (issue #20). Django already
turns a bad year or month into IncorrectLookupParameters; this does the same for
the overflow.
Year 1 overflows later, when the database adapter converts the aware bound, so
the year is held to the range the portal's date fields accept as well, for the
hierarchy and for any `<field>__year` a hand-made URL adds (a change list with a
date filter accepts those lookups too); an overflow while the rows are read is the
same invalid lookup.
"""

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList

from .fields import FIRST_YEAR, LAST_YEAR


class FarDateSafeChangeList(ChangeList):
    def get_filters(self, request):
        for name, year in request.GET.items():
            if name.endswith("__year") and year.isascii() and year.isdigit() \
                    and not FIRST_YEAR <= int(year) <= LAST_YEAR:
                raise IncorrectLookupParameters(f"year {year} is out of range")
        try:
            return super().get_filters(request)
        except OverflowError as error:
            raise IncorrectLookupParameters(error) from error

    def get_results(self, request):
        try:
            return super().get_results(request)
        except OverflowError as error:
            raise IncorrectLookupParameters(error) from error


class FarDateSafeAdminMixin:
    def get_changelist(self, request, **kwargs):
        return FarDateSafeChangeList
