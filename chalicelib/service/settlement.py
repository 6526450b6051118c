"""Settlement: a confirmed consumption's money moves supervised -> general through the bank.

Two phases. `settle` reserves the amount on the order (held -> releasing) with a pending
journal entry and a bank instruction record in one transaction, then instructs the bank
(the instruction id makes resending safe). The bank's outcome posts the transfer
(releasing -> released) or voids it (releasing -> held) and the work is retried under a new
attempt. SQS is the fast path only: the sweeper re-drives every confirmed or releasing
consumption whose work is overdue on the `due` index, so a lost message never loses money.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from chalicelib.domain import ledger
from chalicelib.domain import order as order_rules
from chalicelib.domain.bank import BankInstruction, InstructionStatus
from chalicelib.domain.consumption import Consumption, ConsumptionStatus
from chalicelib.domain.errors import NotFound, StateConflict
from chalicelib.domain.order import Order
from chalicelib.service import retry
from chalicelib.service.context import Context
from chalicelib.service.ports import TransferInstruction

log = logging.getLogger(__name__)

IMMEDIATE_RETRIES = 3


def publish(ctx: Context, consumption: Consumption, *, redrive: str = "") -> None:
    """Queue the work; if the queue is unreachable the sweeper will find it anyway."""
    try:
        ctx.publisher.publish_settlement(
            consumption.order_id, consumption.consumption_id, consumption.attempt,
            redrive=redrive,
        )
    except Exception:
        log.exception("settlement of %s not queued; the sweeper will re-drive it",
                      consumption.consumption_id)


def settle(ctx: Context, consumption_id: str) -> str:
    """Drive one consumption's release one step further. Safe to run any number of times."""
    consumption = ctx.store.consumption(consumption_id)
    if consumption is None:
        raise NotFound("消课记录不存在", code="consumption_not_found")
    instruction = None
    if consumption.status is ConsumptionStatus.CONFIRMED:
        consumption, instruction = _reserve(ctx, consumption)
    if consumption.status is not ConsumptionStatus.RELEASING:
        return str(consumption.status)
    instruction = instruction or ctx.store.instruction(consumption.instruction_id)
    if instruction is None:
        raise NotFound("银行指令不存在", code="instruction_not_found")
    ctx.bank.instruct_transfer(
        TransferInstruction(
            instruction_id=instruction.instruction_id,
            from_account=instruction.bank_from_account,
            to_account=instruction.bank_to_account,
            amount_fen=instruction.amount_fen,
        )
    )
    return "instructed"


def _reserve(
    ctx: Context, consumption: Consumption
) -> tuple[Consumption, BankInstruction | None]:
    """Reserve the release, or find it already reserved (by a twin delivery of the message)."""
    loaded: list[Consumption] = [consumption]

    def attempt() -> tuple[Consumption, BankInstruction | None]:
        before = loaded.pop() if loaded else ctx.store.consumption(consumption.consumption_id)
        if before is None or before.status is not ConsumptionStatus.CONFIRMED:
            return before or consumption, None
        order = _order(ctx, before.order_id)
        if order.open_disputes:
            log.info("order %s has open disputes: release of %s waits", order.order_id,
                     before.consumption_id)
            return before, None
        return _commit_reserve(ctx, order, before)

    return retry.on_conflict(attempt, retry_when=lambda r: True)


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
        bank_to_account=order.general_bank_account,
        amount_fen=before.amount_fen,
        pending_transfer_id=pending_id,
        status=InstructionStatus.SENT,
        created_at=now,
    )
    after = replace(before, status=ConsumptionStatus.RELEASING)
    ctx.store.write().move_order(
        order,
        order_rules.release_reserved(before.amount_fen),
        entry=entry,
        expect={"open_disputes": 0},
    ).replace(before, after, "consumption", due=("settle", now + _grace(ctx))).create(
        instruction, "instruction"
    ).commit()
    return after, instruction


def resolve_transfer(
    ctx: Context, instruction: BankInstruction, event_id: str, *, succeeded: bool
) -> None:
    """The bank's outcome of a release. Success posts it (releasing -> released, the lesson
    counts as released); failure voids it (releasing -> held) and retries it under the next
    attempt: at once for the first few, then through the sweeper with a growing backoff."""

    def attempt() -> Consumption:
        order = _order(ctx, instruction.order_id)
        before = _releasing(ctx, instruction)
        now = ctx.now()
        if succeeded:
            phase, movement = ledger.Phase.POST, order_rules.release_posted(
                order, instruction.amount_fen)
            after, due = replace(before, status=ConsumptionStatus.RELEASED, released_at=now), None
        else:
            phase, movement = ledger.Phase.VOID, order_rules.release_voided(instruction.amount_fen)
            after = replace(before, status=ConsumptionStatus.CONFIRMED, attempt=before.attempt + 1)
            due = ("settle", now + _grace(ctx) * min(after.attempt, 12))
        outcome = InstructionStatus.SUCCEEDED if succeeded else InstructionStatus.FAILED
        ctx.store.write().move_order(
            order, movement, entry=_resolution(order, instruction, phase, now.isoformat())
        ).replace(before, after, "consumption", due=due).replace(
            instruction, replace(instruction, status=outcome), "instruction"
        ).mark_bank_event(event_id, f"transfer_{outcome}", now).commit()
        return after

    after = retry.on_conflict(attempt, retry_when=retry.order_changed)
    if not succeeded and after.attempt <= IMMEDIATE_RETRIES:
        publish(ctx, after)


def _resolution(
    order: Order, instruction: BankInstruction, phase: ledger.Phase, at: str
) -> ledger.JournalEntry:
    return ledger.next_entry(
        order_id=order.order_id,
        after_seq=order.journal_seq,
        after_hash=order.journal_head,
        transfer_id=ledger.resolution_transfer_id(instruction.pending_transfer_id, phase),
        phase=phase,
        debit_account=instruction.from_account,
        credit_account=instruction.to_account,
        amount_fen=instruction.amount_fen,
        occurred_at=at,
        pending_id=instruction.pending_transfer_id,
        cause=instruction.instruction_id,
    )


def sweep(ctx: Context, *, limit: int = 100, horizon: timedelta = timedelta(0)) -> int:
    """Re-drive every confirmed or releasing consumption whose work is due before
    now + `horizon` (0: the overdue ones; a stack recovering from a stop passes the grace)."""
    now = ctx.now()
    redriven = 0
    for consumption_id in ctx.store.due("settle", now + horizon, limit):
        consumption = ctx.store.consumption(consumption_id)
        if consumption is None or consumption.status not in (
            ConsumptionStatus.CONFIRMED, ConsumptionStatus.RELEASING
        ):
            continue
        publish(ctx, consumption, redrive=now.strftime("%Y%m%dT%H%M"))
        redriven += 1
    return redriven


def _grace(ctx: Context) -> timedelta:
    return timedelta(minutes=ctx.policy().settlement_grace_minutes)


def _order(ctx: Context, order_id: str) -> Order:
    order = ctx.store.order(order_id)
    if order is None:
        raise NotFound("订单不存在", code="order_not_found", order_id=order_id)
    return order


def _releasing(ctx: Context, instruction: BankInstruction) -> Consumption:
    consumption = ctx.store.consumption(instruction.consumption_id)
    if consumption is None:
        raise NotFound("消课记录不存在", code="consumption_not_found")
    if (
        consumption.status is not ConsumptionStatus.RELEASING
        or consumption.instruction_id != instruction.instruction_id
    ):
        raise StateConflict(
            "银行回执与当前划拨不符", code="instruction_not_current",
            instruction_id=instruction.instruction_id,
        )
    return consumption

