"""Organisations for the seeded city, as the field reports describe them.

Per district: the district bureaus and the utilities, covering the district. Per street: the
城管执法中队, the 派出所, the 司法所 and the 市场监管所, covering the street. Per residential
compound (a run of buildings sharing a compound name in one grid, see grid.seeding.building_rows):
a 物业服务企业 for most of them (about one compound in seven has none, as in old 开放式小区
and 老旧小区), and a 业委会 for about a third. Bulk-written like the places (COPY on PostgreSQL).
"""

import re

from .models import AreaKind, Building, Jurisdiction, OrgFunction, OrgKind, Organisation
from .seeding import phase_rng, write_rows

# (function, kind, name pattern); {d} is the district's name, {s} the street's.
DISTRICT_BODIES = (
    (OrgFunction.URBAN_MANAGEMENT, OrgKind.DEPARTMENT, "{d}综合行政执法局"),
    (OrgFunction.MARKET, OrgKind.DEPARTMENT, "{d}市场监督管理局"),
    (OrgFunction.HOUSING, OrgKind.DEPARTMENT, "{d}住房和城乡建设局"),
    (OrgFunction.ENVIRONMENT, OrgKind.DEPARTMENT, "{d}生态环境分局"),
    (OrgFunction.FIRE, OrgKind.DEPARTMENT, "{d}消防救援大队"),
    (OrgFunction.HEALTH, OrgKind.DEPARTMENT, "{d}卫生健康局"),
    (OrgFunction.CIVIL_AFFAIRS, OrgKind.DEPARTMENT, "{d}民政局"),
    (OrgFunction.WATER, OrgKind.UTILITY, "{d}自来水公司"),
    (OrgFunction.POWER, OrgKind.UTILITY, "国网{d}供电公司"),
    (OrgFunction.GAS, OrgKind.UTILITY, "{d}燃气有限公司"),
)
STREET_BODIES = (
    (OrgFunction.URBAN_MANAGEMENT, OrgKind.DEPARTMENT, "{s}综合执法中队"),
    (OrgFunction.POLICE, OrgKind.DEPARTMENT, "{s}派出所"),
    (OrgFunction.JUSTICE, OrgKind.DEPARTMENT, "{s}司法所"),
    (OrgFunction.MARKET, OrgKind.DEPARTMENT, "{s}市场监管所"),
)
PROPERTY_FIRMS = ("万科物业", "碧桂园服务", "保利物业", "绿城服务", "长城物业", "金科服务", "龙湖智创生活",
                  "新希望服务", "蓝光嘉宝", "本地物业")
SHARE_WITHOUT_PROPERTY = 1 / 7
SHARE_WITH_OWNERS_COMMITTEE = 1 / 3

ORG_FIELDS = ("id", "name", "code", "kind", "function", "seat_id", "phone", "duty_phone", "address",
              "is_active", "created_at")
JURISDICTION_FIELDS = ("id", "organisation_id", "area_id", "building_id")

_BUILDING_NUMBER = re.compile(r"\d+号楼$")


def _phone(rng):
    return f"0816-{rng.randrange(2_000_000, 9_000_000)}"


def seed_organisations(*, plan, seed, now, first_id=1, first_jurisdiction_id=1):
    """Write the organisations and their jurisdiction; return how many organisations."""
    rng = phase_rng(seed, "organisations")
    orgs, cover = [], []
    next_id = first_id

    def add(name, code, kind, function, seat_id, *, areas=(), buildings=()):
        nonlocal next_id
        orgs.append((next_id, name, code, kind, function, seat_id, _phone(rng), _phone(rng), "", True, now))
        cover.extend((next_id, a, None) for a in areas)
        cover.extend((next_id, None, b) for b in buildings)
        next_id += 1

    for district in plan.of_kind(AreaKind.DISTRICT):
        for n, (function, kind, pattern) in enumerate(DISTRICT_BODIES, 1):
            add(pattern.format(d=district.name), f"{district.code}-D{n:02d}", kind, function, district.id,
                areas=[district.id])
    for street in plan.of_kind(AreaKind.STREET):
        for n, (function, kind, pattern) in enumerate(STREET_BODIES, 1):
            add(pattern.format(s=street.name), f"{street.code}-S{n:02d}", kind, function, street.id,
                areas=[street.id])

    community_of = {g.id: g.parent_id for g in plan.of_kind(AreaKind.GRID)}
    compounds = {}  # (grid id, compound name) -> [building ids], in building order
    rows = Building.objects.filter(grid_id__in=community_of).order_by("id").values_list("id", "grid_id", "name")
    for building_id, grid_id, name in rows.iterator(chunk_size=20_000):
        compounds.setdefault((grid_id, _BUILDING_NUMBER.sub("", name) or name), []).append(building_id)
    for n, ((grid_id, compound), buildings) in enumerate(compounds.items(), 1):
        community_id = community_of[grid_id]
        if rng.random() >= SHARE_WITHOUT_PROPERTY:
            firm = rng.choice(PROPERTY_FIRMS)
            add(f"{firm}·{compound}", f"WY{n:07d}", OrgKind.PROPERTY, OrgFunction.PROPERTY, community_id,
                buildings=buildings)
        if rng.random() < SHARE_WITH_OWNERS_COMMITTEE:
            add(f"{compound}业主委员会", f"YW{n:07d}", OrgKind.OWNERS, OrgFunction.OWNERS, community_id,
                buildings=buildings)

    written = write_rows(model=Organisation, fields=ORG_FIELDS, rows=iter(orgs))
    jurisdiction = ((first_jurisdiction_id + i, org, area, building) for i, (org, area, building) in enumerate(cover))
    write_rows(model=Jurisdiction, fields=JURISDICTION_FIELDS, rows=jurisdiction)
    return written
