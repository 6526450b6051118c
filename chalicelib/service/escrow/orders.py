"""Orders: a parent buys lessons of an approved course for one of their children."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.calendar import business_date
from chalicelib.domain.errors import NotFound, RuleViolation
from chalicelib.domain.escrow import charges, lesson_money
from chalicelib.domain.escrow import order as order_rules
from chalicelib.domain.escrow.charges import Holding
from chalicelib.domain.escrow.order import Order, OrderStatus
from chalicelib.domain.institutions.catalog import Course, Institution
from chalicelib.service import retry
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.escrow import students
from chalicelib.service.institutions import courses, institutions
from chalicelib.service.ports import Page, WriteRejected
from chalicelib.service.store import Place


def create(
    ctx: Context, caller: Caller, order_id: str, *, course_id: str, student_id: str, lessons: int
) -> tuple[Order, Institution]:
    """A purchase within the caps of one charge, counted with what the child already holds of
    the course (chalicelib/domain/escrow/charges.py). The child's purchases of a course are
    serialised: each counts itself on the child's place in the course, on condition no other
    was counted since it read what the child holds, so two racing purchases cannot both fit
    the caps on the same reading. The place lists the orders that may still hold lessons,
    read one by one consistently (an index could lag behind the purchase just made)."""
    caller.require(Role.PARENT)
    stored = ctx.store.order(order_id)
    if stored is not None and stored.parent_sub == caller.sub:
        return stored, institution_of(ctx, stored)  # a retry: its order was created
    student = students.own(ctx, caller, student_id)
    course, institution = courses.on_sale(ctx, course_id)
    policy = ctx.policy(institution.region_code)
    if lessons > course.lessons_total:
        raise RuleViolation(
            f"购买课时超过课程总课时（{course.lessons_total}）", code="lessons_exceed_course",
            lessons_total=course.lessons_total,
        )

    def attempt() -> Order:
        place = ctx.store.place(student.student_id, course.course_id)
        live = live_orders(ctx, place, but=order_id)
        charges.check_purchase(
            lessons=lessons, price_per_lesson_fen=course.price_per_lesson_fen,
            starts_on=course.starts_on, ends_on=course.ends_on, held=holding(live),
            today=business_date(ctx.now()), policy=policy,
        )
        order = _new_order(ctx, caller, order_id, student.student_id, course, institution,
                           lessons, policy.payment_window_minutes)
        try:
            ctx.store.write().create(order, "order").claim_place(
                student.student_id, course.course_id, place,
                [o.order_id for o in live] + [order_id]).commit()
        except WriteRejected as rejected:
            found = ctx.store.order(order_id) if "order" in rejected.failed else None
            if found is not None and found.parent_sub == caller.sub:
                return found  # a retry of this request: its order is already stored
            raise
        return order

    created = retry.on_conflict(
        attempt, retry_when=lambda r: r.contended or r.failed == {"place"})
    return created, institution


def _new_order(ctx: Context, caller: Caller, order_id: str, student_id: str, course: Course,
               institution: Institution, lessons: int, payment_window_minutes: int) -> Order:
    now = ctx.now()
    return order_rules.new_order_lessons(Order(
        order_id=order_id,
        parent_sub=caller.sub,
        student_id=student_id,
        institution_id=institution.institution_id,
        course_id=course.course_id,
        region_code=institution.region_code,
        status=OrderStatus.PENDING_PAYMENT,
        amount_fen=course.price_per_lesson_fen * lessons,
        lessons=lessons,
        created_at=now,
        expires_at=now + timedelta(minutes=payment_window_minutes),
        supervised_bank_account=institution.custodian.supervised_account,
        general_bank_account=institution.custodian.general_account,
        custodian_bank=institution.custodian.bank,
    ))


def live_orders(ctx: Context, place: Place, *, but: str) -> list[Order]:
    """The orders of a child's place that still hold lessons of it: paid, or awaiting
    payment until the expiry run marks them (a payment is accepted until then). Each is a
    consistent read, never an index's: a purchase must see the one counted just before it.
    `but` (the order being created, which a retry finds already stored) is left out."""
    found = [ctx.store.order(order_id) for order_id in place.order_ids if order_id != but]
    return [o for o in found
            if o is not None and o.status in (OrderStatus.PAID, OrderStatus.PENDING_PAYMENT)]


def holding(live: list[Order]) -> Holding:
    """What the child holds of the course: its lessons not yet taught, at their prices."""
    return Holding(sum(o.lessons_remaining for o in live),
                   sum(lesson_money.refundable(o).amount_fen for o in live))


def get(ctx: Context, order_id: str) -> Order:
    order = ctx.store.order(order_id)
    if order is None:
        raise NotFound("订单不存在", code="order_not_found", order_id=order_id)
    return order


def visible(ctx: Context, caller: Caller, order_id: str) -> Order:
    """The order if the caller may see it; NotFound otherwise (existence is not leaked)."""
    if caller.role is Role.INSTITUTION:
        caller.own_institution()
    order = ctx.store.order(order_id)
    if order is not None and _may_see(ctx, caller, order):
        return order
    raise NotFound("订单不存在", code="order_not_found", order_id=order_id)


def _may_see(ctx: Context, caller: Caller, order: Order) -> bool:
    if caller.role is Role.PARENT:
        return order.parent_sub == caller.sub
    if caller.role is Role.INSTITUTION:
        return order.institution_id == caller.own_institution()
    institution = ctx.store.institution(order.institution_id)
    return institution is not None and caller.supervises(institution)


def listing(
    ctx: Context, caller: Caller, *, institution_id: str, limit: int, cursor: str | None
) -> Page[Order]:
    """Parents list their own; staff their institution's; regulators one supervised
    institution's at a time (`institution_id` required)."""
    if caller.role is Role.PARENT:
        return ctx.store.orders_of_parent(caller.sub, limit, cursor)
    if caller.role is Role.INSTITUTION:
        own = caller.own_institution()
        caller.require_staff_of(institution_id or own)
        return ctx.store.orders_of_institution(own, limit, cursor)
    if not institution_id:
        raise RuleViolation("监管查询订单须指定机构", code="institution_id_required")
    institutions.visible_to_regulator(ctx, caller, institution_id)
    return ctx.store.orders_of_institution(institution_id, limit, cursor)


def institution_of(ctx: Context, order: Order) -> Institution:
    institution = ctx.store.institution(order.institution_id)
    if institution is None:
        raise NotFound("机构不存在", code="institution_not_found")
    return institution
