"""A lesson taught: one class session of a course, attended by some orders' students.

A record must be believable before it consumes anything, because silence confirms it and
confirmation pays the institution. The institution is the one with a reason to cheat (record
lessons early, late, twice, long ago, or for a student who was elsewhere), so a lesson is
refused unless it:

- has ended (a few minutes of clock skew allowed), and ended at most the policy's
  `lesson_record_window_hours` ago;
- lasts the course's `lesson_minutes`, give or take the policy's tolerance (and at least
  MIN_LESSON, at most MAX_LESSON: the bounds of the time slots its write claims);
- falls inside the course's `starts_on`..`ends_on` (business dates, Asia/Shanghai);
- began after each attending order was paid (`check_attends`).

A lesson keeps to its course's published pace: its student's lessons of the course in the
lesson's week (Monday to Sunday, Asia/Shanghai) are at most `lessons_per_week`, the
timetable's weekly slots plus the policy's make-up lessons, counted by the consuming write
(an institution could otherwise record a whole order in one sitting: the lessons need not
begin at a timetable slot, since lessons are moved for holidays, weather or a sick teacher,
but they cannot outrun the timetable).

That a student is never in two lessons at once, nor a teacher, is enforced by the
consuming write itself (chalicelib/domain/escrow/timeslots.py), not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain.calendar import business_date
from chalicelib.domain.errors import InvalidRequest, RuleViolation
from chalicelib.domain.escrow.order import Order
from chalicelib.domain.institutions.catalog import Course
from chalicelib.domain.policy import MAX_LENGTH_TOLERANCE_MINUTES, Policy

MAX_ATTENDING_ORDERS = 100
CLOCK_SKEW = timedelta(minutes=5)
MIN_LESSON = timedelta(minutes=10)
MAX_LESSON_MINUTES = 240
"""The longest lesson a course may have (its `lesson_minutes`)."""
MAX_LESSON = timedelta(minutes=MAX_LESSON_MINUTES + MAX_LENGTH_TOLERANCE_MINUTES)
"""No course's lesson, with any tolerance a policy may give, is longer: a lesson's write
claims its student's and its teacher's time slots in one transaction of at most 100 items
(chalicelib/service/escrow/lesson_consumption.py counts them)."""


@dataclass(frozen=True)
class Lesson:
    lesson_id: str
    institution_id: str
    course_id: str
    teacher_id: str
    started_at: datetime
    ended_at: datetime
    order_ids: tuple[str, ...]
    recorded_at: datetime
    rest_after_minutes: int = 0
    """The break the student must have after it (online lessons) before another lesson."""
    lessons_per_week: int = 0
    """The most lessons of its course a student may have in its week (0: a lesson recorded
    before the rule, not counted)."""

    @property
    def duration(self) -> timedelta:
        return self.ended_at - self.started_at

    @property
    def week(self) -> str:
        """The ISO week it began in, Asia/Shanghai: `2026-W10`."""
        return week_of(self.started_at)

    @property
    def time_taken_until(self) -> datetime:
        """The end of the student's time the lesson takes: its end, then its break."""
        return self.ended_at + timedelta(minutes=self.rest_after_minutes)


def week_of(instant: datetime) -> str:
    year, week, _ = business_date(instant).isocalendar()
    return f"{year}-W{week:02d}"


def lessons_per_week(course: Course, policy: Policy) -> int:
    """How many lessons of `course` a student may have in one week."""
    return len(course.timetable) + policy.extra_lessons_per_week


def check_believable(
    course: Course, started_at: datetime, ended_at: datetime, *, now: datetime, policy: Policy
) -> None:
    """Refuse a lesson of `course` that could not have been taught as recorded at `now`."""
    duration = ended_at - started_at
    if not MIN_LESSON <= duration <= MAX_LESSON:
        raise InvalidRequest("上课时间不合理", code="invalid_lesson_time",
                             min_minutes=_minutes(MIN_LESSON), max_minutes=_minutes(MAX_LESSON))
    if ended_at > now + CLOCK_SKEW:
        raise RuleViolation("课程尚未结束，不能消课", code="lesson_not_finished")
    window = timedelta(hours=policy.lesson_record_window_hours)
    if ended_at < now - window:
        raise RuleViolation(
            "课程结束已超过可消课的时限", code="lesson_recorded_too_late",
            window_hours=policy.lesson_record_window_hours,
        )
    tolerance = timedelta(minutes=policy.lesson_length_tolerance_minutes)
    expected = timedelta(minutes=course.lesson_minutes)
    if abs(duration - expected) > tolerance:
        raise RuleViolation(
            "上课时长与课程规定的课时长度不符", code="lesson_length_mismatch",
            lesson_minutes=course.lesson_minutes, recorded_minutes=_minutes(duration),
            tolerance_minutes=policy.lesson_length_tolerance_minutes,
        )
    if business_date(started_at) < course.starts_on or business_date(ended_at) > course.ends_on:
        raise RuleViolation(
            "上课日期不在课程的开课期间内", code="lesson_outside_course_dates",
            starts_on=course.starts_on.isoformat(), ends_on=course.ends_on.isoformat(),
        )


def check_attends(order: Order, lesson: Lesson) -> None:
    """An order pays only for lessons that began after it was paid."""
    if order.paid_at is None or lesson.started_at < order.paid_at:
        raise RuleViolation(
            "课程开始时订单尚未付款", code="lesson_before_payment", order_id=order.order_id,
            paid_at=order.paid_at.isoformat() if order.paid_at else None,
        )


def _minutes(duration: timedelta) -> int:
    return int(duration.total_seconds() // 60)
