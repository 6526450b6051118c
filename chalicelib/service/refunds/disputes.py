"""How a lesson the parent disputes (or the institution regrets) ends: the institution
withdraws it or upholds it with a note, the parent accepts it (confirms) or keeps the
dispute, and a dispute still open after the policy's working days goes to the regulator,
who releases or returns it. The rules: chalicelib/domain/refunds/dispute.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chalicelib.domain.calendar import business_date
from chalicelib.domain.errors import RuleViolation, StateConflict
from chalicelib.domain.escrow.bank import BankInstruction
from chalicelib.domain.escrow.consumption import (
    WITHDRAWABLE,
    ConfirmedBy,
    Consumption,
    ConsumptionStatus,
)
from chalicelib.domain.escrow.order import Order
from chalicelib.domain.messages.notice import Event, Notice, parent_inbox
from chalicelib.domain.refunds import dispute as rules
from chalicelib.domain.refunds.dispute import Outcome, WithdrawnBy
from chalicelib.domain.refunds.refund import ApprovedBy, RefundRequest, RefundStatus
from chalicelib.service import retry
from chalicelib.service.caller import Caller
from chalicelib.service.complaints import complaints, linked_cases
from chalicelib.service.context import Context
from chalicelib.service.escrow import consumptions, orders
from chalicelib.service.messages import notices
from chalicelib.service.ports import WriteRejected
from chalicelib.service.refunds import disputed_lessons, refund_payouts, refunds
from chalicelib.service.store import AtomicWrite, Guard

NOTE_LIMIT = 500


def withdraw(ctx: Context, caller: Caller, consumption_id: str, reason: str) -> Consumption:
    """The institution takes back a lesson not yet confirmed, with a reason."""
    found = disputed_lessons.of_institution(ctx, caller, consumption_id)
    return return_lesson(ctx, found.consumption_id, WithdrawnBy.INSTITUTION,
                         _required(reason, "withdrawal_reason_required", "撤回课时须说明理由"))


def uphold(ctx: Context, caller: Caller, consumption_id: str, note: str) -> Consumption:
    """The institution answers a dispute by standing by the lesson: it stays disputed, the
    parent sees the note and confirms or keeps the dispute (then the regulator decides)."""
    found = disputed_lessons.of_institution(ctx, caller, consumption_id)
    note = _required(note, "uphold_note_required", "坚持课时须附说明")

    def attempt() -> Consumption:
        before = disputed_lessons.get(ctx, found.consumption_id)
        if before.institution_note == note:
            return before  # upheld so already (and maybe settled since: a retry)
        if before.status is not ConsumptionStatus.DISPUTED:
            raise StateConflict("该课时不在异议状态", code="consumption_not_disputed",
                                status=str(before.status))
        after = replace(before, institution_note=note, answered_at=ctx.now())
        write = ctx.store.write().replace(before, after, "consumption", due=_still_due(after))
        told = _tell_answered(ctx, write, after, "机构坚持该课时已上，请查看说明后确认或继续异议")
        write.commit()
        notices.push_now(ctx, [told])
        return after

    return retry.on_conflict(attempt, retry_when=lambda r: True)


def escalate_on_silence(ctx: Context, consumption_id: str) -> bool:
    """Still disputed past its answer-by day: listed for the jurisdiction's regulator."""
    before = ctx.store.consumption(consumption_id)
    if (before is None or before.status is not ConsumptionStatus.DISPUTED
            or before.escalated_at is not None or before.answer_by is None
            or ctx.now() < before.answer_deadline):
        return False
    region = before.region_code or orders.get(ctx, before.order_id).region_code
    after = replace(before, escalated_at=ctx.now(), region_code=region)
    write = ctx.store.write().replace(before, after, "consumption")
    case = linked_cases.open_for_dispute(ctx, write, after)
    try:
        write.commit()
    except WriteRejected:
        return False  # resolved meanwhile: nothing to escalate
    complaints.publish(ctx, case)
    return True


def decided(ctx: Context, found: Consumption, outcome: Outcome, reason: str,
            guard: Guard | None = None) -> Consumption:
    """End an escalated dispute by a regulator's decision: the lesson is released to the
    institution (confirmed) or returned to the order (withdrawn). `guard`: the deciding
    department still holds the case (case_decisions.py)."""
    reason = _required(reason, "decision_reason_required", "监管裁决须说明理由")
    if found.escalated_at is None:
        raise StateConflict("该课时没有提交监管部门的异议", code="dispute_not_escalated",
                            answer_by=str(found.answer_by or ""))
    if outcome is Outcome.RELEASE:
        if found.status is ConsumptionStatus.WITHDRAWN:
            _decided_otherwise(found)
        return consumptions.confirm_now(ctx, found.consumption_id, ConfirmedBy.REGULATOR,
                                        reason=reason, guard=guard)
    if found.status is not ConsumptionStatus.WITHDRAWN and found.status not in WITHDRAWABLE:
        _decided_otherwise(found)
    return return_lesson(ctx, found.consumption_id, WithdrawnBy.REGULATOR, reason, guard)


def return_lesson(ctx: Context, consumption_id: str, by: WithdrawnBy, reason: str,
                  guard: Guard | None = None) -> Consumption:
    """Withdraw a lesson not yet confirmed, once however many callers race: it consumed
    nothing; its lesson goes back to the order, or its money to the payer (dispute.py)."""

    def attempt() -> tuple[Consumption, BankInstruction | None]:
        before = disputed_lessons.get(ctx, consumption_id)
        if before.status is ConsumptionStatus.WITHDRAWN:
            return before, None
        if before.status not in WITHDRAWABLE:
            raise StateConflict("该课时已确认，不能撤回", code="consumption_not_withdrawable",
                                status=str(before.status))
        order = orders.get(ctx, before.order_id)
        now = ctx.now()
        after = replace(before, status=ConsumptionStatus.WITHDRAWN, withdrawn_at=now,
                        withdrawn_by=by.value, resolution_reason=reason[:NOTE_LIMIT])
        refunded = rules.refunds_at_once(order, by)
        movement = rules.withdrawn(before, refunded=refunded)
        expect = {"lessons_refunded": order.lessons_refunded, "open_refunds": order.open_refunds}
        write = ctx.store.write().replace(before, after, "consumption")
        instruction = None
        if refunded:
            instruction = refund_payouts.reserve(
                ctx, write, order, _refund_of(ctx, order, after), was_open=False, create=True,
                movement=movement, expect=expect,
            )
        else:
            write.move_order(order, movement, expect=expect)
        told = ([_tell_answered(ctx, write, after, f"有异议的课时已撤回：{reason[:100]}")]
                if before.status is ConsumptionStatus.DISPUTED else [])
        if guard is not None:
            guard(write)
        write.commit()
        notices.push_now(ctx, told)
        return after, instruction

    return refund_payouts.commit_then_instruct(ctx, attempt, lambda r: True)


def _refund_of(ctx: Context, order: Order, lesson: Consumption) -> RefundRequest:
    """The refund of a lesson withdrawn after its order's remaining money was refunded:
    approved by the withdrawal, its id derived from the lesson's (created once)."""
    now = ctx.now()
    return RefundRequest(
        refund_id="rfd_" + lesson.consumption_id.removeprefix("con_"),
        order_id=order.order_id, parent_sub=order.parent_sub,
        institution_id=order.institution_id, region_code=order.region_code,
        reason=f"课时撤回：{lesson.resolution_reason}"[:NOTE_LIMIT],
        status=RefundStatus.REFUNDING, lessons=1, amount_fen=lesson.amount_fen,
        carries_remainder=lesson.carries_remainder, requested_at=now,
        decide_by=business_date(now), decide_by_estimated=False, before_start=False,
        approved_by=ApprovedBy.WITHDRAWAL, decided_at=now, decided_by=lesson.withdrawn_by,
        payout_due=refunds.payout_due_now(ctx, order.region_code),
    )


def _tell_answered(ctx: Context, write: AtomicWrite, lesson: Consumption, title: str
                   ) -> Notice:
    return notices.tell(ctx, write, parent_inbox(lesson.parent_sub), Event.DISPUTE_ANSWERED,
                        lesson.consumption_id, title)


def _still_due(consumption: Consumption) -> tuple[str, datetime] | None:
    """Where an answered dispute stays on the schedule (a dispute opened before answer-by
    days existed has none: docs/decisions.md, "Disputes")."""
    if consumption.escalated_at is not None or consumption.answer_by is None:
        return None
    return ("disputeescalate", consumption.answer_deadline)


def _decided_otherwise(found: Consumption) -> None:
    raise StateConflict("该异议已以其他方式结束", code="dispute_already_resolved",
                        status=str(found.status))


def _required(text: str, code: str, message: str) -> str:
    if not text.strip():
        raise RuleViolation(message, code=code)
    return text[:NOTE_LIMIT]
