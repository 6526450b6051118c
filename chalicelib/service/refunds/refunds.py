"""Refund requests: a parent asks, the institution decides (silence approves), and an
approved request's money leaves the order for the payer in one transaction, then through
the bank (chalicelib/service/refunds/refund_payouts.py). The rules:
chalicelib/domain/refunds/refund.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from chalicelib.domain.calendar import business_date
from chalicelib.domain.errors import NotFound, RuleViolation, StateConflict
from chalicelib.domain.escrow import lesson_money
from chalicelib.domain.escrow.bank import BankInstruction
from chalicelib.domain.escrow.order import Order, OrderStatus
from chalicelib.domain.messages.notice import Event, Notice, parent_inbox
from chalicelib.domain.money import yuan
from chalicelib.domain.refunds import refund as rules
from chalicelib.domain.refunds.refund import ApprovedBy, RefundRequest, RefundStatus
from chalicelib.service import retry
from chalicelib.service.caller import Caller, Role
from chalicelib.service.complaints import linked_cases
from chalicelib.service.context import Context
from chalicelib.service.escrow import orders
from chalicelib.service.messages import notices
from chalicelib.service.ports import Page, WriteRejected
from chalicelib.service.refunds import refund_payouts
from chalicelib.service.store import AtomicWrite, Guard


def request(ctx: Context, caller: Caller, refund_id: str, order_id: str, reason: str
            ) -> RefundRequest:
    """Ask for the order's unconsumed money back: approved at once in full before the course
    starts with nothing consumed, otherwise awaiting the institution's decision."""
    caller.require(Role.PARENT)

    def attempt() -> tuple[RefundRequest, BankInstruction | None]:
        existing = ctx.store.refund(refund_id)
        if existing is not None:  # a retry of this very request (its payout, if any, is
            return existing, None  # the schedule's to resend)
        order = orders.visible(ctx, caller, order_id)
        fresh = new_request(ctx, order, refund_id, reason)
        rules.check_may_ask_again(order, business_date(fresh.requested_at))
        write = ctx.store.write()
        instruction = None
        if fresh.before_start:
            fresh = replace(fresh, status=RefundStatus.REFUNDING, approved_by=ApprovedBy.AT_ONCE,
                            decided_at=fresh.requested_at)
            instruction = refund_payouts.reserve(ctx, write, order, fresh, was_open=False,
                                                 create=True)
        else:
            write.create(fresh, "refund", due=("refunddecide", fresh.decision_deadline))
            write.move_order(order, rules.requested(), expect=rules.opening_expects(order))
        write.commit()
        return fresh, instruction

    return refund_payouts.commit_then_instruct(ctx, attempt, _retry_or_explain)


def check_refundable(order: Order) -> None:
    """A request can open on `order` now: it is paid, none is open, something remains."""
    if order.status is not OrderStatus.PAID:
        raise StateConflict("该订单不能申请退款", code="order_not_refundable",
                            order_id=order.order_id, status=str(order.status))
    if order.open_refunds:
        raise StateConflict("该订单已有待处理的退款申请", code="refund_request_open",
                            order_id=order.order_id)
    if lesson_money.refundable(order).lessons == 0:
        raise StateConflict("该订单没有未消耗的课时", code="nothing_to_refund",
                            order_id=order.order_id)


def new_request(ctx: Context, order: Order, refund_id: str, reason: str) -> RefundRequest:
    """A request for `order`'s remaining lessons, priced and dated now (awaiting a
    decision); StateConflict if none can open on it."""
    check_refundable(order)
    share = lesson_money.refundable(order)
    now = ctx.now()
    today = business_date(now)
    course = ctx.store.course(order.course_id)
    before_start = (course is not None and today < course.starts_on
                    and order.lessons_remaining == order.lessons)
    policy = ctx.policy(order.region_code)
    deadline = ctx.calendar.add_working_days(today, policy.refund_decision_working_days)
    payout_days = (policy.refund_payout_days_before_start if before_start
                   else policy.refund_payout_days_after_start)
    return RefundRequest(
        refund_id=refund_id, order_id=order.order_id, parent_sub=order.parent_sub,
        institution_id=order.institution_id, region_code=order.region_code, reason=reason,
        status=RefundStatus.PENDING_DECISION, lessons=share.lessons, amount_fen=share.amount_fen,
        carries_remainder=share.carries_remainder,
        requested_at=now, decide_by=deadline.due_on, decide_by_estimated=deadline.estimated,
        before_start=before_start, payout_due=today + timedelta(days=payout_days),
    )


def payout_due_now(ctx: Context, region_code: str) -> date:
    """When a payout decided today (not on the parent's request) must reach the payer: the
    policy's days (of the order's region) after the course started, from today."""
    days = ctx.policy(region_code).refund_payout_days_after_start
    return business_date(ctx.now()) + timedelta(days=days)


def _retry_or_explain(rejected: WriteRejected) -> bool:
    """A lost race on the order re-reads it (and then explains why it cannot be refunded);
    a twin that created this request first is found by the retry."""
    return rejected.contended or rejected.failed <= {"order", "refund"}


def decide(ctx: Context, caller: Caller, refund_id: str, *, approve: bool, reason: str
           ) -> RefundRequest:
    """The institution approves, or rejects with a reason. Deciding again the same way
    returns the request; a request no longer awaiting its decision is a 409."""
    caller.require(Role.INSTITUTION)
    found = visible(ctx, caller, refund_id)
    if not approve and not reason.strip():
        raise RuleViolation("拒绝退款须说明理由", code="rejection_reason_required")
    if approve:
        return approve_pending(ctx, found.refund_id, ApprovedBy.INSTITUTION, caller.sub)
    return _reject(ctx, found.refund_id, caller.sub, reason)


def approve_pending(ctx: Context, refund_id: str, by: ApprovedBy, who: str, *,
                    guard: Guard | None = None, **changes: Any) -> RefundRequest:
    """Approve a request awaiting its decision (a regulator: an escalated one; a
    liquidation: either), priced again from the order; once approved, approving it again
    returns it. `guard`: what else the approval's write requires (a regulator's: that its
    department still holds the case)."""
    awaiting = _AWAITING.get(by, frozenset({RefundStatus.PENDING_DECISION}))

    def attempt() -> tuple[RefundRequest, BankInstruction | None]:
        before = get(ctx, refund_id)
        if before.status not in awaiting:
            if (before.status in rules.OPEN or before.status is RefundStatus.REJECTED
                    or by in _NOT_REPEATED):
                not_awaiting(before, awaiting)
            return before, None
        order = orders.get(ctx, before.order_id)
        after = replace(rules.priced(before, order), status=RefundStatus.REFUNDING,
                        approved_by=by, decided_at=ctx.now(), decided_by=who, **changes)
        write = ctx.store.write()
        instruction = refund_payouts.reserve(ctx, write, order, after, was_open=True,
                                             before=before)
        told = tell_decided(ctx, write, after, f"退款申请已同意，退款 {yuan(after.amount_fen)} 元")
        if guard is not None:
            guard(write)
        write.commit()
        notices.push_now(ctx, [told])
        return after, instruction

    return refund_payouts.commit_then_instruct(ctx, attempt, lambda r: True)


_AWAITING = {
    ApprovedBy.REGULATOR: frozenset({RefundStatus.ESCALATED}),
    ApprovedBy.LIQUIDATION: rules.OPEN,
}
"""What each approver decides on (the others: requests awaiting the institution)."""
_NOT_REPEATED = frozenset({ApprovedBy.SILENCE, ApprovedBy.LIQUIDATION})
"""Approvers told when a request was decided otherwise (they then go on another way)."""


def _reject(ctx: Context, refund_id: str, who: str, reason: str) -> RefundRequest:
    def attempt() -> RefundRequest:
        before = get(ctx, refund_id)
        if before.status is RefundStatus.REJECTED or rejected_so(before, who, reason):
            return before  # (the latter escalated or decided since: a retry)
        if before.status is not RefundStatus.PENDING_DECISION:
            not_awaiting(before, frozenset({RefundStatus.PENDING_DECISION}))
        after = replace(before, status=RefundStatus.REJECTED, decided_at=ctx.now(),
                        decided_by=who, rejected_by=who, rejection_reason=reason[:500])
        write = ctx.store.write().replace(before, after, "refund").move_order(
            orders.get(ctx, before.order_id), rules.closed_unapproved())
        told = tell_decided(ctx, write, after, "退款申请被机构拒绝，可向监管部门申诉")
        write.commit()
        notices.push_now(ctx, [told])
        return after

    return retry.on_conflict(attempt, retry_when=lambda r: True)


def rejected_so(refund: RefundRequest, who: str, reason: str) -> bool:
    """`who` rejected the request for this reason (a request rejected before `rejected_by`
    was kept: its `decided_by`, until a regulator decided its escalation)."""
    return (bool(refund.rejection_reason) and refund.rejection_reason == reason[:500]
            and (refund.rejected_by or refund.decided_by) == who)


def tell_decided(ctx: Context, write: AtomicWrite, refund: RefundRequest, title: str
                 ) -> Notice:
    return notices.tell(ctx, write, parent_inbox(refund.parent_sub), Event.REFUND_DECIDED,
                        refund.refund_id, title)


def not_awaiting(found: RefundRequest, awaiting: frozenset[RefundStatus]) -> None:
    if RefundStatus.PENDING_DECISION not in awaiting:
        raise StateConflict("该退款申请未提交监管部门", code="refund_not_escalated",
                            status=str(found.status))
    raise StateConflict("该退款申请不在待处理状态", code="refund_not_pending",
                        status=str(found.status))


def approve_on_silence(ctx: Context, refund_id: str) -> bool:
    """The decide-by day has passed without a decision: approved."""
    found = ctx.store.refund(refund_id)
    if (found is None or found.status is not RefundStatus.PENDING_DECISION
            or ctx.now() < found.decision_deadline):
        return False
    try:
        approved = approve_pending(ctx, refund_id, ApprovedBy.SILENCE, "")
    except StateConflict:
        return False  # decided meanwhile
    return approved.approved_by is ApprovedBy.SILENCE


def visible(ctx: Context, caller: Caller, refund_id: str) -> RefundRequest:
    """The request if the caller may see it (its parent, its institution, a regulator of
    the order's jurisdiction, the department holding its escalation's case); NotFound
    otherwise."""
    found = ctx.store.refund(refund_id)
    if found is not None and linked_cases.held_by(ctx, caller, refund_id):
        return found
    if found is not None:
        try:
            orders.visible(ctx, caller, found.order_id)
            return found
        except NotFound:
            pass
    raise NotFound("退款申请不存在", code="refund_not_found", refund_id=refund_id)


def listing(ctx: Context, caller: Caller, *, status: str, limit: int, cursor: str | None
            ) -> Page[RefundRequest]:
    """A parent's own requests; an institution's queue."""
    if caller.role is Role.PARENT:
        return ctx.store.refunds_of_parent(caller.sub, status, limit, cursor)
    return ctx.store.refunds_of_institution(caller.own_institution(), status, limit, cursor)


def get(ctx: Context, refund_id: str) -> RefundRequest:
    found = ctx.store.refund(refund_id)
    if found is None:
        raise NotFound("退款申请不存在", code="refund_not_found", refund_id=refund_id)
    return found
