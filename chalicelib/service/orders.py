"""Orders: a parent buys lessons of an approved course for one of their children."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain import order as order_rules
from chalicelib.domain.catalog import Institution
from chalicelib.domain.errors import NotFound, RuleViolation
from chalicelib.domain.order import Order, OrderStatus
from chalicelib.service import courses, institutions, students
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.creation import create_once
from chalicelib.service.ports import Page


def create(
    ctx: Context, caller: Caller, order_id: str, *, course_id: str, student_id: str, lessons: int
) -> tuple[Order, Institution]:
    caller.require(Role.PARENT)
    student = students.own(ctx, caller, student_id)
    course, institution = courses.on_sale(ctx, course_id)
    policy = ctx.policy()
    if lessons > course.lessons_total:
        raise RuleViolation(
            "购买课时超过课程总课时", code="lessons_exceed_course",
            lessons_total=course.lessons_total,
        )
    if lessons > policy.max_lessons_per_charge:
        raise RuleViolation(
            "单次收费不得超过规定课时", code="charge_cap_exceeded",
            max_lessons=policy.max_lessons_per_charge,
        )
    amount_fen = course.price_per_lesson_fen * lessons
    if amount_fen > policy.max_fen_per_charge:
        raise RuleViolation(
            "单次收费不得超过规定金额", code="charge_cap_exceeded",
            max_fen=policy.max_fen_per_charge, amount_fen=amount_fen,
        )
    now = ctx.now()
    order = order_rules.new_order_lessons(
        Order(
            order_id=order_id,
            parent_sub=caller.sub,
            student_id=student.student_id,
            institution_id=institution.institution_id,
            course_id=course.course_id,
            region_code=institution.region_code,
            status=OrderStatus.PENDING_PAYMENT,
            amount_fen=amount_fen,
            lessons=lessons,
            created_at=now,
            expires_at=now + timedelta(minutes=policy.payment_window_minutes),
            supervised_bank_account=institution.custodian.supervised_account,
            general_bank_account=institution.custodian.general_account,
        )
    )
    created = create_once(
        ctx, order, "order",
        existing=lambda: ctx.store.order(order_id),
        same_caller=lambda found: found.parent_sub == caller.sub,
    )
    return created, institution


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
