"""Working time in Asia/Shanghai: every deadline (cases, participation, volunteers' orders) is computed here.

Monday to Friday are working days unless a CalendarDay marks a holiday; a
weekend date with a 调休 (workday) row is a working day. Each working day has
the same WorkingPeriods (e.g. 08:30–12:00 and 13:30–17:30); one working day of
a time limit is the total length of those periods.

The calendar is a few dozen rows; it is loaded once per process and reloaded
when staff change it (a version key in the shared cache, checked at most every
CHECK_SECONDS, and cleared at once in the process that made the change). With
the cache down a process keeps the copy it has: deadlines never wait for Redis.
"""

import logging
import threading
import time as _time
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from portal import degraded

from .models import CalendarDay, DayKind, TimeUnit, WorkingPeriod

log = logging.getLogger(__name__)

TZ = ZoneInfo("Asia/Shanghai")
VERSION_KEY = "workcalendar:version"
CHECK_SECONDS = 10
# Deadlines further out than this mean the calendar has no working days left.
HORIZON_DAYS = 3 * 366

# Used when staff have not entered any periods yet (the common civil-service day).
DEFAULT_PERIODS = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
# Staff are warned while the next this many days reach a year without holidays.
WARNING_DAYS = 60


def _minutes(t):
    return t.hour * 60 + t.minute


@dataclass(frozen=True)
class WorkingCalendar:
    """An immutable snapshot: periods as (start, end) minutes of the day, and day exceptions."""

    periods: tuple[tuple[int, int], ...]
    holidays: frozenset[date]
    workdays: frozenset[date]

    @classmethod
    def build(cls, periods, days):
        spans = tuple(sorted((_minutes(a), _minutes(b)) for a, b in periods)) or tuple(
            (_minutes(a), _minutes(b)) for a, b in DEFAULT_PERIODS
        )
        holidays = frozenset(d for d, kind in days if kind == DayKind.HOLIDAY)
        workdays = frozenset(d for d, kind in days if kind == DayKind.WORKDAY)
        return cls(spans, holidays, workdays)

    @property
    def day_minutes(self):
        return sum(end - start for start, end in self.periods)

    def is_working_day(self, day):
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5

    def add_working_minutes(self, start, minutes):
        """The aware datetime `minutes` of working time after `start`."""
        if minutes <= 0:
            return start
        local = start.astimezone(TZ)
        day = local.date()
        cursor = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 60_000_000
        remaining = float(minutes)
        whole_day = self.day_minutes
        for _step in range(HORIZON_DAYS):
            if self.is_working_day(day):
                # Skip whole working days in one step when starting at the day's beginning.
                if cursor <= self.periods[0][0] and remaining > whole_day:
                    remaining -= whole_day
                else:
                    for begin, end in self.periods:
                        if cursor >= end:
                            continue
                        begin = max(begin, cursor)
                        if remaining <= end - begin:
                            return _at(day, begin + remaining)
                        remaining -= end - begin
            day += timedelta(days=1)
            cursor = 0
        raise ImproperlyConfigured(_("The working calendar has no working days in the next three years."))

    def working_minutes_between(self, a, b):
        """Working minutes from `a` to `b` (negative when b is before a)."""
        if b < a:
            return -self.working_minutes_between(b, a)
        la, lb = a.astimezone(TZ), b.astimezone(TZ)
        total = 0.0
        day = la.date()
        while day <= lb.date():
            if self.is_working_day(day):
                lo = _clock(la) if day == la.date() else 0
                hi = _clock(lb) if day == lb.date() else 24 * 60
                for begin, end in self.periods:
                    overlap = min(end, hi) - max(begin, lo)
                    if overlap > 0:
                        total += overlap
            day += timedelta(days=1)
        return total

    def add(self, start, value, unit):
        if unit == TimeUnit.MINUTES:
            return start + timedelta(minutes=value)
        if unit == TimeUnit.HOURS:
            return start + timedelta(hours=value)
        if unit == TimeUnit.WORKING_HOURS:
            return self.add_working_minutes(start, value * 60)
        if unit == TimeUnit.WORKING_DAYS:
            return self.add_working_minutes(start, value * self.day_minutes)
        raise ValueError(f"unknown time unit {unit!r}")


def _clock(local_dt):
    return local_dt.hour * 60 + local_dt.minute + local_dt.second / 60 + local_dt.microsecond / 60_000_000


def _at(day, minute_of_day):
    whole = int(minute_of_day)
    seconds = round((minute_of_day - whole) * 60)
    return datetime.combine(day, time(0), tzinfo=TZ) + timedelta(minutes=whole, seconds=seconds)


# --- the per-process snapshot ----------------------------------------------------------

_lock = threading.Lock()
_state = {"calendar": None, "version": None, "checked": 0.0}
_UNKNOWN = object()


def load():
    """A fresh snapshot from the database."""
    periods = list(WorkingPeriod.objects.values_list("starts", "ends"))
    days = list(CalendarDay.objects.values_list("date", "kind"))
    return WorkingCalendar.build(periods, days)


def current():
    """The cached snapshot, reloaded when another process bumped the version."""
    now = _time.monotonic()
    with _lock:
        cal = _state["calendar"]
        if cal is not None and now - _state["checked"] < CHECK_SECONDS:
            return cal
    try:
        version = cache.get(VERSION_KEY) if degraded.cache_usable() else _UNKNOWN
    except Exception as exc:  # noqa: BLE001 — a deadline must not wait for Redis
        degraded.cache_failed("the working calendar's version check", exc)
        version = _UNKNOWN
    with _lock:
        if _state["calendar"] is not None and version in (_state["version"], _UNKNOWN):
            # Cache down: keep this process's copy (staff rarely change the calendar).
            _state["checked"] = now
            return _state["calendar"]
    if version is _UNKNOWN:
        version = None
    fresh = load()
    with _lock:
        _state.update(calendar=fresh, version=version, checked=now)
    return fresh


def invalidate():
    """Staff changed the calendar: drop this process's copy and tell the others."""
    with _lock:
        _state.update(calendar=None, version=None, checked=0.0)
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            cache.set(VERSION_KEY, 1, timeout=None)
    except Exception as exc:  # noqa: BLE001 — the change is saved; only other processes' copies lag
        log.error("working calendar changed but the cache is down (%s): other processes keep their copy "
                  "until they restart or the calendar is changed again", exc)


def add_working_time(start, value, unit, *, calendar=None):
    """`start` plus `value` `unit`s of working time, as an aware datetime in Asia/Shanghai."""
    if start.tzinfo is None:
        raise ValueError("add_working_time needs an aware datetime")
    return (calendar or current()).add(start, value, unit).astimezone(TZ)


def working_minutes_between(a, b, *, calendar=None):
    return (calendar or current()).working_minutes_between(a, b)


def years_without_holidays(today, *, days=WARNING_DAYS, calendar=None):
    """The calendar years touched by `today`..`today + days` that have no holidays entered.

    A year counts as entered when 1 January is a holiday row: 元旦 is a public
    holiday every year, and both the package and the State Council's notice list
    it (when it falls on a weekend, as a day of the break). A year with only a
    local holiday, or with the notice half typed in, still counts as missing.
    """
    cal = calendar or current()
    last = today + timedelta(days=days)
    return [year for year in range(today.year, last.year + 1) if date(year, 1, 1) not in cal.holidays]
