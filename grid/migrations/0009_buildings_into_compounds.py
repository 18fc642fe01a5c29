"""Existing buildings join the compounds their names already carry ("阳光名苑2号楼" → 阳光名苑).

Residents and the seed name a building by its compound and number; this reads that name:
one compound per community and name, each building keeping its number. A building whose
number its compound already holds (two grids of one community both naming a "阳光名苑1号楼")
stays outside any compound, unique in its grid as before, so nothing is renumbered.
Run again (or after compounds were added by hand), a name its community already has joins that
compound where the number is free. A compound is managed (有物业) when a property-management organisation covers one of its
buildings, which then becomes its 物业; an owners' committee likewise.
"""

import re

from django.db import migrations

NAME = re.compile(r"^(?P<compound>.+?)(?P<number>\d+号楼)$")
BATCH = 2000


def forwards(apps, schema_editor):
    Building = apps.get_model("grid", "Building")
    Compound = apps.get_model("grid", "Compound")
    Jurisdiction = apps.get_model("grid", "Jurisdiction")
    compounds = {}  # (community id, name) -> {"numbers": set, "buildings": [ids], "address": str}
    rows = (Building.objects.filter(compound__isnull=True).order_by("id")
            .values_list("id", "grid__parent_id", "number", "name", "address"))
    for building_id, community_id, number, name, address in rows.iterator(chunk_size=BATCH):
        found = NAME.match(name or "")
        if not found or community_id is None or found["number"] != number:
            continue
        key = (community_id, found["compound"])
        if key not in compounds:
            existing = Compound.objects.filter(community_id=community_id, name=found["compound"]).first()
            compounds[key] = {"numbers": set(existing.buildings.values_list("number", flat=True)) if existing else set(),
                              "buildings": [], "address": "", "existing": existing}
        entry = compounds[key]
        if number in entry["numbers"]:
            continue
        entry["numbers"].add(number)
        entry["buildings"].append(building_id)
        if not entry["address"] and address.endswith(name):
            entry["address"] = address[: -len(number)]
    if not compounds:
        return
    managed, owners = {}, {}
    for org_id, kind, building_id in (Jurisdiction.objects.filter(building__isnull=False,
                                                                  organisation__kind__in=("property", "owners"))
                                      .values_list("organisation_id", "organisation__kind", "building_id")):
        (managed if kind == "property" else owners).setdefault(building_id, org_id)
    for entry in compounds.values():
        if entry["existing"] is not None and entry["buildings"]:
            Building.objects.filter(pk__in=entry["buildings"]).update(compound=entry["existing"])
    items = [(key, entry) for key, entry in compounds.items() if entry["existing"] is None and entry["buildings"]]
    for start in range(0, len(items), BATCH):
        chunk = items[start:start + BATCH]
        made = []
        for (community_id, name), entry in chunk:
            company = next((managed[b] for b in entry["buildings"] if b in managed), None)
            committee = next((owners[b] for b in entry["buildings"] if b in owners), None)
            made.append(Compound(
                community_id=community_id, name=name[:100], address=entry["address"][:200],
                has_property_management=company is not None, property_company_id=company,
                owners_committee_id=committee,
            ))
        Compound.objects.bulk_create(made)  # PostgreSQL and SQLite both return the new ids
        for compound, (_key, entry) in zip(made, chunk):
            Building.objects.filter(pk__in=entry["buildings"]).update(compound=compound)


class Migration(migrations.Migration):
    dependencies = [("grid", "0008_compounds")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
