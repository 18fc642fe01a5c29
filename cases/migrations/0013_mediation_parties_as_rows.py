"""The parties of each mediation, from the JSON list into MediationParty rows.

The JSON held names and phones in the clear (a personal-data defect); each
phone now goes through portal/identity.py like a resident's: encrypted, blind
index, masked. A phone that is not a mainland number (the old field took any
text) is kept whole, encrypted, masked to its last four and indexed as typed,
so nothing is lost. Roles: "applicant" and "respondent" keep theirs, "other"
becomes a third party; a party with no role is the applicant if listed first,
else a respondent. The list's order is kept (ids ascend in it).
"""

from django.db import migrations
from django.utils import timezone

from portal.errors import DomainError
from portal.identity import blind_index, mask_phone, normalize_phone

ROLES = {"applicant": "applicant", "respondent": "respondent", "other": "third_party", "third_party": "third_party"}


def _phone_values(raw):
    raw = str(raw or "").strip()[:20]
    if not raw:
        return {"phone": None, "phone_index": None, "phone_masked": ""}
    try:
        phone = normalize_phone(raw)
    except DomainError:
        phone = raw
    if not phone:
        return {"phone": None, "phone_index": None, "phone_masked": ""}
    return {"phone": phone, "phone_index": blind_index("phone", phone), "phone_masked": mask_phone(phone)[:20]}


def forwards(apps, schema_editor):
    Mediation = apps.get_model("cases", "Mediation")
    MediationParty = apps.get_model("cases", "MediationParty")
    now = timezone.now()
    batch = []
    for mediation in Mediation.objects.exclude(parties_json=[]).select_related("case").iterator(chunk_size=2000):
        added_at = mediation.case.created_at or now
        for position, party in enumerate(mediation.parties_json or ()):
            if not isinstance(party, dict):
                continue
            name = " ".join(str(party.get("name", "")).split())[:50]
            if not name:
                continue
            role = ROLES.get(str(party.get("role", "")).strip()) or ("applicant" if position == 0 else "respondent")
            batch.append(MediationParty(mediation_id=mediation.pk, role=role, name=name, added_at=added_at,
                                        **_phone_values(party.get("phone"))))
        if len(batch) >= 2000:
            MediationParty.objects.bulk_create(batch)
            batch = []
    if batch:
        MediationParty.objects.bulk_create(batch)


def backwards(apps, schema_editor):
    Mediation = apps.get_model("cases", "Mediation")
    MediationParty = apps.get_model("cases", "MediationParty")
    by_file = {}
    for party in MediationParty.objects.order_by("mediation_id", "id").iterator(chunk_size=2000):
        role = "other" if party.role == "third_party" else party.role
        by_file.setdefault(party.mediation_id, []).append({"name": party.name, "phone": party.phone or "",
                                                           "role": role})
    for pk, parties in by_file.items():
        Mediation.objects.filter(pk=pk).update(parties_json=parties)
    MediationParty.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0012_mediation_file")]

    operations = [migrations.RunPython(forwards, backwards)]
