"""Helpers for the mediation tests: valid ID numbers, a dispute case brought to an open file."""

import pytest
from stdnum.cn import ric

from cases import mediation, services, services_report
from cases.models import Channel, MediationRoom
from grid.models import Role

from .cases_factories import MONDAY, category


def id_number(body="11010519491231002"):
    """A valid 18-character number (GB 11643 check digit) from its first 17 digits."""
    return body + ric.calc_check_digit(body + "0")


APPLICANT_ID = id_number("51070319800101123")
RESPONDENT_ID = id_number("51070319850505456")


def dispute(city, people, *, staff=None, building=None, now=MONDAY, parties=None, accept=True, open_file=True):
    """A 邻里纠纷 reported on the hotline by community staff, accepted by them, its file opened."""
    staff = staff or people.community
    case = services_report.case_report(category=category("E0501"), channel=Channel.HOTLINE,
                                       building=building or city.building_a, description="楼上漏水引发邻里纠纷",
                                       parties=parties, acting_user=staff, now=now)
    if accept:
        case = services.case_accept(case=case, acting_user=staff, now=now)
    if open_file:
        mediation.mediation_open(case=case, acting_user=staff, dispute_type="neighbour",
                                 claims="请求楼上住户维修漏水管道并赔偿损失", now=now)
    return case


def with_parties(case, user, now=MONDAY):
    a = mediation.mediation_add_party(case=case, acting_user=user, role="applicant", name="王五",
                                      id_number=APPLICANT_ID, phone="13911112222", address="幸福路1号1单元301",
                                      now=now)
    b = mediation.mediation_add_party(case=case, acting_user=user, role="respondent", name="赵六",
                                      id_number=RESPONDENT_ID, phone="010-12345678", now=now)
    return a, b


class MediationPeople:
    def __init__(self, people, city, make_user):
        self.mediator = make_user(Role.PEOPLES_MEDIATOR, city.community_a, username="mediator_a", full_name="李调解")
        self.mediator_b = make_user(Role.PEOPLES_MEDIATOR, city.community_b, username="mediator_b")
        self.justice = make_user(Role.JUSTICE_OFFICE_STAFF, city.street_a, username="justice_a")
        self.lawyer = make_user(Role.COMMUNITY_LAWYER, city.community_a, username="lawyer_a")
        self.room = MediationRoom.objects.create(area=city.community_a, name="幸福社区人民调解室",
                                                 address="幸福路1号社区服务中心")
        self.room_b = MediationRoom.objects.create(area=city.community_b, name="和平社区调解室")


@pytest.fixture
def med(people, city, make_user):
    return MediationPeople(people, city, make_user)
