"""Reads of 12345 docking. A hotline system reads only the orders it pushed; staff read an
order through its case (cases_visible_to)."""

from django.db.models import Q

from cases.selectors import cases_visible_to

from .models import HotlineOrder


def order_for_client(client, number):
    """The order `client` pushed under this number, or None (another system's answers None too)."""
    if not isinstance(number, str) or not number or len(number) > 64:
        return None
    return HotlineOrder.objects.filter(client=client, order_number=number).select_related("case").first()


def replies_for(client, *, since=None):
    """The client's orders with a reply or a hand-back (since `since`), oldest change first."""
    rows = HotlineOrder.objects.filter(client=client).select_related("case")
    if since is not None:
        return rows.filter(Q(replied_at__gt=since) | Q(returned_at__gt=since)).order_by("pk")
    return rows.filter(Q(replied_at__isnull=False) | Q(returned_at__isnull=False)).order_by("pk")


def orders_visible_to(user, *, managing=False):
    """Staff: the orders of the cases they see (cases.selectors.cases_visible_to)."""
    return HotlineOrder.objects.filter(case__in=cases_visible_to(user, managing=managing))
