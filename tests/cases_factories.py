"""Helpers for the cases tests: frozen Shanghai times, real image uploads, reports."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Category, Channel
from cases.services_report import case_report
from grid.models import Role
from portal.workcalendar import calendar as working_calendar

TZ = ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour=9, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


# A Monday 09:00, a plain working week (2026-11-23 is a Monday).
MONDAY = at(2026, 11, 23, 9, 0)


def png(name="photo.png", size=(8, 8), color=(200, 30, 30)):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def category(code="E0101"):
    found = Category.objects.filter(code=code).first()
    if found is None:
        # A transactional test elsewhere flushed the migrated reference data.
        from cases.seed import load_reference_data

        load_reference_data()
        found = Category.objects.get(code=code)
    return found


@pytest.fixture(autouse=True)
def fresh_calendar():
    """Rolled-back tests leave no stale calendar snapshot (nor a broker marked down) in this process."""
    from cases.notifications import broker_back

    working_calendar.invalidate()
    broker_back()
    yield
    working_calendar.invalidate()
    broker_back()


def resident_report(city, *, code="E0101", building=None, now=MONDAY, **kwargs):
    kwargs.setdefault("description", "小区门口有一堆暴露垃圾")
    return case_report(category=category(code), channel=Channel.WEB, building=building or city.building_a,
                       reporter_name="张三", reporter_phone="13800000000", now=now, **kwargs)


class People:
    """The posts a case meets on its way, on the test city."""

    def __init__(self, city, make_user):
        self.worker = make_user(Role.GRID_WORKER, city.grid_a, username="worker_a")
        self.worker2 = make_user(Role.GRID_WORKER, city.grid_a, username="worker_a_two")
        self.worker_b = make_user(Role.GRID_WORKER, city.grid_b, username="worker_b")
        self.community = make_user(Role.COMMUNITY_STAFF, city.community_a, username="community_a", email="c@example.org")
        self.community_b = make_user(Role.COMMUNITY_STAFF, city.community_b, username="community_b")
        self.street = make_user(Role.STREET_STAFF, city.street_a, username="street_a")
        self.district = make_user(Role.DISTRICT_OFFICIAL, city.district, username="district")
        self.other_district = make_user(Role.DISTRICT_OFFICIAL, city.other_district, username="other_district")
        self.building_chief = make_user(Role.BUILDING_CHIEF, city.building_a, username="chief_a")


@pytest.fixture
def people(city, make_user):
    return People(city, make_user)


def to_status(city, people, status, *, now=MONDAY, code="E0101"):
    """A case brought to `status` through the real services (the way it happens in the portal)."""
    from cases import services, services_orgs
    from cases.models import Status

    case = resident_report(city, code=code, now=now)
    if status == Status.REPORTED:
        return case
    if status == Status.REJECTED:
        return services.case_reject(case=case, acting_user=people.community, reason="不属于受理范围", now=now)
    if status == Status.REFERRED:
        return services_orgs.case_refer(case=case, acting_user=people.community, referred_to="parties",
                                        told="已告知当事人自行协商", reason="属家庭内部事务", now=now)
    if status == Status.DUPLICATE:
        original = resident_report(city, code=code, now=now)
        return services.case_mark_duplicate(case=case, duplicate_of=original, acting_user=people.community, now=now)
    case = services.case_register(case=case, acting_user=people.community, now=now)
    if status == Status.DISPATCHED:
        return case
    if status == Status.REGISTERED:
        return services.case_return(case=case, acting_user=case.assignee, reason="不是本网格的事", now=now)
    handler = case.assignee
    case = services.case_accept(case=case, acting_user=handler, now=now)
    if status == Status.HANDLING:
        return case
    case = services.case_resolve(case=case, acting_user=handler, note="已清理", photos=[png()], now=now)
    if status == Status.RESOLVED:
        return case
    case = services.case_verify(case=case, acting_user=people.community, passed=True, now=now)
    if status == Status.VERIFIED:
        return case
    case = services.case_close(case=case, acting_user=people.community, now=now)
    assert case.status == Status.CLOSED
    return case
