from datetime import timedelta

from django import template
from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.urls import reverse
from django.utils import timezone

from .. import calendar
from ..models import CalendarDay

register = template.Library()


@register.inclusion_tag("workcalendar/missing_holidays.html", takes_context=True)
def missing_holidays_warning(context):
    """The admin's banner while the next WARNING_DAYS days reach a year without holidays.

    Reads the per-process calendar snapshot deadlines use, so it costs no query
    once that is loaded. Shown only to those who can act on it (who may add
    calendar days: administrators, district officials), with a link to the add
    form; community staff and grid workers could do nothing about it but read
    it on every page.
    """
    request, user = context.get("request"), context.get("user")
    if request is None or user is None or not (user.is_authenticated and user.is_staff):
        return {"years": []}
    today = timezone.localdate()
    years = calendar.years_without_holidays(today)
    if not years:
        return {"years": []}
    try:
        may_add = admin.site.get_model_admin(CalendarDay).has_add_permission(request)
    except NotRegistered:
        may_add = False
    if not may_add:
        return {"years": []}
    return {
        "years": years,
        "days": calendar.WARNING_DAYS,
        "until": today + timedelta(days=calendar.WARNING_DAYS),
        "link": reverse("admin:workcalendar_calendarday_add"),
    }
