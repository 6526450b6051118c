"""Working-day calendar for deadlines counted in working days.

The rule: a deadline of *n* working days after a start date falls on the *n*-th
working day after it, the start itself not counted, and the thing is due by the
end of that day in Asia/Shanghai. Whether a day is a working day is decided by,
in order of precedence:

1. operator overrides: extra working days, then extra holidays;
2. China's statutory holiday calendar, swapped working weekends (调休) included,
   as published by the ``chinese_calendar`` package for the years it has data for;
3. otherwise Monday to Friday.

A day decided by rule 3 is a guess, and the result says so rather than failing:
``Deadline.estimated`` is True when any day examined on the way to it was a guess.

Pure domain code: no I/O, and every input is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

MAX_WORKING_DAYS = 3660
"""The longest deadline that may be asked for, in working days (about 14 years)."""

MAX_OVERRIDES = 10_000
"""The most dates each override set may hold."""

# Enough calendar days to find MAX_WORKING_DAYS working days even if every
# override is a holiday: a fuse on the loop, never reached by a correct calendar.
_MAX_SCAN_DAYS = 2 * MAX_WORKING_DAYS + MAX_OVERRIDES + 366
_LATEST_START = date.max - timedelta(days=_MAX_SCAN_DAYS)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class CalendarOverrides:
    """Dates an operator has declared, which take precedence over everything else."""

    holidays: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        for name, days in (("holidays", self.holidays), ("working_days", self.working_days)):
            if len(days) > MAX_OVERRIDES:
                raise ValueError(f"{name}: {len(days)} dates, at most {MAX_OVERRIDES} allowed")
            for day in days:
                _require_date(day)
        both = self.holidays & self.working_days
        if both:
            raise ValueError(f"dates both holiday and working day: {sorted(both)}")


@dataclass(frozen=True)
class Deadline:
    """Due by the end of ``due_on``, Asia/Shanghai; ``estimated`` if a day examined was a guess."""

    due_on: date
    estimated: bool


class WorkingDayCalendar:
    """China's working days, with operator overrides and a Monday-Friday fallback."""

    def __init__(self, overrides: CalendarOverrides = CalendarOverrides()) -> None:
        self._overrides = overrides

    def is_working_day(self, day: date) -> bool:
        _require_date(day)
        if day in self._overrides.working_days:
            return True
        if day in self._overrides.holidays:
            return False
        if _has_data(day.year):
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5

    def knows(self, day: date) -> bool:
        """True unless ``day`` is decided by the Monday-Friday fallback."""
        _require_date(day)
        return (
            day in self._overrides.working_days
            or day in self._overrides.holidays
            or _has_data(day.year)
        )

    def add_working_days(self, start: date, days: int) -> Deadline:
        """The date `days` working days after `start` (start itself is not counted).

        ``days`` must be in 0..MAX_WORKING_DAYS; ``days == 0`` returns ``start``.
        """
        _require_date(start)
        if not 0 <= days <= MAX_WORKING_DAYS:
            raise ValueError(f"days must be in 0..{MAX_WORKING_DAYS}, got {days}")
        if start > _LATEST_START:
            raise ValueError(f"start must be on or before {_LATEST_START}, got {start}")
        day, counted, estimated = start, 0, False
        for _ in range(_MAX_SCAN_DAYS + 1):
            if counted == days:
                return Deadline(due_on=day, estimated=estimated)
            day += _ONE_DAY
            if self.is_working_day(day):
                counted += 1
            estimated = estimated or not self.knows(day)
        raise RuntimeError(f"no {days} working days within {_MAX_SCAN_DAYS} days of {start}")


def business_date(instant: datetime) -> date:
    """The Asia/Shanghai calendar date of a timezone-aware instant."""
    if instant.utcoffset() is None:
        raise ValueError(f"naive datetime has no instant: {instant!r}")
    return instant.astimezone(SHANGHAI).date()


@cache
def _has_data(year: int) -> bool:
    """Whether chinese_calendar knows ``year``; it raises NotImplementedError if not."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _require_date(day: date) -> None:
    # datetime is a subclass of date but never equal to one: it would miss every lookup.
    if not isinstance(day, date) or isinstance(day, datetime):
        raise TypeError(f"expected a date, got {day!r}; convert instants with business_date()")
