"""Signed notifications from the custodian bank, each applied exactly once.

The bank event id is written with `attribute_not_exists` in the same transaction as the money
it moves, so a notification delivered three times moves money once. Money that cannot be
applied to an order (unknown reference, wrong amount, order no longer payable) is recorded as
an unmatched payment for follow-up, never applied silently and never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.domain import ledger
from chalicelib.domain import order as order_rules
from chalicelib.domain.bank import (
    BankInstruction,
    InstructionStatus,
    UnmatchedPayment,
    UnmatchedReason,
)
from chalicelib.domain.errors import NotFound, RuleViolation, StateConflict
from chalicelib.domain.order import Order, OrderStatus
from chalicelib.service import late_payouts, refund_payouts, retry, transfers, unmatched_returns
from chalicelib.service.context import Context
from chalicelib.service.ports import WriteRejected

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    RECORDED_FOR_REVIEW = "recorded_for_review"


@dataclass(frozen=True)
class _Arrival:
    """A payment as the bank told it."""

    event_id: str
    payment_reference: str
    amount_fen: int
    bank_txn_id: str
    payer_account: str
    payee_account: str


def payment_received(
    ctx: Context,
    *,
    event_id: str,
    payment_reference: str,
    amount_fen: int,
    bank_txn_id: str,
    occurred_at: datetime,
    payer_account: str = "",
    payee_account: str = "",
) -> Outcome:
    arrived = _Arrival(event_id, payment_reference, amount_fen, bank_txn_id, payer_account,
                       payee_account)

    def attempt() -> Outcome:
        order_id = order_rules.order_id_for_reference(payment_reference)
        order = ctx.store.order(order_id) if order_id else None
        reason = _unpayable(order, amount_fen)
        if reason is not None:
            return _record_unmatched(ctx, order, reason, arrived)
        assert order is not None
        _apply_payment(ctx, order, event_id, bank_txn_id, occurred_at, payer_account)
        return Outcome.APPLIED

    try:
        return retry.on_conflict(attempt, retry_when=retry.order_changed)
    except WriteRejected as rejected:
        if "bank_event" in rejected.failed:
            return Outcome.DUPLICATE
        if "journal" in rejected.failed:  # another event paid this order first
            order = ctx.store.order(order_rules.order_id_for_reference(payment_reference) or "")
            return _record_unmatched(ctx, order, UnmatchedReason.ORDER_NOT_PAYABLE, arrived)
        raise


def _unpayable(order: Order | None, amount_fen: int) -> UnmatchedReason | None:
    if order is None:
        return UnmatchedReason.UNKNOWN_REFERENCE
    if order.status is not OrderStatus.PENDING_PAYMENT:
        return UnmatchedReason.ORDER_NOT_PAYABLE
    if amount_fen != order.amount_fen:
        return UnmatchedReason.AMOUNT_MISMATCH
    if order.frozen:
        return UnmatchedReason.INSTITUTION_FROZEN
    return None


def _apply_payment(
    ctx: Context, order: Order, event_id: str, bank_txn_id: str, occurred_at: datetime,
    payer_account: str,
) -> None:
    """The journal entry carries the bank's time of the payment; the order when it was told."""
    now = ctx.now()
    entry = ledger.next_entry(
        order_id=order.order_id,
        after_seq=order.journal_seq,
        after_hash=order.journal_head,
        transfer_id=ledger.payment_transfer_id(order.order_id),
        phase=ledger.Phase.SINGLE,
        debit_account=ledger.PAYER,
        credit_account=ledger.supervised_account(order.institution_id),
        amount_fen=order.amount_fen,
        occurred_at=occurred_at.isoformat(),
        cause=bank_txn_id,
    )
    ctx.store.write().move_order(
        order, order_rules.payment(order), entry=entry, expect={"frozen": 0},
        set_fields={"paid_at": now, "payer_bank_account": payer_account},
    ).mark_bank_event(event_id, "payment_received", now).commit()


def _record_unmatched(
    ctx: Context, order: Order | None, reason: UnmatchedReason, arrived: _Arrival
) -> Outcome:
    """Record the payment for return, and send the return once that is committed. A
    notification that names no receiving account is returned from the order's supervised
    account, when the reference names an order."""
    now = ctx.now()
    unmatched = UnmatchedPayment(
        unmatched_id=ctx.derived_id("ump", now, arrived.event_id),
        event_id=arrived.event_id,
        bank_txn_id=arrived.bank_txn_id,
        payment_reference=arrived.payment_reference,
        amount_fen=arrived.amount_fen,
        reason=reason,
        received_at=now,
        order_id=order.order_id if order else "",
        expected_fen=order.amount_fen if order else 0,
        region_code=order.region_code if order else "",
        payer_account=arrived.payer_account,
        received_account=arrived.payee_account or (
            order.supervised_bank_account if order else ""),
    )
    write = ctx.store.write()
    instruction = unmatched_returns.start(ctx, write, unmatched)
    try:
        write.mark_bank_event(arrived.event_id, "payment_received", now).commit()
    except WriteRejected as rejected:
        if rejected.failed & {"bank_event", "unmatched"}:
            return Outcome.DUPLICATE
        raise
    if instruction is not None:
        unmatched_returns.instruct(ctx, instruction)
    return Outcome.RECORDED_FOR_REVIEW


def transfer_outcome(
    ctx: Context, *, event_id: str, instruction_id: str, amount_fen: int, succeeded: bool,
    reason: str = "",
) -> Outcome:
    instruction = ctx.store.instruction(instruction_id)
    if instruction is None:
        raise NotFound("银行指令不存在", code="instruction_not_found",
                       instruction_id=instruction_id)
    if amount_fen != instruction.amount_fen:
        raise RuleViolation(
            "回执金额与指令金额不符", code="amount_mismatch",
            expected_fen=instruction.amount_fen, amount_fen=amount_fen,
        )
    expected = InstructionStatus.SUCCEEDED if succeeded else InstructionStatus.FAILED
    if instruction.status is expected:
        return Outcome.DUPLICATE
    if instruction.status is InstructionStatus.REFUSED:
        if not succeeded:  # the bank moved nothing: as the platform booked it
            return Outcome.DUPLICATE
        try:
            late_payouts.booker(instruction)(ctx, instruction, event_id)
        except WriteRejected as rejected:
            if rejected.failed & {"bank_event", "journal"}:
                return Outcome.DUPLICATE
            raise
        return Outcome.APPLIED
    if instruction.status is not InstructionStatus.SENT:
        raise _opposite(instruction.status)
    resolve = _resolver(instruction)
    try:
        resolve(ctx, instruction, event_id, succeeded=succeeded, reason=reason)
    except WriteRejected as rejected:
        if "bank_event" in rejected.failed:
            return Outcome.DUPLICATE
        current = ctx.store.instruction(instruction_id)
        if current is not None and current.status is expected:
            return Outcome.DUPLICATE
        raise _opposite(current.status if current else instruction.status) from rejected
    return Outcome.APPLIED


def _resolver(instruction: BankInstruction) -> Callable[..., None]:
    """What applies the bank's outcome of `instruction`: a refund's, a return's, a release's."""
    if instruction.refund_id:
        return refund_payouts.resolve
    if instruction.unmatched_id:
        return unmatched_returns.resolve
    return transfers.resolve


def _opposite(status: InstructionStatus) -> StateConflict:
    """The instruction was resolved the other way meanwhile: not acknowledged, so the bank
    delivers it again (and a refused instruction then takes the late-success path)."""
    return StateConflict("该指令已有相反的结果", code="instruction_already_resolved",
                         status=str(status))
