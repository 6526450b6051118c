"""One order of a liquidating institution, liquidated exactly once however often (and in
whatever order) its message arrives, and resumable after a crash between any two steps
(the steps: chalicelib/domain/institutions/liquidation.py). Each step is a use case that is already
idempotent on its own; the last, marking the order done, is conditioned on the order's
record of its liquidation not existing yet, and adds to the progress in the same write."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from dataclasses import replace
from functools import partial
from typing import Any

from chalicelib.domain.errors import StateConflict
from chalicelib.domain.escrow import lesson_money
from chalicelib.domain.escrow import order as order_rules
from chalicelib.domain.escrow.bank import BankInstruction
from chalicelib.domain.escrow.consumption import Consumption, ConsumptionStatus
from chalicelib.domain.escrow.order import Order, OrderStatus
from chalicelib.domain.institutions import liquidation as rules
from chalicelib.domain.institutions.liquidation import Liquidation, OrderLiquidated
from chalicelib.domain.refunds import refund as refund_rules
from chalicelib.domain.refunds.dispute import WithdrawnBy
from chalicelib.domain.refunds.refund import ApprovedBy, RefundRequest, RefundStatus
from chalicelib.service import retry
from chalicelib.service.context import Context
from chalicelib.service.escrow import orders
from chalicelib.service.institutions import liquidation_progress
from chalicelib.service.jobs import work
from chalicelib.service.ports import Page, WriteRejected, every_page
from chalicelib.service.refunds import disputes, refund_payouts, refunds

PAGE = 100


class NotVisibleYet(Exception):
    """The order counts a lesson pending or a request open that its parent's listing does
    not show yet (the index lags the order by moments): the message is delivered again."""


def liquidate(ctx: Context, institution_id: str, order_id: str) -> str:
    """Liquidate one order of a liquidating institution; what happened, for the log."""
    liquidation = ctx.store.liquidation(institution_id)
    order = ctx.store.order(order_id)
    if liquidation is None or order is None or order.institution_id != institution_id:
        return f"{order_id}: not an order of a liquidation"
    if order.liquidated_at is not None:
        return f"{order_id}: liquidated already"
    if order.freeze_generation < liquidation.freeze_generation:
        ctx.store.stamp_freeze(order_id, liquidation.freeze_generation, frozen=True)
    instruction = _empty(ctx, liquidation, order)
    record = _mark_done(ctx, order_id)
    if instruction is not None:  # the bank pays it after the record exists: counted then
        refund_payouts.instruct(ctx, instruction)
    elif record.refund_id:  # an approval sent its payout itself, maybe paid before this
        liquidation_progress.count_paid(ctx, record.refund_id)
    _release_confirmed(ctx, orders.get(ctx, order_id))
    return f"{order_id}: {record.lessons} lessons, {record.amount_fen} fen to refund"


def _empty(ctx: Context, liquidation: Liquidation, order: Order) -> BankInstruction | None:
    """Leave the order (as read before its freeze marker) nothing to consume: an unpaid one
    expired; a paid one with its pending lessons resolved and its remaining lessons refunded
    (the payout reserved, its instruction returned to be sent once the order is done)."""
    if order.status is OrderStatus.PENDING_PAYMENT:
        with suppress(WriteRejected):  # paid before the freeze marker reached it
            ctx.store.write().move_order(order, order_rules.expiry()).commit()
        order = orders.get(ctx, order.order_id)
    if order.status is not OrderStatus.PAID:
        return None
    _resolve_pending(ctx, order, liquidation)
    return retry.on_conflict(lambda: _refund_remaining(ctx, liquidation, order.order_id),
                             retry_when=retry.order_changed)


def _resolve_pending(ctx: Context, order: Order, liquidation: Liquidation) -> None:
    """Every lesson not yet confirmed goes back to the order: a pending one (its institution
    is frozen: silence confirms nothing of it, and a closing institution has every reason to
    record lessons it did not teach) and a disputed one (nobody is left to answer the
    dispute). One resolved otherwise meanwhile is left as it is."""
    for status in (ConsumptionStatus.PENDING_CONFIRMATION, ConsumptionStatus.DISPUTED):
        for lesson in _lessons_of(ctx, order, status):
            with suppress(StateConflict):
                disputes.return_lesson(ctx, lesson.consumption_id, WithdrawnBy.LIQUIDATION,
                                       liquidation.why)


def _refund_remaining(ctx: Context, liquidation: Liquidation, order_id: str
                      ) -> BankInstruction | None:
    """Approve the request awaiting a decision, or refund the remaining lessons with the
    liquidation's own refund: either way the order names the refund. Only the own refund's
    instruction is returned (an approval sends its own)."""
    order = orders.get(ctx, order_id)
    if order.lessons_pending_confirmation:
        raise NotVisibleYet(f"{order_id} has lessons pending its parent does not see yet")
    if order.open_refunds:
        _approve_awaiting(ctx, liquidation, order)
        order = orders.get(ctx, order_id)
        if order.open_refunds:
            raise NotVisibleYet(f"{order_id} has a refund request still awaiting a decision")
    if lesson_money.refundable(order).lessons == 0:
        return None
    fresh = refunds.new_request(ctx, order, rules.refund_id_of(order_id), liquidation.why)
    own = replace(fresh, status=RefundStatus.REFUNDING, approved_by=ApprovedBy.LIQUIDATION,
                  decided_at=fresh.requested_at, decided_by=liquidation.started_by)
    write = ctx.store.write()
    instruction = refund_payouts.reserve(
        ctx, write, order, own, was_open=False, create=True,
        movement=refund_rules.reserved(own, was_open=False),
        expect={**lesson_money.expected_counters(order), "open_refunds": 0},
    )
    write.commit()
    return instruction


def _approve_awaiting(ctx: Context, liquidation: Liquidation, order: Order) -> None:
    """The parent's request awaiting the institution (or the regulator) is approved by the
    liquidation, priced again with every lesson the liquidation returned."""
    waiting = next(_requests_awaiting(ctx, order), None)
    if waiting is None:
        raise NotVisibleYet(f"{order.order_id} has a refund request its parent does not see "
                            "yet")
    changes: dict[str, Any] = {}
    if waiting.status is RefundStatus.ESCALATED:  # asked long ago: due from the approval
        changes["payout_due"] = refunds.payout_due_now(ctx, order.region_code)
    with suppress(StateConflict):  # decided otherwise meanwhile: the order says what is left
        refunds.approve_pending(ctx, waiting.refund_id, ApprovedBy.LIQUIDATION,
                                liquidation.started_by, **changes)


def _mark_done(ctx: Context, order_id: str) -> OrderLiquidated:
    """The order done, its record written, its progress counted: one write, once."""

    def attempt() -> OrderLiquidated:
        found = ctx.store.order_liquidated(order_id)
        if found is not None:
            return found
        order = orders.get(ctx, order_id)
        refund = (ctx.store.refund(order.liquidation_refund_id)
                  if order.liquidation_refund_id else None)
        record = OrderLiquidated(
            order_id=order_id, institution_id=order.institution_id,
            order_status=str(order.status), lessons=refund.lessons if refund else 0,
            amount_fen=refund.amount_fen if refund else 0,
            refund_id=refund.refund_id if refund else "", liquidated_at=ctx.now(),
        )
        movement, expects = rules.marked_done(order)
        fields: dict[str, object] = {"liquidated_at": record.liquidated_at}
        if order.status is not OrderStatus.EXPIRED:
            fields["frozen"] = 0  # its confirmed lessons may now be released
        ctx.store.write() \
            .move_order(order, movement, expect=expects, set_fields=fields) \
            .create(record, "record") \
            .count_progress(order.institution_id, rules.progress_shard(order_id), {
                "orders_done": 1, "lessons_refunded": record.lessons,
                "fen_to_refund": record.amount_fen}) \
            .commit()
        return record

    return retry.on_conflict(attempt, retry_when=lambda r: r.contended or "record" in r.failed
                             or r.failed <= {"order"})


def _release_confirmed(ctx: Context, order: Order) -> None:
    """The order's confirmed lessons waited for the freeze: queue their release now (the
    settlement sweep would find them anyway)."""
    if not order.lessons_confirmed_unreleased:
        return
    for lesson in _lessons_of(ctx, order, ConsumptionStatus.CONFIRMED):
        work.publish_settlement(ctx, lesson, redrive="liquidated")


def _lessons_of(ctx: Context, order: Order, status: ConsumptionStatus) -> Iterator[Consumption]:
    """The order's lessons of one status, from its parent's listing (a parent has few)."""
    listed = every_page(lambda cursor: ctx.store.consumptions_of_parent(
        order.parent_sub, status, PAGE, cursor))
    return (c for c in listed if c.order_id == order.order_id)


def _requests_awaiting(ctx: Context, order: Order) -> Iterator[RefundRequest]:
    """The order's refund requests awaiting a decision (at most one), from its parent's."""
    for status in refund_rules.OPEN:
        yield from (r for r in every_page(partial(_refunds_of_parent, ctx, order, status))
                    if r.order_id == order.order_id)


def _refunds_of_parent(ctx: Context, order: Order, status: str, cursor: str | None
                       ) -> Page[RefundRequest]:
    return ctx.store.refunds_of_parent(order.parent_sub, status, PAGE, cursor)
