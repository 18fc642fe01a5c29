"""How a risk is graded: the published scoring methods and the national four colours.

The four grades and their colours are national: 国务院安委会办公室《关于实施遏制
重特大事故工作指南构建双重预防机制的意见》(安委办〔2016〕11号) divides risks into
重大 (red), 较大 (orange), 一般 (yellow) and 低 (blue) and says the grade decides
how closely a risk is controlled. It names no scoring method; the two below are
the ones provincial standards and enterprise rules publish. Bands (checked
against published copies in December 2026; see README "Risks and patrols"):

- LEC (作业条件危险性分析法, Graham–Kinney): D = L × E × C with L, E, C taken
  from the method's own tables. The classic table has five bands: D > 320
  极其危险 (stop work), 160–320 高度危险 (put right at once), 70–160 显著危险
  (needs putting right), 20–70 一般/可能危险 (needs attention), < 20 稍有危险
  (acceptable). Chinese four-colour tables map them as 320+ 重大/red, 160–320
  较大/orange, 70–160 一般/yellow, below 70 低/blue (20–70 and < 20 both blue).
  Confirmed in several reprints of the table; the values below are those.
- risk matrix (风险矩阵法, LS): R = L × S, L and S each 1–5. Published matrices
  do NOT agree on the bands: R 20–25 重大, 15–16 较大, 9–12 一般, 1–8 低 (the
  five-level A–E variant with 4–8 低 and 1–3 轻微 folded into blue) is the one
  used here and found in published tables; others put
  较大 at 9–16 or 10–16 and 一般 at 4–8 or 4–9. The attribution to
  DB37/T 2882—2016《安全生产风险分级管控体系通则》 could not be checked against the
  standard's own text (only its table of contents was found), so it is not
  cited as the source. These are the national default (MATRIX_BANDS); a
  district that follows another matrix sets its own edges (risks.MatrixBands,
  risks/bands.py, in the admin), used from its next assessment on.

A score on a band's edge belongs to the higher grade (R = 20 is red, D = 160
orange, D = 70 yellow), except D = 320, which the LEC table puts in 160–320
(red is strictly above 320). tests/test_risks_grading.py pins every band edge
with hand-computed values.

How often a risk is re-inspected (复查) by grade is the portal's default, not a
national figure (local rules set their own): RISK_REVIEW_DAYS in settings may
override it per grade.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

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
# The LEC method's published tables (Graham–Kinney, as Chinese enterprise rules reprint them).
LEC_L = (0.1, 0.2, 0.5, 1, 3, 6, 10)  # likelihood of the event
LEC_E = (0.5, 1, 2, 3, 6, 10)  # exposure: how often people are exposed
LEC_C = (1, 3, 7, 15, 40, 100)  # consequence

# What each step of the scales means, as the tables word it: a bare "3" told a grid worker nothing.
MATRIX_LIKELIHOOD = {
    1: pgettext_lazy("risk scale", "very unlikely"),
    2: pgettext_lazy("risk scale", "unlikely"),
    3: pgettext_lazy("risk scale", "possible"),
    4: pgettext_lazy("risk scale", "likely"),
    5: pgettext_lazy("risk scale", "almost certain"),
}
MATRIX_SEVERITY = {
    1: pgettext_lazy("risk scale", "negligible"),
    2: pgettext_lazy("risk scale", "minor"),
    3: pgettext_lazy("risk scale", "moderate"),
    4: pgettext_lazy("risk scale", "major"),
    5: pgettext_lazy("risk scale", "catastrophic"),
}
LEC_L_MEANS = {
    10: pgettext_lazy("risk scale", "to be expected"),
    6: pgettext_lazy("risk scale", "quite possible"),
    3: pgettext_lazy("risk scale", "unusual but possible"),
    1: pgettext_lazy("risk scale", "remotely possible"),
    0.5: pgettext_lazy("risk scale", "conceivable but very unlikely"),
    0.2: pgettext_lazy("risk scale", "practically impossible"),
    0.1: pgettext_lazy("risk scale", "virtually impossible"),
}
LEC_E_MEANS = {
    10: pgettext_lazy("risk scale", "continuously"),
    6: pgettext_lazy("risk scale", "daily, in working hours"),
    3: pgettext_lazy("risk scale", "weekly, or now and then"),
    2: pgettext_lazy("risk scale", "monthly"),
    1: pgettext_lazy("risk scale", "a few times a year"),
    0.5: pgettext_lazy("risk scale", "very rarely"),
}
LEC_C_MEANS = {
    100: pgettext_lazy("risk scale", "catastrophe, many deaths"),
    40: pgettext_lazy("risk scale", "disaster, several deaths"),
    15: pgettext_lazy("risk scale", "very serious, one death"),
    7: pgettext_lazy("risk scale", "serious, severe injury"),
    3: pgettext_lazy("risk scale", "important, disability"),
    1: pgettext_lazy("risk scale", "noticeable, first aid"),
}


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


# The matrix's lower edges of yellow, orange and red (blue is below yellow): the portal's default.
MATRIX_BANDS = (9, 15, 20)
MATRIX_RANGE = (1, 25)


def matrix_grade(r, bands=None):
    yellow, orange, red = bands or MATRIX_BANDS
    if r >= red:
        return Grade.RED
    if r >= orange:
        return Grade.ORANGE
    if r >= yellow:
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


def score(*, method, likelihood=None, severity=None, exposure=None, matrix_bands=None):
    """Check the scores and grade them; DomainError for a missing or out-of-scale score. `matrix_bands`:
    the district's matrix edges (yellow, orange, red lower edges), None for the default."""
    if method == Method.MATRIX:
        lik = _pick(likelihood, MATRIX_SCALE, _("likelihood (L)"))
        sev = _pick(severity, MATRIX_SCALE, _("severity (S)"))
        value = lik * sev
        return Score(Method.MATRIX, lik, sev, None, value, matrix_grade(value, matrix_bands))
    if method == Method.LEC:
        lik = _pick(likelihood, LEC_L, _("likelihood (L)"))
        exp = _pick(exposure, LEC_E, _("exposure (E)"))
        sev = _pick(severity, LEC_C, _("consequence (C)"))
        value = round(lik * exp * sev, 2)
        return Score(Method.LEC, lik, sev, exp, value, lec_grade(value))
    raise DomainError(_("Choose how the risk is scored."), code="bad_method")
