"""Payouts the bank executed after the platform parked them: booked as the bank says, never
sent again.

A payout is parked (a release, a refund, a return of money that matched no order) when the
bank refused a send and said it had no record of the instruction; yet an earlier send that
timed out may have been taken, and the bank executes it later. So before ops send a parked
payout again under a new attempt (a new instruction id, which the bank would pay again), or
a parent names another account for a parked refund (a new attempt too),
the platform asks the bank for its record of the last attempt (`paid_late`): one it
executed is booked here, in one transaction, as its callback would book it (the bank's late
callback takes the same path, and whichever comes second is a duplicate); one it failed or
never executed is safe to try again; a bank that cannot be asked refuses the retry, and
nothing changes. Only the last attempt is asked about: each earlier one was resolved by the
bank's word (a failure) before its next attempt existed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from chalicelib.domain.errors import NotFound, StateConflict
from chalicelib.domain.escrow.bank import BankInstruction, InstructionStatus, UnmatchedStatus
from chalicelib.domain.messages.notice import Event, parent_inbox
from chalicelib.domain.money import yuan
from chalicelib.domain.refunds import refund as rules
from chalicelib.domain.refunds.refund import RefundStatus
from chalicelib.service import retry
from chalicelib.service.context import Context
from chalicelib.service.escrow import bank_book, orders, transfers
from chalicelib.service.institutions import liquidation_progress
from chalicelib.service.messages import notices
from chalicelib.service.ports import BankUnavailable
from chalicelib.service.store import AtomicWrite

log = logging.getLogger(__name__)


def paid_late(ctx: Context, instruction_id: str) -> bool:
    """Before a new attempt: True if the bank says it paid the last one after all, which is
    then booked (once, whoever books it first) and never sent again; False if it failed it
    or never executed it (a new attempt is safe). Refused (409 `bank_record_unavailable`)
    while the bank cannot be asked."""
    try:
        record = ctx.bank.executed(instruction_id)
    except BankUnavailable as down:
        raise StateConflict("银行暂时无法查询上一次指令的执行记录，请稍后再重试",
                            code="bank_record_unavailable",
                            instruction_id=instruction_id) from down
    if record is None or not record.succeeded:
        return False
    instruction = ctx.store.instruction(instruction_id)
    if instruction is None:
        raise NotFound("银行指令不存在", code="instruction_not_found",
                       instruction_id=instruction_id)
    book(ctx, instruction, record.executed_at)
    return True


def book(ctx: Context, instruction: BankInstruction, executed_at: datetime | None) -> None:
    """Book what the bank's record says it paid (the path of a retry by ops), unless its
    late callback booked it a moment before: either way it is booked once."""
    try:
        booker(instruction)(ctx, instruction, f"late:{instruction.instruction_id}",
                            executed_at)
    except StateConflict:
        log.info("%s was booked meanwhile", instruction.instruction_id)


Booker = Callable[[Context, BankInstruction, str, datetime | None], None]
"""Books an instruction executed late: (ctx, instruction, event id, the bank's time of it)."""


def booker(instruction: BankInstruction) -> Booker:
    """What books `instruction` executed late: a refund's, a return's, a release's."""
    if instruction.refund_id:
        return book_refund
    if instruction.unmatched_id:
        return book_return
    return transfers.book_late_success


def book_refund(ctx: Context, instruction: BankInstruction, event: str,
                executed_at: datetime | None = None) -> None:
    """A parked payout the bank paid back: posted from held money in one transaction (the
    request refunded, its parent told, a liquidation's counted as paid); refused if the
    request moved on (then only a reconciliation with the bank can say what to do)."""

    def attempt() -> rules.RefundRequest:
        order = orders.get(ctx, instruction.order_id)
        parked = ctx.store.refund(instruction.refund_id)
        if (parked is None or parked.status is not RefundStatus.NEEDS_REVIEW
                or parked.instruction_id != instruction.instruction_id):
            raise _moved_on(instruction)
        now = ctx.now()
        write = ctx.store.write()
        write.move_order(order, rules.booked_late(order, parked),
                         entry=transfers.late_entry(order, instruction, now))
        write.replace(parked, replace(parked, status=RefundStatus.REFUNDED, refunded_at=now,
                                      review_reason=""), "refund",
                      due=liquidation_progress.paid_due(parked, now))
        told = notices.tell(ctx, write, parent_inbox(parked.parent_sub), Event.REFUND_PAID,
                            parked.refund_id,
                            f"退款 {yuan(parked.amount_fen)} 元已退回原支付账户")
        _succeeded(write, instruction, event, now, executed_at).commit()
        notices.push_now(ctx, [told])
        return parked

    booked = retry.on_conflict(attempt, retry_when=retry.order_changed)
    if liquidation_progress.of_a_liquidation(booked):
        liquidation_progress.count_paid(ctx, booked.refund_id)


def book_return(ctx: Context, instruction: BankInstruction, event: str,
                executed_at: datetime | None = None) -> None:
    """A parked return of money that matched no order, which the bank paid back: returned."""
    parked = ctx.store.unmatched(instruction.unmatched_id)
    if (parked is None or parked.status is not UnmatchedStatus.NEEDS_REVIEW
            or parked.instruction_id != instruction.instruction_id):
        raise _moved_on(instruction)
    now = ctx.now()
    write = ctx.store.write().replace(parked, replace(
        parked, status=UnmatchedStatus.RETURNED, returned_at=now, review_reason=""),
        "unmatched")
    _succeeded(write, instruction, event, now, executed_at).commit()


def _succeeded(write: AtomicWrite, instruction: BankInstruction, event: str, now: datetime,
               executed_at: datetime | None) -> AtomicWrite:
    return bank_book.answered(write, instruction, InstructionStatus.SUCCEEDED,
                              executed_at or now).mark_bank_event(event, "transfer_succeeded",
                                                                  now)


def _moved_on(instruction: BankInstruction) -> StateConflict:
    log.error("bank executed %s after it was refused and its payout moved on: reconcile with "
              "the bank", instruction.instruction_id)
    return StateConflict("该指令已有相反的结果", code="instruction_already_resolved",
                         instruction_id=instruction.instruction_id)
