"""The jobs of the schedule (the `due` index), and what each does with one due item.

    expire       an unpaid order past its payment deadline is expired (a payment that
                 commits first wins: the two race on one conditional write)
    autoconfirm  a lesson whose parent stayed silent past its confirm-by day is confirmed
                 (never while its institution is frozen: chalicelib/service/escrow/silence.py)
    settle       a confirmed or releasing consumption the fast path has not finished is put
                 off with backoff and queued again
    disputeescalate  a lesson still disputed past its answer-by day goes to the regulator
    refunddecide a refund request the institution left undecided past its decide-by day is
                 approved (silence approves)
    refund       a refund payout the fast path has not finished is reserved and sent again
                 (approved after a failed attempt) or resent (refunding), with backoff
    returnpayment  a return of money that matched no order, not yet answered by the bank
                 (or its next attempt after a failure), is sent again, with backoff
    freezefanout an institution frozen or unfrozen has its marker copied onto its orders,
                 page by page, in two passes
    liquidate    a liquidation lists its institution's orders onto the liquidation queue,
                 page by page, then watches its progress until it is completed
    liquidationpaid  a refund of a liquidation the bank paid is added to its progress
    complaintroute  a filed complaint whose routing message was lost is routed
    complaintdue a complaint whose stage's day began is reminded, whose day ended moves on
                 (to the department, resolved by the parent's silence, or escalated)
    push         a notice not yet handed to the push service is pushed

chalicelib/service/jobs/sweeps.py runs them over every due item; each handler is safe to repeat.
Each handler checks its own deadline against the platform's clock (`ctx.now()`), never the
instant a sweep message names: a lesson's confirm-by day, a dispute's answer-by day, a
refund's decide-by day, an order's payment deadline, a case's due day, a freeze's second
pass, a liquidation's next look. The rest (settle, refund, returnpayment, liquidationpaid,
complaintroute, push) resend or finish work that is already due, with backoff; the sweep
pages only what is due by the clock, so no message pulls them forward either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.escrow import order as order_rules
from chalicelib.domain.escrow.order import OrderStatus
from chalicelib.service.complaints import case_log, complaint_clock, complaint_routing
from chalicelib.service.context import Context
from chalicelib.service.escrow import settlement, silence
from chalicelib.service.institutions import freezes, liquidation_progress, liquidations
from chalicelib.service.messages import notices
from chalicelib.service.ports import WriteRejected
from chalicelib.service.refunds import disputes, refund_payouts, refunds, unmatched_returns

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    kind: str
    """What the job's items are (`order`, `consumption`): the item a failed one is put off on."""
    handle: Callable[[Context, str, datetime], bool]
    """Act on one due item, given the instant the run paged up to (never later than the
    platform's clock); True if it did."""


def expire(ctx: Context, order_id: str, until: datetime) -> bool:
    order = ctx.store.order(order_id)
    now = ctx.now()
    if order is None or order.status is not OrderStatus.PENDING_PAYMENT or order.expires_at > now:
        return False
    try:
        ctx.store.write().move_order(order, order_rules.expiry()).commit()
    except WriteRejected:
        log.info("order %s changed while expiring (paid meanwhile): left as it is", order_id)
        return False
    return True


def auto_confirm(ctx: Context, consumption_id: str, until: datetime) -> bool:
    return silence.confirm_due(ctx, consumption_id)


def settle(ctx: Context, consumption_id: str, until: datetime) -> bool:
    return settlement.redrive(ctx, consumption_id, token=until.strftime("%Y%m%dT%H%M%S"))


def escalate_dispute(ctx: Context, consumption_id: str, until: datetime) -> bool:
    return disputes.escalate_on_silence(ctx, consumption_id)


def approve_on_silence(ctx: Context, refund_id: str, until: datetime) -> bool:
    return refunds.approve_on_silence(ctx, refund_id)


def refund(ctx: Context, refund_id: str, until: datetime) -> bool:
    return refund_payouts.redrive(ctx, refund_id)


def return_payment(ctx: Context, unmatched_id: str, until: datetime) -> bool:
    return unmatched_returns.redrive(ctx, unmatched_id)


def mark_freeze(ctx: Context, institution_id: str, until: datetime) -> bool:
    return freezes.fan_out(ctx, institution_id)


def liquidate(ctx: Context, institution_id: str, until: datetime) -> bool:
    return liquidations.advance(ctx, institution_id)


def count_liquidation_refund(ctx: Context, refund_id: str, until: datetime) -> bool:
    return liquidation_progress.count_paid(ctx, refund_id)


def route_complaint(ctx: Context, complaint_id: str, until: datetime) -> bool:
    return complaint_routing.route(ctx, complaint_id)


def complaint_due(ctx: Context, complaint_id: str, until: datetime) -> bool:
    return complaint_clock.tick(ctx, complaint_id)


def push(ctx: Context, notice_id: str, until: datetime) -> bool:
    return notices.push_due(ctx, notice_id)


JOBS = {
    job.name: job
    for job in (
        Job("expire", "order", expire),
        Job("autoconfirm", "consumption", auto_confirm),
        Job("settle", "consumption", settle),
        Job("disputeescalate", "consumption", escalate_dispute),
        Job("refunddecide", "refund", approve_on_silence),
        Job("refund", "refund", refund),
        Job(unmatched_returns.JOB, "unmatched_payment", return_payment),
        Job(freezes.JOB, "institution", mark_freeze),
        Job(liquidations.JOB, "liquidation", liquidate),
        Job(liquidation_progress.PAID_JOB, "refund", count_liquidation_refund),
        Job(case_log.ROUTE_JOB, "complaint", route_complaint),
        Job(case_log.CLOCK_JOB, "complaint", complaint_due),
        Job(notices.JOB, "outbox", push),
    )
}
