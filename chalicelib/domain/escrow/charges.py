"""One charge (DOMAIN.md, Courses and prices): at most `max_lessons_per_charge` lessons,
`max_fen_per_charge` fen and `max_months_per_charge` months of teaching, whichever binds
first, so that a prepayment stays small enough to lose.

A course is what one charge may buy at most, so a course must fit the caps whole; a
purchase must fit them together with the student's unconsumed lessons of the same course
(renewal), may be made only when few enough of them remain, and not too long before the
course starts, nor after it ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.policy import Policy


@dataclass(frozen=True)
class Holding:
    """What a student already holds of a course: lessons bought and not yet consumed, and
    their price."""

    lessons: int = 0
    fen: int = 0


def last_day_of_span(first_day: date, months: int) -> date:
    """The last day `months` months of teaching starting on `first_day` may reach: the day
    before the same date `months` later (2026-09-01 + 3 months -> 2026-11-30; a month end
    clamps: 2026-11-30 + 3 months -> 2027-02-27)."""
    later: date = first_day + relativedelta(months=months)
    return later - timedelta(days=1)


def check_course_fits_one_charge(
    *, lessons_total: int, price_per_lesson_fen: int, starts_on: date, ends_on: date,
    policy: Policy,
) -> None:
    if ends_on < starts_on:
        raise RuleViolation("课程结束日期早于开始日期", code="course_dates_invalid")
    _check_caps(lessons_total, lessons_total * price_per_lesson_fen, policy,
                what="整门课程")
    latest_end = last_day_of_span(starts_on, policy.max_months_per_charge)
    if ends_on > latest_end:
        raise RuleViolation(
            f"一次收费的课程不得超过 {policy.max_months_per_charge} 个月：自 {starts_on} 开课，"
            f"最晚于 {latest_end} 结课", code="charge_cap_exceeded", cap="months",
            max_months=policy.max_months_per_charge, latest_ends_on=latest_end.isoformat(),
        )


def check_purchase(
    *, lessons: int, price_per_lesson_fen: int, starts_on: date, ends_on: date,
    held: Holding, today: date, policy: Policy,
) -> None:
    if today > ends_on:
        raise RuleViolation(f"课程已于 {ends_on} 结课，不能再购买", code="course_ended",
                            ends_on=ends_on.isoformat())
    earliest: date = starts_on - relativedelta(months=policy.charge_earliest_months_before_start)
    if today < earliest:
        raise RuleViolation(
            f"开课前 {policy.charge_earliest_months_before_start} 个月内才能收费："
            f"最早 {earliest} 起可购买", code="charge_too_early",
            earliest_on=earliest.isoformat(),
        )
    if held.lessons > policy.renewal_max_lessons_left:
        raise RuleViolation(
            f"该学生本课程还有 {held.lessons} 课时未上，剩余不超过 "
            f"{policy.renewal_max_lessons_left} 课时时才能续费", code="renewal_too_early",
            lessons_left=held.lessons, max_lessons_left=policy.renewal_max_lessons_left,
        )
    _check_caps(held.lessons + lessons, held.fen + lessons * price_per_lesson_fen, policy,
                what="本次购买连同未消课时" if held.lessons else "本次购买")


def _check_caps(lessons: int, fen: int, policy: Policy, *, what: str) -> None:
    if lessons > policy.max_lessons_per_charge:
        raise RuleViolation(
            f"{what}共 {lessons} 课时，一次收费不得超过 {policy.max_lessons_per_charge} 课时",
            code="charge_cap_exceeded", cap="lessons", lessons=lessons,
            max_lessons=policy.max_lessons_per_charge,
        )
    if fen > policy.max_fen_per_charge:
        raise RuleViolation(
            f"{what}共 {_yuan(fen)} 元，一次收费不得超过 {_yuan(policy.max_fen_per_charge)} 元",
            code="charge_cap_exceeded", cap="fen", amount_fen=fen,
            max_fen=policy.max_fen_per_charge,
        )


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"
