"""Moments the suite is run at to prove it does not depend on today's date.

`scripts/test-dates` runs the suite (or a sample of it) once per moment with
`--clock`; tests that seed "relative to now" parametrize over them too. Each is
a working-calendar edge: the days around 春节, 国庆 and 元旦, a 调休 Saturday
that is a working day, and a date past the holiday data the calendar ships.
"""

from datetime import datetime

HARD_DATES = (
    "2026-02-13T16:30:00+08:00",  # Friday before 春节 (holiday 2026-02-15 … 02-23)
    "2026-02-14T10:00:00+08:00",  # 调休 Saturday: a working day
    "2026-02-24T09:00:00+08:00",  # first working day after 春节
    "2026-09-30T17:00:00+08:00",  # evening before 国庆 (2026-10-01 … 10-07)
    "2026-10-08T09:00:00+08:00",  # first working day after 国庆
    "2026-12-09T10:00:00+08:00",  # the date a seeded track went overdue at (issue #14)
    "2026-12-31T17:00:00+08:00",  # evening before 元旦
    "2027-01-04T10:00:00+08:00",  # past the shipped holiday data
)

# The moment a test pins when it only needs "some fixed now".
FROZEN = datetime.fromisoformat("2026-12-09T10:00:00+08:00")


def moments():
    return [datetime.fromisoformat(moment) for moment in HARD_DATES]
