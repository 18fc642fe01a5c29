"""Writes of the organisation track (三事分流): refer a private matter, change a class, send a big
matter to organisations, and the organisation's own moves (签收, reply, 退单) with the street's
binding ruling on a return.

Each is a transition of cases/workflow.py applied through the shared `_apply` of
cases/services.py (which never imports this module). Assignments are append-only rows
(OrgAssignment); the case points at the current one. A refused write raises DomainError and
leaves nothing behind.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from grid.models import AreaKind, OrgFunction, Organisation
from grid.selectors import scope_of
from portal.errors import DomainError
from portal.text import clean_text

from . import deadlines, notifications, routing, routing_orgs, workflow
from .models_history import DeadlineStage
from .models import (
    AssignmentKind,
    AssignmentRole,
    CaseEvent,
    OrgAssignment,
    PhotoStage,
    ReferralTarget,
    Status,
    Triage,
)
from .services import (
    NOTE_MAX,
    _apply,
    _case_link_text,
    _deadline,
    _dispatch,
    _fresh,
    _lapse_extensions,
    _now,
    _save_photos,
    _to_command_centre,
    _validate_photos,
)

A = CaseEvent.Action
MAX_CO_HANDLERS = 5


def organisation_staff(organisation_ids):
    """Active users holding a current post on any of these organisations."""
    return list(
        get_user_model().objects.filter(
            is_active=True, posts__organisation_id__in=list(organisation_ids), posts__ended_at__isnull=True,
        ).distinct().order_by("pk")
    )


# --- 三事分流 at the desk --------------------------------------------------------------------------

def _class_change(case, *, user, now, to, reason):
    """Log a change of class against what routing proposed (a reason is required)."""
    proposed = routing_orgs.propose(case).triage if case.status == Status.REPORTED else case.triage_class
    if proposed == to:
        return
    reason = clean_text(reason, field=_("reason for the change of class"))
    _apply(case, "reclassify", user=user, now=now, note=reason, data={"from": proposed, "to": to})


@transaction.atomic
def case_refer(*, case, acting_user, referred_to, told, reason="", now=None):
    """私事: refer a private matter (to the parties, the compound's 物业, mediation, legal aid or the
    market). Final: closed as referred, with what the resident was told on the public timeline."""
    now = _now(now)
    case = _fresh(case)
    if referred_to not in ReferralTarget.values:
        raise DomainError(_("Choose where the matter is referred to."), code="bad_referral")
    told = clean_text(told, field=_("what the resident was told"), limit=NOTE_MAX)
    data = {"referred_to": referred_to}
    if referred_to == ReferralTarget.PROPERTY:
        firm = routing_orgs.covering(case).filter(function=OrgFunction.PROPERTY).first() \
            if case.building_id else None
        if firm is None:
            raise DomainError(_("This place has no property company (物业) on record; refer it elsewhere."),
                              code="no_property")
        data.update(organisation=firm.pk, organisation_name=firm.name, phone=firm.phone)
    _class_change(case, user=acting_user, now=now, to=Triage.PRIVATE, reason=reason)
    _lapse_extensions(case, now)
    # A referred private matter is not 立案: no registered_at, so the rates officials are judged by
    # (应结案数, dashboards/definitions.py) never count it; dashboards count referrals apart.
    changes = {"referred_to": referred_to, "triage_class": Triage.PRIVATE, "closed_at": now, "due_at": None}
    _apply(case, "refer", user=acting_user, now=now, note=told, is_public=True, changes=changes, data=data)
    return case


@transaction.atomic
def case_reclassify(*, case, acting_user, triage, reason, now=None):
    """Change a registered matter's class: a big one goes to the command centre, a small one
    is dispatched in the residential tree. (A private one is referred: case_refer.)"""
    now = _now(now)
    case = _fresh(case)
    if triage not in (Triage.PUBLIC, Triage.SMALL):
        raise DomainError(_("Choose big or small; a private matter is referred."), code="bad_triage")
    if triage == case.triage_class:
        raise DomainError(_("The matter already has this class."), code="same_class")
    reason = clean_text(reason, field=_("reason for the change of class"))
    data = {"from": case.triage_class, "to": triage}
    if triage == Triage.PUBLIC:
        _to_command_centre(case, name="reclassify", user=acting_user, actor=None, now=now, note=reason, data=data)
    else:
        _apply(case, "reclassify", user=acting_user, now=now, note=reason, data=data, changes={"triage_class": triage})
        _dispatch(case, name="dispatch", user=acting_user, actor=None, now=now, level=None, assignee=None, note="")
    return case


# --- the command centre ----------------------------------------------------------------------------

def _organisations(case, lead, co_handlers):
    """Check the lead and co-handlers: active, distinct, and covering the case's place."""
    ids = [getattr(lead, "pk", lead)] + [getattr(o, "pk", o) for o in co_handlers or ()]
    if ids[0] is None:
        raise DomainError(_("Choose the lead organisation."), code="no_lead")
    if len(set(ids)) != len(ids):
        raise DomainError(_("An organisation is either lead or co-handler, once."), code="repeated")
    if len(ids) - 1 > MAX_CO_HANDLERS:
        raise DomainError(_("At most %(n)d co-handlers.") % {"n": MAX_CO_HANDLERS}, code="too_many")
    found = {o.pk: o for o in Organisation.objects.filter(pk__in=ids)}
    covering = set(routing_orgs.covering(case).filter(pk__in=ids).values_list("pk", flat=True))
    for pk in ids:
        org = found.get(pk)
        if org is None:
            raise DomainError(_("No such organisation."), code="bad_organisation")
        if not org.is_active:
            raise DomainError(_("“%(name)s” is inactive and takes no matters.") % {"name": org.name},
                              code="inactive_organisation")
        if pk not in covering:
            raise DomainError(_("“%(name)s” does not cover this matter's place.") % {"name": org.name},
                              code="not_covering")
    return found[ids[0]], [found[pk] for pk in ids[1:]]


def _send(case, *, name, user, now, lead, co_handlers, reason, kind):
    workflow.check(name, case, user)  # who may send it, before what is sent where
    lead, co_handlers = _organisations(case, lead, co_handlers)
    sign_in_due = routing_orgs.sign_in_deadline(lead.pk, case.category, now)
    row = OrgAssignment.objects.create(case=case, organisation=lead, role=AssignmentRole.LEAD, kind=kind,
                                       reason=reason, assigned_by=user, assigned_at=now, sign_in_due_at=sign_in_due)
    for org in co_handlers:
        OrgAssignment.objects.create(case=case, organisation=org, role=AssignmentRole.CO, kind=kind, lead=row,
                                     reason=reason, assigned_by=user, assigned_at=now)
    names = lead.name + (_(" (co-handlers: %(names)s)") % {"names": "、".join(o.name for o in co_handlers)}
                         if co_handlers else "")
    ruling = kind == AssignmentKind.RULING
    _lapse_extensions(case, now)
    _apply(case, name, user=user, now=now, action=A.ORG_RULING if ruling else A.ORG_DISPATCH,
           note=f"{reason} → {names}" if ruling else names, is_public=not ruling,
           changes={"organisation": lead, "org_assignment": row, "assignee": None, "accepted_at": None,
                    "due_at": sign_in_due, "handle_due_at": None, "returned_at": None, "org_supervised_due": None},
           expect={"organisation_id": case.organisation_id},
           data={"organisation": lead.pk, "co": [o.pk for o in co_handlers], "assignment": row.pk,
                 "reason": reason})
    # Judged like the residential track (cases/deadlines.py): the first sending starts the accept
    # stage, with the sign-in limit; a later sending (a ruling, a re-dispatch) moves no deadline.
    deadlines.stage_started(case, DeadlineStage.ACCEPT, sign_in_due, now)
    notifications.notify(
        users=organisation_staff([lead.pk] + [o.pk for o in co_handlers]), case=case, now=now,
        subject=_("Matter %(number)s sent to %(name)s") % {"number": case.number, "name": lead.name},
        body=_case_link_text(case),
    )
    return row


@transaction.atomic
def case_org_dispatch(*, case, acting_user, lead, co_handlers=(), reason="", now=None):
    """The command centre sends a big matter to one lead organisation (主办) and optional
    co-handlers (协办), among those covering its place. Sending again reassigns it: the
    handler is cleared and the new lead signs in afresh."""
    now = _now(now)
    case = _fresh(case)
    reason = clean_text(reason, field=_("reason"), required=False)
    _send(case, name="org_dispatch", user=acting_user, now=now, lead=lead, co_handlers=co_handlers, reason=reason,
          kind=AssignmentKind.DISPATCH)
    return case


@transaction.atomic
def case_org_rule(*, case, acting_user, lead, co_handlers=(), reason, now=None):
    """The street's ruling on a return: it decides who takes the matter (the same organisation
    or another), with a reason. Logged and binding: the organisation so named cannot return it."""
    now = _now(now)
    case = _fresh(case)
    reason = clean_text(reason, field=_("reason for the ruling"))
    _send(case, name="org_rule", user=acting_user, now=now, lead=lead, co_handlers=co_handlers, reason=reason,
          kind=AssignmentKind.RULING)
    return case


# --- the organisation ---------------------------------------------------------------------------------

def _require_staff(case, user, what):
    """A clear refusal for an account not on the organisation holding the matter."""
    if user is None or not user.is_authenticated or case.organisation_id is None \
            or case.organisation_id not in scope_of(user).organisation_ids:
        name = case.organisation.name if case.organisation_id else _("an organisation")
        raise DomainError(_("Only staff of %(name)s may %(what)s this matter.") % {"name": name, "what": what},
                          code="forbidden")


@transaction.atomic
def case_org_sign_in(*, case, acting_user, now=None):
    """签收: the organisation takes the matter; its handling clock starts (its own limit)."""
    now = _now(now)
    case = _fresh(case)
    _require_staff(case, acting_user, _("sign in"))
    due = routing_orgs.handle_deadline(case.organisation_id, case.category, now)
    # `handle_due`: the first handling deadline this sending was given, which the organisation's
    # 按期办结率 is judged by (dashboards/org_figures.py); `handle_due_at` moves on later.
    _apply(case, "org_sign_in", user=acting_user, now=now, action=A.ORG_SIGN_IN,
           changes={"assignee": acting_user, "accepted_at": now, "due_at": due, "handle_due_at": due},
           expect={"organisation_id": case.organisation_id},
           data={"organisation": case.organisation_id, "handle_due": due.isoformat()})
    deadlines.stage_started(case, DeadlineStage.HANDLE, due, now)  # the first sign-in starts handling
    return case


@transaction.atomic
def case_org_reply(*, case, acting_user, note, photos=(), now=None):
    """The organisation replies with the result and photos; the grid or community verifies on site."""
    now = _now(now)
    case = _fresh(case)
    _require_staff(case, acting_user, _("reply on"))
    note = clean_text(note, field=_("what was done"), limit=NOTE_MAX)
    photos = _validate_photos(photos)
    if not photos:
        raise DomainError(_("Add a photo of the result."), code="no_photo")
    _lapse_extensions(case, now)
    event = _apply(case, "org_reply", user=acting_user, now=now, action=A.ORG_REPLY, note=note,
                   changes={"resolved_at": now, "resolved_by": acting_user, "due_at": None},
                   expect={"organisation_id": case.organisation_id}, data={"organisation": case.organisation_id})
    _save_photos(case, event, photos, PhotoStage.RESOLVE, now)
    verifiers = []
    for level in (AreaKind.GRID, AreaKind.COMMUNITY):
        if getattr(case, f"{level}_id"):
            verifiers += routing.responsible_staff(case, level)
    notifications.notify(
        users=verifiers, case=case, now=now,
        subject=_("Matter %(number)s answered by %(name)s: please verify on site")
        % {"number": case.number, "name": case.organisation.name}, body=note,
    )
    return case


@transaction.atomic
def case_org_return(*, case, acting_user, reason, now=None):
    """退单 ("not our duty"): back to the street for a ruling, with a reason; the organisation never
    names who should take it instead."""
    now = _now(now)
    case = _fresh(case)
    _require_staff(case, acting_user, _("return"))
    reason = clean_text(reason, field=_("reason"))
    organisation = case.organisation
    _lapse_extensions(case, now)
    _apply(case, "org_return", user=acting_user, now=now, action=A.ORG_RETURN, note=reason, is_public=False,
           changes={"organisation": None, "org_assignment": None, "assignee": None, "accepted_at": None,
                    "returned_at": now, "handle_due_at": None, "org_supervised_due": None,
                    "due_at": _deadline(case, "dispatch", now)},
           expect={"organisation_id": organisation.pk},
           data={"organisation": organisation.pk, "organisation_name": organisation.name})
    notifications.notify(
        users=routing.responsible_staff(case, case.responsible_level), case=case, now=now,
        subject=_("%(name)s returned matter %(number)s: rule on it")
        % {"name": organisation.name, "number": case.number}, body=reason,
    )
    return case
