"""Cases opened by the money flows: a refund rejection the parent escalates, and a disputed
lesson still open past its answer-by day, each become a complaint linked to its order, in
the same transaction as the escalation (once: the case's id is derived from the refund
request's or the lesson's). Routing sends them straight to the department, whose decision
on the case moves the money (chalicelib/service/complaints/case_decisions.py)."""

from __future__ import annotations

from chalicelib.domain.complaints.complaint import Action, Category, Complaint, Source, Stage
from chalicelib.domain.errors import StateConflict
from chalicelib.domain.escrow.consumption import Consumption
from chalicelib.domain.refunds.refund import RefundRequest
from chalicelib.service.caller import Caller
from chalicelib.service.complaints import case_log, complaints
from chalicelib.service.context import Context
from chalicelib.service.store import AtomicWrite, Guard


def case_id(linked_id: str) -> str:
    """`rfd_X` or `con_X` -> `cmp_X`: the case of an escalated refund request or lesson."""
    return "cmp_" + linked_id.split("_", 1)[1]


def held_by(ctx: Context, caller: Caller, linked_id: str) -> bool:
    """Whether the caller's department holds the case of an escalated refund request or
    lesson: it reads what it must decide, wherever a transfer took the case (a department
    of another county, or another department, does not supervise the institution)."""
    case = ctx.store.complaint(case_id(linked_id))
    return case is not None and case.stage is not Stage.FILED and complaints.holds(caller, case)


def holding(ctx: Context, caller: Caller, complaint_id: str) -> Guard:
    """A decision's money moves only while the caller's department holds the case (before
    routing: will hold it): the write is conditioned on the case's version as read here,
    so a transfer or an escalation committed first refuses it (`409 complaint_moved`; a
    retry reads the case again)."""

    def guard(write: AtomicWrite) -> None:
        case = ctx.store.complaint(complaint_id)
        if case is None:
            return  # an escalation opened before linked cases existed
        seen = complaints.as_routed(ctx, case) if case.stage is Stage.FILED else case
        if seen.stage is Stage.DEPARTMENT and not complaints.holds(caller, seen):
            raise StateConflict("该投诉已被移交或升级", code="complaint_moved",
                                holder=case.holder)
        write.require_version("complaint", complaint_id, case.version, "case")

    return guard


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
