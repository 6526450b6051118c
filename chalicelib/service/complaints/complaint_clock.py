"""The `complaintdue` schedule: each open case is looked at when its stage's day begins (its
holder is reminded) and when its day ends:

    institution      unanswered: the department takes it, with its own clock
    awaiting_parent  the parent said nothing: the answer is accepted, the case resolved
    department       overdue: escalated one level (county -> city -> province) above the
                     highest level that held it, with a new clock there, and flagged;
                     overdue at the province (or handed down by it): flagged and left with
                     the province (nobody above), which is told

A linked case whose money was settled meanwhile is resolved instead (chalicelib/service/
case_decisions.py). Each look is one conditional step: a case that moved meanwhile is left
to its new clock."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.complaints.case_transfer import escalation_origin
from chalicelib.domain.complaints.complaint import (
    Action,
    Complaint,
    Stage,
    advance,
    higher_region,
)
from chalicelib.domain.messages.notice import (
    Event,
    institution_inbox,
    parent_inbox,
    regulator_inbox,
)
from chalicelib.service import local_policy
from chalicelib.service.complaints import case_decisions, case_log
from chalicelib.service.complaints.case_log import Tell
from chalicelib.service.context import Context
from chalicelib.service.ports import WriteRejected

PLATFORM = "platform"
RECHECK = timedelta(days=1)


def tick(ctx: Context, complaint_id: str) -> bool:
    """Remind, move on or escalate one case whose time has come; True if it did."""
    before = ctx.store.complaint(complaint_id)
    if before is None or before.next_tick is None or ctx.now() < before.next_tick:
        return False
    try:
        if before.stage is Stage.DEPARTMENT and case_decisions.close_if_settled(
                ctx, complaint_id):
            return True
        if before.overdue_at_top:  # a linked case: looked at again tomorrow
            ctx.schedule.reschedule("complaint", complaint_id, case_log.CLOCK_JOB,
                                    ctx.now() + RECHECK, deferrals=None)
            return False
        clock = before.clock
        assert clock is not None
        if ctx.now() < clock.due_at:
            _remind(ctx, before)
        elif before.stage is Stage.INSTITUTION:
            _to_department(ctx, before)
        elif before.stage is Stage.AWAITING_PARENT:
            case_decisions.close(ctx, before, "家长未在期限内回复，视为接受机构答复", None,
                                 PLATFORM, Action.ACCEPTED_BY_SILENCE)
        else:
            _escalate(ctx, before)
    except WriteRejected:
        return False  # the case moved meanwhile: its new clock decides
    return True


def _remind(ctx: Context, before: Complaint) -> None:
    after = advance(before, reminded=True)
    title = f"投诉将于今日（{before.due_on}）到期，请及时处理"
    case_log.commit(ctx, before, after, Action.REMINDED, PLATFORM,
                    tells=(Tell(_inbox_of(before), Event.CASE_DUE_SOON, title),))


def _to_department(ctx: Context, before: Complaint) -> None:
    days = local_policy.of_case(ctx, before).complaint_department_working_days
    clock = case_log.clock(ctx, days)
    after = advance(before, stage=Stage.DEPARTMENT, **case_log.clocked(clock))
    tells = [Tell(regulator_inbox(str(after.department), after.region), Event.CASE_ASSIGNED,
                  "机构未在期限内答复的投诉，转由本部门办理"),
             Tell(institution_inbox(after.institution_id), Event.COMPLAINT_STAGE,
                  "投诉未在期限内答复，已转交主管部门")]
    if after.parent_sub:
        tells.append(Tell(parent_inbox(after.parent_sub), Event.COMPLAINT_STAGE,
                          "机构未在期限内答复，您的投诉已转交主管部门"))
    case_log.commit(ctx, before, after, Action.INSTITUTION_OVERDUE, PLATFORM,
                    "机构未在期限内答复", tuple(tells))


def _escalate(ctx: Context, before: Complaint) -> None:
    """One level above the highest office that held the case (case_transfer.py): a case
    handed down never brings the office above it a new clock."""
    origin = escalation_origin(before)
    higher = higher_region(origin)
    department = str(before.department)
    if higher is None:  # at the province, or handed down by it: back there, overdue
        after = advance(before, region=origin, flagged=True, overdue_at_top=True,
                        recheck_at=ctx.now() + RECHECK if before.linked else None)
        case_log.commit(ctx, before, after, Action.OVERDUE_AT_TOP, PLATFORM,
                        "省级办理已超期", (Tell(regulator_inbox(department, origin),
                                              Event.CASE_OVERDUE, "省级办理的投诉已超期"),))
        return
    days = local_policy.of_case(ctx, before).complaint_department_working_days
    clock = case_log.clock(ctx, days)
    after = advance(before, region=higher, highest_region=higher,
                    escalations=before.escalations + 1, flagged=True,
                    **case_log.clocked(clock))
    tells = [Tell(regulator_inbox(department, higher), Event.CASE_OVERDUE,
                  f"下级（{before.region}）超期未办结的投诉，已升级至本级"),
             Tell(regulator_inbox(department, before.region), Event.CASE_OVERDUE,
                  f"投诉超期未办结，已升级至上级（{higher}）")]
    if after.parent_sub:
        tells.append(Tell(parent_inbox(after.parent_sub), Event.COMPLAINT_STAGE,
                          "您的投诉已升级至上级主管部门办理"))
    case_log.commit(ctx, before, after, Action.ESCALATED, PLATFORM,
                    f"{before.region} 超期，升级至 {higher}", tuple(tells))


def _inbox_of(case: Complaint) -> str:
    if case.stage is Stage.INSTITUTION:
        return institution_inbox(case.institution_id)
    if case.stage is Stage.AWAITING_PARENT:
        return parent_inbox(case.parent_sub)
    return regulator_inbox(str(case.department), case.region)
