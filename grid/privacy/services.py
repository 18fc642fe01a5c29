"""The reveal of a name or phone on a record, and the retention sweep.

Both read the activities the apps declared (registry.py). A reveal writes its
log row in its own transaction, so no value is shown unlogged; the sweep asks
each activity to anonymise what has been kept past its period, in batches of
conditional updates, so a run repeated or interrupted does no harm.
"""

import logging

from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.selectors import forget_scope
from portal.errors import DomainError
from portal.identity import UndecryptableError, decrypt_token

from . import registry
from .models import PersonalDataAccess
from .selectors import can_reveal

logger = logging.getLogger(__name__)

REASON_MIN = 2
BATCH_SIZE = 1000


@transaction.atomic
def personal_reveal(*, record, field, reason, acting_user, now=None):
    """Show one full value (a name or a phone) on `record` for a stated reason, and log it.

    Refused to anyone whose post does not cover the record through a revealing
    role; the log row is written in the same transaction as the value is read.
    """
    now = now or timezone.now()
    activity = registry.activity_for(record, field)
    if activity is None:
        raise DomainError(_("Unknown field."), code="bad_field")
    reason = " ".join(str(reason or "").split())
    if len(reason) < REASON_MIN:
        raise DomainError(_("Say why you need to see the full value."), code="no_reason")
    model = type(record)
    # The token as stored: the field would hand it back as if it were the value when no key opens it.
    fresh = model._default_manager.defer(*activity.fields).annotate(token=Cast(field, TextField())).get(pk=record.pk)
    forget_scope(acting_user)  # asked of the posts as they are now
    if not can_reveal(acting_user, activity, fresh, field):
        raise DomainError(_("Your post may not see this value in full."), code="forbidden")
    if not fresh.token:
        raise DomainError(_("Nothing is recorded for this field."), code="empty")
    try:
        value = decrypt_token(fresh.token)
    except UndecryptableError:
        logger.error("%s %s: stored %s does not decrypt with the configured keys", model._meta.label, record.pk, field)
        raise DomainError(_("This value cannot be read: the encryption keys are misconfigured. Tell the "
                            "administrator."), code="undecryptable") from None
    PersonalDataAccess.objects.create(
        actor=acting_user, record_type=model._meta.label_lower, record_id=record.pk,
        record_label=activity.label(fresh), field=field, reason=reason[:200], at=now, **activity.path(fresh),
    )
    return value


def retention_due(*, now=None):
    """{activity key: rows that would be anonymised now} (the dry run)."""
    now = now or timezone.now()
    return {a.key: a.expired(now).count() for a in registry.activities() if a.expired is not None}


def retention_run(*, now=None, batch_size=BATCH_SIZE):
    """Anonymise everything kept past its period; {activity key: rows anonymised}.

    Each activity works in batches of conditional updates (a row changed by
    someone meanwhile is re-checked by the UPDATE's own WHERE), so a second
    run finds nothing and an interrupted run resumes where it stopped.
    """
    now = now or timezone.now()
    done = {}
    for activity in registry.activities():
        if activity.anonymise is None:
            continue
        done[activity.key] = activity.anonymise(now, batch_size)
        if done[activity.key]:
            logger.info("retention: %s rows anonymised for %s", done[activity.key], activity.key)
    return done


def anonymise_in_batches(expired, *, values, batch_size=BATCH_SIZE):
    """UPDATE `expired` (a queryset whose filter is the whole condition) with `values`, a batch at a time.

    Primary keys are read a batch ahead, in order, and the UPDATE repeats the
    condition: a row reopened or already anonymised meanwhile is left alone.
    `values` must take a row out of `expired` (an anonymised-at stamp), so the
    walk ends and a second run finds nothing. Each batch commits on its own.
    """
    total, last = 0, 0
    while True:
        pks = list(expired.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not pks:
            return total
        with transaction.atomic():
            total += expired.filter(pk__in=pks).update(**values)
        last = pks[-1]
