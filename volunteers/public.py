"""Residents' order pages (下单), no sign-in: place an order (from the notice board's
QR code, /order/b/<building>/, or choosing the place), then follow it and confirm
the service with the tracking code.

Like the public case pages (cases/views_public.py `report`, `track`): submissions and
tracking-code misses are rate-limited per client address; the public pages show
the order's kind, place and progress, never the contact's or volunteer's name
or phone. A signed-in staff member placing an order for a resident uses the
same form and is recorded as the one who placed it.
"""

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_POST

from grid.forms import add_domain_error, parse_id
from grid.models import Building
from grid.selectors import scope_of
from grid.views import place_names, prefill_place, public_page
from portal.errors import DomainError
from portal.ratelimit import over_rate

from . import services
from .forms import ORDER_CODE, ButtonForm, OrderForm, OrderLookupForm, normalise_order_code
from .models import Order

DEFAULT_ORDER_RATE = (10, 600)  # orders per client address and window (seconds)
DEFAULT_TRACK_MISS_RATE = (60, 600)  # shared with the case tracking page: guessing either is the same attack


def _order_by_code(code):
    code = normalise_order_code(code)
    if not ORDER_CODE.match(code):
        return None
    return Order.objects.select_related("street", "community", "grid", "building").filter(tracking_code=code).first()


def _missing(request):
    if over_rate(request, "track-miss", "CASE_TRACK_MISS_RATE", DEFAULT_TRACK_MISS_RATE):
        return public_page(request, "volunteers/order_missing.html", {"too_many": True}, status=429)
    return public_page(request, "volunteers/order_missing.html", {"form": OrderLookupForm()}, status=404)


def place(request, building_id=None):
    """The order form. /order/b/<id>/ is a building's notice-board link; /order/?building=<id> prefills."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    building = None
    if building_id is not None:
        building = Building.objects.select_related("grid").filter(pk=building_id).first()
        if building is None or not building.grid.is_active:
            return public_page(request, "volunteers/order_missing.html", {"unknown_building": True}, status=404)
    status = 200
    if request.method == "GET":
        initial = prefill_place(parse_id(request.GET.get("building"))) if building is None else {}
        form = OrderForm(initial=initial, building=building)
    elif "_refine" in request.POST and building is None:
        form = OrderForm(initial=request.POST.dict(), building=None)
    else:
        form = OrderForm(request.POST, building=building)
        # Staff entering residents' orders from one office are not throttled like the public.
        on_behalf = not scope_of(request.user).is_empty
        if not on_behalf and over_rate(request, "order", "VOLUNTEER_ORDER_RATE", DEFAULT_ORDER_RATE):
            form.is_valid()
            form.add_error(None, _("Too many orders from this connection. Please wait a few minutes and try again."))
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            user = request.user if request.user.is_authenticated else None
            try:
                order = services.order_place(
                    kind=data["kind"], description=data["description"], building=data["building"],
                    place=data["grid"], address=data["address"], contact_name=data["reporter_name"],
                    contact_phone=data["reporter_phone"], acting_user=user, now=timezone.now(),
                    request_key=f"order:{data['token']}",
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Your order is placed. Keep the tracking code: %(code)s")
                                 % {"code": order.tracking_code})
                return redirect("volunteers:order_track", code=order.tracking_code)
        if status == 200:
            status = 400
    return public_page(request, "volunteers/order.html", {
        "form": form, "building": building,
        "place_names": place_names(building) if building is not None else [],
    }, status=status)


@require_GET
def track_lookup(request):
    form = OrderLookupForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return redirect("volunteers:order_track", code=form.cleaned_data["code"])
    return public_page(request, "volunteers/order_lookup.html", {"form": form}, status=400 if form.is_bound else 200)


STEPS = (
    (Order.Status.OPEN, "placed_at"),
    (Order.Status.CLAIMED, "claimed_at"),
    (Order.Status.DONE, "done_at"),
    (Order.Status.CONFIRMED, "confirmed_at"),
)


@require_GET
def track(request, code):
    """Progress, step by step; the confirm button once the volunteer marked it done. No names, no phones."""
    order = _order_by_code(code)
    if order is None:
        return _missing(request)
    steps = [{"label": _("Placed") if status == Order.Status.OPEN else Order.Status(status).label,
              "at": getattr(order, field)} for status, field in STEPS]
    if order.escalated_at:
        steps.insert(1, {"label": Order.Status.ESCALATED.label, "at": order.escalated_at})
    places = [area.name for area in (order.street, order.community, order.grid) if area is not None]
    if order.building_id:
        places.append(str(order.building))
    return public_page(request, "volunteers/order_track.html", {
        "order": order, "steps": steps, "place_names": places, "button": ButtonForm(),
        "can_confirm": order.status == Order.Status.DONE,
    })


@require_POST
@csrf_protect
def confirm(request, code):
    """The resident confirms the volunteer's service; the volunteer's points follow. Twice is once."""
    order = _order_by_code(code)
    if order is None:
        return _missing(request)
    try:
        services.order_confirm(order=order, tracking_code=order.tracking_code, now=timezone.now())
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Thank you: the service is confirmed."))
    return redirect("volunteers:order_track", code=order.tracking_code)

