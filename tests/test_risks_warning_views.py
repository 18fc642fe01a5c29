"""The warnings panel and the rules page: every URL with a warning inside the user's subtree and one
outside (404), bad input for every form (a clear error, nothing written), the panel's queries."""

import datetime

import pytest
from django.urls import reverse

from grid.models import Role
from risks import early_warning
from risks.models import EarlyWarning, WarningEvent, WarningRule, WarningStatus

from .risks_factories import NOW, people, register

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-10T09:00:00+08:00")]

LATER = NOW + datetime.timedelta(days=17)  # both orange risks' reviews (2026-12-08) are past


@pytest.fixture
def crew(city, make_user):
    crew = people(city, make_user)
    crew["official"] = make_user(Role.DISTRICT_OFFICIAL, city.district, full_name="区干部")
    crew["other_official"] = make_user(Role.DISTRICT_OFFICIAL, city.other_district, full_name="别区干部")
    crew["worker_b"] = make_user(Role.GRID_WORKER, city.grid_b, full_name="乙网格员")
    return crew


@pytest.fixture
def warnings(city, crew):
    register(city, crew["worker"])
    register(city, crew["worker_b"], building=city.building_b, title="和平9号楼楼道堆物")
    early_warning.warnings_sweep(now=LATER)
    mine = EarlyWarning.objects.get(community=city.community_a)
    other = EarlyWarning.objects.get(community=city.community_b)
    return mine, other


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", ["warning", "warning_acknowledge", "warning_dismiss"])
def test_warning_urls_inside_and_outside(client, crew, warnings, name):
    mine, other = warnings
    client = signed_in(client, crew["staff"])
    for warning, expected in ((mine, {200, 400}), (other, {404})):
        url = reverse(f"risks:{name}", args=[warning.pk])
        response = client.get(url) if name == "warning" else client.post(url, {})
        assert response.status_code in expected, (name, warning, response.status_code)
    assert not WarningEvent.objects.exists()


def test_the_panel_shows_only_the_subtree_and_no_one_below_staff(client, crew, warnings,
                                                                 django_assert_max_num_queries):
    mine, other = warnings
    client = signed_in(client, crew["street"])
    with django_assert_max_num_queries(10):
        page = client.get(reverse("risks:warnings")).content.decode()
    assert f"/risks/warnings/{mine.pk}/" in page and f"/risks/warnings/{other.pk}/" not in page
    for who in ("worker", "chief"):
        page = signed_in(client, crew[who]).get(reverse("risks:warnings")).content.decode()
        assert f"/risks/warnings/{mine.pk}/" not in page
        assert signed_in(client, crew[who]).get(reverse("risks:warning", args=[mine.pk])).status_code == 404
    page = signed_in(client, crew["official"]).get(reverse("risks:warnings")).content.decode()
    assert f"/risks/warnings/{mine.pk}/" in page and f"/risks/warnings/{other.pk}/" in page


def test_the_panel_filters_by_status_and_ignores_nonsense(client, crew, warnings):
    mine, _other = warnings
    client = signed_in(client, crew["staff"])
    assert f"/risks/warnings/{mine.pk}/" not in client.get(reverse("risks:warnings") + "?status=dismissed").content.decode()
    assert client.get(reverse("risks:warnings") + "?status=%00<x>").status_code == 200


def test_acknowledge_with_a_note_and_bad_input(client, crew, warnings):
    mine, _other = warnings
    client = signed_in(client, crew["staff"])
    url = reverse("risks:warning_acknowledge", args=[mine.pk])
    for bad in ({}, {"note": "   "}, {"note": "x" * 2001}):
        response = client.post(url, bad)
        assert response.status_code == 400, bad
        assert 'class="form-errors"' in response.content.decode() or "field-error" in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == WarningStatus.OPEN and not WarningEvent.objects.exists()
    response = client.post(url, {"note": "已通知物业本周内清理，周五复查"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.status, mine.handled_by) == (WarningStatus.ACKNOWLEDGED, crew["staff"])
    # Handled already: a clear refusal, nothing more logged.
    response = client.post(reverse("risks:warning_dismiss", args=[mine.pk]), {"note": "again"})
    assert response.status_code == 400 and WarningEvent.objects.count() == 1


def test_rules_page_inside_and_outside_and_bad_input(client, city, crew):
    url = reverse("risks:warning_rules", args=[city.district.pk])
    for who in ("other_official", "street", "staff", "worker"):
        assert signed_in(client, crew[who]).get(url).status_code == 404
        assert signed_in(client, crew[who]).post(url, {"kind": "case_repeat"}).status_code == 404
    client = signed_in(client, crew["official"])
    assert client.get(url).status_code == 200
    assert client.get(reverse("risks:warning_rules", args=[city.other_district.pk])).status_code == 404
    good = {"kind": "case_repeat", "case_repeat-threshold": "2", "case_repeat-window_days": "14",
            "case_repeat-enabled": "on"}
    for bad in ({"case_repeat-threshold": "0"}, {"case_repeat-window_days": "0"}, {"case_repeat-threshold": "x"},
                {"case_repeat-threshold": ""}, {"case_repeat-window_days": "9999"}):
        response = client.post(url, {**good, **bad})
        assert response.status_code == 400, bad
        assert "field-error" in response.content.decode()
    assert client.post(url, {**good, "kind": "nonsense"}).status_code == 404
    assert not WarningRule.objects.exists()
    assert client.post(url, good).status_code == 302
    rule = WarningRule.objects.get()
    assert (rule.district, rule.kind, rule.threshold, rule.window_days) == (city.district, "case_repeat", 2, 14)


def test_assign_to_a_new_case_or_a_risk_and_bad_input(client, city, crew, warnings):
    from cases.models import Case

    from .cases_factories import category

    category("E0101")
    mine, other = warnings
    client = signed_in(client, crew["staff"])
    url = reverse("risks:warning_assign", args=[mine.pk])
    assert client.post(reverse("risks:warning_assign", args=[other.pk]), {}).status_code == 404
    cases_before = Case.objects.count()
    for bad in ({"assign-note": "派单"}, {"assign-category": "E0101", "assign-risk": str(mine.risk_id),
                                        "assign-note": "两个都选"},
                {"assign-category": "E0101", "assign-note": ""}, {"assign-risk": "999999", "assign-note": "x"},
                {"assign-category": "nonsense", "assign-note": "x"}):
        response = client.post(url, bad)
        assert response.status_code == 400, bad
        assert "form-errors" in response.content.decode() or "field-error" in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == WarningStatus.OPEN and Case.objects.count() == cases_before
    assert not WarningEvent.objects.exists()
    response = client.post(url, {"assign-category": "E0101", "assign-note": "派社区清理"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == WarningStatus.ASSIGNED and mine.assigned_case is not None
    assert mine.assigned_case.building_id == city.building_a.pk
    assert list(WarningEvent.objects.values_list("action", flat=True)) == ["assigned"]
    page = client.get(reverse("risks:warning", args=[mine.pk])).content.decode()
    assert mine.assigned_case.number in page


def test_the_risks_offered_for_a_warning_say_where_and_when(client, city, crew, warnings):
    """Seven risks titled alike must be told apart: each choice names its grade, building and day."""
    from risks.models import Risk

    mine, _other = warnings
    risk = Risk.objects.get(pk=mine.risk_id) if mine.risk_id else Risk.objects.filter(community=city.community_a).first()
    page = signed_in(client, crew["staff"]).get(reverse("risks:warning", args=[mine.pk])).content.decode()
    building = risk.building.name or str(risk.building)
    option = next(line for line in page.splitlines() if f'value="{risk.pk}"' in line and "<option" in line)
    assert risk.title in option and building in option and risk.get_grade_display() in option
