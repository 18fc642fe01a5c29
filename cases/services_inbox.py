"""Writes of the in-app inbox (站内消息): marking a staffer's own notices read."""

from django.db import transaction

from .models import Notification


@transaction.atomic
def notifications_mark_read(*, user, now, notification_id=None):
    """Mark the user's unread notices read (all, or the one given). Returns how many changed.

    Scoped by construction: only rows of `user`; another's id changes nothing.
    """
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        rows = rows.filter(pk=notification_id)
    return rows.update(read_at=now)
