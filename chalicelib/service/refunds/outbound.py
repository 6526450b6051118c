"""Sending a payout instruction (a refund, a return of unmatched money) to the bank.

The instruction id makes a resend safe. A refusal says the bank would not take this request,
not that it never executed an earlier send of the same id (one that timed out after the bank
had executed it): the bank's own record decides whether the payout may be voided. A release
does the same with its own bookkeeping (chalicelib/service/escrow/settlement.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chalicelib.domain import backoff
from chalicelib.domain.errors import StateConflict
from chalicelib.domain.escrow.bank import BankInstruction, InstructionStatus
from chalicelib.service.context import Context
from chalicelib.service.ports import BankRefused, BankUnavailable, TransferInstruction

log = logging.getLogger(__name__)


class Resolve(Protocol):
    def __call__(self, ctx: Context, instruction: BankInstruction, event_id: str, *,
                 succeeded: bool, reason: str = "", for_good: bool = False,
                 executed_at: datetime | None = None) -> None:
        """Apply the bank's outcome of `instruction` (`for_good`: refused, never executed;
        `executed_at`: the bank's time of an execution, else now)."""


def send(ctx: Context, instruction: BankInstruction, resolve: Resolve, what: str) -> str:
    """Send (or resend) `instruction`; what happened, for the log."""
    try:
        ctx.bank.instruct_transfer(TransferInstruction(
            instruction_id=instruction.instruction_id,
            from_account=instruction.bank_from_account,
            to_account=instruction.bank_to_account, amount_fen=instruction.amount_fen,
        ))
    except BankRefused as refusal:
        log.warning("bank refused %s %s: %s", what, instruction.instruction_id, refusal.reason)
        return refuse(ctx, instruction, resolve, refusal.reason, what)
    except BankUnavailable:
        log.warning("bank unavailable for %s %s: the schedule resends it", what,
                    instruction.instruction_id)
        return "deferred"
    return "instructed"


def resend_due(ctx: Context, instruct: Callable[[Context, BankInstruction], str], *,
               kind: str, item_id: str, job: str, deferrals: int, instruction_id: str) -> bool:
    """The schedule found a payout due whose instruction is out: put its next run off with
    backoff first (so a bank that keeps silent is not asked every run), then send its
    instruction again while the bank has not answered it. False if another run of the
    schedule took it first."""
    if not ctx.schedule.reschedule(kind, item_id, job, ctx.now() + backoff.delay(deferrals),
                                   deferrals=deferrals):
        return False
    instruction = ctx.store.instruction(instruction_id)
    if instruction is not None and instruction.status is InstructionStatus.SENT:
        instruct(ctx, instruction)
    return True


def refuse(ctx: Context, instruction: BankInstruction, resolve: Resolve, reason: str,
           what: str) -> str:
    """The instruction is refused for good (by the bank, or by the platform before it
    sends it): voided and parked, unless the bank's record says it executed it."""
    try:
        record = ctx.bank.executed(instruction.instruction_id)
    except BankUnavailable:
        return f"deferred: the bank could not say what it did with the {what}"
    if record is None:
        resolve(ctx, instruction, f"refused:{instruction.instruction_id}", succeeded=False,
                reason=reason, for_good=True)
        return "needs_review"
    try:
        resolve(ctx, instruction, f"record:{instruction.instruction_id}",
                succeeded=record.succeeded, reason=record.reason,
                executed_at=record.executed_at)
    except StateConflict:
        log.info("%s %s was resolved meanwhile", what, instruction.instruction_id)
    return f"resolved from the bank's record ({'succeeded' if record.succeeded else 'failed'})"
