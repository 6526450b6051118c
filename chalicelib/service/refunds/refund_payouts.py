"""A refund's payout: the money leaves the order for the payer, then the bank pays it back
by the route it came (supervised account -> the payer's account), in two phases as a
release does (chalicelib/service/escrow/settlement.py, transfers.py).

`reserve` adds to the approving write: the order's held money -> refunding with a pending
journal entry, and the bank instruction. `instruct` sends it (the instruction id makes a
resend safe). The bank's outcome posts it (refunded) or voids it (held again; the request
`approved`, its next attempt queued on the schedule); a definitive refusal voids it and
parks the request for review, until ops pay it out again (`retry_parked`). The `refund` job
of the schedule re-drives what the fast path left: an approved request is reserved and sent
again, a refunding one resent, with backoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

from chalicelib.domain import ledger
from chalicelib.domain.errors import NotFound, StateConflict
from chalicelib.domain.escrow import lesson_money
from chalicelib.domain.escrow.bank import BankInstruction, InstructionStatus
from chalicelib.domain.escrow.order import Movement, Order
from chalicelib.domain.refunds import refund as rules
from chalicelib.domain.refunds.refund import RefundRequest, RefundStatus
from chalicelib.service import retry
from chalicelib.service.context import Context
from chalicelib.service.escrow import orders
from chalicelib.service.institutions import bank_accounts, liquidation_progress
from chalicelib.service.ports import WriteRejected
from chalicelib.service.refunds import late_payouts, outbound, refund_outcomes
from chalicelib.service.store import AtomicWrite

log = logging.getLogger(__name__)

T = TypeVar("T")

RESEND_AFTER = timedelta(minutes=10)
"""A payout sent and not answered is resent after this long (then with backoff)."""

ROUTE_IS_INSTITUTION = "refund_route_institution_account"
"""Why a payout waits for the parent: its route is an account an institution registered."""


def reserve(ctx: Context, write: AtomicWrite, order: Order, after: RefundRequest, *,
            was_open: bool, create: bool = False, before: RefundRequest | None = None,
            movement: Movement | None = None, expect: dict[str, int] | None = None
            ) -> BankInstruction:
    """Add the reservation of `after`'s payout to `write`: the request (created, or replaced
    from `before`), the order's movement with a pending journal entry, the instruction.

    A first attempt moves the order by `rules.reserved` on condition its remaining lessons
    are still what `after` was priced from, unless the caller brings the `movement` (and
    what it `expect`s) that already holds the reservation (a withdrawn lesson's refund)."""
    now = ctx.now()
    pending_id = ledger.refund_transfer_id(after.refund_id, after.attempt)
    entry = ledger.next_entry(
        order_id=order.order_id, after_seq=order.journal_seq, after_hash=order.journal_head,
        transfer_id=pending_id, phase=ledger.Phase.PENDING,
        debit_account=ledger.supervised_account(order.institution_id),
        credit_account=ledger.PAYER, amount_fen=after.amount_fen,
        occurred_at=now.isoformat(), cause=after.refund_id,
    )
    instruction = BankInstruction(
        instruction_id=after.instruction_id, order_id=order.order_id, consumption_id="",
        institution_id=order.institution_id, from_account=entry.debit_account,
        to_account=entry.credit_account, bank_from_account=order.supervised_bank_account,
        bank_to_account=after.payout_account(order.payer_bank_account),
        amount_fen=after.amount_fen,
        pending_transfer_id=pending_id, status=InstructionStatus.SENT, created_at=now,
        refund_id=after.refund_id,
    )
    if after.attempt > 1:
        movement, expect = rules.rereserved(after), {}
    elif movement is None:
        movement = rules.reserved(after, was_open=was_open)
        expect = lesson_money.expected_counters(order)
    due = ("refund", now + RESEND_AFTER)
    if create:
        write.create(after, "refund", due=due)
    else:
        assert before is not None
        write.replace(before, after, "refund", due=due)
    write.move_order(order, movement, entry=entry, expect=expect,
                     set_fields=liquidation_progress.named_on_order(after))
    write.create(instruction, "instruction")
    return instruction


def commit_then_instruct(
    ctx: Context, attempt: Callable[[], tuple[T, BankInstruction | None]],
    retry_when: Callable[[WriteRejected], bool],
) -> T:
    """Run `attempt` (a write that may reserve a payout) until it commits, then send the
    payout it reserved, if any: the bank hears of a refund only once it is in the ledger.

    Once the write committed, the answer is what it committed: a failure sending the payout
    (the bank unreachable, refusing it, its refusal's booking losing a race) is logged and
    left to the `refund` job, which the reservation put on the schedule (RESEND_AFTER). Were
    it raised, the request would answer an error for a refund that exists, and its
    Idempotency-Key, released as for a refusal, would let a retry be refused or create."""
    result, instruction = retry.on_conflict(attempt, retry_when=retry_when)
    if instruction is not None:
        try:
            instruct(ctx, instruction)
        except Exception:
            log.exception("payout %s not sent now; the refund job sends it",
                          instruction.instruction_id)
    return result


def instruct(ctx: Context, instruction: BankInstruction) -> str:
    """Send a payout's instruction to the bank; what happened, for the log. A payout to an
    account an institution registered is never sent: it is refused as the bank would
    refuse a closed account (unless the bank says it executed an earlier send), and the
    parent names another account (chalicelib/service/refunds/refund_routes.py)."""
    if bank_accounts.is_institutions(ctx, instruction.bank_to_account):
        log.warning("refund %s would pay an institution's account: refused",
                    instruction.instruction_id)
        return outbound.refuse(ctx, instruction, refund_outcomes.resolve, ROUTE_IS_INSTITUTION,
                              "refund")
    return outbound.send(ctx, instruction, refund_outcomes.resolve, "refund")


def redrive(ctx: Context, refund_id: str) -> bool:
    """The schedule found this payout due: an approved one is reserved and sent again, a
    refunding one resent (put off first with backoff, so a bank that keeps silent is not
    asked every run)."""
    request = ctx.store.refund(refund_id)
    if request is None:
        return False
    if request.status is RefundStatus.APPROVED:
        return _reserve_again(ctx, request)
    if request.status is not RefundStatus.REFUNDING:
        return False
    return outbound.resend_due(ctx, instruct, kind="refund", item_id=refund_id, job="refund",
                               deferrals=request.deferrals,
                               instruction_id=request.instruction_id)


def retry_parked(ctx: Context, refund_id: str) -> RefundRequest:
    """Ops: pay a parked refund out again once the payer's account is fixed with the bank,
    under a new attempt (a new instruction id: the refused one is never sent again) that
    the `refund` job reserves and sends on its next run; unless the bank says it paid the
    last one after all: that is booked (refunded), never sent again."""
    before = ctx.store.refund(refund_id)
    if before is None:
        raise NotFound("退款申请不存在", code="refund_not_found", refund_id=refund_id)
    if before.status is not RefundStatus.NEEDS_REVIEW:
        raise _not_parked(before)
    if late_payouts.paid_late(ctx, before.instruction_id):
        return ctx.store.refund(refund_id) or before
    after = replace(before, status=RefundStatus.APPROVED, attempt=before.attempt + 1,
                    first_attempt=before.attempt + 1, review_reason="", deferrals=0)
    try:
        ctx.store.write().replace(before, after, "refund", due=("refund", ctx.now())).commit()
    except WriteRejected as rejected:
        raise _not_parked(before) from rejected
    return after


def _not_parked(found: RefundRequest) -> StateConflict:
    return StateConflict("该退款不在待处理状态", code="refund_not_needing_review",
                         status=str(found.status))


def _reserve_again(ctx: Context, before: RefundRequest) -> bool:
    after = replace(before, status=RefundStatus.REFUNDING)
    write = ctx.store.write()
    instruction = reserve(ctx, write, orders.get(ctx, before.order_id), after, was_open=False,
                          before=before)
    write.commit()
    instruct(ctx, instruction)
    return True
