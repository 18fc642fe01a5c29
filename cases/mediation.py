"""Writes to the mediation file (矛盾纠纷调解) of a mediation case: opening and
numbering it, parties, mediators, sessions, the outcome, and revealing a
party's full ID number or phone (logged).

Each function is keyword-only, takes the acting user and `now`, runs in one
transaction with the file's row locked, and writes a timeline line (never a
personal value) in it. A refusal raises DomainError and leaves nothing behind.
It uses the transitions' shared helpers from cases/services.py, which never
imports this module. Evidence files and signed scans: cases/mediation_files.py.
"""

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import AreaKind
from grid.selectors import can_manage_area
from portal.errors import DomainError
from portal.identity import UndecryptableError, decrypt_token
from portal.text import clean_text
from portal.workcalendar.calendar import add_working_time

from . import notifications, workflow
from .mediation_selectors import committee_for, is_mediator, may_reveal, mediator_candidates, rooms_for
from .models import (
    AGREEMENT_OUTCOMES,
    OPEN_STATUSES,
    CaseEvent,
    CaseKind,
    DisputeType,
    Mediation,
    MediationNumberCounter,
    MediationOutcome,
    MediationParty,
    MediationPartyAccess,
    MediationRoom,
    MediationSession,
    MediationSource,
    PartyField,
    PartyRole,
    Referral,
    SessionState,
    TimeUnit,
)
from .parties import party_values
from .services import _case_link_text, _event, _fresh, _now

A = CaseEvent.Action
log = logging.getLogger(__name__)

TEXT_MAX = 20000


def follow_up_due(now):
    """回访 of an agreement: MEDIATION_FOLLOW_UP_WORKING_DAYS working days after it was reached."""
    days = settings.MEDIATION_FOLLOW_UP_WORKING_DAYS
    return timezone.localtime(add_working_time(now, days, TimeUnit.WORKING_DAYS)).date()


def _mediation_for(case, acting_user):
    case = _fresh(case)
    if case.kind != CaseKind.MEDIATION:
        raise DomainError(_("This case is not a mediation."), code="not_mediation")
    if case.status not in OPEN_STATUSES:
        raise DomainError(_("This case is no longer open."), code="bad_state")
    mediation, _created = Mediation.objects.select_for_update().get_or_create(case=case)
    # Its mediators (who may be posted anywhere, e.g. the justice office's) work on it too.
    if not is_mediator(mediation, acting_user) and \
            not workflow.actor_kinds(case, acting_user) & {workflow.HANDLER, workflow.DISPATCHER}:
        raise DomainError(_("You may not work on this mediation."), code="forbidden")
    return case, mediation


def _pending(mediation):
    if mediation.outcome != MediationOutcome.PENDING:
        raise DomainError(_("This mediation is already concluded."), code="concluded")


def _local_date(now):
    return timezone.localtime(now).date()


def _next_serial(committee, year):
    """The committee's next number in the year; the counter row stays locked until commit."""
    try:
        with transaction.atomic():
            MediationNumberCounter.objects.get_or_create(committee=committee, year=year)
    except IntegrityError:
        pass  # created by a concurrent opening: lock it below
    counter = MediationNumberCounter.objects.select_for_update().get(committee=committee, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last


@transaction.atomic
def mediation_open(*, case, acting_user, dispute_type, claims="", room=None, source=MediationSource.DIRECT,
                   source_body="", source_ref="", reply_due_on=None, now=None):
    """受理: the committee accepts the dispute; the file gets its type and the committee's number."""
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    return open_file(case=case, mediation=mediation, actor=acting_user, dispute_type=dispute_type, claims=claims,
                     room=room, source=source, source_body=source_body, source_ref=source_ref,
                     reply_due_on=reply_due_on, now=now)


def open_file(*, case, mediation, actor, dispute_type, claims="", room=None, source=MediationSource.DIRECT,
              source_body="", source_ref="", reply_due_on=None, referrer=None, now):
    """Open and number a file whose row the caller locked and whose actor it authorised (a user, or a
    referring body's key: cases/mediation_docking.py, with `actor` None)."""
    if mediation.is_open:
        raise DomainError(_("This mediation file is already open."), code="already_open")
    if dispute_type not in DisputeType.values:
        raise DomainError(_("Choose the type of dispute."), code="bad_type")
    if source not in MediationSource.values:
        raise DomainError(_("Unknown source."), code="bad_source")
    source_body = clean_text(source_body, field=_("referring body"), required=False, limit=100)
    source_ref = clean_text(source_ref, field=_("reference"), required=False, limit=64)
    if source != MediationSource.DIRECT and not source_body:
        raise DomainError(_("Name the court, police station or petition office that referred it."),
                          code="no_source_body")
    if source == MediationSource.DIRECT and (source_body or source_ref or reply_due_on):
        source_body, source_ref, reply_due_on = "", "", None
    if reply_due_on is not None and reply_due_on < _local_date(now):
        raise DomainError(_("The reply is due in the past."), code="bad_date")
    if room is not None and not rooms_for(case).filter(pk=room.pk).exists():
        raise DomainError(_("That mediation room is not this community's or street's."), code="bad_room")
    committee = committee_for(case)
    year = _local_date(now).year
    serial = _next_serial(committee, year)
    updated = Mediation.objects.filter(pk=mediation.pk, opened_at__isnull=True).update(
        opened_at=now, dispute_type=dispute_type, committee=committee, year=year, serial=serial,
        claims=clean_text(claims, field=_("claims"), required=False, limit=TEXT_MAX), room=room,
        source=source, source_body=source_body, source_ref=source_ref, reply_due_on=reply_due_on,
        referrer=referrer,
    )
    if not updated:
        raise DomainError(_("This mediation file is already open."), code="already_open")
    mediation.refresh_from_db()
    _event(case, A.MEDIATION, actor=actor, now=now,
           data={"opened": mediation.number, "dispute_type": dispute_type, "source": source})
    return mediation


def _parties(mediation):
    """The file's parties, less those removed as added by mistake."""
    return mediation.parties.filter(removed_at__isnull=True)


def _refuse_duplicate(mediation, values, *, other_than=None):
    others = _parties(mediation).exclude(pk=other_than)
    if values["id_index"] and others.filter(id_index=values["id_index"]).exists():
        raise DomainError(_("This person is already a party to the file."), code="duplicate_party")
    if not values["id_index"] and others.filter(name=values["name"], role=values["role"],
                                                id_index__isnull=True).exists():
        # Nothing else tells two of them apart: it would print twice on the agreement's signatures.
        raise DomainError(_("“%(name)s” is already a party in this role; if it is someone else of the same name, "
                          "give their ID number.") % {"name": values["name"]}, code="duplicate_party")


@transaction.atomic
def mediation_add_party(*, case, acting_user, role, name, id_number="", phone="", address="", now=None):
    """A party (当事人): name and role; ID number and phone checked, encrypted, indexed, masked."""
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    _pending(mediation)
    values = party_values(name=name, role=role, id_number=id_number, phone=phone, address=address,
                          today=_local_date(now))
    _refuse_duplicate(mediation, values)
    party = MediationParty.objects.create(mediation=mediation, added_at=now, **values)
    _event(case, A.MEDIATION, actor=acting_user, now=now, data={"party_added": party.pk, "role": role})
    return party


def _party_for_change(party, acting_user, reason):
    """The party's file, locked and still open to changes, and the stated reason, cleaned."""
    reason = " ".join(str(reason or "").split())
    case, mediation = _mediation_for(party.mediation.case, acting_user)
    _pending(mediation)
    party = MediationParty.objects.select_for_update().defer("id_number", "phone") \
        .filter(pk=party.pk, mediation=mediation, removed_at__isnull=True).first()
    if party is None:
        raise DomainError(_("This party has been removed from the file."), code="removed")
    if len(reason) < 2:
        raise DomainError(_("Say why the party's details change."), code="no_reason")
    return case, mediation, party, reason[:200]


@transaction.atomic
def mediation_correct_party(*, party, acting_user, name, role, address="", id_number="", phone="",
                            clear_id_number=False, clear_phone=False, reason, now=None):
    """更正: a party's name, role, address, ID number or phone typed wrong, corrected before the outcome.
    The ID number and phone change only when a new one is typed: the page shows them masked, so a
    blank field keeps the stored value. The timeline names the fields changed and why, never a value."""
    now = _now(now)
    case, mediation, party, reason = _party_for_change(party, acting_user, reason)
    values = party_values(name=name, role=role, address=address, id_number=id_number, phone=phone,
                          today=_local_date(now))
    for typed, clear, label in ((values["id_index"], clear_id_number, _("ID number")),
                                (values["phone_index"], clear_phone, _("phone"))):
        if typed and clear:
            raise DomainError(_("Type a new %(field)s or remove the recorded one, not both.") % {"field": label},
                              code="typed_and_cleared")
    # Blank and not cleared: the stored value stays.
    keep = {"id": not values["id_index"] and not clear_id_number, "phone": not values["phone_index"] and not clear_phone}
    for prefix, column in (("id", "id_number"), ("phone", "phone")):
        if keep[prefix]:
            for key in (column, f"{prefix}_index", f"{prefix}_masked"):
                values.pop(key)
    check = {**values, "id_index": values.get("id_index", party.id_index)}
    _refuse_duplicate(mediation, check, other_than=party.pk)
    changed = [field for field in ("name", "role", "address") if values[field] != getattr(party, field)]
    changed += [column for prefix, column in (("id", "id_number"), ("phone", "phone"))
                if not keep[prefix] and values[f"{prefix}_index"] != getattr(party, f"{prefix}_index")]
    if not changed:
        raise DomainError(_("Nothing differs from what the file holds."), code="unchanged")
    MediationParty.objects.filter(pk=party.pk).update(**values)
    _event(case, A.MEDIATION, actor=acting_user, now=now,
           data={"party_corrected": party.pk, "fields": changed, "reason": reason})
    return MediationParty.objects.defer("id_number", "phone").get(pk=party.pk)


@transaction.atomic
def mediation_remove_party(*, party, acting_user, reason, now=None):
    """A party added by mistake leaves the file before the outcome: the row stays for the timeline and
    the access log, its ID number and phone are erased, and it prints on no document."""
    now = _now(now)
    case, mediation, party, reason = _party_for_change(party, acting_user, reason)
    MediationParty.objects.filter(pk=party.pk).update(
        removed_at=now, removed_by=acting_user, removal_reason=reason,
        id_number=None, id_index=None, id_masked="", phone=None, phone_index=None, phone_masked="")
    _event(case, A.MEDIATION, actor=acting_user, now=now,
           data={"party_removed": party.pk, "role": party.role, "reason": reason})
    return party


@transaction.atomic
def mediation_party_reveal(*, party, field, reason, acting_user, now=None):
    """Show a party's full ID number or phone for a stated reason, and log it in the same transaction."""
    now = _now(now)
    if field not in PartyField.values:
        raise DomainError(_("Unknown field."), code="bad_field")
    reason = " ".join(str(reason or "").split())
    if len(reason) < 2:
        raise DomainError(_("Say why you need to see the full value."), code="no_reason")
    party = MediationParty.objects.defer("id_number", "phone").annotate(token=Cast(field, TextField())) \
        .select_related("mediation__case").get(pk=party.pk)
    case = party.mediation.case
    if not may_reveal(case, party.mediation, acting_user):
        raise DomainError(_("Your post may not see this value in full."), code="forbidden")
    if not party.token:
        raise DomainError(_("Nothing is recorded for this field."), code="empty")
    try:
        value = decrypt_token(party.token)
    except UndecryptableError:
        log.error("mediation party %s: stored %s does not decrypt with the configured keys", party.pk, field)
        raise DomainError(_("This value cannot be read: the encryption keys are misconfigured. Tell the "
                            "administrator."), code="undecryptable") from None
    MediationPartyAccess.objects.create(
        actor=acting_user, party=party, field=field, reason=reason[:200], at=now,
        **{f: getattr(case, f) for f in ("district_id", "street_id", "community_id", "grid_id")},
    )
    return value


@transaction.atomic
def mediation_print_identities(*, mediation, reason, acting_user, now=None):
    """{party pk: full ID number} of the file's parties, for a document printed to be signed (a court
    asked to confirm the agreement needs the parties identified): each reveal logged, all or none."""
    now = _now(now)
    parties = mediation.parties.filter(removed_at__isnull=True, id_index__isnull=False).select_related(
        "mediation__case").defer("id_number", "phone").order_by("id")
    return {party.pk: mediation_party_reveal(party=party, field=PartyField.ID_NUMBER, reason=reason,
                                             acting_user=acting_user, now=now) for party in parties}


@transaction.atomic
def mediation_add_mediator(*, case, mediator, acting_user, now=None):
    """Name a mediator: someone posted on the case's community or street as a mediator or staff."""
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    if workflow.DISPATCHER not in workflow.actor_kinds(case, acting_user):
        raise DomainError(_("Only staff over this place may add mediators."), code="forbidden")
    if mediator is None or not mediator_candidates(case).filter(pk=mediator.pk).exists():
        raise DomainError(_("Only mediators and staff of this community or street can mediate here."),
                          code="bad_mediator")
    mediation.mediators.add(mediator)
    _event(case, A.MEDIATION, actor=acting_user, now=now, data={"mediator_added": mediator.pk})
    notifications.notify(users=[mediator], case=case, now=now,
                         subject=_("You mediate case %(number)s") % {"number": case.number},
                         body=_case_link_text(case))
    return mediation


@transaction.atomic
def mediation_record_session(*, case, acting_user, held_at, notes="", location="", room=None, attendees="",
                             state=SessionState.HELD, now=None):
    """A session, held (with what was said) or scheduled (for the mediators' day list)."""
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    _pending(mediation)
    if state not in (SessionState.SCHEDULED, SessionState.HELD):
        raise DomainError(_("Unknown session state."), code="bad_state")
    if not isinstance(held_at, datetime.datetime) or held_at.tzinfo is None:
        raise DomainError(_("Give the date and time of the session."), code="no_date")
    if state == SessionState.HELD and held_at > now:
        raise DomainError(_("A session in the future cannot have been held yet."), code="future")
    if room is not None and not rooms_for(case).filter(pk=room.pk).exists():
        raise DomainError(_("That mediation room is not this community's or street's."), code="bad_room")
    notes = clean_text(notes, field=_("notes"), required=state == SessionState.HELD, limit=TEXT_MAX)
    if state == SessionState.SCHEDULED and mediation.sessions.filter(state=state, held_at=held_at).exists():
        raise DomainError(_("A session of this file is already scheduled at that time."), code="duplicate_session")
    session = MediationSession.objects.create(
        mediation=mediation, state=state, held_at=held_at, room=room,
        location=clean_text(location, field=_("location"), required=False, limit=100),
        attendees=clean_text(attendees, field=_("attendees"), required=False, limit=2000),
        notes=notes, recorded_by=acting_user, recorded_at=now,
    )
    _event(case, A.MEDIATION, actor=acting_user, now=now, data={"session": session.pk, "state": state})
    return session


@transaction.atomic
def mediation_session_held(*, session, acting_user, notes, attendees="", now=None):
    """A scheduled session took place: what was said, who came."""
    now = _now(now)
    case, mediation = _mediation_for(session.mediation.case, acting_user)
    _pending(mediation)
    session = MediationSession.objects.select_for_update().get(pk=session.pk, mediation=mediation)
    if session.state != SessionState.SCHEDULED:
        raise DomainError(_("This session is already recorded as held."), code="bad_state")
    if session.held_at > now:
        raise DomainError(_("A session in the future cannot have been held yet."), code="future")
    session.notes = clean_text(notes, field=_("notes"), limit=TEXT_MAX)
    session.attendees = clean_text(attendees, field=_("attendees"), required=False, limit=2000)
    session.state = SessionState.HELD
    session.save(update_fields=["notes", "attendees", "state"])
    _event(case, A.MEDIATION, actor=acting_user, now=now, data={"session": session.pk, "state": "held"})
    return session


@transaction.atomic
def mediation_conclude(*, case, acting_user, outcome, agreement_text="", performance_deadline=None,
                       consent_recorded=False, referral="", note="", now=None):
    """The outcome: an agreement (terms, deadline, the parties' consent), a partial one, none (with the
    referral: litigation, arbitration or an administrative ruling), or withdrawn."""
    now = _now(now)
    case, mediation = _mediation_for(case, acting_user)
    _pending(mediation)
    if not mediation.is_open:
        raise DomainError(_("Open (accept) the mediation file first."), code="not_open")
    if outcome not in MediationOutcome.values or outcome == MediationOutcome.PENDING:
        raise DomainError(_("Choose the outcome of the mediation."), code="bad_outcome")
    agreement_text = clean_text(agreement_text, field=_("terms"), required=False, limit=TEXT_MAX)
    note = clean_text(note, field=_("note"), required=False, limit=TEXT_MAX)
    changes = {"outcome": outcome, "concluded_at": now, "outcome_note": note, "agreement_text": "",
               "performance_deadline": None, "consent_recorded": False, "referral": ""}
    if outcome in AGREEMENT_OUTCOMES:
        if not agreement_text:
            raise DomainError(_("An agreement needs its terms."), code="no_agreement")
        if not consent_recorded:
            raise DomainError(_("Record that the parties consent to the agreement."), code="no_consent")
        if performance_deadline is None:
            raise DomainError(_("Give the date by which the agreement is to be performed."), code="no_deadline")
        if performance_deadline < _local_date(now):
            raise DomainError(_("The performance deadline is in the past."), code="bad_date")
        roles = set(_parties(mediation).values_list("role", flat=True))
        if not {PartyRole.APPLICANT, PartyRole.RESPONDENT} <= roles:
            raise DomainError(_("An agreement needs an applicant and a respondent among the parties."),
                              code="no_parties")
        if not mediation.sessions.filter(state=SessionState.HELD).exists():
            raise DomainError(_("Record the session at which the agreement was reached."), code="no_session")
        changes.update(agreement_text=agreement_text, performance_deadline=performance_deadline,
                       # The follow-up visits once the parties' time to perform it is over, not before.
                       consent_recorded=True, follow_up_due_on=max(follow_up_due(now), performance_deadline))
    elif outcome == MediationOutcome.FAILED:
        if referral not in Referral.values:
            raise DomainError(_("Say where the dispute is referred: litigation, arbitration or an "
                                "administrative ruling."), code="no_referral")
        changes["referral"] = referral
    updated = Mediation.objects.filter(pk=mediation.pk, outcome=MediationOutcome.PENDING).update(**changes)
    if not updated:
        raise DomainError(_("This mediation is already concluded."), code="concluded")
    # The sessions still scheduled will not be held: off the mediators' day list.
    mediation.sessions.filter(state=SessionState.SCHEDULED).update(state=SessionState.CANCELLED)
    mediation.refresh_from_db()
    _event(case, A.MEDIATION, actor=acting_user, now=now, data={"outcome": outcome, "referral": changes["referral"]})
    return mediation


@transaction.atomic
def mediation_room_save(*, room, acting_user):
    """Create or change a mediation room (调解室): it belongs to a community or a street the user manages."""
    area = room.area
    if area is None or area.kind not in (AreaKind.COMMUNITY, AreaKind.STREET):
        raise DomainError(_("A mediation room belongs to a community or a street."), code="bad_area")
    if not can_manage_area(acting_user, area):
        raise DomainError(_("You do not manage this place."), code="forbidden")
    room.name = clean_text(room.name, field=_("name"), limit=60)
    room.address = clean_text(room.address, field=_("address"), required=False, limit=200)
    if MediationRoom.objects.filter(area=area, name=room.name).exclude(pk=room.pk).exists():
        raise DomainError(_("This place already has a room of that name."), code="duplicate_room")
    room.save()
    return room
