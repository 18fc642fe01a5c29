"""Who attended a deliberation meeting, resident by resident (议事会签到).

The meeting keeps its head count and groups (services.meeting_record); this
names the residents present, so their households earn points on their card
(participation.hooks.attendance_confirmed, provided by hub/wiring.py).
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portal.errors import DomainError

from . import hooks
from .models import Meeting, MeetingAttendance
from .services import _event, _now, _open_meeting, _resident_of


@transaction.atomic
def meeting_attend(*, meeting, resident, acting_user, now=None):
    """Staff confirm that `resident` (living in the meeting's place) attended; once per resident."""
    now = _now(now)
    meeting = _open_meeting(meeting, acting_user)
    resident = _resident_of(meeting, resident, acting_user)
    try:
        with transaction.atomic():
            attendance = MeetingAttendance.objects.create(meeting=meeting, resident=resident,
                                                          recorded_by=acting_user, at=now)
    except IntegrityError:
        raise DomainError(_("This resident's attendance is already recorded."), code="duplicate") from None
    _event(meeting=meeting, action="meeting.attend", actor=acting_user, now=now, data={"resident": resident.pk})
    hooks.attendance_confirmed(attendance=attendance, household=resident.household, now=now)
    return attendance


def attendances_of(meeting: Meeting, residents):
    """The meeting's attendances of the residents the viewer reaches (a scoped queryset)."""
    return (MeetingAttendance.objects.filter(meeting=meeting, resident__in=residents)
            .select_related("resident").order_by("at", "id"))
