"""The grid worker's duties as data per district and the 准入 list (risks/duties.py and their admin), and
the monthly work record (hub/work_record.py): a hand-counted month, scope inside and outside, bad input."""

import datetime

import pytest
from django.urls import reverse

from grid.models import Role
from portal.errors import DomainError
from risks import duties, patrols
from risks.models import AdmittedService, Duty, WorkKind

from .cases_factories import png
from .residents_factories import household_in, resident_in
from .risks_factories import NOW, people, risk_fields

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-11-23T09:00:00+08:00")]

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def crew(city, make_user):
    duties.load_default_duties()
    crew = people(city, make_user)
    crew["official"] = make_user(Role.DISTRICT_OFFICIAL, city.district, full_name="区干部")
    crew["other_official"] = make_user(Role.DISTRICT_OFFICIAL, city.other_district, full_name="别区干部")
    return crew


def test_the_default_ten(crew):
    rows = list(Duty.objects.filter(district__isnull=True).values_list("number", "name"))
    assert [n for n, _name in rows] == list(range(1, 11))
    assert (3, "安全隐患排查") in rows and (1, "基础信息采集") in rows
    counted = [k for d in Duty.objects.filter(district__isnull=True) for k in d.work_kinds]
    assert sorted(counted) == sorted(WorkKind.values)  # every kind of work counted, once


def duty(city, **fields):
    return Duty(**{"district": city.district, "number": 3, "name": "安全隐患排查", "work_kinds": ["patrol"],
                   **fields})


@pytest.mark.parametrize("bad", [{"number": 0}, {"number": 11}, {"name": "  "}, {"work_kinds": ["nonsense"]},
                                 {"work_kinds": "patrol"}])
def test_a_duty_with_bad_input_is_refused(city, crew, bad):
    with pytest.raises(DomainError):
        duties.duty_save(duty=duty(city, **bad), acting_user=crew["official"])
    assert not Duty.objects.filter(district=city.district).exists()


def test_a_kind_of_work_counts_under_one_duty_and_only_officials_edit(city, crew):
    duties.duty_save(duty=duty(city), acting_user=crew["official"])
    with pytest.raises(DomainError):
        duties.duty_save(duty=duty(city, number=4, name="别的"), acting_user=crew["official"])
    with pytest.raises(DomainError):
        duties.duty_save(duty=duty(city, work_kinds=[]), acting_user=crew["official"])  # number 3 twice
    for user in (crew["other_official"], crew["street"], crew["staff"]):
        with pytest.raises(DomainError):
            duties.duty_save(duty=duty(city, number=5, work_kinds=[]), acting_user=user)
    with pytest.raises(DomainError):  # the default list: administrators only
        duties.duty_save(duty=duty(city, district=None, number=5, work_kinds=[]), acting_user=crew["official"])
    assert Duty.objects.filter(district=city.district).count() == 1


def test_admitted_services_bad_input(city, crew):
    good = {"district": city.district, "name": "人口普查入户登记", "department": "统计局", "basis": "区府办〔2026〕3号",
            "admitted_on": datetime.date(2026, 1, 1)}
    for bad in ({"name": ""}, {"department": " "}, {"withdrawn_on": datetime.date(2025, 1, 1)},
                {"district": city.street_a}):
        with pytest.raises(DomainError):
            duties.admitted_service_save(service=AdmittedService(**{**good, **bad}), acting_user=crew["official"])
    with pytest.raises(DomainError):
        duties.admitted_service_save(service=AdmittedService(**good), acting_user=crew["other_official"])
    duties.admitted_service_save(service=AdmittedService(**good), acting_user=crew["official"])
    with pytest.raises(DomainError):
        duties.admitted_service_save(service=AdmittedService(**good), acting_user=crew["official"])
    assert AdmittedService.objects.count() == 1


def test_duty_admin_inside_outside_and_bad_input(client, city, crew):
    mine = duties.duty_save(duty=duty(city), acting_user=crew["official"])
    other = duties.duty_save(duty=duty(city, district=city.other_district), acting_user=crew["other_official"])
    client.force_login(crew["official"])
    assert client.get(reverse("admin:risks_duty_change", args=[mine.pk])).status_code == 200
    assert client.get(reverse("admin:risks_duty_change", args=[other.pk])).status_code == 404
    url = reverse("admin:risks_duty_add")
    for bad in ({"number": "0"}, {"number": "3"}, {"work_kinds": ["patrol"]}, {"name": ""}):
        post = {"district": city.district.pk, "number": "4", "name": "矛盾纠纷排查化解", "work_kinds": ["care_visit"],
                **bad}
        response = client.post(url, post)
        assert response.status_code == 200, bad  # the form again, with the refusal
        assert "errorlist" in response.content.decode() or "errornote" in response.content.decode()
    assert Duty.objects.filter(district=city.district).count() == 1
    response = client.post(url, {"district": city.district.pk, "number": "4", "name": "矛盾纠纷排查化解",
                                 "work_kinds": ["care_visit"]})
    assert response.status_code == 302 and Duty.objects.filter(district=city.district).count() == 2


@pytest.fixture
def month_of_work(city, crew):
    """November: two patrols (one risk, one fix, one case), a care visit; one patrol in October."""
    worker = crew["worker"]
    first = patrols.patrol_start(grid=city.grid_a, acting_user=worker, now=NOW - 48 * HOUR)
    patrols.finding_risk(patrol=first, building=city.building_a, acting_user=worker, now=NOW - 47 * HOUR,
                         **risk_fields())
    patrols.finding_fixed(patrol=first, description="扶正垃圾桶", before=png(), after=png(), acting_user=worker,
                          now=NOW - 47 * HOUR)
    patrols.patrol_end(patrol=first, acting_user=worker, now=NOW - 46 * HOUR)
    second = patrols.patrol_start(grid=city.grid_a, acting_user=worker, now=NOW - 2 * HOUR)
    patrols.finding_case(patrol=second, category="E0101", description="路灯不亮", acting_user=worker,
                         now=NOW - HOUR)
    patrols.patrol_end(patrol=second, acting_user=worker, now=NOW)
    october = patrols.patrol_start(grid=city.grid_a, acting_user=worker, now=NOW - 30 * 24 * HOUR)
    patrols.patrol_end(patrol=october, acting_user=worker, now=NOW - 30 * 24 * HOUR + HOUR)
    from residents import services as resident_services

    resident = resident_in(household_in(city.unit_a, acting_user=crew["staff"]), acting_user=crew["staff"])
    resident_services.care_visit_log(resident=resident, notes="身体尚好", acting_user=worker, now=NOW)
    return worker


def test_the_month_hand_counted(client, city, crew, month_of_work):
    client.force_login(crew["staff"])
    response = client.get(reverse("cases:work_record", args=[month_of_work.pk]), {"month": "2026-11"})
    assert response.status_code == 200
    rows = {d.number: (d.items, d.total) for d in response.context["record"].duties}
    assert rows[3][1] == 4  # 2 patrols + 1 risk registered + 1 fixed on the spot (October's patrol apart)
    assert rows[2][1] == 1  # the case reported from the patrol
    assert rows[5][1] == 1  # the care visit
    assert rows[9][1] == 0 and rows[1] == ([], 0)
    body = response.content.decode()
    assert "身体尚好" not in body and "张三" not in body and "路灯不亮" not in body  # counts only
    october = client.get(reverse("cases:work_record", args=[month_of_work.pk]), {"month": "2026-10"})
    assert {d.number: d.total for d in october.context["record"].duties}[3] == 1


def test_work_record_pages_inside_outside_and_bad_month(client, city, crew, month_of_work, make_user):
    url = reverse("cases:work_record", args=[month_of_work.pk])
    for who, expected in (("staff", 200), ("street", 200), ("official", 200), ("outsider", 404),
                          ("other_official", 404), ("chief", 404)):
        client.force_login(crew[who])
        assert client.get(url).status_code == expected, who
    other_worker = make_user(Role.GRID_WORKER, city.grid_b, full_name="乙网格员")
    client.force_login(crew["worker"])
    assert client.get(url).status_code == 200  # her own
    assert client.get(reverse("cases:work_record", args=[other_worker.pk])).status_code == 404
    client.force_login(crew["staff"])
    for bad in ("2026-13", "x", "2026-12", "1999-01", "2026-11-01", "\x00"):
        response = client.get(url, {"month": bad})
        assert response.status_code == 400, bad
        assert "YYYY-MM" in response.content.decode()
    listing = client.get(reverse("cases:work_records")).content.decode()
    assert f"/work-records/{month_of_work.pk}/" in listing and f"/work-records/{other_worker.pk}/" not in listing


def test_admitted_service_admin_inside_outside_and_bad_input(client, city, crew):
    good = {"district": city.district, "name": "人口普查入户登记", "department": "统计局", "basis": "区府办〔2026〕3号",
            "admitted_on": datetime.date(2026, 1, 1)}
    mine = duties.admitted_service_save(service=AdmittedService(**good), acting_user=crew["official"])
    other = duties.admitted_service_save(service=AdmittedService(**{**good, "district": city.other_district}),
                                         acting_user=crew["other_official"])
    client.force_login(crew["official"])
    assert client.get(reverse("admin:risks_admittedservice_change", args=[mine.pk])).status_code == 200
    assert client.get(reverse("admin:risks_admittedservice_change", args=[other.pk])).status_code == 404
    url = reverse("admin:risks_admittedservice_add")
    post = {"district": city.district.pk, "name": "食品安全巡查", "department": "市场监管所", "basis": "文件",
            "admitted_on": "2026-02-01"}
    for bad in ({"name": ""}, {"name": "人口普查入户登记"}, {"withdrawn_on": "2026-01-01"},
                {"district": city.other_district.pk}, {"admitted_on": "2026-02-31"}):
        response = client.post(url, {**post, **bad})
        assert response.status_code == 200, bad
        assert "errorlist" in response.content.decode() or "errornote" in response.content.decode()
    assert AdmittedService.objects.count() == 2
    assert client.post(url, post).status_code == 302 and AdmittedService.objects.count() == 3
