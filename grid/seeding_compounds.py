"""Compounds (小区) for the seeded city, from the buildings' names.

grid.seeding.building_rows names each building by its compound and number ("阳光名苑2号楼"),
each compound a run of consecutive buildings in one grid, its name unique in its community.
This phase writes one compound per run, managed (有物业) when the organisations phase gave it a
物业 (grid.seeding_orgs covers each managed compound's buildings), with that 物业 and any 业委会,
and a party branch for about half of them; then points each run of buildings at its compound.
Runs after the organisations phase.
"""

import re

from django.db import connection

from .models import Building, Compound, Jurisdiction, OrgKind
from .seeding import phase_rng, write_rows

COMPOUND_FIELDS = ("id", "community_id", "name", "address", "has_property_management", "property_company_id",
                   "owners_committee_id", "party_branch", "is_active", "created_at")
SHARE_WITH_PARTY_BRANCH = 0.5
_NAME = re.compile(r"^(?P<compound>.+?)(?P<number>\d+号楼)$")


def seed_compounds(*, grids, seed, now, first_id=1):
    """`grids`: the plan's grid places (id, parent_id). Return how many compounds were written."""
    rng = phase_rng(seed, "compounds")
    community_of = {g.id: g.parent_id for g in grids}
    bodies = {}  # building id -> {kind: organisation id}
    for org_id, kind, building_id in (Jurisdiction.objects.filter(
            building__grid_id__in=community_of, organisation__kind__in=(OrgKind.PROPERTY, OrgKind.OWNERS))
            .values_list("organisation_id", "organisation__kind", "building_id").iterator(chunk_size=20_000)):
        bodies.setdefault(building_id, {})[kind] = org_id
    # Names a community already has (a city seeded beside an older one) keep their buildings outside.
    seen = set(Compound.objects.filter(community_id__in=set(community_of.values())).values_list("community_id", "name"))
    runs = []  # [community id, name, address, first building id, last building id, bodies]
    rows = (Building.objects.filter(grid_id__in=community_of, compound__isnull=True).order_by("id")
            .values_list("id", "grid_id", "number", "name", "address"))
    for building_id, grid_id, number, name, address in rows.iterator(chunk_size=20_000):
        found = _NAME.match(name or "")
        if not found or found["number"] != number:
            continue
        key = (community_of[grid_id], found["compound"])
        if runs and runs[-1][:2] == list(key) and runs[-1][4] == building_id - 1:
            runs[-1][4] = building_id
        elif key in seen:
            continue  # a name its community already has (an older seed): the building stays outside
        else:
            seen.add(key)
            runs.append([*key, address[: -len(number)] if address.endswith(name) else "", building_id, building_id,
                         bodies.get(building_id, {})])
    compound_rows = []
    for n, (community_id, name, address, _first, _last, found) in enumerate(runs):
        company, committee = found.get(OrgKind.PROPERTY), found.get(OrgKind.OWNERS)
        branch = f"{name}党支部" if rng.random() < SHARE_WITH_PARTY_BRANCH else ""
        compound_rows.append((first_id + n, community_id, name[:100], address[:200], company is not None, company,
                              committee, branch, True, now))
    written = write_rows(model=Compound, fields=COMPOUND_FIELDS, rows=iter(compound_rows))
    table = connection.ops.quote_name(Building._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET compound_id = %s WHERE id BETWEEN %s AND %s",
            [(first_id + n, first, last) for n, (_c, _n, _a, first, last, _b) in enumerate(runs)],
        )
    return written
