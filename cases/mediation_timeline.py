"""What a mediation event of the case's timeline says to staff.

The mediation services record what happened as event data (ids, codes and the stated reasons, never a
party's ID number or phone): the timeline turns that into one line, so "调解" alone no longer hides
whether a party was added, corrected or removed, a session held, or the outcome recorded.
"""

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .models_mediation import DisputeType, FileKind, MediationOutcome, PartyRole, Performance, Referral, SessionState

FIELD_LABELS = {"name": lambda: _("full name"), "role": lambda: _("Role"), "address": lambda: _("address"),
                "id_number": lambda: _("ID number"), "phone": lambda: _("phone")}


def _label(choices, value):
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def _with_reason(text, data):
    reason = data.get("reason")
    return _("%(what)s Reason: %(reason)s") % {"what": text, "reason": reason} if reason else text


def describe(data):
    """One line for a mediation event's data; "" for data this module does not know."""
    data = data or {}
    if "opened" in data:
        return _("File accepted (受理): %(number)s, %(type)s.") % {
            "number": data["opened"], "type": _label(DisputeType, data.get("dispute_type"))}
    if "party_added" in data:
        return _("Party added: %(role)s.") % {"role": _label(PartyRole, data.get("role"))}
    if "party_corrected" in data:
        fields = pgettext("list separator", ", ").join(
            str(FIELD_LABELS[f]()) for f in data.get("fields", ()) if f in FIELD_LABELS)
        return _with_reason(_("Party's details corrected: %(fields)s.") % {"fields": fields}, data)
    if "party_removed" in data:
        return _with_reason(_("Party removed as added by mistake: %(role)s.")
                            % {"role": _label(PartyRole, data.get("role"))}, data)
    if "mediator_added" in data:
        return _("Mediator named.")
    if "session" in data:
        return _("Session scheduled.") if data.get("state") == SessionState.SCHEDULED else _("Session held.")
    if "outcome" in data:
        text = _("Outcome recorded: %(outcome)s.") % {"outcome": _label(MediationOutcome, data["outcome"])}
        if data.get("referral"):
            text += " " + _("Referred to: %(body)s.") % {"body": _label(Referral, data["referral"])}
        return text
    if "follow_up" in data:
        return _("Follow-up (回访): %(found)s.") % {"found": _label(Performance, data["follow_up"])}
    if "reopened" in data:
        return _("Mediated again: the agreement was not performed.")
    if "judicial_confirmation" in data:
        return _("Judicial confirmation applied for.")
    if "referral_receipt" in data:
        return _("The receiving body's receipt recorded.")
    if "replied" in data:
        return _("Reply to the referring body recorded.")
    if "file" in data:
        return _("File attached: %(kind)s.") % {"kind": _label(FileKind, data.get("kind"))}
    return ""
