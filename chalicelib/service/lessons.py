"""Lessons taught (消课): the institution records one, and each attending order gets a
consumption pending the parent's confirmation (chalicelib/service/consumptions.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.domain import order as order_rules
from chalicelib.domain.calendar import business_date
from chalicelib.domain.catalog import Course, CourseStatus
from chalicelib.domain.consumption import (
    Consumption,
    ConsumptionStatus,
)
from chalicelib.domain.errors import (
    ConcurrentUpdate,
    InvalidRequest,
    NotFound,
    RuleViolation,
    StateConflict,
)
from chalicelib.domain.lesson import MAX_ATTENDING_ORDERS, Lesson
from chalicelib.domain.order import Order, OrderStatus
from chalicelib.service import retry
from chalicelib.service.caller import Caller
from chalicelib.service.context import Context
from chalicelib.service.ports import WriteRejected


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
    """Every check runs before anything is written, so bad input changes nothing. Each
    attending order then commits on its own (its consumption id is derived from the lesson
    and the order, so a retry of the same request finishes what a crash left undone). An
    order that a concurrent request emptied in between is reported in `refused`, not raised:
    once the lesson exists, the request's outcome must be kept under its Idempotency-Key."""
    course = _own_course(ctx, caller.own_institution(), course_id)
    _check_times(ctx, started_at, ended_at)
    if len(set(order_ids)) != len(order_ids) or not 1 <= len(order_ids) <= MAX_ATTENDING_ORDERS:
        raise InvalidRequest("上课订单须为 1 到 100 个不重复的订单", code="invalid_order_ids")
    lesson = Lesson(
        lesson_id, course.institution_id, course.course_id, teacher_id, started_at, ended_at,
        tuple(order_ids), ctx.now(),
    )
    existing = ctx.store.lesson(lesson_id)
    if existing is not None:
        return _finish(ctx, existing)
    attending = [_attending_order(ctx, course, order_id) for order_id in order_ids]
    try:
        ctx.store.write().create(lesson, "lesson").commit()
    except WriteRejected:  # a twin of this request got there first
        return _finish(ctx, ctx.store.lesson(lesson_id) or lesson)
    return _consume_all(ctx, lesson, {order.order_id: order for order in attending})


def _finish(ctx: Context, lesson: Lesson) -> RecordedLesson:
    """A retried request: write whatever consumptions the first attempt left undone."""
    return _consume_all(ctx, lesson, {})


@dataclass(frozen=True)
class RecordedLesson:
    lesson: Lesson
    consumptions: list[Consumption]
    refused: dict[str, str]  # order id -> error code


def _consume_all(ctx: Context, lesson: Lesson, fresh: dict[str, Order]) -> RecordedLesson:
    consumptions: list[Consumption] = []
    refused: dict[str, str] = {}
    for order_id in lesson.order_ids:
        try:
            consumptions.append(_consume(ctx, lesson, order_id, fresh.get(order_id)))
        except (StateConflict, ConcurrentUpdate) as conflict:
            refused[order_id] = conflict.code
    return RecordedLesson(lesson, consumptions, refused)


def _own_course(ctx: Context, institution_id: str, course_id: str) -> Course:
    course = ctx.store.course(course_id)
    if course is None or course.institution_id != institution_id:
        raise NotFound("课程不存在", code="course_not_found", course_id=course_id)
    if course.status is not CourseStatus.APPROVED:
        raise RuleViolation("课程尚未通过审核", code="course_not_approved")
    return course


def _check_times(ctx: Context, started_at: datetime, ended_at: datetime) -> None:
    if ended_at <= started_at or ended_at - started_at > timedelta(hours=12):
        raise InvalidRequest("上课时间不合理", code="invalid_lesson_time")
    if ended_at > ctx.now() + timedelta(minutes=5):
        raise RuleViolation("课程尚未结束，不能消课", code="lesson_not_finished")


def _attending_order(ctx: Context, course: Course, order_id: str) -> Order:
    order = ctx.store.order(order_id)
    if order is None or order.institution_id != course.institution_id:
        raise NotFound("订单不存在", code="order_not_found", order_id=order_id)
    if order.course_id != course.course_id:
        raise RuleViolation("订单不属于该课程", code="order_not_for_course", order_id=order_id)
    if order.status is not OrderStatus.PAID or order.lessons_remaining < 1:
        raise StateConflict("订单没有可消课时", code="order_has_no_lessons", order_id=order_id)
    return order


def _consume(
    ctx: Context, lesson: Lesson, order_id: str, fresh_order: Order | None = None
) -> Consumption:
    """One attending order's consumption, written once. `fresh_order`, when given, was just
    read (and saves reading it again); any retry re-reads everything."""
    consumption_id = ctx.derived_id("con", lesson.recorded_at, lesson.lesson_id, order_id)
    loaded = [fresh_order] if fresh_order is not None else []

    def attempt() -> Consumption:
        if not loaded:
            existing = ctx.store.consumption(consumption_id)
            if existing is not None:
                return existing
        order = loaded.pop() if loaded else ctx.store.order(order_id)
        if order is None or order.status is not OrderStatus.PAID or order.lessons_remaining < 1:
            raise StateConflict("订单没有可消课时", code="order_has_no_lessons", order_id=order_id)
        consumption = _new_consumption(ctx, lesson, order, consumption_id)
        due = ("autoconfirm", consumption.confirm_deadline)
        ctx.store.write().create(consumption, "consumption", due=due).move_order(
            order,
            order_rules.lesson_recorded(),
            expect={"lessons_remaining": order.lessons_remaining},
        ).commit()
        return consumption

    return retry.on_conflict(attempt, retry_when=lambda r: r.contended or bool(r.failed))


def _new_consumption(
    ctx: Context, lesson: Lesson, order: Order, consumption_id: str
) -> Consumption:
    number = order.lessons - order.lessons_remaining - order.lessons_refunded + 1
    deadline = ctx.calendar.add_working_days(
        business_date(lesson.ended_at), ctx.policy().auto_confirm_working_days
    )
    return Consumption(
        consumption_id=consumption_id,
        order_id=order.order_id,
        lesson_id=lesson.lesson_id,
        institution_id=order.institution_id,
        parent_sub=order.parent_sub,
        student_id=order.student_id,
        course_id=order.course_id,
        lesson_number=number,
        amount_fen=order.lesson_price_fen(number),
        status=ConsumptionStatus.PENDING_CONFIRMATION,
        recorded_at=lesson.recorded_at,
        confirm_by=deadline.due_on,
        confirm_by_estimated=deadline.estimated,
    )
