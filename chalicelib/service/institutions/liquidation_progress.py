"""A liquidation's progress: sharded counters beside it
(chalicelib/domain/institutions/liquidation.py), added to once per order done and once per refund of
the liquidation paid, never inside a money transaction and never on the institution.

A refund the liquidation approved or made is named on its order by the transaction that
reserves it. When the bank pays it, the posting transaction leaves it on the schedule
(`liquidationpaid`, due at once); counting it takes it off the schedule on condition it is
still there, in the same write that adds its fen, so it is counted exactly once, and never
before its order's record exists (an order's refund can be paid before the order is marked
done: it is then counted a minute later)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.institutions.liquidation import progress_shard
from chalicelib.domain.refunds.refund import ApprovedBy, RefundRequest, RefundStatus
from chalicelib.service.context import Context
from chalicelib.service.ports import WriteRejected
from chalicelib.service.store import Due

PAID_JOB = "liquidationpaid"
NOT_DONE_YET = timedelta(minutes=1)
"""How long a paid refund waits to be counted when its order is not marked done yet."""


def named_on_order(refund: RefundRequest) -> dict[str, Any] | None:
    """What reserving `refund`'s payout writes on its order: a liquidation's refund is
    named there, so the order's record of its liquidation can find it consistently."""
    return {"liquidation_refund_id": refund.refund_id} if of_a_liquidation(refund) else None


def of_a_liquidation(refund: RefundRequest) -> bool:
    """Counted in a liquidation's progress once paid (approved, or made, by one)."""
    return refund.approved_by is ApprovedBy.LIQUIDATION


def paid_due(refund: RefundRequest, now: datetime) -> Due | None:
    """Where a refund the bank just paid stays on the schedule: a liquidation's, to be
    counted."""
    return (PAID_JOB, now) if of_a_liquidation(refund) else None


def count_paid(ctx: Context, refund_id: str) -> bool:
    """Add a paid refund of a liquidation to its progress, once."""
    refund = ctx.store.refund(refund_id)
    if refund is None or refund.status is not RefundStatus.REFUNDED or not of_a_liquidation(
            refund):
        return False
    try:
        ctx.store.write() \
            .finish_job("refund", refund_id, PAID_JOB) \
            .require_present("order_liquidated", refund.order_id, "record") \
            .count_progress(refund.institution_id, progress_shard(refund.order_id),
                            {"fen_refunded": refund.amount_fen}) \
            .commit()
    except WriteRejected as rejected:
        if "record" in rejected.failed:
            ctx.schedule.reschedule("refund", refund_id, PAID_JOB, ctx.now() + NOT_DONE_YET,
                                    deferrals=None)
        return False  # or counted already (off the schedule)
    return True
