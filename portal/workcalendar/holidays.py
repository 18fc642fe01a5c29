"""China's public holidays and 调休 working days, read from the chinese-calendar
package (https://github.com/LKI/chinese-calendar), which transcribes the State
Council General Office's yearly notice (国务院办公厅关于××年部分节假日安排的通知).

The package knows only the years it was released with (1.11: 2004–2026); the
notice for the next year comes out around November. `manage.py sync_holidays`
copies what the installed package knows into the CalendarDay table.
"""

import chinese_calendar

from .models import DayKind

# The notices' names where the package abbreviates them.
FULL_NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}
NAME_LENGTH = 40  # CalendarDay.name


def package_version():
    return getattr(chinese_calendar, "__version__", "?")


def package_coverage():
    """(first year, last year) the installed package has data for."""
    years = {day.year for day in chinese_calendar.holidays}
    return min(years), max(years)


def holiday_name(english):
    try:
        chinese = chinese_calendar.Holiday(english).chinese
    except ValueError:
        chinese = english
    return FULL_NAMES.get(chinese, chinese)


def package_days(first_year, last_year):
    """{date: (kind, name)} for the years first_year..last_year: every day off of a
    holiday (weekend days inside the break included) and every weekend day worked
    in exchange (named after the holiday it pays for, e.g. 春节调休)."""
    days = {}
    for day, english in chinese_calendar.holidays.items():
        if first_year <= day.year <= last_year:
            days[day] = (DayKind.HOLIDAY, holiday_name(english)[:NAME_LENGTH])
    for day, english in chinese_calendar.workdays.items():
        if first_year <= day.year <= last_year:
            days[day] = (DayKind.WORKDAY, f"{holiday_name(english)}调休"[:NAME_LENGTH])
    return dict(sorted(days.items()))
