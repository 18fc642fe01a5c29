"""Dashboard figures against a hand-computed city (tests/dashboard_factories.py).

District 城关区 in November 2026 (Asia/Shanghai): six cases reported (the 00:10
case of 1 November counts, the 23:59 case of 31 October and the 00:00 case of
1 December do not), four valid (a rejection and a duplicate are not), three
closed, two on time, one reworked, one extended, one open and overdue.
"""

from datetime import date

import pytest

from cases.models import Case
from dashboards.figures import Figures, LiveSource, Period, PeriodError, Place, RollupSource, overdue_count, period_for
from dashboards.rollups import rollups_rebuild

from .cases_factories import at
from .dashboard_factories import fixture_cases  # noqa: F401

NOW = at(2026, 11, 30, 23, 55)
NOVEMBER = Period("month", date(2026, 11, 1), date(2026, 11, 30))


def figures(source):
    return Figures(source.totals())


@pytest.fixture
def sources(city, fixture_cases):
    rollups_rebuild(now=NOW)

    def both(area, period=NOVEMBER):
        place = Place.of(area)
        live = figures(LiveSource(Case.objects.all(), place, period))
        if not place.has_rollups:
            return [live]
        return [live, figures(RollupSource(place, period))]

    return both


def test_district_november_figures_by_hand(city, sources):
    for f in sources(city.district):
        assert (f["reported"], f["valid"], f["closed"], f["on_time"], f["open"]) == (6, 4, 3, 2, 1)
        # All four valid cases are registered and due by now (the open one's deadline passed on 15 November).
        assert (f["registered"], f.due) == (4, 4)
        assert f.closure_rate == 3 / 4
        assert f.on_time_rate == 2 / 4
        assert f.overdue_rate == 2 / 4  # the late one, and the open one past its deadline
        assert f.rework_rate == 1 / 3  # of the three resolved at least once
        assert f.extension_rate == 1 / 4
        assert f.first_time_rate == 2 / 3
        assert (f["supervised"], f["escalated"]) == (1, 1)
        assert f.satisfaction_rate == 1 / 2  # a 5 and a 3; the street-level case was not rated
        assert f.solved_shares == {"grid": 1 / 3, "community": 1 / 3, "above": 1 / 3}
        # Working hours: 1¼ h on Sunday 1 Nov is 0; Mon 30 Nov 23:50 + 70 h is 3 working days (22.5 h);
        # Tue 10 Nov + 240 h is 8 working days (60 h). Mean 82.5 / 3; half within 24 h, 90% within 72 h.
        assert f.mean_hours == 27.5
        assert (f.median_hours, f.p90_hours) == (24, 72)


def test_street_and_grid_figures(city, sources):
    for f in sources(city.street_a):
        assert (f["reported"], f["valid"], f["closed"], f["on_time"]) == (5, 3, 2, 1)
    for f in sources(city.street_b):
        assert (f["reported"], f["valid"], f["closed"], f["on_time"], f.solved_shares["above"]) == (1, 1, 1, 1, 1)
    (grid,) = sources(city.grid_a)
    assert (grid["reported"], grid["valid"]) == (5, 3)
    (empty,) = sources(city.grid_a2)
    assert empty["reported"] == 0 and empty.closure_rate is None and empty.median_hours is None


def test_other_district_never_counts(city, sources, fixture_cases):
    for f in sources(city.other_district):
        assert (f["reported"], f["closed"], f.satisfaction_rate) == (1, 1, 0)  # rated 1: not satisfied
    city_wide = figures(LiveSource(Case.objects.all(), Place.of(None), NOVEMBER))
    assert city_wide["reported"] == 7


def test_today_crosses_utc_midnight(city, sources):
    # 30 November in Shanghai is 29 Nov 16:00 to 30 Nov 16:00 UTC: the 23:50 case is in,
    # the 1 December 00:00 case (30 Nov 16:00 UTC) is not.
    today = period_for("today", date(2026, 11, 30))
    for f in sources(city.district, today):
        assert (f["reported"], f["reworked"], f.closure_rate) == (1, 1, 1)


def test_previous_month_and_december(city, sources):
    for f in sources(city.district, NOVEMBER.previous()):
        assert f["reported"] == 1  # 31 October 23:59
    december = period_for("month", date(2026, 12, 5))
    for f in sources(city.district, december):
        assert f["reported"] == 1  # 1 December 00:00


def test_overdue_counts_only_the_cohort_on_the_clock(city, sources):
    place = Place.of(city.district)
    assert overdue_count(Case.objects.all(), place, NOVEMBER, NOW) == 1
    assert overdue_count(Case.objects.all(), place, NOVEMBER, at(2026, 11, 15, 11, 0)) == 0
    assert overdue_count(Case.objects.all(), Place.of(city.street_b), NOVEMBER, NOW) == 0


@pytest.mark.parametrize("kind, today, first, last", [
    ("today", date(2026, 11, 30), date(2026, 11, 30), date(2026, 11, 30)),
    ("week", date(2026, 11, 26), date(2026, 11, 23), date(2026, 11, 29)),
    ("month", date(2026, 2, 10), date(2026, 2, 1), date(2026, 2, 28)),
    ("month", date(2028, 2, 29), date(2028, 2, 1), date(2028, 2, 29)),
    ("month", date(2026, 12, 31), date(2026, 12, 1), date(2026, 12, 31)),
    ("quarter", date(2026, 11, 24), date(2026, 10, 1), date(2026, 12, 31)),
    ("quarter", date(2026, 2, 1), date(2026, 1, 1), date(2026, 3, 31)),
    ("year", date(2026, 11, 24), date(2026, 1, 1), date(2026, 12, 31)),
])
def test_periods(kind, today, first, last):
    period = period_for(kind, today)
    assert (period.first, period.last) == (first, last)


def test_previous_periods():
    assert period_for("month", date(2026, 3, 31)).previous() == Period("month", date(2026, 2, 1), date(2026, 2, 28))
    assert period_for("quarter", date(2026, 1, 5)).previous() == Period("quarter", date(2025, 10, 1),
                                                                       date(2025, 12, 31))
    assert period_for("week", date(2026, 11, 24)).previous().first == date(2026, 11, 16)
    custom = period_for("custom", None, first=date(2026, 11, 10), last=date(2026, 11, 19))
    assert custom.previous() == Period("custom", date(2026, 10, 31), date(2026, 11, 9))


@pytest.mark.parametrize("first, last", [(None, date(2026, 1, 1)), (date(2026, 2, 1), date(2026, 1, 1)),
                                         (date(2020, 1, 1), date(2026, 1, 1))])
def test_bad_custom_periods(first, last):
    with pytest.raises(PeriodError):
        period_for("custom", None, first=first, last=last)
    with pytest.raises(PeriodError):
        period_for("fortnight", date(2026, 1, 1))


def test_a_table_s_rows_render_escaped_with_their_labels_and_links(settings):
    from decimal import Decimal

    from django.template import Context, Template
    from django.utils.translation import gettext_lazy

    from dashboards.figures import Table

    table = Table("x", "t", [gettext_lazy("Reported"), '<b>&"', "c", "d"],
                  rows=[["a<b", 1234567, Decimal("1.50"), None], [gettext_lazy("Closed"), 2.5, "", "50.0%"]],
                  links=["/x/?a=1&b=<2>", None])
    html = table.body_html()
    assert '<td data-label="&lt;b&gt;&amp;&quot;">1234567</td>' in html
    assert '<a href="/x/?a=1&amp;b=&lt;2&gt;">a&lt;b</a>' in html
    assert "<b>" not in html and "已结案" in html  # labels translated, nothing unescaped
    # Exactly what the template loop it replaced gave.
    loop = Template('{% for row, link in rows %}<tr>{% for label, cell in row %}<td data-label="{{ label }}">'
                    '{% if forloop.first and link %}<a href="{{ link }}">{{ cell }}</a>{% else %}{{ cell }}{% endif %}'
                    '</td>{% endfor %}</tr>{% endfor %}')
    rows = [(list(zip(table.columns, row)), link) for row, link in zip(table.rows, table.links)]
    assert loop.render(Context({"rows": rows})) == html
