"""Lessons taught (消课): the institution records one, and each attending order gets a
consumption pending the parent's confirmation (chalicelib/service/escrow/consumptions.py)."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.calendar import business_date
from chalicelib.domain.errors import InvalidRequest, NotFound, RuleViolation
from chalicelib.domain.escrow import schedule
from chalicelib.domain.escrow.lesson import (
    MAX_ATTENDING_ORDERS,
    Lesson,
    check_believable,
    lessons_per_week,
)
from chalicelib.domain.escrow.order import Order
from chalicelib.domain.institutions.catalog import TAUGHT, Course
from chalicelib.domain.institutions.staff import check_can_teach
from chalicelib.service.caller import Caller
from chalicelib.service.context import Context
from chalicelib.service.escrow.lesson_consumption import (
    RecordedLesson,
    check_consumable,
    consume_all,
)

__all__ = ["RecordedLesson", "record"]


def record(
    ctx: Context,
    caller: Caller,
    lesson_id: str,
    *,
    course_id: str,
    started_at: datetime,
    ended_at: datetime,
    teacher_id: str,
    order_ids: list[str],
) -> RecordedLesson:
    """Every check of the request runs before anything is written, so bad input changes
    nothing. Each attending order then commits on its own: its consumption, its counters and
    its student's time slots in one transaction, the first of them storing the lesson and
    claiming its teacher's time too. An order refused at that point (emptied by a concurrent
    request, or its student already in another lesson at that time) is reported in
    `refused`; if every order is refused, nothing was written and the request fails with the
    first refusal. A teacher already in another lesson at that time refuses the whole lesson
    (`teacher_double_booked`), nothing written. Once the lesson is stored its outcome is
    kept under the Idempotency-Key, and a retry of the request finds the lesson and
    finishes whatever a crash left undone."""
    course = _own_course(ctx, caller.own_institution(), course_id)
    if len(set(order_ids)) != len(order_ids) or not 1 <= len(order_ids) <= MAX_ATTENDING_ORDERS:
        raise InvalidRequest("上课订单须为 1 到 100 个不重复的订单", code="invalid_order_ids")
    if len(order_ids) > course.class_size:
        raise RuleViolation(  # the class size priced the course (the guided price's tier)
            f"本课程班额为 {course.class_size} 人，一节课不能为更多学生消课",
            code="class_size_exceeded", class_size=course.class_size)
    stored = ctx.store.lesson(lesson_id)
    if stored is not None:
        return consume_all(ctx, stored, {}, stored=True)
    policy = ctx.policy(course.region_code)
    check_believable(course, started_at, ended_at, now=ctx.now(), policy=policy)
    schedule.check_lesson_time(started_at, ended_at, subject=course.is_subject, mode=course.mode,
                               policy=policy, calendar=ctx.calendar)
    check_can_teach(ctx.store.staff_member(teacher_id), institution_id=course.institution_id,
                    day=business_date(started_at), subject=course.is_subject)
    lesson = Lesson(
        lesson_id, course.institution_id, course.course_id, teacher_id, started_at, ended_at,
        tuple(order_ids), ctx.now(),
        rest_after_minutes=schedule.rest_after_minutes(course.mode, policy),
        lessons_per_week=lessons_per_week(course, policy),
    )
    attending = [_attending_order(ctx, course, lesson, order_id) for order_id in order_ids]
    recorded = consume_all(ctx, lesson, {o.order_id: o for o in attending}, stored=False)
    if not recorded.consumptions:
        raise next(iter(recorded.refused.values()))
    return recorded


def _own_course(ctx: Context, institution_id: str, course_id: str) -> Course:
    course = ctx.store.course(course_id)
    if course is None or course.institution_id != institution_id:
        raise NotFound("课程不存在", code="course_not_found", course_id=course_id)
    if course.status not in TAUGHT:
        raise RuleViolation("课程尚未通过审核", code="course_not_approved")
    return course


def _attending_order(ctx: Context, course: Course, lesson: Lesson, order_id: str) -> Order:
    order = ctx.store.order(order_id)
    if order is None or order.institution_id != course.institution_id:
        raise NotFound("订单不存在", code="order_not_found", order_id=order_id)
    if order.course_id != course.course_id:
        raise RuleViolation("订单不属于该课程", code="order_not_for_course", order_id=order_id)
    return check_consumable(order, order_id, lesson)
