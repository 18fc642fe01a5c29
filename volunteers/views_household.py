"""Staff pages of the households' points card (社会治理积分卡).

A household's card (aspects, this year's points, entries, balance) with the
forms to add an entry and to redeem at the community's points shop; the figures
per community and grid; a community's switch for stars on its notice boards.
Households are read through volunteers.household_points (the residents'
scoping, by hook): outside the user's places answers 404 like a missing one.
Every form is one service call; a DomainError becomes a message, never a 500.
"""

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from grid.models import AreaKind
from grid.selectors import areas_visible_to, get_visible_or_404
from grid.views import layout_for
from portal.errors import DomainError

from . import household_points as hp
from .household_models import HouseholdPointsSettings
from .models import CatalogueItem


def _render(request, template, context):
    return render(request, template, {"layout": layout_for(request.user), **context})


def _household(request, pk):
    return get_visible_or_404(hp.households_visible_to(request.user).select_related(
        "unit__building", "grid", "community"), pk=pk)


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_GET
def card(request, pk):
    household = _household(request, pk)
    user = request.user
    may_write = hp.households_writable_by(user).filter(pk=household.pk).exists()
    return _render(request, "volunteers/household_card.html", {
        "household": household, "card": hp.card_of(household), "may_write": may_write,
        "members": list(household.residents.filter(status="living").only("pk", "name").order_by("name", "id")),
        "items": list(CatalogueItem.objects.filter(community_id=household.community_id, is_active=True, stock__gt=0)
                      .order_by("price", "id")[:50]),
        "token": secrets.token_hex(16), "entry_max": hp.ENTRY_MAX,
    })


def _token(request):
    token = (request.POST.get("token") or "")[:64]
    return f"household:{token}" if len(token) == 32 else None


@login_required
@require_POST
def entry_add(request, pk):
    household = _household(request, pk)
    post = request.POST
    aspect = hp.aspects_for(household.district_id).filter(pk=_int_or_none(post.get("aspect"))).first()
    try:
        hp.household_entry_add(household=household, aspect=aspect, points=post.get("points"),
                               reason=post.get("reason"), evidence=request.FILES.get("evidence"),
                               acting_user=request.user, idempotency_key=_token(request))
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The entry is on the card."))
    return redirect(reverse("volunteers:household_card", args=[household.pk]))


@login_required
@require_POST
def redeem(request, pk):
    household = _household(request, pk)
    post = request.POST
    member = household.residents.filter(pk=_int_or_none(post.get("member")), status="living").first()
    item = CatalogueItem.objects.filter(community_id=household.community_id,
                                        pk=_int_or_none(post.get("item"))).first()
    try:
        if item is None:
            raise DomainError(_("Choose an item of the points shop."), code="no_item")
        hp.household_redeem(household=household, member=member, item=item, quantity=post.get("quantity") or 1,
                            acting_user=request.user, idempotency_key=_token(request))
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Redeemed: to be picked up at the points shop."))
    return redirect(reverse("volunteers:household_card", args=[household.pk]))


@login_required
@require_GET
def figures(request):
    """Households' cards per community and grid of the user's places (this year)."""
    rows = hp.figures(hp.households_visible_to(request.user))
    communities = list(areas_visible_to(request.user, managing=True).filter(kind=AreaKind.COMMUNITY)
                       .order_by("name")[:50])
    enabled = set(HouseholdPointsSettings.objects.filter(community__in=communities, stars_on_boards=True)
                  .values_list("community_id", flat=True))
    return _render(request, "volunteers/household_figures.html", {
        "rows": rows, "year": hp.year_of(timezone.now()),
        "communities": [(c, c.pk in enabled) for c in communities],
    })


@login_required
@require_POST
def stars_switch(request, pk):
    community = get_visible_or_404(areas_visible_to(request.user, managing=True).filter(kind=AreaKind.COMMUNITY),
                                   pk=pk)
    try:
        hp.stars_on_boards_set(community=community, enabled=request.POST.get("enabled") == "1",
                               acting_user=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Saved."))
    return redirect("volunteers:household_figures")
