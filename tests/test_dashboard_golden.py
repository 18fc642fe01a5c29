"""Every figure of dashboards/definitions.py on the golden fixture (tests/golden_factories.py),
computed BY HAND below, asserted on the live path and the rollup path (refreshed from the
backlog, and rebuilt), on SQLite and (marked `postgres`) on PostgreSQL.

Reverting any one definition to the pre-#18 one (dividing by all valid cases, judging on time
against `handle_due_at`, counting carried-over cases as overdue, erasing a rating on reopen,
rating patrol cases, calendar hours, a 1–5 mean) changes at least one number here.

The hand count, 城关区, November 2026, NOW = Fri 27 Nov 15:30 (cutoff = NOW: the period runs):

    reported   33   every case of the fixture
    valid      31   33 − J1 (rejected) − D1 (duplicate)
    registered 28   31 − U1, U2 (never registered: not 立案) − F1 (私事 referred: not 立案 either)
    referred    1   F1: closed as "referred", not "closed": it counts apart from the solved matters,
                    so it changes reported and valid only; every rate below is the same without it
    open        9   H3, H4, C1, K1, K2, V1, V2 + U1, U2
    closed     21   P1–P6, W1–W3, H1, H2, E1, E2, X1, X2, R1, R2, O1, C2, S1, S2
    deferred    1   C1 (carried over, still paused)
    not due     2   H3 (accept by 16:00), H4 (handle by Mon 30 Nov 09:30): deadlines after NOW
    应结案数 due 25 = 28 − 1 − 2

    结案率       21 / 25 = 84%
    按期结案数   16 = P1–P6 (6) + W1–W3 (3) + H1 + X1 + R1 + O1 + C2 + S1 + S2 (7)
                 (late: H2 signed in late, E1 missed its first accept deadline, E2 and R2 resolved
                 after the first handling deadline inside a fresh clock, X2 after its extension)
    按期结案率   16 / 25 = 64%
    超期案件数   8 = resolved late: H2, E1, E2, X2, R2 (closed) + V2 (awaiting verification)
                 + unresolved past the deadline: K1, K2.  C1 is past 15:00 but paused: not overdue.
                 (25 = 16 on time + 8 overdue + V1, resolved on time and awaiting verification)
    超期率       8 / 25 = 32%
    延期率       X1, X2: 2 / 25 = 8%
    返工率       R1, R2, O1 over 处置数 (resolved at least once: 21 closed + V1, V2 = 23): 3 / 23
    首次办结率   closed without rework 21 − 3 = 18: 18 / 21
    满意率       ratings W1 5, W2 4, W3 3, H1 5, H2 2, O1 1 then 4, S2 4 = 8 ratings, 5 of them 4 or 5:
                 5 / 8 = 62.5%  (the reopen kept O1's 1; the pre-#18 mean would be 3.5)
    handling time, working minutes report→close:
                 P1–P6 6×165 = 990, W1–W3 3×165 = 495, H1 165, H2 165, E1 270, E2 360, X1 525,
                 X2 390, R1 255, R2 360, O1 255, C2 705, S1 165, S2 105: sum 5205
    mean         5205 / 21 / 60 = 4.1309… working hours
    histogram    ≤ 2 h: S2 (1); ≤ 8 h: all but X1 (525) and C2 (705) = 19; ≤ 24 h: 21
    median       first bound with ≥ 10.5 closed: 8 h;  p90: first bound with ≥ 18.9: 8 h
    levels       solved at the community: E1, E2 (2); in the grid: 19
    escalated    E1, E2 (2)

    接诉即办 三率 (hotline: H1, H2, H3, H4, S2; 5 work orders)
    响应率       to be signed in by NOW: H1, H2, H4, S2 (H3's deadline is 16:00) = 4;
                 in time: H1 09:30, H4 14:30, S2 09:20 (H2 10:30 > 10:00) = 3: 3 / 4
    解决率       ratings H1 solved, H2 not, S2 solved: 2 / 3
    满意率       H1 5, H2 2, S2 4: 2 / 3
    城北街道      H1–H4: 响应率 2 / 3, 解决率 1 / 2, 满意率 1 / 2;  城南街道 S2: 1, 1, 1
"""

from datetime import date

import pytest
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import CaseDeadline, CaseRating, Status
from cases.selectors import cases_visible_to  # noqa: F401  (the page's door; the figures take any queryset)
from dashboards.figures import Figures, LiveSource, Period, Place, RollupSource
from dashboards.hotline import hotline_rates, hotline_rates_by
from dashboards.rollups import rollups_rebuild, rollups_refresh

from .cases_factories import people  # noqa: F401
from .golden_factories import NOW, golden  # noqa: F401

NOVEMBER = Period("month", date(2026, 11, 1), date(2026, 11, 30))

EXPECTED = {
    "reported": 33, "valid": 31, "registered": 28, "open": 9, "closed": 21, "deferred": 1, "not_due": 2,
    "on_time": 16, "escalated": 2, "solved_grid": 19, "solved_community": 2, "rated": 8, "satisfied": 5,
    "working_minutes": 5205, "within_2h": 1, "within_8h": 19, "within_24h": 21,
}
RATES = {
    "due": 25,
    "closure_rate": 21 / 25,
    "on_time_rate": 16 / 25,
    "overdue": 8,
    "overdue_rate": 8 / 25,
    "extension_rate": 2 / 25,
    "rework_rate": 3 / 23,
    "first_time_rate": 18 / 21,
    "satisfaction_rate": 5 / 8,
    "mean_hours": 5205 / 21 / 60,
    "median_hours": 8,
    "p90_hours": 8,
}


def assert_golden(f):
    assert {k: f[k] for k in EXPECTED} == EXPECTED
    assert {k: getattr(f, k) for k in RATES} == pytest.approx(RATES)


def sources(area):
    place = Place.of(area)
    from cases.models import Case

    return (Figures(LiveSource(Case.objects.all(), place, NOVEMBER, NOW).totals()),
            Figures(RollupSource(place, NOVEMBER, NOW).totals()))


def check_everything(city, golden):
    from cases.models import Case

    # Live first, with the rollups still empty.
    live = Figures(LiveSource(Case.objects.all(), Place.of(city.district), NOVEMBER, NOW).totals())
    assert_golden(live)
    # Rollup path, folded in from the backlog the timeline filled (the minute's refresh)...
    rollups_refresh(now=NOW)
    assert_golden(Figures(RollupSource(Place.of(city.district), NOVEMBER, NOW).totals()))
    # ...and rebuilt from scratch (the nightly run): the same.
    rollups_rebuild(now=NOW)
    for f in sources(city.district):
        assert_golden(f)
    # The whole city is the district here.
    for f in sources(None):
        assert_golden(f)
    # 城南街道: S1 and S2, both closed on time; S2 rated 4.
    for f in sources(city.street_b):
        assert (f["registered"], f.due, f["closed"], f["on_time"], f.satisfaction_rate) == (2, 2, 2, 2, 1)
    # 城北街道 is the rest: 26 registered, 1 deferred, 2 not due: 23 due, 19 closed, 14 on time.
    for f in sources(city.street_a):
        assert (f["registered"], f.due, f["closed"], f["on_time"], f.overdue) == (26, 23, 19, 14, 8)


def test_golden_figures_live_and_rollup(city, golden):
    check_everything(city, golden)


@pytest.mark.postgres
def test_golden_figures_live_and_rollup_on_postgres(city, golden):
    check_everything(city, golden)


def test_golden_referred_private_matter_counts_apart(city, golden):
    """F1 (私事, referred): a valid report, and nowhere among registered, open, closed or due."""
    from cases.models import Case

    f1 = golden["F1_private_referred"]
    assert (f1.status, f1.referred_to, f1.registered_at, f1.deadline_at) == (Status.REFERRED, "parties", None, None)
    one = Case.objects.filter(pk=f1.pk)
    alone = Figures(LiveSource(one, Place.of(city.district), NOVEMBER, NOW).totals())
    assert (alone["reported"], alone["valid"]) == (1, 1)
    assert [alone[k] for k in ("registered", "open", "closed", "on_time", "rated", "deferred", "not_due")] == [0] * 7
    assert (alone.due, alone.closure_rate, alone.overdue) == (0, None, 0)
    # Reported, valid, not registered: U1, U2 and F1.
    live = Figures(LiveSource(Case.objects.all(), Place.of(city.district), NOVEMBER, NOW).totals())
    assert live["valid"] - live["registered"] == 3


def test_golden_hotline_rates(city, golden):
    from cases.models import Case

    rates = hotline_rates(Case.objects.all(), Place.of(city.district), NOVEMBER, now=NOW)
    assert (rates.orders, rates.should_respond, rates.responded, rates.rated) == (5, 4, 3, 3)
    assert (rates.response_rate, rates.solution_rate, rates.satisfaction_rate) == (3 / 4, 2 / 3, 2 / 3)
    by_street = hotline_rates_by(Case.objects.all(), Place.of(city.district), NOVEMBER, by="street", now=NOW)
    a, b = by_street[city.street_a.pk], by_street[city.street_b.pk]
    assert (a.response_rate, a.solution_rate, a.satisfaction_rate) == (2 / 3, 1 / 2, 1 / 2)
    assert (b.response_rate, b.solution_rate, b.satisfaction_rate) == (1, 1, 1)


def hm(moment, fmt="%d %H:%M"):
    return timezone.localtime(moment).strftime(fmt)


def test_golden_deadline_history(golden):
    """The history behind three of the hand counts."""
    e1 = golden["E1_swept_then_closed"]
    # First deadlines of its three stages; the community's fresh accept clock (11:05) is no first deadline.
    rows = list(CaseDeadline.objects.filter(case=e1).values_list("stage", "kind", "previous_met"))
    assert rows == [("dispatch", "first", True), ("accept", "first", True), ("handle", "first", False)]
    assert hm(e1.deadline_at) == "17 10:00" and e1.deadline_stage == "missed"
    x1 = golden["X1_extended_on_time"]
    assert hm(x1.deadline_at) == "20 10:00"
    assert CaseDeadline.objects.filter(case=x1, kind="extension").count() == 1
    c2 = golden["C2_carried_over_lifted"]
    pause = CaseDeadline.objects.get(case=c2, kind="pause")
    assert (pause.value, hm(c2.deadline_at)) == (450, "04 15:00")
    # The escalated cases' working clocks moved; their judged deadlines did not.
    e2 = golden["E2_escalated_by_hand"]
    assert hm(e2.handle_due_at, "%H:%M") == "16:00" and hm(e2.deadline_at, "%H:%M") == "15:00"


def test_golden_ratings_are_history(golden):
    o1 = golden["O1_reopened"]
    assert list(CaseRating.objects.filter(case=o1).values_list("rating", flat=True)) == [1, 4]
    assert (o1.rating, o1.rating_count, o1.satisfied_count, o1.status) == (4, 2, 1, Status.CLOSED)


def test_patrol_cases_cannot_be_rated(golden):
    from cases import services
    from portal.errors import DomainError

    p1 = golden["P1_on_time"]
    with pytest.raises(DomainError) as refused:
        services.case_rate(tracking_code=p1.tracking_code, rating=5, now=NOW)
    assert "12345" in refused.value.message and refused.value.code == "refused"
    p1.refresh_from_db()
    assert (p1.rating, p1.rating_count) == (None, 0) and not CaseRating.objects.filter(case=p1).exists()


@pytest.mark.parametrize("source", ["rollup", "live"])
def test_the_page_folds_every_breakdown_to_the_same_figures(city, golden, source):
    """Breakdowns (channel, category, day, street) are folded on the page: each must add up to the totals."""
    from dashboards.page import Dashboard

    from .factories import UserFactory

    rollups_rebuild(now=NOW)
    board = Dashboard(UserFactory(is_superuser=True), Place.of(city.district), NOVEMBER, NOW, source_name=source)
    kpis = {str(row[0]): row[1] for row in board.kpis().rows}
    assert (kpis[str(_("Due (应结案)"))], kpis[str(_("On-time closure rate"))]) == (25, "64.0%")
    due_column = 2  # [label, reported, registered, due, ...] less the label
    for table in board.facet_tables():
        assert sum(row[1 + due_column] for row in table.rows) == 25, table.name
    children = next(t for t in board.children_tables() if t.name == "children")
    assert [row[1 + due_column] for row in children.rows] == [23, 2]  # 城北街道, 城南街道
    _table, chart = board.trend()
    assert chart["labels"][-1] == "2026-11-27"  # the series stops at today
    by_day = board.source.by_day()
    assert sum(Figures(row).due for row in by_day) == 25
