"""The camera / one-click alarm webhook (微天网).

    POST /api/alarms/
    Authorization: Bearer <ALARM_WEBHOOK_TOKEN>      (or X-Alarm-Token: <token>)
    Content-Type: application/json

    {"building": 123            — or "place": "510703001001001" (a grid's or community's code)
     "category": "E0601",       — a category code
     "description": "消防通道被堵",
     "occurred_at": "2026-11-23T09:15:00+08:00",
     "device_id": "cam-0815",   — optional
     "latitude": 31.46, "longitude": 104.68}   — optional

Answers JSON: 201 a new case, 200 folded into an open alarm case of the same
category at the same place within the service's window (its number is
returned), 400 with field errors, 401 without the right token, 405/413 for the
wrong method or an oversized body. Never a 500 on malformed input.
"""

import hmac
import json
from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from grid.models import Area, AreaKind, Building
from portal.errors import DomainError

from . import services, services_report

MAX_BODY = 64 * 1024
# How far back an alarm may have happened (a camera that was offline delivers late)
# and how far a device clock may run ahead of ours.
MAX_AGE = timedelta(hours=24)
MAX_SKEW = timedelta(minutes=5)
SCALARS = (str, int, float, bool, type(None))


class AlarmForm(forms.Form):
    building = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    place = forms.CharField(required=False, max_length=15)
    category = forms.CharField(max_length=20)
    description = forms.CharField(max_length=services.DESCRIPTION_MAX)
    occurred_at = forms.CharField(max_length=40)
    device_id = forms.CharField(required=False, max_length=64)
    latitude = forms.DecimalField(required=False, min_value=-90, max_value=90, max_digits=12, decimal_places=8)
    longitude = forms.DecimalField(required=False, min_value=-180, max_value=180, max_digits=12, decimal_places=8)

    def __init__(self, *args, now, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now

    def clean_occurred_at(self):
        value = parse_datetime(self.cleaned_data["occurred_at"].strip()) if self.cleaned_data["occurred_at"] else None
        if value is None:
            raise forms.ValidationError(_("Give the time as ISO 8601, e.g. 2026-11-23T09:15:00+08:00."))
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        if value > self.now + MAX_SKEW:
            raise forms.ValidationError(_("This time is in the future."))
        if value < self.now - MAX_AGE:
            raise forms.ValidationError(_("This alarm is more than 24 hours old."))
        return min(value, self.now)

    def clean(self):
        cleaned = super().clean()
        building_id, code = cleaned.get("building"), (cleaned.get("place") or "").strip()
        cleaned["grid_obj"] = cleaned["building_obj"] = None
        if bool(building_id) == bool(code):
            if not self.has_error("building") and not self.has_error("place"):
                self.add_error("place", _("Give either a building id or a place code."))
        elif building_id:
            cleaned["building_obj"] = Building.objects.filter(pk=building_id).first()
            if cleaned["building_obj"] is None:
                self.add_error("building", _("No building has this id."))
        else:
            cleaned["grid_obj"] = Area.objects.filter(
                code=code, kind__in=(AreaKind.GRID, AreaKind.COMMUNITY)).first()
            if cleaned["grid_obj"] is None:
                self.add_error("place", _("No grid or community has this code."))
        return cleaned


def _error(status, message, **extra):
    return JsonResponse({"error": message, **extra}, status=status, json_dumps_params={"ensure_ascii": False})


def _authorised(request):
    expected = settings.ALARM_WEBHOOK_TOKEN or ""
    given = request.headers.get("X-Alarm-Token", "")
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        given = auth[7:].strip()
    # An empty setting disables the webhook; compare in constant time.
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@csrf_exempt
def alarm(request):
    """Take one alarm; de-duplicated by place and category through the service."""
    if request.method != "POST":
        response = _error(405, _("POST a JSON body."))
        response["Allow"] = "POST"
        return response
    if not _authorised(request):
        response = _error(401, _("Missing or wrong token."))
        response["WWW-Authenticate"] = 'Bearer realm="alarms"'
        return response
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return _error(413, _("The body is too large."))
    try:
        body = json.loads(request.body.decode("utf-8"))
    except RequestDataTooBig:
        return _error(413, _("The body is too large."))
    except (ValueError, UnicodeDecodeError):
        return _error(400, _("The body is not valid JSON."))
    if not isinstance(body, dict):
        return _error(400, _("The body must be a JSON object."))
    nested = sorted(k for k, v in body.items() if not isinstance(v, SCALARS))
    if nested:
        return JsonResponse({"errors": {k: [_("Give a plain value.")] for k in nested}}, status=400,
                            json_dumps_params={"ensure_ascii": False})
    now = timezone.now()
    form = AlarmForm(data={k: v for k, v in body.items() if v is not None}, now=now)
    if not form.is_valid():
        errors = {field: [e["message"] for e in errs] for field, errs in form.errors.get_json_data().items()}
        return JsonResponse({"errors": errors}, status=400, json_dumps_params={"ensure_ascii": False})
    data = form.cleaned_data
    try:
        case, created = services_report.case_report_alarm(
            category=data["category"], description=data["description"], grid=data["grid_obj"],
            building=data["building_obj"], device_id=data["device_id"], latitude=data["latitude"],
            longitude=data["longitude"], now=data["occurred_at"],
        )
    except DomainError as error:
        field = {"unknown_category": "category", "no_place": "place", "bad_place": "place"}.get(error.code,
                                                                                                  "__all__")
        return JsonResponse({"errors": {field: [str(error)]}}, status=400, json_dumps_params={"ensure_ascii": False})
    payload = {"created": created, "case": case.number, "status": case.status, "alarm_count": case.alarm_count}
    if not created:
        payload["duplicate_of"] = case.number
    return JsonResponse(payload, status=201 if created else 200, json_dumps_params={"ensure_ascii": False})
