"""A volunteer's phone pages: my points and statement, my sign-ups, hours, orders
and redemptions (/volunteers/me/), activities to sign up for, and my
community's catalogue.

Everything is read through volunteers/selectors.py (or `orders_open_to` for
the orders a volunteer may claim) and narrowed to the signed-in volunteer;
another volunteer's sign-up, order or redemption answers 404 like a missing
one. Every button is one call into volunteers/services.py or ledger.py; a
DomainError becomes a message, never a 500.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_GET, require_POST

from grid.selectors import scope_of
from grid.privacy.pages import handle_reveal, reveal_items
from grid.views import layout_for
from portal.errors import DomainError

from . import ledger, selectors, services
from .forms import ButtonForm, RedeemForm
from .models import Account, CatalogueItem, Order, Signup

LIST_SIZE = 20
STATEMENT_SIZE = 20


def _layout(user):
    # Volunteers without a post get the phone (worker) layout from layout_for.
    return layout_for(user)


def _render(request, template, context, *, status=200):
    layout = _layout(request.user)
    audience = layout.rsplit("/", 1)[-1].removesuffix(".html")
    # A volunteer with no post has no queue or patrol: their navigation is their own pages.
    only_volunteer = scope_of(request.user).is_empty
    return render(request, template, {"layout": layout, "audience": audience, "only_volunteer": only_volunteer,
                                      **context}, status=status)


def _volunteer_or_none(request):
    return services.volunteer_of(request.user)


def _not_a_volunteer(request):
    return _render(request, "volunteers/not_volunteer.html", {})


def _refused(request, error):
    messages.error(request, str(error))


def _invalid(request, form):
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields and field != "token" else ""
        for error in errors:
            messages.error(request, _("%(field)s: %(error)s") % {"field": label, "error": error} if label else error)


# --- pages -----------------------------------------------------------------------------------------

@dataclass
class OpenOrder:
    order: Order
    phone: str  # masked until claimed


@login_required
@require_GET
def me(request):
    """Mine, on one page: points, statement, sign-ups, hours, orders, redemptions."""
    volunteer = _volunteer_or_none(request)
    if volunteer is None:
        return _not_a_volunteer(request)
    user, now = request.user, timezone.now()
    account = Account.objects.filter(volunteer=volunteer).only("pk", "balance").first()
    entries = selectors.statement(account, limit=STATEMENT_SIZE) if account else []
    signups = list(
        Signup.objects.filter(volunteer=volunteer, status__in=[Signup.Status.CONFIRMED, Signup.Status.WAITING],
                              activity__ends_at__gte=now)
        .select_related("activity").order_by("activity__starts_at", "id")[:LIST_SIZE])
    records = list(selectors.records_visible_to(user).filter(volunteer=volunteer, voided_at__isnull=True)
                   .select_related("activity").order_by("-started_at", "-id")[:LIST_SIZE])
    my_orders = list(selectors.orders_visible_to(user).filter(
        claimed_by=volunteer, status__in=[Order.Status.CLAIMED, Order.Status.DONE])
        .select_related("building").order_by("claimed_at", "id")[:LIST_SIZE])
    open_orders = [OpenOrder(order=o, phone=o.contact_phone_masked) for o in
                   services.orders_open_to(volunteer).select_related("building")
                   .order_by("claim_due_at", "id")[:LIST_SIZE]]
    redemptions = list(selectors.redemptions_visible_to(user).filter(volunteer=volunteer)
                       .select_related("item").order_by("-requested_at", "-id")[:LIST_SIZE])
    return _render(request, "volunteers/me.html", {
        "volunteer": volunteer, "balance": account.balance if account else 0, "entries": entries,
        "signups": signups, "records": records, "my_orders": my_orders, "open_orders": open_orders,
        "redemptions": redemptions, "button": ButtonForm(),
    })


@login_required
@require_GET
def activities(request):
    """Open activities I may join (my community's and my grid's, and those I signed up for)."""
    volunteer = _volunteer_or_none(request)
    if volunteer is None:
        return _not_a_volunteer(request)
    now = timezone.now()
    rows = list(selectors.activities_visible_to(request.user)
                .filter(status="open", starts_at__gt=now)
                .select_related("area", "team").order_by("starts_at", "id")[:50])
    mine = dict(Signup.objects.filter(volunteer=volunteer, activity__in=[a.pk for a in rows])
                .exclude(status=Signup.Status.WITHDRAWN).values_list("activity_id", "status"))
    taken = dict(Signup.objects.filter(activity__in=[a.pk for a in rows], status=Signup.Status.CONFIRMED)
                 .values("activity_id").annotate(n=Count("id")).values_list("activity_id", "n"))
    items = [{"activity": a, "status": mine.get(a.pk), "status_label": Signup.Status(mine[a.pk]).label
              if a.pk in mine else "", "left": max(a.capacity - taken.get(a.pk, 0), 0)} for a in rows]
    return _render(request, "volunteers/activities.html", {"items": items, "button": ButtonForm()})


@login_required
@require_GET
def catalogue(request):
    """My community's catalogue; each item's form carries a fresh one-time token."""
    volunteer = _volunteer_or_none(request)
    if volunteer is None:
        return _not_a_volunteer(request)
    items = list(CatalogueItem.objects.filter(community_id=volunteer.community_id, is_active=True)
                 .order_by("price", "id")[:100])
    return _render(request, "volunteers/catalogue.html", {
        "balance": ledger.balance_of(volunteer),
        "items": [{"item": item, "form": RedeemForm(prefix=f"i{item.pk}")} for item in items],
    })


# --- buttons -----------------------------------------------------------------------------------------

def _post_as_volunteer(view):
    """POST only, signed in, a volunteer (others are sent to the page explaining how to register)."""

    @login_required
    @require_POST
    def wrapper(request, pk):
        volunteer = _volunteer_or_none(request)
        if volunteer is None:
            return redirect("volunteers:me")
        form = ButtonForm(request.POST)
        form.is_valid()
        return view(request, volunteer, pk)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@_post_as_volunteer
def signup(request, volunteer, pk):
    activity = selectors.activities_visible_to(request.user).filter(pk=pk).first()
    if activity is None:
        raise Http404
    try:
        entry = services.signup(activity=activity, volunteer=volunteer, acting_user=request.user,
                                now=timezone.now())
    except DomainError as error:
        _refused(request, error)
    else:
        if entry.status == Signup.Status.WAITING:
            messages.success(request, _("The activity is full: you are on the waiting list for “%(title)s”.")
                             % {"title": activity.title})
        else:
            messages.success(request, _("You are signed up for “%(title)s”.") % {"title": activity.title})
    return redirect("volunteers:activities")


@_post_as_volunteer
def withdraw(request, volunteer, pk):
    entry = Signup.objects.filter(pk=pk, volunteer=volunteer).select_related("activity").first()
    if entry is None:
        raise Http404
    try:
        services.withdraw(signup_obj=entry, acting_user=request.user, now=timezone.now())
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("You withdrew from “%(title)s”.") % {"title": entry.activity.title})
    return redirect("volunteers:me")


def _order_places(volunteer):
    # The same places as services.orders_open_to, whatever the order's status, so
    # that an order someone else just claimed answers with a message, not a 404.
    places = {volunteer.community_id, volunteer.grid_id}
    places |= set(volunteer.stations.values_list("area_id", flat=True))
    places |= set(volunteer.teams.values_list("area_id", flat=True))
    places.discard(None)
    return Q(community_id__in=places) | Q(grid_id__in=places) | Q(street_id__in=places)


@_post_as_volunteer
def claim(request, volunteer, pk):
    order = Order.objects.filter(_order_places(volunteer) | Q(claimed_by=volunteer), pk=pk).first()
    if order is None:
        raise Http404
    try:
        services.order_claim(order=order, volunteer=volunteer, acting_user=request.user, now=timezone.now())
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("You claimed order %(code)s. Please call the resident.")
                         % {"code": order.tracking_code})
    return redirect("volunteers:me")


@_post_as_volunteer
def done(request, volunteer, pk):
    order = selectors.orders_visible_to(request.user).filter(pk=pk, claimed_by=volunteer).first()
    if order is None:
        raise Http404
    try:
        services.order_done(order=order, acting_user=request.user, now=timezone.now())
    except DomainError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Order %(code)s is marked done; the resident will confirm it.")
                         % {"code": order.tracking_code})
    return redirect("volunteers:me")


@login_required
@require_POST
def redeem(request, pk):
    volunteer = _volunteer_or_none(request)
    if volunteer is None:
        return redirect("volunteers:me")
    item = CatalogueItem.objects.filter(pk=pk, community_id=volunteer.community_id).first()
    if item is None:
        raise Http404
    form = RedeemForm(request.POST, prefix=f"i{item.pk}")
    if not form.is_valid():
        _invalid(request, form)
        return redirect("volunteers:catalogue")
    key = f"redeem:{volunteer.pk}:{form.cleaned_data['token']}"
    try:
        redemption = ledger.redeem(volunteer=volunteer, item=item, quantity=form.cleaned_data["quantity"],
                                   acting_user=request.user, now=timezone.now(), idempotency_key=key)
    except DomainError as error:
        if error.code == "replayed":
            messages.info(request, _("That request was already booked once."))
        else:
            _refused(request, error)
        return redirect("volunteers:catalogue")
    messages.success(request, _("Redeemed %(item)s × %(n)d for %(points)d points. Pick it up at the community.")
                     % {"item": item.name, "n": redemption.quantity, "points": redemption.points})
    return redirect("volunteers:me")


# The contact as the order's page shows it: masked, each with a logged reveal (volunteers/privacy.py).
CONTACT_SHOWN = (("contact_name", _l("contact")), ("contact_phone", _l("contact phone")))


@login_required
def order_contact(request, pk):
    """The resident to call about an order: masked; the volunteer who took it (or staff of its
    place) reveals the full name or phone for a stated reason, logged, shown on this response only."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    order = selectors.orders_visible_to(request.user).select_related("building").filter(pk=pk).first()
    if order is None:
        raise Http404
    if request.method == "POST":
        items, status = handle_reveal(request, order, CONTACT_SHOWN)
    else:
        items, status = reveal_items(request.user, order, CONTACT_SHOWN), 200
    return _render(request, "volunteers/order_contact.html", {"order": order, "contact": items}, status=status)
