"""Signed notifications from the custodian bank, each applied exactly once.

The bank event id is written with `attribute_not_exists` in the same transaction as the money
it moves, so a notification delivered three times moves money once. A payment is applied
only where the money is (chalicelib/service/escrow/payments_received.py); a transfer's outcome
posts or voids the instruction it names, through whichever flow made it: a release, a
refund, or a return of money that matched no order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from chalicelib.domain.errors import NotFound, RuleViolation, StateConflict
from chalicelib.domain.escrow.bank import BankInstruction, InstructionStatus, NoticeOutcome
from chalicelib.service.context import Context
from chalicelib.service.escrow import transfers
from chalicelib.service.escrow.payments_received import payment_received
from chalicelib.service.ports import WriteRejected
from chalicelib.service.refunds import late_payouts, refund_outcomes, unmatched_returns

log = logging.getLogger(__name__)

__all__ = ["payment_received", "transfer_outcome"]


def transfer_outcome(
    ctx: Context, *, event_id: str, instruction_id: str, amount_fen: int, succeeded: bool,
    reason: str = "", occurred_at: datetime | None = None,
) -> NoticeOutcome:
    """`occurred_at`: the bank's time of it, the day its statement books an execution on."""
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
        return NoticeOutcome.DUPLICATE
    if instruction.status is InstructionStatus.REFUSED:
        if not succeeded:  # the bank moved nothing: as the platform booked it
            return NoticeOutcome.DUPLICATE
        try:
            late_payouts.booker(instruction)(ctx, instruction, event_id, occurred_at)
        except WriteRejected as rejected:
            if rejected.failed & {"bank_event", "journal"}:
                return NoticeOutcome.DUPLICATE
            raise
        return NoticeOutcome.APPLIED
    if instruction.status is not InstructionStatus.SENT:
        raise _opposite(instruction.status)
    resolve = _resolver(instruction)
    try:
        resolve(ctx, instruction, event_id, succeeded=succeeded, reason=reason,
                executed_at=occurred_at)
    except WriteRejected as rejected:
        if "bank_event" in rejected.failed:
            return NoticeOutcome.DUPLICATE
        current = ctx.store.instruction(instruction_id)
        if current is not None and current.status is expected:
            return NoticeOutcome.DUPLICATE
        raise _opposite(current.status if current else instruction.status) from rejected
    return NoticeOutcome.APPLIED


def _resolver(instruction: BankInstruction) -> Callable[..., None]:
    """What applies the bank's outcome of `instruction`: a refund's, a return's, a release's."""
    if instruction.refund_id:
        return refund_outcomes.resolve
    if instruction.unmatched_id:
        return unmatched_returns.resolve
    return transfers.resolve


def _opposite(status: InstructionStatus) -> StateConflict:
    """The instruction was resolved the other way meanwhile: not acknowledged, so the bank
    delivers it again (and a refused instruction then takes the late-success path)."""
    return StateConflict("该指令已有相反的结果", code="instruction_already_resolved",
                         status=str(status))
