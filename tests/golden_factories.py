"""The golden fixture (issue #18): 33 cases of November 2026 in 城关区, every path a matter takes,
written through the real services with frozen times, so the history tables (deadlines, ratings)
are written the way the portal writes them. tests/test_dashboard_golden.py computes every
figure from these timelines BY HAND.

Category E0101 (暴露垃圾): dispatch 1, accept 1, handle 4 working hours. Working day
08:30–12:00 and 13:30–17:30 (7.5 h); November 2026 has no public holiday. NOW is Friday
27 November 15:30: the period is still running, so "due by the period's end" means due by NOW.

"Standard" below: reported 09:00 (accept deadline 10:00), accepted 09:30 (handling deadline
09:30 + 4 wh = 12:00 (2.5 h) + 13:30–15:00 (1.5 h) = 15:00), resolved 11:00, verified
11:30, closed 11:45: handling time 09:00→11:45 = 165 working minutes.

F1 is a private matter (私事) referred to the parties (cases.services_orgs.case_refer): closed as
"referred", never registered (立案), so it counts apart from solved matters.
"""

from dataclasses import dataclass, field

import pytest

from cases import oversight, services, services_orgs, services_report
from cases.escalation import escalate_overdue
from cases.models import Channel, TimeUnit

from .cases_factories import at, category, png

NOW = at(2026, 11, 27, 15, 30)


def d(day, hour, minute=0):
    return at(2026, 11, day, hour, minute)


@dataclass
class Golden:
    city: object
    people: object
    cases: dict = field(default_factory=dict)

    # --- intake -----------------------------------------------------------------------

    def _report(self, channel, when, *, user=None, building=None):
        return services_report.case_report(
            category=category("E0101"), description="小区门口有一堆暴露垃圾", channel=channel,
            building=building or self.city.building_a, reporter_name="张三", reporter_phone="13800000000",
            acting_user=user, now=when)

    def patrol(self, when, *, street_b=False):
        user = self.people.worker_b if street_b else self.people.worker
        return self._report(Channel.PATROL, when, user=user,
                            building=self.city.building_b if street_b else None)

    def hotline(self, when, *, street_b=False):
        user = self.people.community_b if street_b else self.people.community
        return self._report(Channel.HOTLINE, when, user=user,
                            building=self.city.building_b if street_b else None)

    def web(self, when, *, register_at=None):
        case = self._report(Channel.WEB, when)
        if register_at:
            case = services.case_register(case=case, acting_user=self.people.community, now=register_at)
        return case

    # --- moves --------------------------------------------------------------------------

    def staff(self, case):
        return self.people.community_b if case.community_id == self.city.community_b.pk else self.people.community

    def accept(self, case, when):
        case.refresh_from_db()
        return services.case_accept(case=case, acting_user=case.assignee or self.staff(case), now=when)

    def resolve(self, case, when):
        case.refresh_from_db()
        return services.case_resolve(case=case, acting_user=case.assignee, note="已清理", photos=[png()], now=when)

    def verify(self, case, when, passed=True):
        verifier = self.people.community_b if case.community_id == self.city.community_b.pk \
            else self.people.building_chief
        return services.case_verify(case=case, acting_user=verifier, passed=passed, note="" if passed else "还有垃圾",
                                    now=when)

    def close(self, case, when):
        return services.case_close(case=case, acting_user=self.staff(case), now=when)

    def finish(self, case, day, *, accept=(9, 30), resolve=(11, 0), verify=(11, 30), close=(11, 45)):
        if accept:
            case = self.accept(case, d(day, *accept))
        case = self.resolve(case, d(day, *resolve))
        case = self.verify(case, d(day, *verify))
        return self.close(case, d(day, *close))

    def rate(self, case, when, rating, *, solved=None, reopen=False):
        return services.case_rate(tracking_code=case.tracking_code, rating=rating, solved=solved, reopen=reopen,
                                  now=when)


def build(city, people):
    g = Golden(city, people)
    c = g.cases

    # E1 first: the sweep below must find no other overdue case. Tue 17 Nov: reported 09:00 (accept
    # deadline 10:00), nobody accepts; the sweep at 10:05 moves it to the community, whose fresh clock
    # would say accept by 11:05. The community accepts 10:30: the first accept deadline (10:00) was
    # missed, so the judged deadline stays 10:00 for good. Resolved 14:00, inside the community's
    # fresh handling clock (16:00), closed 15:00: LATE. 09:00→15:00 = 180 + 90 = 270 min.
    c["E1_swept_then_closed"] = g.patrol(d(17, 9))
    assert escalate_overdue(now=d(17, 10, 5)) == 1
    g.finish(c["E1_swept_then_closed"], 17, accept=(10, 30), resolve=(14, 0), verify=(14, 30), close=(15, 0))

    # P1–P6: standard patrol cases, closed on time, not ratable. 165 min each.
    for n, day in enumerate((2, 3, 4, 5, 6, 9), start=1):
        c[f"P{n}_on_time"] = g.finish(g.patrol(d(day, 9)), day)

    # W1–W3: residents' web reports, registered 09:20 (accept deadline 10:20), accepted 09:40
    # (handling deadline 09:40 + 4 wh = 15:10), then standard: on time, 165 min; rated 5, 4, 3.
    for n, (day, rating, solved) in enumerate(((10, 5, True), (11, 4, None), (12, 3, False)), start=1):
        case = g.finish(g.web(d(day, 9), register_at=d(day, 9, 20)), day, accept=(9, 40))
        c[f"W{n}_rated_{rating}"] = g.rate(case, d(day, 12), rating, solved=solved)

    # H1: hotline Fri 13 Nov, signed in 09:30 (by 10:00), standard: on time, rated 5, solved. 165 min.
    c["H1_hotline_rated_5"] = g.rate(g.finish(g.hotline(d(13, 9)), 13), d(13, 12), 5, solved=True)
    # H2: hotline Mon 16 Nov, signed in 10:30, after the 10:00 accept deadline: missed, judged 10:00;
    # resolved 11:00: LATE. Rated 2, not solved (no reopen). 165 min.
    c["H2_hotline_signed_late"] = g.rate(g.finish(g.hotline(d(16, 9)), 16, accept=(10, 30)), d(16, 12), 2,
                                         solved=False)
    # H3: hotline Fri 27 Nov 15:00, accept deadline 16:00, after NOW: still inside its limit.
    c["H3_hotline_inside_limit"] = g.hotline(d(27, 15))
    # H4: hotline Fri 27 Nov 14:00, signed in 14:30 (by 15:00); handling deadline 14:30 + 4 wh =
    # 17:30 (3 h) + Mon 30 Nov 08:30–09:30: inside its limit.
    c["H4_hotline_handling_inside_limit"] = g.accept(g.hotline(d(27, 14)), d(27, 14, 30))

    # E2: Wed 18 Nov, accepted 09:30 (judged 15:00), escalated BY HAND 10:00; the community accepts
    # 10:30 (its fresh clock: 16:00) and resolves 16:00: LATE against 15:00. Closed 16:30:
    # 180 + 180 = 360 min.
    case = g.accept(g.patrol(d(18, 9)), d(18, 9, 30))
    case = services.case_escalate(case=case, acting_user=case.assignee, reason="需要社区协调", now=d(18, 10))
    c["E2_escalated_by_hand"] = g.finish(case, 18, accept=(10, 30), resolve=(16, 0), verify=(16, 15),
                                         close=(16, 30))

    # X1: Thu 19 Nov, accepted 09:30 (judged 15:00); 4 wh extension requested 10:00, approved 10:30:
    # judged 15:00 + 4 wh = 17:30 (2.5 h) + Fri 08:30–10:00 = Fri 20 Nov 10:00. Resolved Fri 09:30: ON TIME.
    # Closed Fri 10:15: Thu 180 + 240 + Fri 105 = 525 min.
    case = g.accept(g.patrol(d(19, 9)), d(19, 9, 30))
    c["X1_extended_on_time"] = _extend(g, case, 4, d(19, 10), d(19, 10, 30))
    g.resolve(case, d(20, 9, 30))
    g.close(g.verify(case, d(20, 10)), d(20, 10, 15))
    # X2: Fri 20 Nov, 1 wh extension approved: judged 16:00; resolved 16:30: LATE (extended).
    # Closed 17:00: 180 + 210 = 390 min.
    case = g.accept(g.patrol(d(20, 9)), d(20, 9, 30))
    c["X2_extended_late"] = _extend(g, case, 1, d(20, 10), d(20, 10, 30))
    g.finish(case, 20, accept=None, resolve=(16, 30), verify=(16, 45), close=(17, 0))

    # R1: Mon 23 Nov, accepted 09:30 (judged 15:00), resolved 10:30, verification fails 11:00 (fresh
    # clock 16:30), resolved again 14:00: ON TIME. Closed 14:45: 180 + 75 = 255 min.
    case = g.resolve(g.accept(g.patrol(d(23, 9)), d(23, 9, 30)), d(23, 10, 30))
    c["R1_reworked_on_time"] = g.verify(case, d(23, 11), passed=False)
    g.finish(case, 23, accept=None, resolve=(14, 0), verify=(14, 30), close=(14, 45))
    # R2: Tue 24 Nov, the same, resolved again 16:00: inside the fresh clock (16:30), LATE against
    # 15:00. Closed 16:30: 360 min.
    case = g.resolve(g.accept(g.patrol(d(24, 9)), d(24, 9, 30)), d(24, 10, 30))
    c["R2_reworked_late"] = g.verify(case, d(24, 11), passed=False)
    g.finish(case, 24, accept=None, resolve=(16, 0), verify=(16, 15), close=(16, 30))

    # O1: Wed 25 Nov, web, registered 09:20, accepted 09:40 (judged 15:10), closed 11:45, rated 1 and
    # reopened 12:00; resolved again 14:00 (ON TIME against 15:10), closed 14:45 (255 min), rated 4.
    case = g.finish(g.web(d(25, 9), register_at=d(25, 9, 20)), 25, accept=(9, 40))
    case = g.rate(case, d(25, 12), 1, reopen=True)
    case = g.finish(case, 25, accept=None, resolve=(14, 0), verify=(14, 30), close=(14, 45))
    c["O1_reopened"] = g.rate(case, d(25, 15), 4, solved=True)

    # C1: Thu 26 Nov, accepted 09:30 (judged 15:00), carried over 10:00 and still paused at NOW:
    # deferred (缓办), not overdue although 15:00 has passed.
    case = g.accept(g.patrol(d(26, 9)), d(26, 9, 30))
    c["C1_carried_over"] = oversight.case_carry_over(case=case, acting_user=people.community, reason="需列入计划",
                                                      now=d(26, 10))
    # C2: Tue 3 Nov, accepted 09:30 (judged 15:00), carried over 10:00, lifted Wed 10:00: paused
    # 120 + 240 + 90 = 450 working min, so judged = Tue 15:00 + 450 = Tue 150 + Wed 210 + 90 → Wed
    # 4 Nov 15:00. Resolved Wed 14:00: ON TIME. Closed 14:45: Tue 420 + Wed 285 = 705 min.
    case = g.accept(g.patrol(d(3, 9)), d(3, 9, 30))
    oversight.case_carry_over(case=case, acting_user=people.community, reason="等待材料", now=d(3, 10))
    c["C2_carried_over_lifted"] = oversight.case_lift_carry_over(case=case, acting_user=people.community,
                                                                 now=d(4, 10))
    g.finish(case, 4, accept=None, resolve=(14, 0), verify=(14, 30), close=(14, 45))

    # J1 rejected, D1 duplicate (of W3), U1/U2 never registered: not matters.
    c["J1_rejected"] = services.case_reject(case=g.web(d(10, 10)), acting_user=people.community, reason="不属实",
                                            now=d(10, 10, 30))
    c["D1_duplicate"] = services.case_mark_duplicate(case=g.web(d(12, 10)), duplicate_of=c["W3_rated_3"],
                                                     acting_user=people.community, now=d(12, 10, 30))
    c["U1_unregistered"] = g.web(d(27, 10))
    c["U2_unregistered_long_ago"] = g.web(d(26, 9))

    # K1: Tue 24 Nov 10:00, accepted 10:30 (judged 16:00), unresolved: OVERDUE.
    c["K1_overdue_handling"] = g.accept(g.patrol(d(24, 10)), d(24, 10, 30))
    # K2: Wed 25 Nov 10:00, never signed in (accept deadline 11:00; no sweep ran): OVERDUE.
    c["K2_overdue_unaccepted"] = g.patrol(d(25, 10))
    # V1: Thu 26 Nov standard up to resolved 11:00, awaiting verification: due, on time, not closed.
    c["V1_resolved_waiting"] = g.resolve(g.accept(g.patrol(d(26, 9)), d(26, 9, 30)), d(26, 11))
    # V2: Thu 26 Nov 13:30, accepted 13:45 (judged 13:45 + 4 wh = 17:30 (3.75 h) + Fri 08:30–08:45),
    # resolved Fri 09:00: LATE, awaiting verification.
    c["V2_resolved_late_waiting"] = g.resolve(g.accept(g.patrol(d(26, 13, 30)), d(26, 13, 45)), d(27, 9))

    # S1, S2: 城南街道 (street_b). S1 Wed 18 Nov standard patrol, on time, 165 min. S2 hotline Thu 19 Nov
    # 09:00, signed in 09:20, resolved 10:00, closed 10:45 (105 min): on time, rated 4, solved.
    c["S1_street_b_on_time"] = g.finish(g.patrol(d(18, 9), street_b=True), 18)
    case = g.finish(g.hotline(d(19, 9), street_b=True), 19, accept=(9, 20), resolve=(10, 0), verify=(10, 30),
                    close=(10, 45))
    c["S2_street_b_hotline"] = g.rate(case, d(19, 11), 4, solved=True)
    # F1: a resident's web report Wed 25 Nov 10:00, a quarrel between neighbours: 私事, referred to
    # the parties at 10:30 (status "referred", never 立案). Reported and valid; in no other measure.
    c["F1_private_referred"] = services_orgs.case_refer(
        case=g.web(d(25, 10)), acting_user=people.community, referred_to="parties",
        told="邻里纠纷属私事，建议双方自行协商，可申请人民调解", reason="邻里纠纷属私事", now=d(25, 10, 30))
    for case in c.values():
        case.refresh_from_db()
    return c


def _extend(g, case, hours, asked, approved):
    request = oversight.case_request_extension(case=case, acting_user=case.assignee, value=hours,
                                               unit=TimeUnit.WORKING_HOURS, reason="需要清运车辆", now=asked)
    oversight.case_decide_extension(extension=request, acting_user=g.people.community, approve=True, now=approved)
    case.refresh_from_db()
    return case


@pytest.fixture
def golden(city, people):
    return build(city, people)
