"""People, residents and records for the participation tests, through the services."""

import pytest

from grid.models import Role
from residents.participation import services

from .cases_factories import MONDAY, at, fresh_calendar  # noqa: F401  (fixture re-exported)
from .residents_factories import household_in, resident_in


class Cast:
    """Staff inside community A, staff of community B (outside), a grid worker and a chief in A,
    and residents living in grid A, grid A2 and grid B."""

    def __init__(self, city, make_user):
        self.city = city
        self.staff = make_user(Role.COMMUNITY_STAFF, city.community_a, username="staff_a")
        self.staff_b = make_user(Role.COMMUNITY_STAFF, city.community_b, username="staff_b")
        self.street = make_user(Role.STREET_STAFF, city.street_a, username="street_a")
        self.worker = make_user(Role.GRID_WORKER, city.grid_a, username="worker_a")
        self.chief = make_user(Role.BUILDING_CHIEF, city.building_a, username="chief_a")
        home = household_in(city.unit_a, "301", acting_user=self.staff)
        self.residents = [resident_in(home, name, acting_user=self.staff, phone=f"1390000000{n}")
                          for n, name in enumerate(["李秀英", "王建国", "赵红梅"])]
        away = household_in(city.unit_b, "502", acting_user=self.staff_b)
        self.outsider = resident_in(away, "孙志刚", acting_user=self.staff_b, phone="13900009999")


@pytest.fixture
def cast(city, make_user):
    return Cast(city, make_user)


def proposal(cast, *, threshold=2, place=None, now=MONDAY, **kwargs):
    kwargs.setdefault("title", "小区加装电动车充电桩")
    kwargs.setdefault("description", "楼下电动车飞线充电，有火灾隐患，建议加装集中充电桩。")
    return services.proposal_create(place=place or cast.city.grid_a, threshold=threshold,
                                    acting_user=cast.staff, now=now, **kwargs)


def in_deliberation(cast, **kwargs):
    found = proposal(cast, **kwargs)
    return services.proposal_deliberate(proposal=found, acting_user=cast.staff, now=MONDAY)


def decided_track(cast, *, now=MONDAY):
    """A track through its four deliberations, decided (adopted) at `now`."""
    track = services.track_open(proposal=in_deliberation(cast), acting_user=cast.staff, now=now)
    for step in ("propose", "discuss", "review"):
        track = services.track_step(track=track, step=step, note=f"{step} 记录", acting_user=cast.staff, now=now)
    return services.track_step(track=track, step="decide", note="村民代表会议", votes=(30, 2, 1),
                               decision_text="同意加装充电桩", acting_user=cast.staff, now=now)


def published_track(cast, *, now=MONDAY):
    return services.track_publish_decision(track=decided_track(cast, now=now), acting_user=cast.staff, now=now)


__all__ = ["MONDAY", "at", "Cast", "cast", "proposal", "in_deliberation", "decided_track",
           "published_track"]
