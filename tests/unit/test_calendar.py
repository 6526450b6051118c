"""The working-day calendar: China's statutory holidays, swaps, overrides, fallback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.calendar import (
    MAX_WORKING_DAYS,
    CalendarOverrides,
    Deadline,
    WorkingDayCalendar,
    business_date,
)

CALENDAR = WorkingDayCalendar()

# chinese_calendar 1.11 publishes 2004..2026; 2027 is the first year it does not know.
FIRST_UNKNOWN_YEAR = 2027


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_the_installed_chinese_calendar_knows_2026_but_not_2027() -> None:
    assert CALENDAR.knows(date(2026, 12, 31))
    assert not CALENDAR.knows(date(FIRST_UNKNOWN_YEAR, 1, 1))


@pytest.mark.parametrize("day", days_between(date(2025, 10, 1), date(2025, 10, 8)))
def test_every_day_of_national_day_2025_is_a_holiday(day: date) -> None:
    assert not CALENDAR.is_working_day(day)


@pytest.mark.parametrize("day", [date(2025, 9, 28), date(2025, 10, 11)])
def test_the_weekends_swapped_for_national_day_2025_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert CALENDAR.is_working_day(day)


def test_one_working_day_before_national_day_2025_lands_after_it() -> None:
    assert CALENDAR.add_working_days(date(2025, 9, 30), 1) == Deadline(date(2025, 10, 9), False)


def test_the_swapped_saturday_after_national_day_2025_counts() -> None:
    assert CALENDAR.add_working_days(date(2025, 9, 30), 3).due_on == date(2025, 10, 11)


def test_fifteen_working_days_across_national_day_2025() -> None:
    # Sun 28 Sep (swap), Mon 29, Tue 30, 1-8 Oct off, Thu 9, Fri 10, Sat 11 (swap), 13-17, 20-23.
    deadline = CALENDAR.add_working_days(date(2025, 9, 26), 15)
    assert deadline == Deadline(due_on=date(2025, 10, 23), estimated=False)


@pytest.mark.parametrize("day", days_between(date(2026, 2, 15), date(2026, 2, 23)))
def test_every_day_of_spring_festival_2026_is_a_holiday(day: date) -> None:
    assert not CALENDAR.is_working_day(day)


@pytest.mark.parametrize("day", [date(2026, 2, 14), date(2026, 2, 28)])
def test_the_saturdays_swapped_for_spring_festival_2026_are_working_days(day: date) -> None:
    assert day.weekday() == 5
    assert CALENDAR.is_working_day(day)


def test_a_deadline_across_spring_festival_2026_resumes_after_the_break() -> None:
    assert CALENDAR.add_working_days(date(2026, 2, 13), 1).due_on == date(2026, 2, 14)
    assert CALENDAR.add_working_days(date(2026, 2, 13), 2).due_on == date(2026, 2, 24)


def test_a_deadline_running_into_2027_is_estimated_with_monday_to_friday() -> None:
    # Thu 31 Dec 2026 is known; Fri 1 Jan 2027 is a guess, and a weekday, so it counts.
    deadline = CALENDAR.add_working_days(date(2026, 12, 30), 2)
    assert deadline == Deadline(due_on=date(2027, 1, 1), estimated=True)


def test_a_guessed_weekend_in_2027_is_skipped() -> None:
    assert CALENDAR.add_working_days(date(2027, 1, 1), 1) == Deadline(date(2027, 1, 4), True)


def test_a_deadline_inside_the_known_calendar_is_not_estimated() -> None:
    assert not CALENDAR.add_working_days(date(2026, 12, 1), 22).estimated


def test_an_override_holiday_in_2027_is_skipped() -> None:
    calendar = WorkingDayCalendar(CalendarOverrides(holidays=frozenset({date(2027, 1, 1)})))
    assert calendar.add_working_days(date(2026, 12, 30), 2) == Deadline(date(2027, 1, 4), True)


def test_an_override_working_saturday_counts() -> None:
    saturday = date(2027, 1, 9)
    calendar = WorkingDayCalendar(CalendarOverrides(working_days=frozenset({saturday})))
    assert calendar.add_working_days(date(2027, 1, 8), 1).due_on == saturday


def test_overrides_beat_chinese_calendar() -> None:
    overrides = CalendarOverrides(
        holidays=frozenset({date(2025, 10, 9)}), working_days=frozenset({date(2025, 10, 1)})
    )
    calendar = WorkingDayCalendar(overrides)
    assert calendar.is_working_day(date(2025, 10, 1))
    assert not calendar.is_working_day(date(2025, 10, 9))


def test_a_day_named_by_an_override_is_known_even_beyond_chinese_calendar() -> None:
    day = date(FIRST_UNKNOWN_YEAR, 3, 1)
    calendar = WorkingDayCalendar(CalendarOverrides(holidays=frozenset({day})))
    assert calendar.knows(day)
    assert not calendar.knows(day + timedelta(days=1))


def test_a_date_cannot_be_both_an_override_holiday_and_working_day() -> None:
    day = frozenset({date(2027, 1, 1)})
    with pytest.raises(ValueError, match="both"):
        CalendarOverrides(holidays=day, working_days=day)


def test_zero_working_days_is_the_start_itself() -> None:
    assert CALENDAR.add_working_days(date(2025, 10, 1), 0) == Deadline(date(2025, 10, 1), False)


@pytest.mark.parametrize("days", [-1, MAX_WORKING_DAYS + 1])
def test_a_negative_or_absurd_number_of_days_raises(days: int) -> None:
    with pytest.raises(ValueError, match="days must be"):
        CALENDAR.add_working_days(date(2025, 1, 1), days)


def test_the_longest_allowed_deadline_is_computed() -> None:
    assert CALENDAR.add_working_days(date(2020, 1, 1), MAX_WORKING_DAYS).estimated


def test_a_datetime_is_refused_where_a_date_is_expected() -> None:
    with pytest.raises(TypeError, match="business_date"):
        CALENDAR.add_working_days(datetime(2025, 10, 1, tzinfo=UTC), 1)


def test_business_date_of_a_naive_datetime_raises() -> None:
    with pytest.raises(ValueError, match="naive"):
        business_date(datetime(2026, 1, 1, 17, 0))


def test_business_date_is_the_shanghai_date() -> None:
    assert business_date(datetime(2026, 1, 1, 17, 0, tzinfo=UTC)) == date(2026, 1, 2)
    assert business_date(datetime(2026, 1, 1, 15, 59, tzinfo=UTC)) == date(2026, 1, 1)


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    n=st.integers(min_value=0, max_value=40),
)
def test_a_deadline_is_the_nth_working_day_after_the_start(start: date, n: int) -> None:
    deadline = CALENDAR.add_working_days(start, n)
    examined = days_between(start + timedelta(days=1), deadline.due_on)
    assert deadline.due_on >= start
    assert sum(CALENDAR.is_working_day(day) for day in examined) == n
    assert n == 0 or CALENDAR.is_working_day(deadline.due_on)
    assert deadline.estimated == any(day.year >= FIRST_UNKNOWN_YEAR for day in examined)
