"""China's public holidays and the weekend days worked in exchange (调休), as
published by the State Council General Office for 2025 and 2026.

Staff must check these against the official notice each year (and enter the
next year's) in the admin: Cases → Calendar days.
"""

from datetime import date, timedelta


def _span(first, last, name):
    day = first
    while day <= last:
        yield day, "holiday", name
        day += timedelta(days=1)


def _rows():
    rows = []
    # 2025
    rows += _span(date(2025, 1, 1), date(2025, 1, 1), "元旦")
    rows += _span(date(2025, 1, 28), date(2025, 2, 4), "春节")
    rows += [(date(2025, 1, 26), "workday", "春节调休"), (date(2025, 2, 8), "workday", "春节调休")]
    rows += _span(date(2025, 4, 4), date(2025, 4, 6), "清明节")
    rows += _span(date(2025, 5, 1), date(2025, 5, 5), "劳动节")
    rows += [(date(2025, 4, 27), "workday", "劳动节调休")]
    rows += _span(date(2025, 5, 31), date(2025, 6, 2), "端午节")
    rows += _span(date(2025, 10, 1), date(2025, 10, 8), "国庆节、中秋节")
    rows += [(date(2025, 9, 28), "workday", "国庆节调休"), (date(2025, 10, 11), "workday", "国庆节调休")]
    # 2026
    rows += _span(date(2026, 1, 1), date(2026, 1, 3), "元旦")
    rows += [(date(2026, 1, 4), "workday", "元旦调休")]
    rows += _span(date(2026, 2, 15), date(2026, 2, 23), "春节")
    rows += [(date(2026, 2, 14), "workday", "春节调休"), (date(2026, 2, 28), "workday", "春节调休")]
    rows += _span(date(2026, 4, 4), date(2026, 4, 6), "清明节")
    rows += _span(date(2026, 5, 1), date(2026, 5, 5), "劳动节")
    rows += [(date(2026, 5, 9), "workday", "劳动节调休")]
    rows += _span(date(2026, 6, 19), date(2026, 6, 21), "端午节")
    rows += _span(date(2026, 9, 25), date(2026, 9, 27), "中秋节")
    rows += _span(date(2026, 10, 1), date(2026, 10, 7), "国庆节")
    rows += [(date(2026, 9, 20), "workday", "国庆节调休"), (date(2026, 10, 10), "workday", "国庆节调休")]
    return sorted(rows)


# (date, "holiday" | "workday", name)
DAYS = _rows()

# The working day: (start, end) as "HH:MM".
PERIODS = [("08:30", "12:00"), ("13:30", "17:30")]
