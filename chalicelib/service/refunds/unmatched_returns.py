"""Money that matched no order goes back to the payer, through the bank, exactly once.

The write that records a payment as unmatched (chalicelib/service/escrow/bank_events.py) also
creates the return's instruction (supervised account -> the payer's account it came from)
and schedules its resend; the bank is instructed once that write has committed. The bank's
outcome marks it returned, or fails it: the next attempt gets a new instruction, sent by the
`returnpayment` job with backoff, until MAX_RETURN_ATTEMPTS failures or a definitive refusal
park it for ops (`needs_review`). The instruction id is the bank's idempotency key, so the
bank pays each attempt at most once, and a new attempt is only created once the bank has
said the previous one failed: the payer is paid back once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib.domain import backoff, ledger
from chalicelib.domain.errors import NotFound, StateConflict
from chalicelib.domain.escrow.bank import (
    MAX_RETURN_ATTEMPTS,
    BankInstruction,
    InstructionStatus,
    UnmatchedPayment,
    UnmatchedStatus,
    awaiting,
)
from chalicelib.service.context import Context
from chalicelib.service.escrow import bank_book
from chalicelib.service.refunds import late_payouts, outbound
from chalicelib.service.store import AtomicWrite

JOB = "returnpayment"
RESEND_AFTER = timedelta(minutes=10)
"""A return sent and not answered is resent after this long (then with backoff)."""

NO_ROUTE = "no_return_route"
"""The bank named no payer or receiving account: ops find the way back."""


def start(ctx: Context, write: AtomicWrite, payment: UnmatchedPayment
          ) -> BankInstruction | None:
    """Add the recording of `payment` to `write`, with its first return's instruction when
    the way back is known (else it is recorded for review); the instruction to send."""
    if not (payment.payer_account and payment.received_account):
        write.create(replace(payment, status=UnmatchedStatus.NEEDS_REVIEW,
                             review_reason=NO_ROUTE), "unmatched")
        return None
    returning = replace(payment, status=UnmatchedStatus.RETURNING, attempt=1)
    instruction = _instruction(ctx, returning)
    write.create(returning, "unmatched", due=(JOB, ctx.now() + RESEND_AFTER))
    write.create(instruction, "instruction")
    return instruction


def instruct(ctx: Context, instruction: BankInstruction) -> str:
    return outbound.send(ctx, instruction, resolve, "return")


def resolve(ctx: Context, instruction: BankInstruction, event_id: str, *, succeeded: bool,
            reason: str = "", for_good: bool = False, executed_at: datetime | None = None
            ) -> None:
    """Apply the bank's outcome of a return: returned, or failed (the next attempt
    scheduled, or parked when refused for good or out of attempts)."""
    before = _returning(ctx, instruction)
    now = ctx.now()
    write = ctx.store.write()
    if succeeded:
        write.replace(before, replace(before, status=UnmatchedStatus.RETURNED,
                                      returned_at=now), "unmatched")
        outcome = InstructionStatus.SUCCEEDED
    elif for_good or before.attempt >= MAX_RETURN_ATTEMPTS:
        write.replace(before, replace(before, status=UnmatchedStatus.NEEDS_REVIEW,
                                      review_reason=(reason or "transfer_failed")[:500]),
                      "unmatched")
        outcome = InstructionStatus.REFUSED if for_good else InstructionStatus.FAILED
    else:
        after = replace(before, attempt=before.attempt + 1, deferrals=0)
        write.replace(before, after, "unmatched",
                      due=(JOB, now + backoff.delay(before.attempt - 1)))
        write.create(_instruction(ctx, after), "instruction")
        outcome = InstructionStatus.FAILED
    bank_book.answered(write, instruction, outcome, executed_at or now)
    if not for_good:
        write.mark_bank_event(event_id, f"transfer_{outcome}", now)
    write.commit()


def redrive(ctx: Context, unmatched_id: str) -> bool:
    """The schedule found this return due: put it off with backoff, then send its current
    instruction again (the first send of a retry, or a resend the bank has not answered)."""
    payment = ctx.store.unmatched(unmatched_id)
    if payment is None or payment.status is not UnmatchedStatus.RETURNING:
        return False
    return outbound.resend_due(ctx, instruct, kind="unmatched_payment", item_id=unmatched_id,
                               job=JOB, deferrals=payment.deferrals,
                               instruction_id=payment.instruction_id)


def retry_parked(ctx: Context, unmatched_id: str, *, payer_account: str = "",
                 received_account: str = "") -> UnmatchedPayment:
    """Ops: try a parked return again (the payer's account fixed with the bank), as a new
    attempt that the `returnpayment` job sends on its next run. A payment the bank reported
    without its accounts needs both, as ops read them off the bank's own record; a route the
    bank did report is never changed."""
    before = ctx.store.unmatched(unmatched_id)
    if before is None:
        raise NotFound("未匹配款项不存在", code="unmatched_payment_not_found")
    if before.status is not UnmatchedStatus.NEEDS_REVIEW:
        raise StateConflict("该款项不能重新退回", code="unmatched_payment_not_retryable",
                            status=str(before.status))
    route_given = bool(payer_account or received_account)
    if before.review_reason == NO_ROUTE and not (payer_account and received_account):
        raise StateConflict("银行通知未注明账户：须先向银行核实付款账户与收款账户",
                            code="unmatched_payment_needs_route")
    if before.review_reason != NO_ROUTE and route_given:
        raise StateConflict("银行已注明该款项的账户，不能改变退回路径",
                            code="unmatched_payment_route_known")
    # a return was sent: one the bank paid after all is returned, never sent again
    if before.review_reason != NO_ROUTE and late_payouts.paid_late(ctx, before.instruction_id):
        return ctx.store.unmatched(unmatched_id) or before
    after = replace(before, status=UnmatchedStatus.RETURNING, attempt=before.attempt + 1,
                    deferrals=0, review_reason="",
                    payer_account=payer_account or before.payer_account,
                    received_account=received_account or before.received_account,
                    route_given_by="ops" if route_given else before.route_given_by)
    ctx.store.write().replace(before, after, "unmatched", due=(JOB, ctx.now())) \
        .create(_instruction(ctx, after), "instruction").commit()
    return after


def _instruction(ctx: Context, payment: UnmatchedPayment) -> BankInstruction:
    return BankInstruction(
        instruction_id=payment.instruction_id, order_id=payment.order_id, consumption_id="",
        institution_id="", from_account=ledger.UNMATCHED, to_account=ledger.PAYER,
        bank_from_account=payment.received_account, bank_to_account=payment.payer_account,
        amount_fen=payment.amount_fen, pending_transfer_id="",
        status=InstructionStatus.SENT, created_at=ctx.now(), unmatched_id=payment.unmatched_id,
    )


def _returning(ctx: Context, instruction: BankInstruction) -> UnmatchedPayment:
    return awaiting(ctx.store.unmatched(instruction.unmatched_id), UnmatchedStatus.RETURNING,
                    instruction, what="退回",
                    missing=NotFound("未匹配款项不存在", code="unmatched_payment_not_found"))
