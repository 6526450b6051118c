"""The end of a release's second phase: the bank's outcome posts or voids the pending
transfer, in one transaction with the order, the consumption and the instruction. The
outcome comes from the bank's callback or, when the bank refused a resend, from its record
of the instruction.

Success posts it (releasing -> released; the lesson counts as released). A failure voids it
(releasing -> held) and retries it under the next attempt: at once for the first few, then
through the sweep with backoff, until MAX_RELEASE_ATTEMPTS failures park it for review. A
definitive refusal (the bank would not take the instruction at all) voids it and parks it at
once. A parked consumption keeps its lesson confirmed and its money held until ops retry it
(chalicelib/service/escrow/parked.py).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from chalicelib.domain import backoff, ledger
from chalicelib.domain.errors import NotFound, StateConflict
from chalicelib.domain.escrow import order as order_rules
from chalicelib.domain.escrow.bank import BankInstruction, InstructionStatus, awaiting
from chalicelib.domain.escrow.consumption import (
    MAX_RELEASE_ATTEMPTS,
    Consumption,
    ConsumptionStatus,
)
from chalicelib.domain.escrow.order import Order
from chalicelib.service import retry
from chalicelib.service.context import Context
from chalicelib.service.escrow import bank_book, orders
from chalicelib.service.jobs import work
from chalicelib.service.ports import BankRecord

log = logging.getLogger(__name__)

IMMEDIATE_RETRIES = 3


def resolve(
    ctx: Context, instruction: BankInstruction, event_id: str, *, succeeded: bool,
    reason: str = "", executed_at: datetime | None = None,
) -> None:
    """Apply the bank's `transfer_succeeded` or `transfer_failed` for a release
    (`executed_at`: the bank's time of an execution, else now)."""

    def attempt() -> Consumption:
        order = orders.get(ctx, instruction.order_id)
        before = _releasing(ctx, instruction)
        now = ctx.now()
        write = ctx.store.write()
        if succeeded:
            movement = order_rules.release_posted(order, instruction.amount_fen)
            after = replace(before, status=ConsumptionStatus.RELEASED, released_at=now)
            write.replace(before, after, "consumption")
        elif before.attempt >= MAX_RELEASE_ATTEMPTS:
            movement = order_rules.release_voided(instruction.amount_fen)
            after = _parked(before, reason or "transfer_failed")
            write.replace(before, after, "consumption")
        else:
            movement = order_rules.release_voided(instruction.amount_fen)
            after = replace(before, status=ConsumptionStatus.CONFIRMED,
                            attempt=before.attempt + 1, deferrals=0)
            retry_at = now + backoff.delay(before.attempt - 1)
            write.replace(before, after, "consumption", due=("settle", retry_at))
        phase = ledger.Phase.POST if succeeded else ledger.Phase.VOID
        outcome = InstructionStatus.SUCCEEDED if succeeded else InstructionStatus.FAILED
        write.move_order(order, movement, entry=resolution(order, instruction, phase, now))
        bank_book.answered(write, instruction, outcome, executed_at or now) \
            .mark_bank_event(event_id, f"transfer_{outcome}", now).commit()
        return after

    after = retry.on_conflict(attempt, retry_when=retry.order_changed)
    if after.status is ConsumptionStatus.CONFIRMED and after.attempt <= IMMEDIATE_RETRIES:
        work.publish_settlement(ctx, after)


def apply_bank_record(ctx: Context, instruction: BankInstruction, record: BankRecord) -> None:
    """Apply what the bank's own record says it did with an instruction, as its callback
    would have (once: the journal's transfer ids; a callback arriving later is a duplicate)."""
    try:
        resolve(ctx, instruction, f"record:{instruction.instruction_id}",
                succeeded=record.succeeded, reason=record.reason,
                executed_at=record.executed_at)
    except StateConflict:
        log.info("%s was resolved meanwhile", instruction.instruction_id)


def book_late_success(ctx: Context, instruction: BankInstruction, event_id: str,
                      executed_at: datetime | None = None) -> None:
    """The bank executed an instruction whose reservation was voided on its word (it had
    refused it and had no record of it): the money left the supervised account, so the
    ledger follows the bank, posting the release from held money, while the consumption is
    still parked under that attempt. Otherwise (it was retried meanwhile) the bank paid twice
    and only a reconciliation can say what to do: refused, and logged."""

    def attempt() -> None:
        order = orders.get(ctx, instruction.order_id)
        parked = ctx.store.consumption(instruction.consumption_id)
        if (
            parked is None or parked.status is not ConsumptionStatus.NEEDS_REVIEW
            or parked.instruction_id != instruction.instruction_id
        ):
            log.error("bank executed %s after it was refused and its consumption moved on: "
                      "reconcile with the bank", instruction.instruction_id)
            raise StateConflict("该指令已有相反的结果", code="instruction_already_resolved",
                                instruction_id=instruction.instruction_id)
        now = ctx.now()
        released = replace(parked, status=ConsumptionStatus.RELEASED, released_at=now,
                           review_reason="")
        write = ctx.store.write().move_order(
            order, order_rules.release_booked_late(order, instruction.amount_fen),
            entry=late_entry(order, instruction, now),
        ).replace(parked, released, "consumption")
        bank_book.answered(write, instruction, InstructionStatus.SUCCEEDED, executed_at or now) \
            .mark_bank_event(event_id, "transfer_succeeded", now).commit()

    retry.on_conflict(attempt, retry_when=retry.order_changed)


def late_entry(order: Order, instruction: BankInstruction, at: datetime
               ) -> ledger.JournalEntry:
    """The entry that books what the bank executed after the instruction's reservation was
    voided (a release's or a refund's): once, under its own transfer id."""
    return ledger.next_entry(
        order_id=order.order_id, after_seq=order.journal_seq, after_hash=order.journal_head,
        transfer_id=ledger.late_transfer_id(instruction.pending_transfer_id),
        phase=ledger.Phase.SINGLE, debit_account=instruction.from_account,
        credit_account=instruction.to_account, amount_fen=instruction.amount_fen,
        occurred_at=at.isoformat(), cause=instruction.instruction_id,
    )


def park(ctx: Context, instruction: BankInstruction, reason: str) -> None:
    """The bank refused the instruction for good: void the reservation and park the
    consumption for review, in one transaction. Safe to repeat: once parked, nothing is left
    to do."""

    def attempt() -> None:
        order = orders.get(ctx, instruction.order_id)
        try:
            before = _releasing(ctx, instruction)
        except StateConflict:
            log.info("%s already resolved: nothing to park", instruction.instruction_id)
            return
        now = ctx.now()
        ctx.store.write().move_order(
            order, order_rules.release_voided(instruction.amount_fen),
            entry=resolution(order, instruction, ledger.Phase.VOID, now),
        ).replace(before, _parked(before, reason), "consumption").replace(
            instruction, replace(instruction, status=InstructionStatus.REFUSED), "instruction"
        ).commit()

    retry.on_conflict(attempt, retry_when=retry.order_changed)


def _parked(before: Consumption, reason: str) -> Consumption:
    return replace(before, status=ConsumptionStatus.NEEDS_REVIEW, review_reason=reason[:500],
                   deferrals=0)


def resolution(
    order: Order, instruction: BankInstruction, phase: ledger.Phase, at: datetime
) -> ledger.JournalEntry:
    """The entry that posts or voids an instruction's pending transfer (a release's or a
    refund's)."""
    return ledger.next_entry(
        order_id=order.order_id,
        after_seq=order.journal_seq,
        after_hash=order.journal_head,
        transfer_id=ledger.resolution_transfer_id(instruction.pending_transfer_id, phase),
        phase=phase,
        debit_account=instruction.from_account,
        credit_account=instruction.to_account,
        amount_fen=instruction.amount_fen,
        occurred_at=at.isoformat(),
        pending_id=instruction.pending_transfer_id,
        cause=instruction.instruction_id,
    )


def _releasing(ctx: Context, instruction: BankInstruction) -> Consumption:
    return awaiting(ctx.store.consumption(instruction.consumption_id),
                    ConsumptionStatus.RELEASING, instruction, what="划拨",
                    missing=NotFound("消课记录不存在", code="consumption_not_found"))
