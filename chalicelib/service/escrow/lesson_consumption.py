"""The consuming write of a lesson (消课): one transaction per attending order, holding its
consumption, its order's counters and its student's time slots; the first of them also
stores the lesson and claims its teacher's time (chalicelib/domain/escrow/timeslots.py). The
request's own checks are in chalicelib/service/escrow/lessons.py."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.calendar import business_date
from chalicelib.domain.errors import (
    ConcurrentUpdate,
    PlatformError,
    RuleViolation,
    StateConflict,
)
from chalicelib.domain.escrow import lesson_money
from chalicelib.domain.escrow import order as order_rules
from chalicelib.domain.escrow.consumption import Consumption, ConsumptionStatus
from chalicelib.domain.escrow.lesson import Lesson, check_attends
from chalicelib.domain.escrow.order import Order, OrderStatus
from chalicelib.domain.escrow.timeslots import footprints
from chalicelib.domain.messages.notice import Event, parent_inbox
from chalicelib.service import retry
from chalicelib.service.context import Context
from chalicelib.service.messages import notices
from chalicelib.service.ports import WriteRejected


@dataclass(frozen=True)
class RecordedLesson:
    lesson: Lesson
    consumptions: list[Consumption]
    refused: dict[str, PlatformError]  # order id -> why it was not consumed


class _StoredByTwin(Exception):
    """A twin of this request stored the lesson first: continue with the stored one."""


class _TeacherBusy(Exception):
    """The teacher's time is taken: by a twin of this request that stored the lesson, or by
    another lesson."""


ITEMS_BESIDE_SLOTS = 6
"""The items of the write that stores a lesson besides the time slots: the lesson, the
consumption, the order, the student's week, the notice and its outbox entry. With the
student's slots (lesson and break) and the teacher's, the longest lesson stays inside a
transaction's 100 items (tests/unit/test_lesson_limits.py counts them)."""


def consume_all(
    ctx: Context, lesson: Lesson, fresh: dict[str, Order], *, stored: bool
) -> RecordedLesson:
    consumptions: list[Consumption] = []
    refused: dict[str, PlatformError] = {}
    for order_id in lesson.order_ids:
        try:
            consumption = _consume(ctx, lesson, order_id, fresh.get(order_id),
                                   store_lesson=not stored)
        except (_StoredByTwin, _TeacherBusy) as taken:
            twin = ctx.store.lesson(lesson.lesson_id)
            if twin is not None:
                return consume_all(ctx, twin, {}, stored=True)
            if isinstance(taken, _TeacherBusy):
                raise RuleViolation(
                    "该教师在这段时间已有其他课程，同一教师不能同时上两节课",
                    code="teacher_double_booked", teacher_id=lesson.teacher_id,
                ) from taken
            raise ConcurrentUpdate("数据正被并发修改，请稍后重试") from None
        except (StateConflict, ConcurrentUpdate, RuleViolation) as refusal:
            refused[order_id] = refusal
        else:
            consumptions.append(consumption)
            stored = True
    return RecordedLesson(lesson, consumptions, refused)


def check_consumable(order: Order | None, order_id: str, lesson: Lesson) -> Order:
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
        order = check_consumable(order, order_id, lesson)
        consumption = _new_consumption(ctx, lesson, order, consumption_id)
        write = ctx.store.write()
        if store_lesson:
            write.create(lesson, "lesson").occupy_teacher_slots(
                lesson.teacher_id, lesson.lesson_id, footprints(lesson.started_at,
                                                                lesson.ended_at))
        write.create(consumption, "consumption", due=("autoconfirm", consumption.confirm_deadline))
        write.move_order(
            order, order_rules.lesson_recorded(carries_remainder=consumption.carries_remainder),
            expect={**lesson_money.expected_counters(order), **order_rules.UNBLOCKED,
                    "lessons_withdrawn": order.lessons_withdrawn},
        ).occupy_slots(order.student_id, lesson.lesson_id,
                       footprints(lesson.started_at, lesson.time_taken_until))
        if lesson.lessons_per_week:
            write.count_weekly_lesson(order.student_id, lesson.course_id, lesson.week,
                                      lesson.lessons_per_week)
        told = notices.tell(
            ctx, write, parent_inbox(order.parent_sub), Event.LESSON_TO_CONFIRM, consumption_id,
            f"请确认第 {consumption.lesson_number} 课，{consumption.confirm_by} 前未确认将自动确认")
        try:
            write.commit()
        except WriteRejected as rejected:
            if "lesson" in rejected.failed:
                raise _StoredByTwin from rejected
            if "slot" in rejected.failed:  # this student was elsewhere: the order is refused
                return _overlap(ctx, order, consumption_id, rejected)
            if "pace" in rejected.failed:  # or has had the week's lessons: refused too
                return _week_full(ctx, order, lesson, consumption_id, rejected)
            if "teacher_slot" in rejected.failed:  # the teacher was: the lesson is
                raise _TeacherBusy from rejected
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


def _week_full(
    ctx: Context, order: Order, lesson: Lesson, consumption_id: str, rejected: WriteRejected
) -> Consumption:
    """The student's week is full: counted with this very consumption (a twin wrote it), or
    with the week's other lessons."""
    existing = ctx.store.consumption(consumption_id)
    if existing is not None:
        return existing
    raise RuleViolation(
        f"该学生本周已上满本课程每周可上的 {lesson.lessons_per_week} 节课（课表课次及补课）",
        code="weekly_lessons_exceeded", order_id=order.order_id, week=lesson.week,
        lessons_per_week=lesson.lessons_per_week,
    ) from rejected


def _new_consumption(
    ctx: Context, lesson: Lesson, order: Order, consumption_id: str
) -> Consumption:
    """The parent's window opens when the lesson is recorded (when they can first see it),
    never when it is said to have ended: a backdated lesson gets the full window too."""
    price = lesson_money.next_lesson(order)
    deadline = ctx.calendar.add_working_days(
        business_date(lesson.recorded_at), ctx.policy(order.region_code).auto_confirm_working_days
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
