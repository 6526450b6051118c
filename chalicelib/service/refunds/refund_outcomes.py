"""A refund payout's outcome, as the bank reports it (its callback, or its record read
back): posted (refunded, the parent told), or voided: the money held on the order again and
the request `approved` for its next attempt, or parked for review when the bank refused it
for good or failed it MAX_REFUND_ATTEMPTS times (the parent asked for another account).
Reserving and sending a payout: refund_payouts.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.domain import backoff, ledger
from chalicelib.domain.errors import NotFound
from chalicelib.domain.escrow.bank import BankInstruction, InstructionStatus, awaiting
from chalicelib.domain.messages.notice import Event, Notice, parent_inbox
from chalicelib.domain.money import yuan
from chalicelib.domain.refunds import refund as rules
from chalicelib.domain.refunds.refund import RefundRequest, RefundStatus
from chalicelib.service import retry
from chalicelib.service.context import Context
from chalicelib.service.escrow import bank_book, orders, transfers
from chalicelib.service.institutions import liquidation_progress
from chalicelib.service.messages import notices


def resolve(ctx: Context, instruction: BankInstruction, event_id: str, *, succeeded: bool,
            reason: str = "", for_good: bool = False, executed_at: datetime | None = None
            ) -> None:
    """Apply the bank's outcome of a payout: posted, or voided (retried, or parked when the
    bank refused it for good or failed it MAX_REFUND_ATTEMPTS times)."""

    def attempt() -> RefundRequest:
        order = orders.get(ctx, instruction.order_id)
        before = _refunding(ctx, instruction)
        now = ctx.now()
        write = ctx.store.write()
        told: list[Notice] = []
        if succeeded:
            movement = rules.posted(order, before)
            write.replace(before, replace(before, status=RefundStatus.REFUNDED,
                                          refunded_at=now), "refund",
                          due=liquidation_progress.paid_due(before, now))
            outcome = InstructionStatus.SUCCEEDED
            told.append(notices.tell(ctx, write, parent_inbox(before.parent_sub),
                                     Event.REFUND_PAID, before.refund_id,
                                     _paid_title(before)))
        else:
            movement = rules.voided(before)
            after = _after_failure(before, reason, for_good, now)
            write.replace(before, after, "refund",
                          due=None if after.status is RefundStatus.NEEDS_REVIEW
                          else ("refund", now + backoff.delay(before.tries - 1)))
            outcome = InstructionStatus.REFUSED if for_good else InstructionStatus.FAILED
            if after.status is RefundStatus.NEEDS_REVIEW:
                told.append(notices.tell(ctx, write, parent_inbox(before.parent_sub),
                                         Event.REFUND_ACCOUNT_NEEDED, before.refund_id,
                                         "退款未能退回原支付账户，请在退款详情中提供新的收款账户"))
        phase = ledger.Phase.POST if succeeded else ledger.Phase.VOID
        entry = transfers.resolution(order, instruction, phase, now)
        write.move_order(order, movement, entry=entry)
        bank_book.answered(write, instruction, outcome, executed_at or now)
        if not for_good:
            write.mark_bank_event(event_id, f"transfer_{outcome}", now)
        write.commit()
        notices.push_now(ctx, told)
        return before

    resolved = retry.on_conflict(attempt, retry_when=retry.order_changed)
    if succeeded and liquidation_progress.of_a_liquidation(resolved):
        liquidation_progress.count_paid(ctx, resolved.refund_id)  # at once: the fast path


def _paid_title(refund: RefundRequest) -> str:
    where = "您指定的收款账户" if refund.payout_account_changes else "原支付账户"
    return f"退款 {yuan(refund.amount_fen)} 元已退回{where}"


def _after_failure(before: RefundRequest, reason: str, for_good: bool, now: datetime
                   ) -> RefundRequest:
    if for_good or before.out_of_tries:
        return replace(before, status=RefundStatus.NEEDS_REVIEW,
                       review_reason=(reason or "transfer_failed")[:500], deferrals=0)
    return replace(before, status=RefundStatus.APPROVED, attempt=before.attempt + 1,
                   deferrals=0)


def _refunding(ctx: Context, instruction: BankInstruction) -> RefundRequest:
    return awaiting(ctx.store.refund(instruction.refund_id), RefundStatus.REFUNDING,
                    instruction, what="退款",
                    missing=NotFound("退款申请不存在", code="refund_not_found"))
