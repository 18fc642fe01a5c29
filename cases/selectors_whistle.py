"""Reads of 吹哨报到 that depend on who asks.

Summonses reach an organisation's staff through their posts on it
(`scope_of(user).organisation_ids`); whistles are read through the cases the
user sees (`cases_visible_to`), so both answer 404 outside, like a case.
"""

from django.db.models import Prefetch

from grid.selectors import get_visible_or_404, organisations_covering, scope_of

from .models import OPEN_STATUSES, Summons, Whistle
from .selectors import cases_visible_to


def summonses_for_staff(user):
    """The summonses of the organisations `user` works for: open matters first, soonest due."""
    ids = sorted(scope_of(user).organisation_ids)
    if not ids:
        return Summons.objects.none()
    return (Summons.objects.filter(organisation_id__in=ids)
            .select_related("organisation", "whistle", "whistle__place", "whistle__case",
                            "whistle__case__category")
            .order_by("status", "due_at", "pk"))


def open_summonses_for_staff(user):
    return summonses_for_staff(user).filter(whistle__case__status__in=OPEN_STATUSES)


def summons_for_staff_or_404(user, pk):
    return get_visible_or_404(summonses_for_staff(user), pk=pk)


def whistles_of(case):
    """A case's whistles, newest first, each with its summonses and their organisations (two queries)."""
    return list(Whistle.objects.filter(case=case).select_related("place", "raised_by").prefetch_related(
        Prefetch("summons", queryset=Summons.objects.select_related("organisation", "reported_in_by")
                 .order_by("pk"))))


def whistle_visible_to(user, pk):
    """One whistle of a case `user` sees, or None."""
    return (Whistle.objects.filter(pk=pk, case__in=cases_visible_to(user))
            .select_related("case", "place").first())


def summonable_organisations(case):
    """The organisations a whistle on `case` may summon: active, covering its place."""
    place = case.grid or case.community or case.street or case.district
    return organisations_covering(area=place, building=case.building).order_by("kind", "function", "name")
