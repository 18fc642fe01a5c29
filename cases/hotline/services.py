"""Writes of 12345 docking: receive a pushed work order, reply (回单), hand back (退单),
record the follow-up call (回访).

Receiving reuses Open311's pieces (the client's place, service codes, locating a
building) and `case_report` on the hotline channel. The three moves are in the
one transition table (cases/workflow.py: hotline_reply, hotline_return,
hotline_visit) and go through `_apply` like every other move; the order row is
changed in the same transaction. A refusal raises DomainError, nothing written.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from cases import services as case_services
from cases import services_report
from cases import workflow
from cases.models import Case, Channel
from cases.open311 import services as open311_services
from cases.open311.models import ApiClient
from grid.models import Area, AreaKind
from portal.errors import DomainError
from portal.text import clean_text

from .models import HotlineOrder, VisitResult

ORDER_NUMBER_MAX = 64
WINDOW_HOURS_MAX = 30 * 24
REPLY_MAX = 4000


def _order_number(value):
    number = (value if isinstance(value, str) else "").strip()
    if not number or len(number) > ORDER_NUMBER_MAX or not number.isprintable():
        raise DomainError(_("order_number must be the work order's number (1–%(n)d printable characters).")
                          % {"n": ORDER_NUMBER_MAX}, code="bad_order_number")
    return number


def _window_hours(value):
    if value in (None, ""):
        return settings.HOTLINE_RETURN_WINDOW_HOURS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= WINDOW_HOURS_MAX:
        raise DomainError(_("return_window_hours must be a whole number from 1 to %(n)d.") % {"n": WINDOW_HOURS_MAX},
                          code="bad_window")
    return value


def _place_by_code(client, code):
    """A grid or community under the client's place, by its code (outside answers like unknown)."""
    code = code.strip() if isinstance(code, str) else ""
    area = client.area
    found = Area.objects.filter(code=code, tree_id=area.tree_id, lft__gte=area.lft, lft__lte=area.rght,
                                kind__in=(AreaKind.GRID, AreaKind.COMMUNITY), is_active=True).first() if code else None
    if found is None:
        raise DomainError(_("No place this key serves has that place_code."), code="bad_location")
    return {"place": found}


def _text(value, name):
    if value is not None and not isinstance(value, str):
        raise DomainError(_("%(name)s must be text.") % {"name": name}, code="bad_type")
    return value or ""


def order_receive(*, client, data, now=None):
    """A work order pushed by the hotline system. Returns (order, created).

    The same order_number again answers the first order and writes nothing (a
    retry after a timeout, or the hotline's re-send); a number another system
    pushed is refused. Everything is checked before anything is written.
    """
    now = case_services._now(now)
    if not isinstance(data, dict):
        raise DomainError(_("The body must be a JSON object."), code="bad_body")
    number = _order_number(data.get("order_number"))
    found = HotlineOrder.objects.filter(order_number=number).select_related("case").first()
    if found is not None:
        return _same_client(found, client), False
    strings = {name: _text(data.get(name), name) for name in (
        "service_code", "description", "address_string", "address_id", "place_code", "caller_name",
        "caller_phone", "received_at")}
    received_at = now
    if strings["received_at"]:
        received_at = open311_services.parse_iso(strings["received_at"])
        if received_at is None or received_at > now + timedelta(minutes=5):
            raise DomainError(_("received_at must be an ISO 8601 date and time with a time zone, not in the future."),
                              code="bad_date")
    hours = _window_hours(data.get("return_window_hours"))
    category = open311_services.service_category(strings["service_code"])
    latitude, longitude = open311_services._coordinates(data.get("lat"), data.get("long"))
    if strings["place_code"]:
        place = _place_by_code(client, strings["place_code"])
    else:
        place = open311_services.locate(client, lat=latitude, long=longitude,
                                        address_id=strings["address_id"].strip(),
                                        address_string=strings["address_string"].strip())
    try:
        with transaction.atomic():
            # One push at a time per client: the duplicate check and the insert cannot interleave.
            ApiClient.objects.select_for_update().filter(pk=client.pk).first()
            if HotlineOrder.objects.filter(order_number=number).exists():
                raise IntegrityError("pushed meanwhile")
            case = services_report.case_report(
                category=category, description=strings["description"], channel=Channel.HOTLINE,
                address=strings["address_string"], latitude=latitude, longitude=longitude,
                reporter_name=strings["caller_name"], reporter_phone=strings["caller_phone"], external_ref=number,
                now=now, system=True, **place,
            )
            order = HotlineOrder.objects.create(case=case, order_number=number, client=client,
                                                received_at=received_at,
                                                return_due_at=received_at + timedelta(hours=hours))
    except IntegrityError:
        found = HotlineOrder.objects.filter(order_number=number).select_related("case").first()
        if found is None:
            raise
        return _same_client(found, client), False
    return order, True


def _same_client(order, client):
    if order.client_id != client.pk:
        raise DomainError(_("Another system already pushed a work order with this number."), code="taken")
    return order


def _order_for(case, *, now):
    """The case's order row, made for an order staff typed in by hand (its number: external_ref)."""
    order = HotlineOrder.objects.select_for_update().filter(case=case).first()
    if order is not None:
        return order
    if case.channel != Channel.HOTLINE or not case.external_ref:
        raise DomainError(_("This is not a 12345 work order (no work-order number)."), code="not_hotline")
    if HotlineOrder.objects.filter(order_number=case.external_ref).exists():
        raise DomainError(_("Another case holds this work-order number."), code="taken")
    return HotlineOrder.objects.create(
        case=case, order_number=case.external_ref, received_at=case.created_at,
        return_due_at=case.created_at + timedelta(hours=settings.HOTLINE_RETURN_WINDOW_HOURS))


def _fresh(case):
    return Case.objects.select_for_update().select_related("category").get(pk=getattr(case, "pk", case))


@transaction.atomic
def order_reply(*, case, text, acting_user, now=None):
    """回单: the reply sent back to the hotline. A later reply (after rework) replaces it."""
    now = case_services._now(now)
    case = _fresh(case)
    workflow.check("hotline_reply", case, acting_user)
    text = clean_text(text, field=_("reply"), limit=REPLY_MAX)
    order = _order_for(case, now=now)
    case_services._apply(case, "hotline_reply", user=acting_user, now=now, note=text, is_public=True,
                         data={"order_number": order.order_number})
    HotlineOrder.objects.filter(pk=order.pk).update(reply_text=text, replied_at=now, replied_by=acting_user)
    order.refresh_from_db()
    return order


@transaction.atomic
def order_return(*, case, reason, acting_user, now=None):
    """退单: hand the order back to the hotline with a reason, within its window. The case ends
    here (rejected: the hotline sends the order elsewhere)."""
    now = case_services._now(now)
    case = _fresh(case)
    workflow.check("hotline_return", case, acting_user)
    reason = clean_text(reason, field=_("reason"), limit=REPLY_MAX)
    order = _order_for(case, now=now)
    if now > order.return_due_at:
        raise DomainError(_("The window to hand this order back closed at %(at)s; handle it instead.")
                          % {"at": localtime(order.return_due_at).strftime("%Y-%m-%d %H:%M")}, code="window_closed")
    case_services._apply(case, "hotline_return", user=acting_user, now=now, note=reason, is_public=True,
                         changes={"closed_at": now}, data={"order_number": order.order_number})
    HotlineOrder.objects.filter(pk=order.pk).update(return_reason=reason, returned_at=now, returned_by=acting_user)
    order.refresh_from_db()
    return order


@transaction.atomic
def order_visit(*, case, result, note="", acting_user=None, client=None, now=None):
    """回访: the hotline's follow-up call, recorded by staff or pushed by the hotline system."""
    now = case_services._now(now)
    case = _fresh(case)
    actor = workflow.SYSTEM if acting_user is None else None
    workflow.check("hotline_visit", case, acting_user, actor=actor)
    if result not in VisitResult.values:
        raise DomainError(_("result must be one of: %(values)s.") % {"values": ", ".join(VisitResult.values)},
                          code="bad_result")
    note = clean_text(note if isinstance(note, str) else "", field=_("note"), required=False, limit=REPLY_MAX)
    order = _order_for(case, now=now)
    if client is not None and order.client_id != client.pk:
        raise DomainError(_("Another system pushed this work order."), code="taken")
    if not order.replied_at:
        raise DomainError(_("No reply has been sent for this order yet; the follow-up call comes after it."),
                          code="no_reply")
    case_services._apply(case, "hotline_visit", user=acting_user, actor=actor, now=now,
                         note=f"{VisitResult(result).label}{'：' + note if note else ''}",
                         data={"order_number": order.order_number, "result": result})
    HotlineOrder.objects.filter(pk=order.pk).update(visit_result=result, visit_note=note, visited_at=now)
    order.refresh_from_db()
    return order

