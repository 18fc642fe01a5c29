"""A district's own risk-matrix bands (risks/bands.py): grading by them from the next assessment on,
the default elsewhere, refusals of bands that fall, leave the range or leave a grade unreachable
(nothing written), and the admin scoped to the district's officials."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from grid.models import Role
from portal.errors import DomainError
from risks import bands, grading, services
from risks.grading import Grade
from risks.models import MatrixBands

from .risks_factories import NOW, people, register

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-11-23T09:00:00+08:00")]


@pytest.fixture
def crew(city, make_user):
    crew = people(city, make_user)
    crew["official"] = make_user(Role.DISTRICT_OFFICIAL, city.district, full_name="区干部")
    crew["other_official"] = make_user(Role.DISTRICT_OFFICIAL, city.other_district, full_name="别区干部")
    return crew


def set_bands(city, crew, edges, district=None):
    return bands.matrix_bands_set(district=district or city.district, yellow_from=edges[0], orange_from=edges[1],
                                  red_from=edges[2], acting_user=crew["official"], now=NOW)


def test_the_default_bands_are_the_published_ones():
    # R 20–25 red, 15–16 orange, 9–12 yellow, 1–8 blue (risks/grading.py).
    assert [grading.matrix_grade(r) for r in (8, 9, 12, 15, 16, 20, 25)] == [
        Grade.BLUE, Grade.YELLOW, Grade.YELLOW, Grade.ORANGE, Grade.ORANGE, Grade.RED, Grade.RED]


def test_a_district_grades_by_its_own_bands_from_the_next_assessment(city, crew):
    before = register(city, crew["worker"], likelihood=3, severity=4)  # R 12: yellow by the default
    assert before.grade == Grade.YELLOW
    # Another published matrix: 一般 4–9, 较大 10–16, 重大 20–25 (blue 1–3).
    set_bands(city, crew, (4, 10, 20))
    before.refresh_from_db()
    assert before.grade == Grade.YELLOW  # a grade given stays until a reassessment
    after = register(city, crew["worker"], likelihood=3, severity=4, title="新登记")
    assert after.grade == Grade.ORANGE and after.review_on == datetime.date(2026, 12, 8)  # 15 days: orange
    assert after.assessments.get().grade == Grade.ORANGE
    reassessed = services.risk_reassess(risk=before, method="matrix", likelihood=3, severity=4,
                                        acting_user=crew["worker"], now=NOW)
    assert reassessed.grade == Grade.ORANGE
    assert list(before.assessments.order_by("at", "id").values_list("grade", "previous_grade")) == [
        (Grade.YELLOW, ""), (Grade.ORANGE, Grade.YELLOW)]
    # R 3 is blue there, R 4 yellow (the default calls both blue).
    assert register(city, crew["worker"], likelihood=1, severity=4, title="四").grade == Grade.YELLOW
    assert register(city, crew["worker"], likelihood=1, severity=3, title="三").grade == Grade.BLUE


def test_another_district_keeps_the_default_and_lec_is_untouched(city, crew, make_user):
    from grid import services as grid_services

    set_bands(city, crew, (4, 10, 20))
    add = grid_services.area_add
    street = add(kind="street", name="涪城街道", parent=city.other_district)
    grid = add(kind="grid", name="涪城第一网格", parent=add(kind="community", name="涪城社区", parent=street))
    building = grid_services.building_add(grid=grid, number="2号楼", address="涪城路2号")
    worker = make_user(Role.GRID_WORKER, grid, full_name="涪城网格员")
    assert bands.matrix_bands_for(city.other_district.pk) is None
    assert register(city, worker, building=building, likelihood=3, severity=4).grade == Grade.YELLOW
    # LEC keeps its published bands: D = 3 × 6 × 7 = 126, yellow.
    lec = register(city, crew["worker"], method="lec", likelihood=3, exposure=6, severity=7, title="LEC")
    assert lec.grade == Grade.YELLOW


@pytest.mark.parametrize("edges, code", [
    ((9, 9, 20), "not_monotonic"), ((15, 9, 20), "not_monotonic"), ((9, 20, 15), "not_monotonic"),
    ((1, 15, 20), "bad_edge"), ((0, 15, 20), "bad_edge"), ((9, 15, 26), "bad_edge"), ((-3, 15, 20), "bad_edge"),
    (("x", 15, 20), "bad_edge"), ((None, 15, 20), "bad_edge"), ((9.5, 15, 20), "bad_edge"),
    ((9, 17, 20), "empty_band"),  # orange 17–19: no L × S gives 17, 18 or 19
    ((9, 13, 15), "empty_band"),  # orange 13–14: none either
    ((5, 21, 25), "empty_band"),  # orange 21–24: none
])
def test_bad_bands_are_refused_and_nothing_is_written(city, crew, edges, code):
    with pytest.raises(DomainError) as refused:
        set_bands(city, crew, edges)
    assert refused.value.code == code
    assert not MatrixBands.objects.exists()


@pytest.mark.parametrize("edges", [(2, 3, 4), (9, 15, 25)])
def test_narrow_bands_with_a_reachable_score_each_are_accepted(city, crew, edges):
    # (2, 3, 4): 1 blue, 2 yellow, 3 orange, 4–25 red; (9, 15, 25): red only 5 × 5.
    assert set_bands(city, crew, edges).edges == edges


def test_a_refused_change_keeps_the_bands_in_force(city, crew):
    set_bands(city, crew, (4, 10, 20))
    with pytest.raises(DomainError):
        set_bands(city, crew, (10, 4, 20))
    assert bands.matrix_bands_for(city.district.pk) == (4, 10, 20)


def test_only_the_districts_officials_set_its_bands(city, crew):
    for user in (crew["other_official"], crew["street"], crew["staff"], crew["worker"], None):
        with pytest.raises(DomainError):
            bands.matrix_bands_set(district=city.district, yellow_from=4, orange_from=10, red_from=20,
                                   acting_user=user, now=NOW)
    with pytest.raises(DomainError):  # a street is not a district
        bands.matrix_bands_set(district=city.street_a, yellow_from=4, orange_from=10, red_from=20,
                               acting_user=crew["official"], now=NOW)
    assert not MatrixBands.objects.exists()


def test_the_database_refuses_falling_or_out_of_range_bands(city, crew):
    for edges in ((9, 9, 20), (1, 15, 20), (9, 15, 26), (20, 15, 9)):
        with pytest.raises(IntegrityError), transaction.atomic():
            MatrixBands.objects.create(district=city.district, yellow_from=edges[0], orange_from=edges[1],
                                       red_from=edges[2], changed_by=crew["official"], changed_at=NOW)


def test_admin_inside_outside_and_bad_input(client, city, crew):
    mine = set_bands(city, crew, (4, 10, 20))
    other = bands.matrix_bands_set(district=city.other_district, yellow_from=9, orange_from=15, red_from=20,
                                   acting_user=crew["other_official"], now=NOW)
    client.force_login(crew["official"])
    changelist = client.get(reverse("admin:risks_matrixbands_changelist")).content.decode()
    assert f"/admin/risks/matrixbands/{mine.pk}/change/" in changelist
    assert f"/admin/risks/matrixbands/{other.pk}/change/" not in changelist
    url = reverse("admin:risks_matrixbands_change", args=[mine.pk])
    assert client.get(url).status_code == 200
    assert client.get(reverse("admin:risks_matrixbands_change", args=[other.pk])).status_code == 404
    for bad in ({"yellow_from": "12"}, {"orange_from": "17"}, {"red_from": "30"}, {"yellow_from": "x"},
                {"yellow_from": ""}):
        post = {"yellow_from": "5", "orange_from": "10", "red_from": "20", **bad}
        response = client.post(url, post)
        assert response.status_code == 200, bad  # the form again, with the refusal
        body = response.content.decode()
        assert "errorlist" in body or "errornote" in body, bad
    assert bands.matrix_bands_for(city.district.pk) == (4, 10, 20)
    response = client.post(url, {"yellow_from": "5", "orange_from": "10", "red_from": "20"})
    assert response.status_code == 302 and bands.matrix_bands_for(city.district.pk) == (5, 10, 20)
    assert MatrixBands.objects.get(pk=mine.pk).changed_by == crew["official"]
    # Street staff see their district's bands at most, and may not change them.
    client.force_login(crew["street"])
    response = client.post(url, {"yellow_from": "6", "orange_from": "10", "red_from": "20"})
    assert response.status_code in (403, 404) and bands.matrix_bands_for(city.district.pk) == (5, 10, 20)


def test_admin_adds_bands_for_a_district_without_and_refuses_bad_ones(client, city, crew):
    client.force_login(crew["official"])
    url = reverse("admin:risks_matrixbands_add")
    response = client.post(url, {"district": city.district.pk, "yellow_from": "9", "orange_from": "17",
                                 "red_from": "20"})
    assert response.status_code == 200 and not MatrixBands.objects.exists()
    response = client.post(url, {"district": city.other_district.pk, "yellow_from": "4", "orange_from": "10",
                                 "red_from": "20"})
    assert response.status_code == 200 and not MatrixBands.objects.exists()  # not her district
    response = client.post(url, {"district": city.district.pk, "yellow_from": "4", "orange_from": "10",
                               "red_from": "20"})
    assert response.status_code == 302 and bands.matrix_bands_for(city.district.pk) == (4, 10, 20)
