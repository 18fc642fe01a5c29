"""The organisations of the test city and their staff, for the organisation-track tests."""

from dataclasses import dataclass

import pytest

from cases import routing_orgs
from grid import services_orgs
from grid.models import OrgFunction, OrgKind, Role

from .cases_factories import MONDAY, category, resident_report
from .factories import make_organisation, user_with_post


@dataclass
class Orgs:
    chengguan: object      # street A's 城管执法中队, covers street A
    police: object         # street A's 派出所
    bureau: object         # the district's 执法局, covers the district
    far: object            # street B's 执法中队: does not cover street A
    closed: object         # covers street A, inactive
    property: object       # the 物业 of building A
    cg_staff: object
    cg_staff2: object
    police_staff: object
    far_staff: object


def build_orgs(city):
    chengguan = make_organisation(seat=city.street_a, name="城北执法中队", areas=[city.street_a])
    police = make_organisation(seat=city.street_a, function=OrgFunction.POLICE, name="城北派出所",
                               areas=[city.street_a])
    bureau = make_organisation(seat=city.district, name="城关区综合行政执法局", areas=[city.district])
    far = make_organisation(seat=city.street_b, name="城南执法中队", areas=[city.street_b])
    closed = make_organisation(seat=city.street_a, function=OrgFunction.MARKET, name="城北市场监管所",
                               areas=[city.street_a])
    services_orgs.organisation_set_active(organisation=closed, active=False, acting_user=None)
    firm = make_organisation(seat=city.community_a, kind=OrgKind.PROPERTY, function=OrgFunction.PROPERTY,
                             name="万科物业·幸福小区", buildings=[city.building_a])
    return Orgs(
        chengguan, police, bureau, far, closed, firm,
        user_with_post(Role.ORG_STAFF, chengguan, username="cg_staff"),
        user_with_post(Role.ORG_HEAD, chengguan, username="cg_head"),
        user_with_post(Role.ORG_STAFF, police, username="police_staff"),
        user_with_post(Role.ORG_STAFF, far, username="far_staff"),
    )


@pytest.fixture
def orgs(city, db):
    return build_orgs(city)


def urban_rule(city, orgs, *, code="E0201", **kwargs):
    """A district rule: 违法建设 (or `code`) goes to urban management (城管执法)."""
    from cases.models import RoutingRule

    kwargs.setdefault("function", OrgFunction.URBAN_MANAGEMENT)
    existing = RoutingRule.objects.filter(district=city.district, street=kwargs.get("street"),
                                          category=category(code)).first()
    if existing is not None:
        return existing
    return routing_orgs.routing_rule_save(district=city.district, category=category(code), now=MONDAY, **kwargs)


def big_matter(city, orgs, people, *, now=MONDAY, code="E0201"):
    """A resident's report of a ruled category, registered as a big matter: at the command centre."""
    from cases import services

    urban_rule(city, orgs, code=code)
    case = resident_report(city, code=code, now=now)
    return services.case_register(case=case, acting_user=people.community, triage="public", now=now)
