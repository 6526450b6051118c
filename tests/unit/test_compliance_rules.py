"""The compliance rules at every boundary, each both ways (DOMAIN.md; policy data from
chalicelib/policies/). A refusal is a RuleViolation with a stable code."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from chalicelib import bootstrap
from chalicelib.domain.calendar import SHANGHAI, WorkingDayCalendar
from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.escrow import charges, schedule
from chalicelib.domain.escrow.charges import Holding
from chalicelib.domain.institutions import course_rules, uscc
from chalicelib.domain.institutions.catalog import TimetableSlot
from chalicelib.domain.institutions.institution_rules import check_credit_code, check_region
from chalicelib.domain.modes import Mode
from chalicelib.domain.policy import Policy

BOOK = bootstrap.policies()
TODAY = date(2026, 12, 7)
BEIJING = BOOK.policy("110105", TODAY)
GUANGZHOU = BOOK.policy("440106", TODAY)
SHENZHEN = BOOK.policy("440305", TODAY)
CALENDAR = WorkingDayCalendar()


def _outcome(check: Any, **kwargs: Any) -> str:
    """"ok", or the refusal's code."""
    try:
        check(**kwargs)
    except RuleViolation as refused:
        return refused.code
    return "ok"


# --- one charge: the course whole, and a purchase with what the child already holds ---

COURSE_CAPS = [  # lessons, price per lesson, starts_on, ends_on -> outcome
    (60, 100, date(2026, 9, 1), date(2026, 9, 30), "ok"),
    (61, 100, date(2026, 9, 1), date(2026, 9, 30), "charge_cap_exceeded"),
    (50, 10_000, date(2026, 9, 1), date(2026, 9, 30), "ok"),  # 500,000 fen
    (50, 10_001, date(2026, 9, 1), date(2026, 9, 30), "charge_cap_exceeded"),  # 500,050
    (1, 500_000, date(2026, 9, 1), date(2026, 9, 1), "ok"),
    (1, 500_001, date(2026, 9, 1), date(2026, 9, 1), "charge_cap_exceeded"),
    (12, 100, date(2026, 9, 1), date(2026, 11, 30), "ok"),  # exactly three months
    (12, 100, date(2026, 9, 1), date(2026, 12, 1), "charge_cap_exceeded"),  # a day more
    (12, 100, date(2026, 11, 30), date(2027, 2, 27), "ok"),  # a month end clamps
    (12, 100, date(2026, 11, 30), date(2027, 2, 28), "charge_cap_exceeded"),
    (12, 100, date(2026, 9, 2), date(2026, 9, 1), "course_dates_invalid"),
]


@pytest.mark.parametrize(("lessons", "price", "starts", "ends", "expected"), COURSE_CAPS)
def test_a_course_must_fit_one_charge(lessons: int, price: int, starts: date, ends: date,
                                      expected: str) -> None:
    assert _outcome(charges.check_course_fits_one_charge, lessons_total=lessons,
                    price_per_lesson_fen=price, starts_on=starts, ends_on=ends,
                    policy=GUANGZHOU) == expected


PURCHASES = [  # lessons, price, held, today -> outcome
    (60, 100, Holding(), date(2026, 9, 1), "ok"),
    (61, 100, Holding(), date(2026, 9, 1), "charge_cap_exceeded"),
    (40, 100, Holding(20, 2_000), date(2026, 9, 1), "ok"),  # 60 with the 20 held
    (41, 100, Holding(20, 2_000), date(2026, 9, 1), "charge_cap_exceeded"),
    (10, 15_000, Holding(20, 350_000), date(2026, 9, 1), "ok"),  # 500,000 fen in all
    (10, 15_000, Holding(20, 350_001), date(2026, 9, 1), "charge_cap_exceeded"),
    (1, 100, Holding(20, 2_000), date(2026, 9, 1), "ok"),  # renewal with 20 left
    (1, 100, Holding(21, 2_100), date(2026, 9, 1), "renewal_too_early"),  # 21 left
    (1, 100, Holding(), date(2026, 8, 1), "ok"),  # a month before the start
    (1, 100, Holding(), date(2026, 7, 31), "charge_too_early"),  # a day earlier
    (1, 100, Holding(), date(2026, 11, 30), "ok"),  # its last day
    (1, 100, Holding(), date(2026, 12, 1), "course_ended"),
]


@pytest.mark.parametrize(("lessons", "price", "held", "today", "expected"), PURCHASES)
def test_a_purchase_fits_one_charge_with_what_the_child_holds(
    lessons: int, price: int, held: Holding, today: date, expected: str,
) -> None:
    assert _outcome(charges.check_purchase, lessons=lessons, price_per_lesson_fen=price,
                    starts_on=date(2026, 9, 1), ends_on=date(2026, 11, 30), held=held,
                    today=today, policy=GUANGZHOU) == expected


def test_a_refusal_says_what_the_cap_is_and_how_far_over() -> None:
    with pytest.raises(RuleViolation) as refused:
        charges.check_purchase(lessons=10, price_per_lesson_fen=15_000, starts_on=TODAY,
                               ends_on=TODAY, held=Holding(20, 350_001), today=TODAY,
                               policy=GUANGZHOU)
    assert refused.value.details == {"cap": "fen", "amount_fen": 500_001, "max_fen": 500_000}
    assert "5000.01" in refused.value.message and "5000.00" in refused.value.message


# --- the government-guided price of subject courses ---

GUIDED = [  # region policy, mode, class size, minutes, price -> outcome
    (BEIJING, Mode.OFFLINE, 9, 45, 8_800, "ok"),  # 8,000 x 1.10
    (BEIJING, Mode.OFFLINE, 9, 45, 8_801, "course_price_above_guided"),
    (BEIJING, Mode.OFFLINE, 9, 40, 7_822, "ok"),  # 8,000 x 40/45 x 1.10 = 7,822.2
    (BEIJING, Mode.OFFLINE, 9, 40, 7_823, "course_price_above_guided"),
    (BEIJING, Mode.OFFLINE, 10, 45, 6_600, "ok"),  # the 10-35 tier
    (BEIJING, Mode.OFFLINE, 10, 45, 6_601, "course_price_above_guided"),
    (BEIJING, Mode.OFFLINE, 36, 45, 4_400, "ok"),
    (BEIJING, Mode.OFFLINE, 36, 45, 4_401, "course_price_above_guided"),
    (BEIJING, Mode.ONLINE, 50, 30, 2_200, "ok"),  # 2,000 x 1.10
    (BEIJING, Mode.ONLINE, 50, 30, 2_201, "course_price_above_guided"),
    (BEIJING, Mode.ONLINE, 50, 20, 1_466, "ok"),  # 2,000 x 20/30 x 1.10 = 1,466.7
    (BEIJING, Mode.ONLINE, 50, 20, 1_467, "course_price_above_guided"),
    (SHENZHEN, Mode.OFFLINE, 10, 45, 7_700, "ok"),  # Shenzhen's own table
    (SHENZHEN, Mode.OFFLINE, 11, 45, 5_501, "course_price_above_guided"),
    (SHENZHEN, Mode.OFFLINE, 31, 40, 3_422, "ok"),  # 3,500 x 40/45 x 1.10 = 3,422.2
    (SHENZHEN, Mode.OFFLINE, 31, 40, 3_423, "course_price_above_guided"),
    (SHENZHEN, Mode.ONLINE, 10, 30, 1, "guided_price_unavailable"),  # no online table
    (GUANGZHOU, Mode.OFFLINE, 10, 45, 1, "guided_price_unavailable"),
]


@pytest.mark.parametrize(("policy", "mode", "size", "minutes", "price", "expected"), GUIDED)
def test_a_subject_lesson_costs_at_most_the_guided_price(
    policy: Policy, mode: Mode, size: int, minutes: int, price: int, expected: str,
) -> None:
    assert _outcome(course_rules.check_guided_price, mode=mode, class_size=size,
                    lesson_minutes=minutes, price_per_lesson_fen=price,
                    policy=policy) == expected


# --- timetables and lessons ---

def _slot(weekday: int, at: str) -> TimetableSlot:
    return TimetableSlot(weekday, time.fromisoformat(at))


TIMETABLES = [  # slots, subject, mode, minutes -> outcome
    ([_slot(1, "20:30")], False, Mode.ONLINE, 30, "ok"),  # ends 21:00
    ([_slot(1, "20:31")], False, Mode.ONLINE, 30, "timetable_ends_too_late"),
    ([_slot(1, "19:45")], False, Mode.OFFLINE, 45, "ok"),  # ends 20:30
    ([_slot(1, "19:46")], False, Mode.OFFLINE, 45, "timetable_ends_too_late"),
    ([_slot(6, "09:00")], False, Mode.OFFLINE, 45, "ok"),  # non-subject on a Saturday
    ([_slot(6, "09:00")], True, Mode.OFFLINE, 45, "timetable_on_rest_day"),
    ([_slot(7, "09:00")], True, Mode.ONLINE, 30, "timetable_on_rest_day"),
    ([_slot(5, "18:00")], True, Mode.OFFLINE, 45, "ok"),
    ([_slot(1, "18:00")], False, Mode.ONLINE, 31, "online_lesson_too_long"),
    ([_slot(1, "18:00"), _slot(1, "18:40")], False, Mode.ONLINE, 30, "ok"),  # a 10-minute gap
    ([_slot(1, "18:00"), _slot(1, "18:39")], False, Mode.ONLINE, 30,
     "timetable_slots_too_close"),
    ([_slot(2, "18:00"), _slot(1, "18:30")], False, Mode.ONLINE, 30, "ok"),  # other days
    ([_slot(1, "18:00"), _slot(1, "18:45")], False, Mode.OFFLINE, 45, "ok"),  # back to back
    ([_slot(1, "18:00"), _slot(1, "18:44")], False, Mode.OFFLINE, 45,
     "timetable_slots_too_close"),
    ([_slot(1, "06:00")], False, Mode.OFFLINE, 45, "ok"),
    ([_slot(1, "05:59")], False, Mode.OFFLINE, 45, "timetable_starts_too_early"),
]


@pytest.mark.parametrize(("slots", "subject", "mode", "minutes", "expected"), TIMETABLES)
def test_a_timetable_obeys_the_schedule_rules(
    slots: list[TimetableSlot], subject: bool, mode: Mode, minutes: int, expected: str,
) -> None:
    assert _outcome(schedule.check_timetable, slots=slots, subject=subject, mode=mode,
                    lesson_minutes=minutes, policy=GUANGZHOU) == expected


def _at(day: date, hh_mm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hh_mm), SHANGHAI)


MONDAY = date(2026, 11, 2)
LESSONS = [  # day, start, minutes, subject, mode -> outcome
    (MONDAY, "20:30", 30, False, Mode.ONLINE, "ok"),  # ends 21:00
    (MONDAY, "20:31", 30, False, Mode.ONLINE, "lesson_ends_too_late"),  # ends 21:01
    (MONDAY, "20:00", 31, False, Mode.ONLINE, "online_lesson_too_long"),
    (MONDAY, "19:30", 60, False, Mode.OFFLINE, "ok"),  # ends 20:30
    (MONDAY, "19:31", 60, False, Mode.OFFLINE, "lesson_ends_too_late"),  # ends 20:31
    (MONDAY, "23:30", 60, False, Mode.OFFLINE, "lesson_ends_too_late"),  # past midnight
    (MONDAY, "05:59", 60, False, Mode.OFFLINE, "lesson_starts_too_early"),
    (date(2026, 10, 1), "18:00", 45, True, Mode.OFFLINE, "lesson_on_rest_day"),  # National Day
    (date(2026, 10, 1), "18:00", 45, False, Mode.OFFLINE, "ok"),  # non-subject may teach
    (date(2026, 11, 1), "18:00", 45, True, Mode.OFFLINE, "lesson_on_rest_day"),  # a Sunday
    (date(2026, 9, 20), "18:00", 45, True, Mode.OFFLINE, "ok"),  # a swapped working Sunday
    (date(2026, 7, 20), "18:00", 45, True, Mode.OFFLINE, "lesson_in_vacation"),  # summer
    (date(2026, 7, 10), "18:00", 45, True, Mode.OFFLINE, "ok"),  # before Guangdong's summer
    (date(2027, 3, 1), "18:00", 45, True, Mode.OFFLINE, "ok"),  # 2027: Monday-Friday
    (date(2027, 3, 6), "18:00", 45, True, Mode.OFFLINE, "lesson_on_rest_day"),  # a Saturday
]


@pytest.mark.parametrize(("day", "start", "minutes", "subject", "mode", "expected"), LESSONS)
def test_a_recorded_lesson_obeys_the_schedule_rules(
    day: date, start: str, minutes: int, subject: bool, mode: Mode, expected: str,
) -> None:
    started = _at(day, start)
    assert _outcome(schedule.check_lesson_time, started_at=started,
                    ended_at=started + timedelta(minutes=minutes), subject=subject, mode=mode,
                    policy=GUANGZHOU, calendar=CALENDAR) == expected


def test_a_rest_day_past_the_calendar_data_is_refused_saying_it_is_a_guess() -> None:
    with pytest.raises(RuleViolation) as refused:
        schedule.check_teaching_day(date(2027, 3, 6), policy=GUANGZHOU, calendar=CALENDAR)
    assert refused.value.details["calendar_known"] is False
    with pytest.raises(RuleViolation) as known:
        schedule.check_teaching_day(date(2026, 10, 1), policy=GUANGZHOU, calendar=CALENDAR)
    assert known.value.details["calendar_known"] is True


# --- identity and place ---

@pytest.mark.parametrize(("code", "valid"), [
    ("91110000802100433B", True),  # published codes
    ("91440300708461136T", True),
    ("91440300708461136U", False),  # the check character mistyped
    ("91440300708461163T", False),  # two characters swapped
    ("9144030070846113", False),  # too short
    ("91440300708461136I", False),  # I is not in the character set
])
def test_a_credit_code_is_checked_by_its_check_character(code: str, valid: bool) -> None:
    assert uscc.is_valid(code) is valid
    assert _outcome(check_credit_code, code=code) == ("ok" if valid else "uscc_check_failed")


@pytest.mark.parametrize(("region", "expected"), [
    ("440106", "ok"),  # Guangzhou Tianhe
    ("440305", "ok"),  # Shenzhen Nanshan
    ("440199", "county_unknown"),  # Guangzhou lists its districts: no 99
    ("445102", "ok"),  # Chaozhou: no county list loaded, any county code
    ("440100", "region_unknown"),  # a city's own code, not a county
    ("990101", "region_unknown"),  # no province 99
    ("110105", "region_outside_province"),  # Beijing, on Guangdong's platform
])
def test_an_institution_is_in_a_real_county_of_this_province(region: str, expected: str) -> None:
    assert _outcome(check_region, region_code=region, province_code="44",
                    policy=BOOK.policy(region, TODAY)) == expected


@pytest.mark.parametrize("region", ["441900", "442000"])  # 东莞, 中山: no counties
def test_a_city_without_counties_is_named_by_its_own_code(region: str) -> None:
    assert _outcome(check_region, region_code=region, province_code="44",
                    policy=BOOK.policy(region, TODAY)) == "ok"
