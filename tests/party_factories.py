"""Party building on the test city: staff, a resident in need, a reported-in member, a posted wish."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from grid.models import Role
from residents.party import services
from residents.party.models import ServicePost

from .factories import UserFactory, user_with_post
from .residents_factories import household_in, resident_in

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)


@dataclass
class Party:
    staff: object  # community staff of community A
    staff_b: object  # community staff of community B
    street: object  # street staff of street A
    chief: object  # building chief of building A: a post, but no residents' records
    resident: object  # a resident of community A
    resident_b: object  # a resident of community B
    member: object  # a user reported in (confirmed) to community A with the wishes post
    report: object
    member2: object  # another confirmed member of community A
    report2: object


def report_confirmed(user, community, staff, *, posts=(ServicePost.WISH,), now=NOW):
    report = services.report_in(community=community, employer_name="市税务局", posts=posts, user=user,
                                acting_user=user, now=now)
    return services.report_confirm(report=report, acting_user=staff, now=now)


def build_party(city):
    staff = user_with_post(Role.COMMUNITY_STAFF, city.community_a, username="party_staff_a")
    staff_b = user_with_post(Role.COMMUNITY_STAFF, city.community_b, username="party_staff_b")
    street = user_with_post(Role.STREET_STAFF, city.street_a, username="party_street_a")
    chief = user_with_post(Role.BUILDING_CHIEF, city.building_a, username="party_chief_a")
    resident = resident_in(household_in(city.unit_a), name="王秀兰", acting_user=staff)
    resident_b = resident_in(household_in(city.unit_b), name="赵大爷", acting_user=staff_b, phone="13900139000")
    member = UserFactory(username="member_a", full_name="李党员")
    member2 = UserFactory(username="member_a2", full_name="周党员")
    report = report_confirmed(member, city.community_a, staff, posts=(ServicePost.WISH, ServicePost.VOLUNTEER))
    report2 = report_confirmed(member2, city.community_a, staff)
    return Party(staff, staff_b, street, chief, resident, resident_b, member, report, member2, report2)


@pytest.fixture
def party(city):
    return build_party(city)


def posted_wish(party, *, title="一台收音机", budget="150", now=NOW):
    return services.wish_post(resident=party.resident, title=title, category="elderly", budget_cap=budget,
                              acting_user=party.staff, now=now)
