"""How a risk is graded: the published scoring methods and the national four colours.

The four grades and their colours are national: 国务院安委会办公室《关于实施遏制
重特大事故工作指南构建双重预防机制的意见》(安委办〔2016〕11号) divides risks into
重大 (red), 较大 (orange), 一般 (yellow) and 低 (blue) and says the grade decides
how closely a risk is controlled. It names no scoring method; the two below are
the ones provincial standards publish, with their bands taken from

    DB37/T 2882—2016《安全生产风险分级管控体系通则》(Shandong), 附录 (资料性):
    - risk matrix (风险矩阵法, LS): R = L × S, L and S each 1–5;
      R 20–25 重大, 15–16 较大, 9–12 一般, 1–8 低 (its 4–8 低 and 1–3 轻微 bands
      both fall in the national 低/blue: four colours, not five);
    - LEC (作业条件危险性分析法, Graham–Kinney): D = L × E × C with L, E, C taken
      from the method's own tables; D > 320 重大, 160–320 较大, 70–160 一般,
      below 70 低 (its 20–70 and < 20 bands are both 低/blue).

A score on a band's edge belongs to the higher grade (R = 20 is red, D = 320
is orange, D = 160 orange, D = 70 yellow), as the standard's tables read.
tests/test_risks_grading.py pins every band edge with hand-computed values.

How often a risk is re-inspected (复查) by grade is the portal's default, not a
national figure (local rules set their own): RISK_REVIEW_DAYS in settings may
override it per grade.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.errors import DomainError


class Grade(models.TextChoices):
    """The national four colours, most serious first (the stored value sorts that way too)."""

    RED = "1red", gettext_lazy("major (red)")
    ORANGE = "2orange", gettext_lazy("significant (orange)")
    YELLOW = "3yellow", gettext_lazy("general (yellow)")
    BLUE = "4blue", gettext_lazy("low (blue)")


class Method(models.TextChoices):
    MATRIX = "matrix", gettext_lazy("risk matrix (L × S)")
    LEC = "lec", gettext_lazy("LEC (L × E × C)")


# Colours for pages and the map (CSS custom properties in static/css use the same names).
COLOURS = {Grade.RED: "red", Grade.ORANGE: "orange", Grade.YELLOW: "yellow", Grade.BLUE: "blue"}

# Days between re-inspections, by grade (the portal's default; see the module docstring).
REVIEW_DAYS = {Grade.RED: 7, Grade.ORANGE: 15, Grade.YELLOW: 30, Grade.BLUE: 90}

MATRIX_SCALE = range(1, 6)
# The LEC method's published tables (Graham–Kinney, as DB37/T 2882 reprints them).
LEC_L = (0.1, 0.2, 0.5, 1, 3, 6, 10)  # likelihood of the event
LEC_E = (0.5, 1, 2, 3, 6, 10)  # exposure: how often people are exposed
LEC_C = (1, 3, 7, 15, 40, 100)  # consequence


def review_days(grade):
    overrides = getattr(settings, "RISK_REVIEW_DAYS", None) or {}
    return int(overrides.get(str(grade), REVIEW_DAYS[Grade(grade)]))


@dataclass(frozen=True)
class Score:
    method: str
    likelihood: float  # L (both methods)
    severity: float  # S (matrix) or C (LEC)
    exposure: float | None  # E (LEC only)
    value: float
    grade: str


def _number(value, name):
    if value is None or value == "":
        raise DomainError(_("A grade needs both scores: %(name)s is missing.") % {"name": name}, code="missing_score")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DomainError(_("%(name)s must be a number.") % {"name": name}, code="bad_score") from None
    return int(number) if number == int(number) else number


def _pick(value, allowed, name):
    number = _number(value, name)
    if number not in allowed:
        shown = "、".join(str(a) for a in allowed)
        raise DomainError(_("%(name)s must be one of %(values)s.") % {"name": name, "values": shown},
                          code="bad_score")
    return number


def matrix_grade(r):
    if r >= 20:
        return Grade.RED
    if r >= 15:
        return Grade.ORANGE
    if r >= 9:
        return Grade.YELLOW
    return Grade.BLUE


def lec_grade(d):
    if d > 320:
        return Grade.RED
    if d >= 160:
        return Grade.ORANGE
    if d >= 70:
        return Grade.YELLOW
    return Grade.BLUE


def score(*, method, likelihood=None, severity=None, exposure=None):
    """Check the scores and grade them; DomainError for a missing or out-of-scale score."""
    if method == Method.MATRIX:
        lik = _pick(likelihood, MATRIX_SCALE, _("likelihood (L)"))
        sev = _pick(severity, MATRIX_SCALE, _("severity (S)"))
        value = lik * sev
        return Score(Method.MATRIX, lik, sev, None, value, matrix_grade(value))
    if method == Method.LEC:
        lik = _pick(likelihood, LEC_L, _("likelihood (L)"))
        exp = _pick(exposure, LEC_E, _("exposure (E)"))
        sev = _pick(severity, LEC_C, _("consequence (C)"))
        value = round(lik * exp * sev, 2)
        return Score(Method.LEC, lik, sev, exp, value, lec_grade(value))
    raise DomainError(_("Choose how the risk is scored."), code="bad_method")
