"""A mediation party's personal values, checked and stored like a resident's.

The ID number is checked against GB 11643 and the phone must be a mainland
mobile or landline (portal/identity.py); the stored columns are the encrypted
value, its blind index and its masked form, the same three as Resident's.
Errors name the problem, never the number. Shared by case_report (parties
given with a hotline report) and the mediation file's party form.
"""

from django.utils.translation import gettext as _

from portal.errors import DomainError
from portal.identity import blind_index, mask_id_number, mask_phone, normalize_phone, parse_id_number

from .models_mediation import PartyRole

NAME_MAX = 50
ADDRESS_MAX = 200


def party_values(*, name, role, id_number="", phone="", address="", today=None):
    """The MediationParty columns for what a person typed; DomainError on bad input."""
    name = " ".join(str(name or "").split())
    if not name:
        raise DomainError(_("The party's name is empty."), code="bad_name")
    if len(name) > NAME_MAX:
        raise DomainError(_("A name has at most %(n)d characters.") % {"n": NAME_MAX}, code="bad_name")
    if role not in PartyRole.values:
        raise DomainError(_("Unknown party role."), code="bad_role")
    address = " ".join(str(address or "").split())
    if len(address) > ADDRESS_MAX:
        raise DomainError(_("An address has at most %(n)d characters.") % {"n": ADDRESS_MAX}, code="bad_address")
    values = {"name": name, "role": role, "address": address,
              "id_number": None, "id_index": None, "id_masked": "",
              "phone": None, "phone_index": None, "phone_masked": ""}
    if str(id_number or "").strip():
        parsed = parse_id_number(id_number, today=today)
        values.update(id_number=parsed.value, id_index=blind_index("id", parsed.value),
                      id_masked=mask_id_number(parsed.value))
    normalized = normalize_phone(phone)
    if normalized:
        values.update(phone=normalized, phone_index=blind_index("phone", normalized),
                      phone_masked=mask_phone(normalized))
    return values


def reported_parties(parties, *, today=None):
    """Party values from a report's list of {"name", "phone", "role"} (the first an applicant by default)."""
    rows = []
    for position, party in enumerate(parties or ()):
        if not str(party.get("name", "")).strip():
            continue
        role = party.get("role") or (PartyRole.APPLICANT if position == 0 else PartyRole.RESPONDENT)
        rows.append(party_values(name=party.get("name"), role=role, id_number=party.get("id_number", ""),
                                 phone=party.get("phone", ""), address=party.get("address", ""), today=today))
    return rows
