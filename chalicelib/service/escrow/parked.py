"""Releases parked for review: the bank refused them for good (an invalid or closed account,
an instruction conflict) or failed them MAX_RELEASE_ATTEMPTS times. Their money is held on
the order; ops fix the account with the bank, then retry them here (`infra.cli review`)."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.errors import NotFound, StateConflict
from chalicelib.domain.escrow.consumption import Consumption, ConsumptionStatus
from chalicelib.service.context import Context
from chalicelib.service.jobs import work
from chalicelib.service.ports import Page, WriteRejected
from chalicelib.service.refunds import late_payouts


def retry(ctx: Context, consumption_id: str) -> Consumption:
    """Settle a parked consumption again under a new attempt: a new bank instruction id, so
    the refused instruction is never reused; but first the bank says what it did with that
    instruction: one it executed late is booked (released), never sent again
    (chalicelib/service/refunds/late_payouts.py)."""
    before = ctx.store.consumption(consumption_id)
    if before is None:
        raise NotFound("消课记录不存在", code="consumption_not_found")
    if before.status is not ConsumptionStatus.NEEDS_REVIEW:
        raise _not_parked(before)
    if late_payouts.paid_late(ctx, before.instruction_id):
        return ctx.store.consumption(consumption_id) or before
    after = replace(before, status=ConsumptionStatus.CONFIRMED, attempt=before.attempt + 1,
                    review_reason="", deferrals=0)
    try:
        ctx.store.write().replace(before, after, "consumption",
                                  due=("settle", ctx.now())).commit()
    except WriteRejected as rejected:
        raise StateConflict("该课时的划拨已被处理", code="consumption_not_needing_review") \
            from rejected
    work.publish_settlement(ctx, after)
    return after


def _not_parked(found: Consumption) -> StateConflict:
    return StateConflict("该课时的划拨不在待处理状态", code="consumption_not_needing_review",
                         status=str(found.status))


def listing(ctx: Context, *, limit: int, cursor: str | None) -> Page[Consumption]:
    return ctx.store.consumptions_needing_review(limit, cursor)


def count(ctx: Context) -> int:
    return ctx.store.count_needing_review()
