"""The mediation record (矛盾纠纷调解) of a mediation case: parties, mediators, sessions, outcome.

Cut out of cases/services.py unchanged; it uses the transitions' shared helpers
from there, and services never imports this module.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from portal.errors import DomainError
from portal.text import clean_text

from . import notifications, workflow
from .models import OPEN_STATUSES, CaseEvent, CaseKind, Mediation, MediationOutcome, MediationSession
from .services import _case_link_text, _clean_parties, _event, _fresh, _now

A = CaseEvent.Action


def _mediation_for(case, acting_user):
    case = _fresh(case)
    if case.kind != CaseKind.MEDIATION:
        raise DomainError(_("This case is not a mediation."), code="not_mediation")
    if case.status not in OPEN_STATUSES:
        raise DomainError(_("This case is no longer open."), code="bad_state")
    mediation, _created = Mediation.objects.select_for_update().get_or_create(case=case)
    # Its mediators (who may be posted anywhere, e.g. the justice office's) work on it too.
    is_mediator = acting_user is not None and mediation.mediators.filter(pk=acting_user.pk).exists()
    if not is_mediator and not workflow.actor_kinds(case, acting_user) & {workflow.HANDLER, workflow.DISPATCHER}:
        raise DomainError(_("You may not work on this mediation."), code="forbidden")
    return case, mediation


@transaction.atomic
def mediation_update(*, case, acting_user, parties=None, outcome=None, agreement_text=None, now=None):
    """Record the parties, the outcome and the text of the mediation agreement."""
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    changed = []
    if parties is not None:
        mediation.parties = _clean_parties(parties)
        changed.append("parties")
    if agreement_text is not None:
        mediation.agreement_text = clean_text(agreement_text, field=_("agreement"), required=False, limit=20000)
        changed.append("agreement")
    if outcome is not None:
        if outcome not in MediationOutcome.values:
            raise DomainError(_("Unknown mediation outcome."), code="bad_outcome")
        if outcome == MediationOutcome.AGREED and not mediation.agreement_text:
            raise DomainError(_("An agreement needs its text."), code="no_agreement")
        mediation.outcome = outcome
        mediation.concluded_at = None if outcome == MediationOutcome.PENDING else now
        changed.append("outcome")
    mediation.save()
    _event(case, A.MEDIATION, actor=acting_user, now=now, data={"changed": changed, "outcome": mediation.outcome})
    return mediation


@transaction.atomic
def mediation_add_mediator(*, case, mediator, acting_user, now=None):
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    if workflow.DISPATCHER not in workflow.actor_kinds(case, acting_user):
        raise DomainError(_("Only staff over this place may add mediators."), code="forbidden")
    mediation.mediators.add(mediator)
    _event(case, A.MEDIATION, actor=acting_user, now=now, data={"mediator_added": mediator.pk})
    notifications.notify(users=[mediator], case=case, now=now,
                         subject=_("You mediate case %(number)s") % {"number": case.number},
                         body=_case_link_text(case))
    return mediation


@transaction.atomic
def mediation_record_session(*, case, acting_user, held_at, notes, location="", now=None):
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    if held_at is None or held_at.tzinfo is None:
        raise DomainError(_("Give the date and time of the session."), code="no_date")
    session = MediationSession.objects.create(
        mediation=mediation, held_at=held_at, location=clean_text(location, field=_("location"), required=False,
                                                                   limit=100),
        notes=clean_text(notes, field=_("notes"), limit=20000), recorded_by=acting_user, recorded_at=now,
    )
    _event(case, A.MEDIATION, actor=acting_user, now=now, data={"session": session.pk})
    return session
