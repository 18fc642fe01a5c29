"""After the outcome: the follow-up (回访) of an agreement's performance (a performed
agreement closes its resolved case), judicial confirmation (司法确认) of an
unperformed agreement, reopening the file, the receipt of the body a failed
dispute was referred to, and the written reply to the court, police station or
petition office that referred the dispute (诉调/警调/访调对接).

Same rules as cases/mediation.py: keyword-only, one transaction with the file
locked, a timeline line, DomainError and nothing written on refusal.
"""

from functools import partial

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import DomainError
from portal.text import clean_text

from . import deadlines, signals, workflow
from .mediation import TEXT_MAX, _mediation_for
from .models import Case, CaseEvent, Mediation, MediationOutcome, Performance, Status
from .services import _apply, _event, _fresh, _now

A = CaseEvent.Action


def _agreement(mediation):
    if not mediation.has_agreement:
        raise DomainError(_("There is no agreement to follow up yet."), code="no_agreement")


@transaction.atomic
def mediation_follow_up(*, case, acting_user, performance, note, now=None):
    """回访: was the agreement performed? Recorded once, on or after the day it was reached; found short of
    performed only from the day it was to be performed by."""
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    _agreement(mediation)
    if mediation.followed_up_at is not None:
        raise DomainError(_("This agreement has already been followed up."), code="followed_up")
    if performance not in Performance.values:
        raise DomainError(_("Say whether the agreement was performed."), code="bad_performance")
    today = timezone.localtime(now).date()
    if today < timezone.localtime(mediation.concluded_at).date():
        raise DomainError(_("A follow-up cannot come before the agreement."), code="before_agreement")
    if (performance != Performance.PERFORMED and mediation.performance_deadline
            and today < mediation.performance_deadline):
        # The parties still have time: "not (yet) performed" now would count against the 履行率 for good.
        raise DomainError(_("The agreement may be performed until %(day)s: before that day a follow-up can only find "
                            "it performed.") % {"day": mediation.performance_deadline.isoformat()},
                          code="before_deadline")
    note = clean_text(note, field=_("note"), limit=TEXT_MAX)
    Mediation.objects.filter(pk=mediation.pk).update(followed_up_at=now, performance=performance,
                                                     follow_up_note=note)
    _event(case, A.MEDIATION, actor=acting_user, now=now, data={"follow_up": performance})
    mediation.refresh_from_db()
    if performance == Performance.PERFORMED and case.status in (Status.RESOLVED, Status.VERIFIED):
        mediation_close_at_follow_up(case=case, now=now)
    return mediation


@transaction.atomic
def mediation_close_at_follow_up(*, case, now=None):
    """The follow-up found the agreement performed: the portal closes the resolved mediation case
    (follow_up_close). Called by mediation_follow_up, whose user was authorised there.

    The follow-up is the mediation's check on site, so no separate verification comes first.
    """
    now = _now(now)
    case = _fresh(case)
    workflow.check("follow_up_close", case, None, actor=workflow.SYSTEM)
    mediation = Mediation.objects.filter(case=case).first()
    if mediation is None or mediation.performance != Performance.PERFORMED:
        raise DomainError(_("Only an agreement found performed at its follow-up closes the case."),
                          code="not_performed")
    _apply(case, "follow_up_close", user=None, actor=workflow.SYSTEM, now=now, action=A.CLOSE, is_public=True,
           note=_("The agreement was performed (follow-up)."), data={"follow_up": Performance.PERFORMED},
           changes={"closed_at": now, "handling_minutes": deadlines.handling_minutes(case, now)})
    # As after any close: the reporter may rate, the volunteers' points follow (hub/points.py).
    transaction.on_commit(partial(signals.case_closed.send, sender=Case, case_id=case.pk))
    return case


@transaction.atomic
def mediation_referral_receipt(*, case, acting_user, body, receipt, received_on, answer="", now=None):
    """A failed dispute's referral was received: the court (arbitration commission, office) and its receipt."""
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    if mediation.outcome != MediationOutcome.FAILED or not mediation.referral:
        raise DomainError(_("Only a dispute referred on after a failed mediation has a receiving body."),
                          code="not_referred")
    if mediation.referral_receipt:
        raise DomainError(_("The receipt is already recorded."), code="already_recorded")
    body = clean_text(body, field=_("receiving body"), limit=100)
    receipt = clean_text(receipt, field=_("receipt number"), limit=64)
    answer = clean_text(answer, field=_("answer"), required=False, limit=TEXT_MAX)
    if received_on is None:
        raise DomainError(_("Give the date the body received it."), code="no_date")
    if received_on > timezone.localtime(now).date() or \
            received_on < timezone.localtime(mediation.concluded_at).date():
        raise DomainError(_("The receipt must fall between the failed mediation and today."), code="bad_date")
    Mediation.objects.filter(pk=mediation.pk, referral_receipt="").update(
        referral_body=body, referral_receipt=receipt, referral_received_on=received_on, referral_answer=answer)
    _event(case, A.MEDIATION, actor=acting_user, now=now, data={"referral_receipt": receipt})
    mediation.refresh_from_db()
    return mediation


@transaction.atomic
def mediation_judicial_confirmation(*, case, acting_user, court, receipt, applied_on, now=None):
    """司法确认: the parties applied to a court to confirm the agreement; the court's receipt is recorded."""
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    _agreement(mediation)
    if mediation.confirmation_applied_on is not None:
        raise DomainError(_("Judicial confirmation is already recorded."), code="already_confirmed")
    court = clean_text(court, field=_("court"), limit=100)
    receipt = clean_text(receipt, field=_("receipt number"), limit=64)
    if applied_on is None:
        raise DomainError(_("Give the date of the application."), code="no_date")
    if applied_on > timezone.localtime(now).date() or applied_on < timezone.localtime(mediation.concluded_at).date():
        raise DomainError(_("The application must fall between the agreement and today."), code="bad_date")
    Mediation.objects.filter(pk=mediation.pk).update(confirmation_court=court, confirmation_receipt=receipt,
                                                     confirmation_applied_on=applied_on)
    _event(case, A.MEDIATION, actor=acting_user, now=now, data={"judicial_confirmation": receipt})
    mediation.refresh_from_db()
    return mediation


@transaction.atomic
def mediation_reopen(*, case, acting_user, reason, now=None):
    """An agreement not performed: the file is mediated again (the old terms stay on the timeline)."""
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    _agreement(mediation)
    if mediation.performance not in (Performance.PARTLY, Performance.NOT_PERFORMED):
        raise DomainError(_("Only an agreement found unperformed at its follow-up is mediated again."),
                          code="performed")
    reason = clean_text(reason, field=_("reason"), limit=TEXT_MAX)
    _event(case, A.MEDIATION, actor=acting_user, now=now, note=reason,
           data={"reopened": mediation.outcome, "terms": mediation.agreement_text[:2000],
                 "deadline": str(mediation.performance_deadline)})
    Mediation.objects.filter(pk=mediation.pk).update(
        outcome=MediationOutcome.PENDING, concluded_at=None, agreement_text="", performance_deadline=None,
        consent_recorded=False, follow_up_due_on=None, followed_up_at=None, performance="", follow_up_note="",
        outcome_note="", confirmation_court="", confirmation_receipt="", confirmation_applied_on=None,
    )
    mediation.refresh_from_db()
    return mediation


@transaction.atomic
def mediation_reply(*, case, acting_user, text, now=None):
    """The written reply to the referring court, police station or petition office, once there is an outcome."""
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    if not mediation.is_referral:
        raise DomainError(_("This dispute was not referred by another body."), code="not_referred")
    if mediation.outcome == MediationOutcome.PENDING:
        raise DomainError(_("Reply once the mediation has an outcome."), code="no_outcome")
    if mediation.replied_at is not None:
        raise DomainError(_("The reply has already been sent."), code="replied")
    text = clean_text(text, field=_("reply"), limit=TEXT_MAX)
    Mediation.objects.filter(pk=mediation.pk).update(replied_at=now, reply_text=text)
    _event(case, A.MEDIATION, actor=acting_user, now=now, data={"replied": mediation.source})
    mediation.refresh_from_db()
    return mediation
