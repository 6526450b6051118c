"""When lessons may be taught (DOMAIN.md, Schedules): checked on a course's weekly timetable
when it is submitted, and on every lesson when it is recorded.

- Subject training: never on a rest day (a weekend or statutory holiday; a swapped working
  weekend day (调休) is a working day) nor in the province's school vacations. A weekly
  timetable names weekdays only; a lesson is checked against the working-day calendar.
- Online lessons last at most `online_max_lesson_minutes`, end by `online_ends_by`, and leave
  the student `online_min_gap_minutes` before the next lesson.
- Offline lessons end by `offline_ends_by`.
- No lesson starts before `lessons_start_from` or runs past midnight.

All times of day are Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from chalicelib.domain.calendar import SHANGHAI, WorkingDayCalendar
from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.institutions.catalog import TimetableSlot
from chalicelib.domain.modes import Mode
from chalicelib.domain.policy import Policy

MAX_SLOTS = 21
"""At most three lessons a day, every day."""


def ends_by(policy: Policy, mode: Mode) -> time:
    return policy.online_ends_by if mode is Mode.ONLINE else policy.offline_ends_by


def check_timetable(
    slots: Sequence[TimetableSlot], *, subject: bool, mode: Mode, lesson_minutes: int,
    policy: Policy,
) -> None:
    """Refuse a weekly timetable that breaks a schedule rule, naming the slot."""
    if mode is Mode.ONLINE and lesson_minutes > policy.online_max_lesson_minutes:
        raise RuleViolation(
            f"线上课程每课时不得超过 {policy.online_max_lesson_minutes} 分钟",
            code="online_lesson_too_long", max_minutes=policy.online_max_lesson_minutes,
            lesson_minutes=lesson_minutes,
        )
    latest = ends_by(policy, mode)
    for slot in slots:
        start = _minute_of_day(slot.starts_at)
        end = start + lesson_minutes
        if start < _minute_of_day(policy.lessons_start_from):
            raise RuleViolation(
                f"{slot.label()} 开始过早：课程不得早于 {policy.lessons_start_from:%H:%M} 开始",
                code="timetable_starts_too_early", slot=slot.label(),
                earliest=f"{policy.lessons_start_from:%H:%M}",
            )
        if end > _minute_of_day(latest):
            raise RuleViolation(
                f"{slot.label()} 的课程结束过晚：{_mode_name(mode)}课程须在 {latest:%H:%M} 前结束",
                code="timetable_ends_too_late", slot=slot.label(), ends_by=f"{latest:%H:%M}",
            )
        if subject and slot.weekday > 5:
            raise RuleViolation(
                f"学科类培训不得在周末安排课程（{slot.label()}）",
                code="timetable_on_rest_day", slot=slot.label(),
            )
    _check_gaps(slots, mode=mode, lesson_minutes=lesson_minutes, policy=policy)


def _check_gaps(slots: Sequence[TimetableSlot], *, mode: Mode, lesson_minutes: int,
                policy: Policy) -> None:
    gap = policy.online_min_gap_minutes if mode is Mode.ONLINE else 0
    ordered = sorted(slots, key=lambda s: (s.weekday, s.starts_at))
    for before, after in pairwise(ordered):
        if before.weekday != after.weekday:
            continue
        free = _minute_of_day(after.starts_at) - _minute_of_day(before.starts_at) - lesson_minutes
        if free < gap:
            raise RuleViolation(
                f"{before.label()} 与 {after.label()} 的课程之间须间隔至少 {gap} 分钟"
                if gap else f"{before.label()} 与 {after.label()} 的课程时间重叠",
                code="timetable_slots_too_close", slots=[before.label(), after.label()],
                min_gap_minutes=gap,
            )


def check_lesson_time(
    started_at: datetime, ended_at: datetime, *, subject: bool, mode: Mode, policy: Policy,
    calendar: WorkingDayCalendar,
) -> None:
    """Refuse a lesson, as recorded, that the schedule rules forbid."""
    start, end = started_at.astimezone(SHANGHAI), ended_at.astimezone(SHANGHAI)
    latest = ends_by(policy, mode)
    if start.time() < policy.lessons_start_from:
        raise RuleViolation(
            f"课程不得早于 {policy.lessons_start_from:%H:%M} 开始", code="lesson_starts_too_early",
            earliest=f"{policy.lessons_start_from:%H:%M}",
        )
    if end.date() != start.date() or end.time() > latest:
        raise RuleViolation(
            f"{_mode_name(mode)}课程须在 {latest:%H:%M} 前结束", code="lesson_ends_too_late",
            ends_by=f"{latest:%H:%M}", ended_at=end.isoformat(),
        )
    if mode is Mode.ONLINE and end - start > timedelta(minutes=policy.online_max_lesson_minutes):
        raise RuleViolation(
            f"线上课程每课时不得超过 {policy.online_max_lesson_minutes} 分钟",
            code="online_lesson_too_long", max_minutes=policy.online_max_lesson_minutes,
        )
    if subject:
        check_teaching_day(start.date(), policy=policy, calendar=calendar)


def check_teaching_day(day: date, *, policy: Policy, calendar: WorkingDayCalendar) -> None:
    """Subject training only on working days (调休 included) outside school vacations."""
    if not calendar.is_working_day(day):
        raise RuleViolation(
            f"{day} 是休息日或法定节假日，不得开展学科类培训", code="lesson_on_rest_day",
            day=day.isoformat(), calendar_known=calendar.knows(day),
        )
    vacation = policy.in_vacation(day)
    if vacation is not None:
        raise RuleViolation(
            f"{day} 在{vacation.name}期间（{vacation.first_day} 至 {vacation.last_day}），"
            "不得开展学科类培训", code="lesson_in_vacation", day=day.isoformat(),
            vacation=vacation.name,
        )


def rest_after_minutes(mode: Mode, policy: Policy) -> int:
    """How long after a lesson the student's time stays taken: the break after an online
    lesson."""
    return policy.online_min_gap_minutes if mode is Mode.ONLINE else 0


def _minute_of_day(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _mode_name(mode: Mode) -> str:
    return "线上" if mode is Mode.ONLINE else "线下"

