"""The risks admin: scoped through risks_visible_to (managing posts), controls changed through the
service, the grade read-only, nothing added or deleted here."""

import pytest
from django.urls import reverse

from risks import patrols
from risks.models import Risk

from .risks_factories import NOW, people, register

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-11-23T09:00:00+08:00")]


@pytest.fixture
def crew(city, make_user):
    return people(city, make_user)


def test_changelist_and_change_page_inside_and_outside(client, city, crew):
    mine = register(city, crew["worker"])
    other = register(city, crew["outsider"], building=city.building_b)
    client.force_login(crew["staff"])
    page = client.get(reverse("admin:risks_risk_changelist")).content.decode()
    assert f"/admin/risks/risk/{mine.pk}/change/" in page and f"/admin/risks/risk/{other.pk}/change/" not in page
    assert client.get(reverse("admin:risks_risk_change", args=[mine.pk])).status_code == 200
    assert client.get(reverse("admin:risks_risk_change", args=[other.pk])).status_code == 404
    assert client.get(reverse("admin:risks_risk_add")).status_code == 403


def test_a_grid_worker_has_no_admin(client, city, crew):
    register(city, crew["worker"])
    client.force_login(crew["worker"])
    assert client.get(reverse("admin:risks_risk_changelist")).status_code in (302, 403)


def test_controls_change_through_the_service_and_the_grade_stays(client, city, crew):
    risk = register(city, crew["worker"])
    client.force_login(crew["staff"])
    url = reverse("admin:risks_risk_change", args=[risk.pk])
    response = client.post(url, {"responsible": "", "responsible_phone": "", "measures": "x", "grade": "1red",
                                 "assessments-TOTAL_FORMS": "0", "assessments-INITIAL_FORMS": "1"})
    assert response.status_code == 200 and Risk.objects.get().responsible == "幸福物业公司"  # refused: blank
    response = client.post(url, {"responsible": "王经理", "responsible_phone": "13900000000", "measures": "每日巡查",
                                 "grade": "1red", "assessments-TOTAL_FORMS": "0",
                                 "assessments-INITIAL_FORMS": "1"})
    assert response.status_code == 302
    risk.refresh_from_db()
    assert (risk.responsible, risk.grade) == ("王经理", "2orange")


def test_patrol_log_inside_and_outside(client, city, crew, make_user):
    from grid.models import Role

    mine = patrols.patrol_start(grid=city.grid_a, acting_user=crew["worker"], now=NOW)
    other = patrols.patrol_start(grid=city.grid_b, acting_user=make_user(Role.GRID_WORKER, city.grid_b), now=NOW)
    client.force_login(crew["staff"])
    assert client.get(reverse("admin:risks_patrol_change", args=[mine.pk])).status_code == 200
    assert client.get(reverse("admin:risks_patrol_change", args=[other.pk])).status_code == 404
