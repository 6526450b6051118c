"""Settlement: a confirmed consumption's money moves supervised -> general through the bank.

Two phases. `settle` reserves the amount on the order (held -> releasing) with a pending
journal entry and a bank instruction record in one transaction, then instructs the bank
(the instruction id makes resending safe). The bank's outcome posts or voids the transfer
(chalicelib/service/escrow/transfers.py). A bank that refuses the instruction for good gets it
voided at once and the consumption parked for review, so no money is ever stranded in
`releasing`; a bank that cannot be reached gets the work put off with backoff. The queue is
the fast path only: the sweep re-drives every confirmed or releasing consumption that is due
on the schedule, so a lost message never loses money. Every step is safe to repeat.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from chalicelib.domain import backoff, ledger
from chalicelib.domain.errors import NotFound
from chalicelib.domain.escrow import order as order_rules
from chalicelib.domain.escrow.bank import BankInstruction, InstructionStatus
from chalicelib.domain.escrow.consumption import SETTLING, Consumption, ConsumptionStatus
from chalicelib.domain.escrow.order import Order
from chalicelib.service import retry
from chalicelib.service.context import Context
from chalicelib.service.escrow import orders, transfers
from chalicelib.service.jobs import work
from chalicelib.service.ports import BankRefused, BankUnavailable, TransferInstruction

log = logging.getLogger(__name__)


def settle(ctx: Context, consumption_id: str) -> str:
    """Drive one consumption's release one step further; the outcome, for the log."""
    consumption = ctx.store.consumption(consumption_id)
    if consumption is None:
        raise NotFound("消课记录不存在", code="consumption_not_found")
    instruction = None
    if consumption.status is ConsumptionStatus.CONFIRMED:
        consumption, instruction = _reserve(ctx, consumption)
    if consumption.status is not ConsumptionStatus.RELEASING:
        return str(consumption.status)
    reserved_now = instruction is not None
    instruction = instruction or ctx.store.instruction(consumption.instruction_id)
    if instruction is None:
        raise NotFound("银行指令不存在", code="instruction_not_found")
    blocked = orders.get(ctx, consumption.order_id)
    if not reserved_now and blocked.blocked:
        return ("waits: the order has an open dispute or refund request, or its institution "
                "is frozen (nothing is sent)")
    try:
        ctx.bank.instruct_transfer(TransferInstruction(
            instruction_id=instruction.instruction_id,
            from_account=instruction.bank_from_account,
            to_account=instruction.bank_to_account,
            amount_fen=instruction.amount_fen,
        ))
    except BankRefused as refusal:
        log.warning("bank refused %s: %s", instruction.instruction_id, refusal.reason)
        return _refused(ctx, instruction, refusal.reason)
    except BankUnavailable:
        log.warning("bank unavailable for %s: put off", instruction.instruction_id)
        if reserved_now:  # a re-drive has put it off already
            put_off(ctx, consumption)
        return "deferred"
    return "instructed"


def _refused(ctx: Context, instruction: BankInstruction, reason: str) -> str:
    """A refusal says the bank would not take this request, not that it never executed an
    earlier send of the same instruction (one that timed out after the bank had executed
    it): the bank's own record decides whether the reservation may be voided."""
    try:
        record = ctx.bank.executed(instruction.instruction_id)
    except BankUnavailable:
        return "deferred: the bank could not say what it did with the instruction"
    if record is None:
        transfers.park(ctx, instruction, reason)
        return "needs_review"
    transfers.apply_bank_record(ctx, instruction, record)
    return f"resolved from the bank's record ({'succeeded' if record.succeeded else 'failed'})"


def put_off(ctx: Context, consumption: Consumption) -> bool:
    """Try the consumption's settlement again later (1, 2, 4 ... minutes, at most an hour);
    False if it made progress meanwhile."""
    return ctx.schedule.reschedule(
        "consumption", consumption.consumption_id, "settle",
        ctx.now() + backoff.delay(consumption.deferrals), deferrals=consumption.deferrals,
    )


def redrive(ctx: Context, consumption_id: str, token: str) -> bool:
    """The sweep found this consumption due: put it off first (so it cannot hide newer work
    if it is still blocked, by an open dispute or a bank callback that has not come), then
    queue its next step. `token` keeps the queue from deduplicating it against a lost
    message."""
    consumption = ctx.store.consumption(consumption_id)
    if consumption is None or consumption.status not in SETTLING:
        return False
    if not put_off(ctx, consumption):
        return False
    work.publish_settlement(ctx, consumption, redrive=token)
    return True


def _reserve(
    ctx: Context, consumption: Consumption
) -> tuple[Consumption, BankInstruction | None]:
    """Reserve the release, or find it already reserved (by a twin delivery of the message)."""
    loaded: list[Consumption] = [consumption]

    def attempt() -> tuple[Consumption, BankInstruction | None]:
        before = loaded.pop() if loaded else ctx.store.consumption(consumption.consumption_id)
        if before is None or before.status is not ConsumptionStatus.CONFIRMED:
            return before or consumption, None
        order = orders.get(ctx, before.order_id)
        if order.blocked:
            log.info("order %s is blocked (a dispute, a refund request or a freeze): release "
                     "of %s waits", order.order_id, before.consumption_id)
            return before, None
        return _commit_reserve(ctx, order, before)

    return retry.on_conflict(attempt, retry_when=lambda r: True)


def general_account(ctx: Context, order: Order) -> str:
    """Where a release instructed now goes: the general account the institution's
    department approved last (one consistent read of the institution, outside the money
    transaction: a condition on it there would make the institution a hot item), else the
    order's own copy (an institution whitelisted before approved accounts were kept, and
    in review since). A change still in review is never used."""
    institution = ctx.store.institution(order.institution_id)
    approved = institution.approved_custodian if institution is not None else None
    return approved.general_account if approved is not None else order.general_bank_account


def _commit_reserve(
    ctx: Context, order: Order, before: Consumption
) -> tuple[Consumption, BankInstruction]:
    now = ctx.now()
    pending_id = ledger.release_transfer_id(before.consumption_id, before.attempt)
    entry = ledger.next_entry(
        order_id=order.order_id,
        after_seq=order.journal_seq,
        after_hash=order.journal_head,
        transfer_id=pending_id,
        phase=ledger.Phase.PENDING,
        debit_account=ledger.supervised_account(order.institution_id),
        credit_account=ledger.general_account(order.institution_id),
        amount_fen=before.amount_fen,
        occurred_at=now.isoformat(),
        cause=before.consumption_id,
    )
    instruction = BankInstruction(
        instruction_id=before.instruction_id,
        order_id=order.order_id,
        consumption_id=before.consumption_id,
        institution_id=order.institution_id,
        from_account=entry.debit_account,
        to_account=entry.credit_account,
        bank_from_account=order.supervised_bank_account,
        bank_to_account=general_account(ctx, order),
        amount_fen=before.amount_fen,
        pending_transfer_id=pending_id,
        status=InstructionStatus.SENT,
        created_at=now,
    )
    after = replace(before, status=ConsumptionStatus.RELEASING, deferrals=0)
    grace = timedelta(minutes=ctx.policy(order.region_code).settlement_grace_minutes)
    ctx.store.write().move_order(
        order,
        order_rules.release_reserved(before.amount_fen),
        entry=entry,
        expect=order_rules.UNBLOCKED,
    ).replace(before, after, "consumption", due=("settle", now + grace)).create(
        instruction, "instruction"
    ).commit()
    return after, instruction
