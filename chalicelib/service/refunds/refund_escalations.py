"""A rejection the parent disagrees with goes to the regulators of the order's region: the
parent escalates it (the order waits again, as for a request awaiting its decision), and a
regulator supervising the institution orders the refund (approved as an institution's
approval would be, priced from the order then) or dismisses the escalation (the order goes
on). Regulators also watch the payouts in flight against their deadline. Each escalation
opens a complaint case (chalicelib/service/complaints/linked_cases.py), decided by the department
holding it (chalicelib/service/complaints/case_decisions.py). The rules:
chalicelib/domain/refunds/refund.py."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.calendar import business_date
from chalicelib.domain.errors import StateConflict
from chalicelib.domain.refunds import refund as rules
from chalicelib.domain.refunds.refund import ApprovedBy, RefundRequest, RefundStatus
from chalicelib.service import retry
from chalicelib.service.caller import Caller, Role, region_prefix
from chalicelib.service.complaints import complaints, linked_cases
from chalicelib.service.context import Context
from chalicelib.service.escrow import orders
from chalicelib.service.institutions import institutions
from chalicelib.service.messages import notices
from chalicelib.service.ports import Page
from chalicelib.service.refunds import refunds
from chalicelib.service.store import Guard

REASON_LIMIT = 500


def escalate(ctx: Context, caller: Caller, refund_id: str, reason: str) -> RefundRequest:
    """The parent takes a rejected request to the regulator, once. It is priced again from
    the order (lessons went on while it was rejected), and the order waits for the decision."""
    caller.require(Role.PARENT)
    found = refunds.visible(ctx, caller, refund_id)

    def attempt() -> RefundRequest:
        before = refunds.get(ctx, found.refund_id)
        if before.status is RefundStatus.ESCALATED or (
                before.escalated_at is not None
                and before.escalation_reason == reason[:REASON_LIMIT]):
            return before  # (the latter decided since: the parent's retry)
        if before.status is not RefundStatus.REJECTED:
            raise StateConflict("只有被拒绝的退款申请可以提交监管部门",
                                code="refund_not_rejected", status=str(before.status))
        if before.escalated_at is not None:
            raise StateConflict("监管部门已驳回该申请，不能再次提交",
                                code="refund_already_escalated")
        order = orders.get(ctx, before.order_id)
        refunds.check_refundable(order)
        rules.check_may_ask_again(order, business_date(ctx.now()))
        after = replace(rules.priced(before, order), status=RefundStatus.ESCALATED,
                        escalated_at=ctx.now(), escalation_reason=reason[:REASON_LIMIT])
        write = ctx.store.write().replace(before, after, "refund").move_order(
            order, rules.requested(), expect=rules.opening_expects(order))
        case = linked_cases.open_for_refund(ctx, write, after)
        write.commit()
        complaints.publish(ctx, case)
        return after

    return retry.on_conflict(attempt, retry_when=lambda r: True)


def ordered(ctx: Context, refund_id: str, regulator_sub: str, reason: str,
            guard: Guard | None = None) -> RefundRequest:
    """Approve an escalated request by a regulator's order: the payout is due within the
    policy's days (of the order's region) from the order. `guard`: the case still held
    (case_decisions.py)."""
    region_code = refunds.get(ctx, refund_id).region_code
    return refunds.approve_pending(ctx, refund_id, ApprovedBy.REGULATOR, regulator_sub,
                                   guard=guard, regulator_reason=reason[:REASON_LIMIT],
                                   payout_due=refunds.payout_due_now(ctx, region_code))


def dismissed(ctx: Context, refund_id: str, regulator_sub: str, reason: str,
              guard: Guard | None = None) -> RefundRequest:
    """Close an escalated request as the institution decided it (`guard`: as `ordered`)."""

    def attempt() -> RefundRequest:
        before = refunds.get(ctx, refund_id)
        if before.status is RefundStatus.REJECTED and before.regulator_reason:
            return before  # dismissed already
        if before.status is not RefundStatus.ESCALATED:
            refunds.not_awaiting(before, frozenset({RefundStatus.ESCALATED}))
        after = replace(before, status=RefundStatus.REJECTED, decided_at=ctx.now(),
                        decided_by=regulator_sub, regulator_reason=reason[:REASON_LIMIT])
        order = orders.get(ctx, before.order_id)
        cooldown = ctx.policy(order.region_code).refund_cooldown_working_days
        again_on = ctx.calendar.add_working_days(business_date(ctx.now()), cooldown).due_on
        write = ctx.store.write().replace(before, after, "refund").move_order(
            order, rules.dismissed(), set_fields={"refund_again_on": again_on})
        told = refunds.tell_decided(ctx, write, after, "监管部门维持机构的拒绝决定")
        if guard is not None:
            guard(write)
        write.commit()
        notices.push_now(ctx, [told])
        return after

    return retry.on_conflict(attempt, retry_when=lambda r: True)


def listing(ctx: Context, caller: Caller, *, status: RefundStatus, limit: int,
            cursor: str | None) -> Page[RefundRequest]:
    """Escalated requests, or payouts in flight, of the caller's jurisdiction and department."""
    caller.require(Role.REGULATOR)
    page = ctx.store.refunds_by_status(status, region_prefix(caller.region), limit, cursor)
    return institutions.supervised_only(ctx, caller, page)


def supervised(ctx: Context, caller: Caller, refund_id: str) -> RefundRequest:
    caller.require(Role.REGULATOR)
    return refunds.visible(ctx, caller, refund_id)
