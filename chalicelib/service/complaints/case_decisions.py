"""A department's decision on a linked case moves the money through the existing paths: an
escalated refund request is ordered or dismissed (chalicelib/service/refunds/refund_escalations.py),
an escalated lesson released or returned (chalicelib/service/refunds/disputes.py). The money moves
first, then the case is resolved; each is idempotent, so a retry after a crash between the
two finishes the case, and the case's clock resolves a case whose money was settled some
other way (the regulators' refund and dispute routes, the parent accepting the lesson)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from chalicelib.domain.complaints.complaint import (
    DECISIONS,
    Action,
    Complaint,
    Decision,
    Source,
    Stage,
    advance,
)
from chalicelib.domain.errors import Forbidden, InvalidRequest
from chalicelib.domain.escrow.consumption import ConfirmedBy, Consumption, ConsumptionStatus
from chalicelib.domain.messages.notice import Event, institution_inbox, parent_inbox
from chalicelib.domain.refunds.dispute import Outcome
from chalicelib.domain.refunds.refund import ApprovedBy, RefundRequest, RefundStatus
from chalicelib.service.caller import Caller, Role
from chalicelib.service.complaints import case_log, complaints, linked_cases
from chalicelib.service.complaints.case_log import Tell
from chalicelib.service.context import Context
from chalicelib.service.refunds import disputed_lessons, disputes, refund_escalations
from chalicelib.service.store import Guard

log = logging.getLogger(__name__)


def check(case: Complaint, decision: Decision | None) -> None:
    """A linked case is resolved with one of its decisions; any other case with none."""
    allowed = DECISIONS.get(case.source, frozenset())
    if allowed and decision not in allowed:
        raise InvalidRequest("请选择对该案件资金的处理决定", code="decision_required",
                             allowed=sorted(allowed))
    if not allowed and decision is not None:
        raise InvalidRequest("该投诉不涉及资金处理决定", code="decision_not_applicable")


def move_money(ctx: Context, case: Complaint, decision: Decision | None, regulator_sub: str,
               reason: str, guard: Guard | None = None) -> None:
    """Carry out a linked case's decision (again, harmlessly, after a crash); `guard`: the
    deciding department still holds the case when the money's write commits."""
    if decision is Decision.ORDER_REFUND:
        refund_escalations.ordered(ctx, case.refund_id, regulator_sub, reason, guard)
    elif decision is Decision.DISMISS_REFUND:
        refund_escalations.dismissed(ctx, case.refund_id, regulator_sub, reason, guard)
    elif decision in (Decision.RELEASE_LESSON, Decision.RETURN_LESSON):
        lesson = ctx.store.consumption(case.consumption_id)
        assert lesson is not None, case.consumption_id
        outcome = Outcome.RELEASE if decision is Decision.RELEASE_LESSON else Outcome.RETURN
        disputes.decided(ctx, lesson, outcome, reason, guard)



def carry_out(ctx: Context, case: Complaint, decision: Decision | None, caller: Caller,
              reason: str) -> Decision | None:
    """A department's decision on a linked case, unless its money was settled some other
    way first (a liquidation refunded the order, the parent accepted the lesson): the
    decision that settled it, which the case records (None: settled otherwise), so the
    record never names a decision that did not happen."""
    if not case.linked:
        return None
    done, actual = settled(ctx, case)
    if not done:
        move_money(ctx, case, decision, caller.sub, reason,
                   linked_cases.holding(ctx, caller, case.complaint_id))
        done, actual = settled(ctx, case)  # what the money shows now (a race included)
    return actual if done else decision


def settled(ctx: Context, case: Complaint) -> tuple[bool, Decision | None]:
    """Whether a linked case's money was settled already, and by which decision (None when
    it ended otherwise: the parent accepted the lesson, a liquidation refunded it)."""
    if case.source is Source.REFUND:
        refund = ctx.store.refund(case.refund_id)
        return (True, None) if refund is None else _refund_settled(refund)
    if case.source is Source.DISPUTE:
        lesson = ctx.store.consumption(case.consumption_id)
        return (True, None) if lesson is None else _lesson_settled(lesson)
    return False, None


def _refund_settled(refund: RefundRequest) -> tuple[bool, Decision | None]:
    if refund.status is RefundStatus.ESCALATED:
        return False, None
    if refund.approved_by is ApprovedBy.REGULATOR:
        return True, Decision.ORDER_REFUND
    if refund.status is RefundStatus.REJECTED and refund.regulator_reason:
        return True, Decision.DISMISS_REFUND
    return True, None


def _lesson_settled(lesson: Consumption) -> tuple[bool, Decision | None]:
    if lesson.status is ConsumptionStatus.DISPUTED:
        return False, None
    if lesson.status is ConsumptionStatus.WITHDRAWN:
        return True, Decision.RETURN_LESSON if lesson.withdrawn_by == "regulator" else None
    return True, Decision.RELEASE_LESSON if lesson.confirmed_by is ConfirmedBy.REGULATOR else None


# the regulators' refund and dispute routes, which also close the case


def order_refund(ctx: Context, caller: Caller, refund_id: str, reason: str) -> RefundRequest:
    case_id = _decider(ctx, caller, refund_id, refund_escalations.supervised)
    ordered = refund_escalations.ordered(ctx, refund_id, caller.sub, reason,
                                         linked_cases.holding(ctx, caller, case_id))
    _close(ctx, case_id, caller, reason)
    return ordered


def dismiss(ctx: Context, caller: Caller, refund_id: str, reason: str) -> RefundRequest:
    case_id = _decider(ctx, caller, refund_id, refund_escalations.supervised)
    dismissed = refund_escalations.dismissed(ctx, refund_id, caller.sub, reason,
                                             linked_cases.holding(ctx, caller, case_id))
    _close(ctx, case_id, caller, reason)
    return dismissed


def decide_dispute(ctx: Context, caller: Caller, consumption_id: str, outcome: Outcome,
                   reason: str) -> Consumption:
    case_id = _decider(ctx, caller, consumption_id, disputed_lessons.supervised)
    lesson = ctx.store.consumption(consumption_id)
    assert lesson is not None, consumption_id  # _decider found it
    decided = disputes.decided(ctx, lesson, outcome, reason,
                               linked_cases.holding(ctx, caller, case_id))
    _close(ctx, case_id, caller, reason)
    return decided


def _decider(ctx: Context, caller: Caller, linked_id: str,
             supervised: Callable[[Context, Caller, str], object]) -> str:
    """Who decides an escalated refund or lesson on the regulators' routes: the department
    holding its case (wherever a transfer took it), as on the case's own route; before the
    case is routed, the department routing will give it to (the competent one at the
    jurisdiction, or a level above); after it is resolved, a regulator supervising the
    institution (the money route then refuses or answers as decided). Anyone who cannot
    see it gets a 404, as if it did not exist. The case's id."""
    caller.require(Role.REGULATOR)
    case_id = linked_cases.case_id(linked_id)
    case = ctx.store.complaint(case_id)
    if case is not None and case.stage is Stage.FILED:
        case = complaints.as_routed(ctx, case)  # the department routing will give it to
    if case is not None and case.stage is Stage.DEPARTMENT and complaints.holds(caller, case):
        return case_id
    supervised(ctx, caller, linked_id)
    if case is not None and case.stage is Stage.DEPARTMENT:
        raise Forbidden("该案件不由本部门本级办理", code="not_case_holder",
                        department=str(case.department), region=case.region)
    return case_id


def _close(ctx: Context, complaint_id: str, caller: Caller, reason: str) -> None:
    try:
        close_if_settled(ctx, complaint_id, complaints.actor(caller), reason)
    except Exception:
        log.exception("case %s not closed now; its clock will close it", complaint_id)


SETTLED = "资金已按监管决定或其他途径处理完毕"


def close_if_settled(ctx: Context, complaint_id: str, actor: str = "platform",
                     outcome: str = SETTLED) -> bool:
    """Resolve a linked case with its department whose money was settled already (by
    `actor`, for `outcome`: a regulator on the refund and dispute routes)."""
    case = ctx.store.complaint(complaint_id)
    if case is None or case.stage is not Stage.DEPARTMENT:
        return False
    done, decision = settled(ctx, case)
    if not done:
        return False
    close(ctx, case, outcome, decision, actor)
    return True


def close(ctx: Context, before: Complaint, outcome: str, decision: Decision | None,
          actor: str, action: Action = Action.RESOLVED) -> Complaint:
    """Resolve a case with its outcome (`action`: how it came to an end); the parent and the
    institution are told."""
    after = advance(before, stage=Stage.RESOLVED, outcome=outcome[:case_log.TEXT_LIMIT],
                    decision=decision, resolved_at=ctx.now(), resolved_by=actor)
    tells = [Tell(institution_inbox(after.institution_id), Event.COMPLAINT_STAGE,
                  "投诉已办结")]
    if after.parent_sub:
        tells.append(Tell(parent_inbox(after.parent_sub), Event.COMPLAINT_STAGE,
                          "您的投诉已办结，请评价处理结果"))
    return case_log.commit(ctx, before, after, action, actor, outcome, tuple(tells))
