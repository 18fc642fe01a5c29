"""The published grading (risks/grading.py), pinned by hand-computed values at every band edge.

Risk matrix (DB37/T 2882—2016): R = L × S; 20–25 red, 15–16 orange, 9–12 yellow, 1–8 blue.
LEC (same standard): D = L × E × C; > 320 red, 160–320 orange, 70–160 yellow, < 70 blue.
"""

import pytest

from portal.errors import DomainError
from risks.grading import Grade, Method, review_days, score


@pytest.mark.parametrize(("l", "s", "r", "grade"), [
    (5, 5, 25, Grade.RED), (4, 5, 20, Grade.RED),  # 4 × 5 = 20: the red band's lower edge
    (4, 4, 16, Grade.ORANGE), (3, 5, 15, Grade.ORANGE),
    (3, 4, 12, Grade.YELLOW), (3, 3, 9, Grade.YELLOW),
    (2, 4, 8, Grade.BLUE), (1, 1, 1, Grade.BLUE),
])
def test_matrix_bands(l, s, r, grade):
    scored = score(method=Method.MATRIX, likelihood=l, severity=s)
    assert (scored.value, scored.grade) == (r, grade)


@pytest.mark.parametrize(("l", "e", "c", "d", "grade"), [
    (10, 6, 7, 420, Grade.RED),  # 10 × 6 × 7
    (10, 2, 40, 800, Grade.RED),
    (1, 6, 40, 240, Grade.ORANGE),
    (0.5, 10, 100, 500, Grade.RED),
    (3, 6, 15, 270, Grade.ORANGE),
    (10, 1, 15, 150, Grade.YELLOW),
    (6, 3, 15, 270, Grade.ORANGE),
    (1, 10, 7, 70, Grade.YELLOW),  # 70: the yellow band's lower edge
    (1, 2, 15, 30, Grade.BLUE),
    (0.1, 0.5, 1, 0.05, Grade.BLUE),
])
def test_lec_bands(l, e, c, d, grade):
    scored = score(method=Method.LEC, likelihood=l, exposure=e, severity=c)
    assert (scored.value, scored.grade) == (d, grade)


def test_lec_edges_320_and_160_are_orange():
    assert score(method=Method.LEC, likelihood=1, exposure=2, severity=100).grade == Grade.ORANGE  # 200
    from risks.grading import lec_grade

    assert lec_grade(320) == Grade.ORANGE and lec_grade(320.01) == Grade.RED
    assert lec_grade(160) == Grade.ORANGE and lec_grade(159.99) == Grade.YELLOW


@pytest.mark.parametrize("kwargs", [
    {"method": "matrix", "likelihood": 3},  # a grade without both scores
    {"method": "matrix", "severity": 3},
    {"method": "matrix", "likelihood": "", "severity": ""},
    {"method": "matrix", "likelihood": 0, "severity": 3},  # off the scale
    {"method": "matrix", "likelihood": 6, "severity": 3},
    {"method": "matrix", "likelihood": "高", "severity": 3},
    {"method": "lec", "likelihood": 1, "severity": 15},  # E missing
    {"method": "lec", "likelihood": 2, "exposure": 6, "severity": 15},  # 2 is not on the L table
    {"method": "guess", "likelihood": 3, "severity": 3},
])
def test_bad_scores_are_refused(kwargs):
    with pytest.raises(DomainError):
        score(**kwargs)


def test_review_interval_by_grade_and_settings_override(settings):
    assert [review_days(g) for g in Grade] == [7, 15, 30, 90]
    settings.RISK_REVIEW_DAYS = {Grade.RED.value: 3}
    assert review_days(Grade.RED) == 3 and review_days(Grade.BLUE) == 90
