"""Lessons taught (消课): the institution records one, and each attending order gets a
consumption pending the parent's confirmation (chalicelib/service/consumptions.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain import lesson_money, schedule
from chalicelib.domain import order as order_rules
from chalicelib.domain.calendar import business_date
from chalicelib.domain.catalog import TAUGHT, Course
from chalicelib.domain.consumption import Consumption, ConsumptionStatus
from chalicelib.domain.errors import (
    ConcurrentUpdate,
    InvalidRequest,
    NotFound,
    PlatformError,
    RuleViolation,
    StateConflict,
)
from chalicelib.domain.lesson import (
    MAX_ATTENDING_ORDERS,
    Lesson,
    check_attends,
    check_believable,
)
from chalicelib.domain.notice import Event, parent_inbox
from chalicelib.domain.order import Order, OrderStatus
from chalicelib.domain.staff import check_can_teach
from chalicelib.domain.timeslots import footprints
from chalicelib.service import notices, retry
from chalicelib.service.caller import Caller
from chalicelib.service.context import Context
from chalicelib.service.ports import WriteRejected


@dataclass(frozen=True)
class RecordedLesson:
    lesson: Lesson
    consumptions: list[Consumption]
    refused: dict[str, PlatformError]  # order id -> why it was not consumed


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
    its student's time slots in one transaction, the first of them storing the lesson too.
    An order refused at that point (emptied by a concurrent request, or its student already
    in another lesson at that time) is reported in `refused`; if every order is refused,
    nothing was written and the request fails with the first refusal. Once the lesson is
    stored its outcome is kept under the Idempotency-Key, and a retry of the request finds
    the lesson and finishes whatever a crash left undone."""
    course = _own_course(ctx, caller.own_institution(), course_id)
    if len(set(order_ids)) != len(order_ids) or not 1 <= len(order_ids) <= MAX_ATTENDING_ORDERS:
        raise InvalidRequest("上课订单须为 1 到 100 个不重复的订单", code="invalid_order_ids")
    if len(order_ids) > course.class_size:
        raise RuleViolation(  # the class size priced the course (the guided price's tier)
            f"本课程班额为 {course.class_size} 人，一节课不能为更多学生消课",
            code="class_size_exceeded", class_size=course.class_size)
    stored = ctx.store.lesson(lesson_id)
    if stored is not None:
        return _consume_all(ctx, stored, {}, stored=True)
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
    )
    attending = [_attending_order(ctx, course, lesson, order_id) for order_id in order_ids]
    recorded = _consume_all(ctx, lesson, {o.order_id: o for o in attending}, stored=False)
    if not recorded.consumptions:
        raise next(iter(recorded.refused.values()))
    return recorded


class _StoredByTwin(Exception):
    """A twin of this request stored the lesson first: continue with the stored one."""


def _consume_all(
    ctx: Context, lesson: Lesson, fresh: dict[str, Order], *, stored: bool
) -> RecordedLesson:
    consumptions: list[Consumption] = []
    refused: dict[str, PlatformError] = {}
    for order_id in lesson.order_ids:
        try:
            consumption = _consume(ctx, lesson, order_id, fresh.get(order_id),
                                   store_lesson=not stored)
        except _StoredByTwin:
            twin = ctx.store.lesson(lesson.lesson_id)
            if twin is None:
                raise ConcurrentUpdate("数据正被并发修改，请稍后重试") from None
            return _consume_all(ctx, twin, {}, stored=True)
        except (StateConflict, ConcurrentUpdate, RuleViolation) as refusal:
            refused[order_id] = refusal
        else:
            consumptions.append(consumption)
            stored = True
    return RecordedLesson(lesson, consumptions, refused)


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
    return _check_consumable(order, order_id, lesson)


def _check_consumable(order: Order | None, order_id: str, lesson: Lesson) -> Order:
    if order is None or order.status is not OrderStatus.PAID or order.lessons_remaining < 1:
        raise StateConflict("订单没有可消课时", code="order_has_no_lessons", order_id=order_id)
    if order.open_refunds:
        raise StateConflict("订单有待处理的退款申请，暂停消课", code="order_refund_pending",
                            order_id=order_id)
    if order.open_disputes:
        raise StateConflict("订单有未解决的课时异议，暂停消课", code="order_dispute_open",
                            order_id=order_id)
    if order.frozen:
        raise StateConflict("机构已被监管部门冻结，暂停消课", code="institution_frozen",
                            order_id=order_id)
    check_attends(order, lesson)
    return order


def _consume(
    ctx: Context, lesson: Lesson, order_id: str, fresh_order: Order | None, *,
    store_lesson: bool,
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
        order = _check_consumable(order, order_id, lesson)
        consumption = _new_consumption(ctx, lesson, order, consumption_id)
        write = ctx.store.write()
        if store_lesson:
            write.create(lesson, "lesson")
        write.create(consumption, "consumption", due=("autoconfirm", consumption.confirm_deadline))
        write.move_order(
            order, order_rules.lesson_recorded(carries_remainder=consumption.carries_remainder),
            expect={**lesson_money.expected_counters(order), **order_rules.UNBLOCKED,
                    "lessons_withdrawn": order.lessons_withdrawn},
        ).occupy_slots(order.student_id, lesson.lesson_id,
                       footprints(lesson.started_at, lesson.time_taken_until))
        told = notices.tell(
            ctx, write, parent_inbox(order.parent_sub), Event.LESSON_TO_CONFIRM, consumption_id,
            f"请确认第 {consumption.lesson_number} 课，{consumption.confirm_by} 前未确认将自动确认")
        try:
            write.commit()
        except WriteRejected as rejected:
            if "lesson" in rejected.failed:
                raise _StoredByTwin from rejected
            if "slot" in rejected.failed:
                return _overlap(ctx, order, consumption_id, rejected)
            raise
        notices.push_now(ctx, [told])
        return consumption

    return retry.on_conflict(attempt, retry_when=lambda r: r.contended or bool(r.failed))


def _overlap(
    ctx: Context, order: Order, consumption_id: str, rejected: WriteRejected
) -> Consumption:
    """The student's time is taken: by this very consumption (a twin wrote it), or by
    another lesson."""
    existing = ctx.store.consumption(consumption_id)
    if existing is not None:
        return existing
    raise RuleViolation(
        "该学生在这段时间已有其他课程（线上课后须留出休息时间）", code="student_lesson_overlap",
        order_id=order.order_id,
    ) from rejected


def _new_consumption(
    ctx: Context, lesson: Lesson, order: Order, consumption_id: str
) -> Consumption:
    """The parent's window opens when the lesson is recorded (when they can first see it),
    never when it is said to have ended: a backdated lesson gets the full window too."""
    price = lesson_money.next_lesson(order)
    deadline = ctx.calendar.add_working_days(
        business_date(lesson.recorded_at), ctx.policy().auto_confirm_working_days
    )
    return Consumption(
        consumption_id=consumption_id,
        order_id=order.order_id,
        lesson_id=lesson.lesson_id,
        institution_id=order.institution_id,
        parent_sub=order.parent_sub,
        student_id=order.student_id,
        course_id=order.course_id,
        lesson_number=lesson_money.next_lesson_number(order),
        amount_fen=price.amount_fen,
        carries_remainder=price.carries_remainder,
        region_code=order.region_code,
        status=ConsumptionStatus.PENDING_CONFIRMATION,
        recorded_at=lesson.recorded_at,
        confirm_by=deadline.due_on,
        confirm_by_estimated=deadline.estimated,
        window_generation=order.freeze_generation,
    )
