"""A paginator that counts no further than it needs to (the admin case list, the case board).

Django's change list counts the filtered rows for its pager (`paginator.count`),
even with `show_full_result_count = False`. On a district's 200,000 cases that
count reads the whole index range on every page view, for a figure nobody pages
through. `CappedCountPaginator` counts at most `cap + 1` rows
(`SELECT COUNT(*) FROM (SELECT id … LIMIT cap + 1)`), so the pager offers the
first `cap / per_page` pages and the page says "more than cap"; filters and the
search narrow the list below the cap, where the count is exact again.
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    cap = 10_000

    @cached_property
    def count(self):
        counted = self.object_list.order_by().values("pk")[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)

    capped = False
