"""巡查计划 (risks/plans.py): plans per grid, due on the worker's day, ticked done on a patrol; bad input
refused; the done URL and the admin inside and outside the user's subtree."""

import datetime

import pytest
from django.urls import reverse

from portal.errors import DomainError
from risks import patrols, plans
from risks.models import InspectionPlan

from .risks_factories import NOW, people

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-11-23T09:00:00+08:00")]

TODAY = datetime.date(2026, 11, 23)


@pytest.fixture
def crew(city, make_user):
    return people(city, make_user)


def plan(city, user, **fields):
    return plans.plan_add(**{"grid": city.grid_a, "building": city.building_a, "title": "1号楼消防通道",
                             "interval_days": 7, "acting_user": user, "now": NOW, **fields})


@pytest.mark.parametrize("bad", [{"interval_days": 0}, {"interval_days": "x"}, {"interval_days": 400},
                                 {"title": " "}, {"first_due": TODAY - datetime.timedelta(days=1)}])
def test_bad_plans_are_refused(city, crew, bad):
    with pytest.raises(DomainError):
        plan(city, crew["staff"], **bad)
    assert not InspectionPlan.objects.exists()


def test_a_building_outside_the_grid_and_an_outsider_are_refused(city, crew):
    with pytest.raises(DomainError):
        plan(city, crew["staff"], building=city.building_b)
    for who in ("outsider", "chief"):
        with pytest.raises(DomainError):
            plan(city, crew[who])
    assert not InspectionPlan.objects.exists()


def test_due_on_the_day_ticked_done_on_a_patrol_once(client, city, crew):
    mine = plan(city, crew["staff"])
    client.force_login(crew["worker"])
    page = client.get(reverse("risks:day")).content.decode()
    assert "1号楼消防通道" in page and f"/risks/plans/{mine.pk}/done/" not in page  # no patrol yet
    with pytest.raises(DomainError):
        plans.plan_done(plan=mine, acting_user=crew["worker"], now=NOW)
    patrols.patrol_start(grid=city.grid_a, acting_user=crew["worker"], now=NOW)
    page = client.get(reverse("risks:day")).content.decode()
    assert f"/risks/plans/{mine.pk}/done/" in page
    assert client.post(reverse("risks:plan_done", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    assert mine.next_due == TODAY + datetime.timedelta(days=7) and mine.last_patrol is not None
    client.post(reverse("risks:plan_done", args=[mine.pk]))  # a double tap: refused, nothing moves
    mine.refresh_from_db()
    assert mine.next_due == TODAY + datetime.timedelta(days=7)
    assert f"/risks/plans/{mine.pk}/done/" not in client.get(reverse("risks:day")).content.decode()


def test_done_url_and_admin_inside_and_outside(client, city, crew, make_user):
    from grid.models import Role

    mine = plan(city, crew["staff"])
    other_worker = make_user(Role.GRID_WORKER, city.grid_b, full_name="乙")
    other = plan(city, crew["outsider"], grid=city.grid_b, building=city.building_b)
    client.force_login(crew["worker"])
    assert client.post(reverse("risks:plan_done", args=[other.pk])).status_code == 404
    client.force_login(other_worker)
    assert client.post(reverse("risks:plan_done", args=[mine.pk])).status_code == 404
    client.force_login(crew["staff"])
    assert client.get(reverse("admin:risks_inspectionplan_change", args=[mine.pk])).status_code == 200
    assert client.get(reverse("admin:risks_inspectionplan_change", args=[other.pk])).status_code == 404
    url = reverse("admin:risks_inspectionplan_add")
    good = {"grid": city.grid_a.pk, "building": city.building_a.pk, "title": "楼栋巡查", "interval_days": "14",
            "next_due": "2026-11-24"}
    for bad in ({"interval_days": "0"}, {"grid": city.grid_b.pk, "building": ""}, {"next_due": "2026-11-01"},
                {"building": city.building_b.pk}, {"title": ""}):
        response = client.post(url, {**good, **bad})
        assert response.status_code == 200, bad
    assert InspectionPlan.objects.count() == 2
    assert client.post(url, good).status_code == 302 and InspectionPlan.objects.count() == 3
