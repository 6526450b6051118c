"""Cases opened by the money flows: a refund rejection the parent escalates, and a disputed
lesson still open past its answer-by day, each become a complaint linked to its order, in
the same transaction as the escalation (once: the case's id is derived from the refund
request's or the lesson's). Routing sends them straight to the department, whose decision
on the case moves the money (chalicelib/service/case_decisions.py)."""

from __future__ import annotations

from chalicelib.domain.complaint import Action, Category, Complaint, Source, Stage
from chalicelib.domain.consumption import Consumption
from chalicelib.domain.refund import RefundRequest
from chalicelib.service import case_log, complaints
from chalicelib.service.caller import Caller
from chalicelib.service.context import Context
from chalicelib.service.store import AtomicWrite


def case_id(linked_id: str) -> str:
    """`rfd_X` or `con_X` -> `cmp_X`: the case of an escalated refund request or lesson."""
    return "cmp_" + linked_id.split("_", 1)[1]


def held_by(ctx: Context, caller: Caller, linked_id: str) -> bool:
    """Whether the caller's department holds the case of an escalated refund request or
    lesson: it reads what it must decide, wherever a transfer took the case (a department
    of another county, or another department, does not supervise the institution)."""
    case = ctx.store.complaint(case_id(linked_id))
    return case is not None and case.stage is not Stage.FILED and complaints.holds(caller, case)


def open_for_refund(ctx: Context, write: AtomicWrite, refund: RefundRequest) -> Complaint:
    case = Complaint(
        complaint_id=case_id(refund.refund_id), source=Source.REFUND, category=Category.REFUND,
        institution_id=refund.institution_id,
        text=f"退款申请被机构拒绝，家长申请监管部门处理：{refund.escalation_reason}",
        filed_by=refund.parent_sub, filed_at=ctx.now(), stage=Stage.FILED, version=1,
        parent_sub=refund.parent_sub, order_id=refund.order_id, refund_id=refund.refund_id,
    )
    case_log.add(ctx, write, None, case, Action.FILED, f"parent:{refund.parent_sub}")
    return case


def open_for_dispute(ctx: Context, write: AtomicWrite, lesson: Consumption) -> Complaint:
    case = Complaint(
        complaint_id=case_id(lesson.consumption_id), source=Source.DISPUTE,
        category=Category.FEES, institution_id=lesson.institution_id,
        text=f"课时异议未在期限内解决：{lesson.dispute_reason}", filed_by="platform",
        filed_at=ctx.now(), stage=Stage.FILED, version=1, parent_sub=lesson.parent_sub,
        order_id=lesson.order_id, consumption_id=lesson.consumption_id,
    )
    case_log.add(ctx, write, None, case, Action.FILED, "platform")
    return case
