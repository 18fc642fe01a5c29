"""The figures officials are judged by, as data: name, numerator and denominator in words, source.

ONE place defines each figure (issue #18). dashboards/figures.py counts the
measures named here (`Figures.<key>` computes the value), the dashboard page
prints this table under "How the figures are counted", and README.md
("Figures officials are judged by") shows it with a worked example from the
golden fixture (tests/test_dashboard_golden.py), which pins every definition.

Sources:
- 数字城管 evaluation practice (GB/T 30428 数字化城市管理信息系统 series and the
  city rules built on it): rates divide by 应结案数, the cases due by the
  period's end, not by all reports. Published example: "立案996件，应结案972件，
  结案911件，结案率93.72%" (911 / 972). Deferred cases (缓办/挂账) leave the
  denominator: "按期结案率 = 按期结案数 / (应结案数 − 缓办数)". A matter is on time
  against the deadline it was first given, plus approved extensions
  (cases/deadlines.py).
- 接诉即办 (12345 hotline) assessment: 响应率, 解决率, 满意率 (三率) from the
  work order's sign-in and the 回访 (call-back) answers; 满意率 counts 满意 and
  基本满意 over all rated (dashboards/hotline.py).

Where cities differ, a setting chooses, with the common default:
- FIGURES_CLOSURE_EXCLUDES_DEFERRED (default True): whether 结案率's
  denominator leaves out 缓办 as 按期结案率's does. Some cities divide 结案数 by
  应结案数 including 缓办; the issue's rule ("应结案数 = cases due by the period's
  end less deferred") is the default.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

SOURCE_DCM = _("数字城管 evaluation practice: “立案996件，应结案972件，结案911件，结案率93.72%”")
SOURCE_DCM_PRACTICE = _("数字城管 evaluation practice (GB/T 30428)")
SOURCE_CITY_RULE = _("City rule: “按期结案率 = 按期结案数 / (应结案数 − 缓办数)”")
SOURCE_HOTLINE = _("接诉即办 (12345) assessment: 三率 from sign-in and 回访")


def closure_excludes_deferred():
    return getattr(settings, "FIGURES_CLOSURE_EXCLUDES_DEFERRED", True)


@dataclass(frozen=True)
class Definition:
    key: str  # the Figures property (or hotline rate) that computes it
    name: object
    numerator: object
    denominator: object
    source: object
    unit: str = "rate"  # "rate" (a share) or "hours" (working hours)


# The denominator most rates share, defined once on the page (DUE_NOTE) and named in each row (DUE).
DUE_NOTE = _("应结案数: registered cases (立案) that are closed, or whose judged deadline passed by the period's end "
             "(by now, for the running period), less those deferred (缓办/挂账, carried over and still paused)")
DUE = _("应结案数 (due cases)")

DEFINITIONS = (
    Definition("closure_rate", _("结案率 closure rate"), _("结案数: cases closed"), DUE, SOURCE_DCM),
    Definition("on_time_rate", _("按期结案率 on-time closure rate"),
               _("按期结案数: closed cases resolved by their judged deadline (the first deadline given, plus "
                 "approved extensions and carry-over pauses; never an escalated level's fresh clock)"),
               DUE, SOURCE_CITY_RULE),
    Definition("overdue_rate", _("超期率 overdue rate"),
               _("超期案件数: due cases resolved after their judged deadline, or still unresolved past it "
                 "(deferred cases are not overdue while paused)"), DUE, SOURCE_DCM_PRACTICE),
    Definition("extension_rate", _("延期率 extension rate"),
               _("延期案件数: due cases granted at least one approved extension"), DUE, SOURCE_DCM_PRACTICE),
    Definition("rework_rate", _("返工率 rework rate"),
               _("返工案件数: cases sent back at least once (failed verification or reopened)"),
               _("处置数: registered cases resolved at least once"), SOURCE_DCM_PRACTICE),
    Definition("first_time_rate", _("首次办结率 first-time resolution rate"),
               _("closed cases never sent back (no failed verification, no reopen)"), _("结案数: cases closed"),
               SOURCE_DCM_PRACTICE),
    Definition("satisfaction_rate", _("满意率 satisfaction rate"),
               _("ratings 满意 (5) or 基本满意 (4)"),
               _("every rating given (a reopened case's earlier ratings included); only residents', hotline and "
                 "Open311 reports can be rated"), SOURCE_HOTLINE),
    Definition("mean_hours", _("Mean handling time"), _("working hours from the report to the close, summed"),
               _("结案数: cases closed"), SOURCE_DCM_PRACTICE, unit="hours"),
    Definition("p90_hours", _("90th percentile handling time"),
               _("the first of 2, 8, 24, 48, 72, 120, 168 or 360 working hours within which 90% of the closed "
                 "cases closed"), _("结案数: cases closed"), SOURCE_DCM_PRACTICE, unit="hours"),
)
# 接诉即办 三率 (dashboards/hotline.py), for 12345 hotline matters.
HOTLINE_DEFINITIONS = (
    Definition("response_rate", _("响应率 response rate"),
               _("work orders signed in (first acceptance) by the first deadline of their acceptance stage"),
               _("work orders that had to be signed in by the period's end: signed in, or past that deadline"),
               SOURCE_HOTLINE),
    Definition("solution_rate", _("解决率 solution rate"), _("回访 answers “solved”"),
               _("every rating of the work orders (an unanswered question is not a “solved”)"), SOURCE_HOTLINE),
    Definition("satisfaction_rate", _("满意率 satisfaction rate (hotline)"), _("ratings 满意 (5) or 基本满意 (4)"),
               _("every rating of the work orders"), SOURCE_HOTLINE),
)
BY_KEY = {d.key: d for d in DEFINITIONS}

OVERDUE_NOTE = _("已超期 (Overdue): cases reported in the period that are on the clock now and past their judged "
                 "deadline (the first deadline given plus approved extensions; deferred cases are paused). Its number "
                 "opens them on the case board (“past the judged deadline”). The board's “current stage past due” is "
                 "another clock: one stage's own time limit, such as accepting a dispatch.")
COHORT = _("Every figure counts the cases reported at this place in the period (days in Beijing time), as they "
           "stand now. Unregistered reports, rejected reports and duplicates are not matters and count nowhere.")

# Per organisation (dashboards/org_figures.py; issue #16 item 7): the big matters (大事) sent to each
# organisation as lead (主办), counted per sending (an OrgAssignment) made in the period.
SOURCE_ORG = _("接诉即办 / 街乡吹哨、部门报到 assessment of the departments: 响应率, 按期办结率, 退单率, 满意率")
ORGANISATION_DEFINITIONS = (
    Definition("received", _("Received"), _("matters sent to the organisation as lead (主办) in the period, by "
                                            "dispatch or by the street's ruling on a return; co-handling (协办) "
                                            "is shown apart and counts in no rate"), _("—"), SOURCE_ORG,
               unit="count"),
    Definition("response_rate", _("响应率 response rate (organisation)"),
               _("sendings signed in (签收) within the organisation's own time to sign in"),
               _("sendings that had to be signed in by the period's end (by now, for the running period): "
                 "signed in, or past the time to sign in"), SOURCE_ORG),
    Definition("on_time_rate", _("按期办结率 on-time rate (organisation)"),
               _("sendings closed while the organisation held the matter, resolved by its judged deadline: the "
                 "first handling deadline it was given on signing in, plus approved extensions (never a fresh "
                 "clock after rework)"),
               _("应办结: sendings signed in and not returned that closed, or whose judged deadline passed by the "
                 "period's end"), SOURCE_ORG),
    Definition("return_rate", _("退单率 return rate"), _("sendings the organisation returned (退单)"),
               _("sendings received"), SOURCE_ORG),
    Definition("satisfaction_rate", _("满意率 satisfaction rate (organisation)"), _("ratings 满意 (5) or 基本满意 (4)"),
               _("every rating of the matters closed while the organisation held them (only residents', hotline "
                 "and Open311 reports can be rated)"), SOURCE_HOTLINE),
    Definition("report_in_rate", _("吹哨报到 report-in rate"), _("summonses reported in (报到), at any time"),
               _("summonses of the organisation by whistles blown in the period"), SOURCE_ORG),
    Definition("mean_rating", _("Rating from the whistling places"),
               _("the ratings (1–5) the whistling community or street gave, summed"), _("summonses rated"),
               SOURCE_ORG, unit="score"),
)
ORGANISATION_COHORT = _("Per organisation that received this place's matters, whether seated here or covering it "
                        "from above (a district bureau, a utility): the matters under this place sent to it in the "
                        "period (days in Beijing time), as they stand now. Private matters (私事) are referred, never "
                        "sent, and count in no organisation's figures.")
