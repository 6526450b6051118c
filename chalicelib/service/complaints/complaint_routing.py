"""Routing a filed complaint, once: the competent department (policy `complaint_routing`, by
the institution's training type) at the institution's jurisdiction (offline: its county;
online: its approving province) takes it, and its first clock starts. The complaint queue's
worker routes each case as it is filed; the `complaintroute` schedule routes any whose
message was lost. A redelivery finds the case routed and does nothing."""

from __future__ import annotations

from chalicelib.domain.complaints.complaint import (
    ALERTING,
    Action,
    Complaint,
    Source,
    Stage,
    advance,
)
from chalicelib.domain.messages.notice import (
    Event,
    institution_inbox,
    parent_inbox,
    regulator_inbox,
)
from chalicelib.service.complaints import case_decisions, case_log, complaints
from chalicelib.service.complaints.case_log import Tell
from chalicelib.service.context import Context
from chalicelib.service.ports import WriteRejected


def route(ctx: Context, complaint_id: str) -> bool:
    """Route the case if it still waits for routing; True if this call routed it."""
    for _ in range(3):
        before = ctx.store.complaint(complaint_id)
        if before is None or before.stage is not Stage.FILED:
            return False
        settled = before.linked and case_decisions.settled(ctx, before)[0]
        try:
            case_log.commit(ctx, before, *_routed(ctx, before, settled=settled))
        except WriteRejected:
            continue  # routed meanwhile by a twin: read again
        if settled:  # decided on the regulators' routes before it was routed: closed now
            case_decisions.close_if_settled(ctx, complaint_id)
        return True
    return False


def _routed(ctx: Context, before: Complaint, *, settled: bool
            ) -> tuple[Complaint, Action, str, str, tuple[Tell, ...]]:
    """The routed case and who is told (a department only of work still to do)."""
    institution = ctx.store.institution(before.institution_id)
    if institution is None:
        raise LookupError(f"complaint {before.complaint_id}: no institution "
                          f"{before.institution_id}")
    policy = ctx.policy(institution.region_code)
    department, region = complaints.destination(ctx, institution)
    alert = before.category in ALERTING
    to_department = alert or before.source is not Source.APP
    stage, days = ((Stage.DEPARTMENT, policy.complaint_department_working_days) if to_department
                   else (Stage.INSTITUTION, policy.complaint_institution_working_days))
    clock = case_log.clock(ctx, days)
    after = advance(before, stage=stage, department=department, jurisdiction=region,
                    region=region, highest_region=region, alert=alert,
                    **case_log.clocked(clock))
    tells: list[Tell] = []
    if after.parent_sub:
        tells.append(Tell(parent_inbox(after.parent_sub), Event.COMPLAINT_STAGE,
                          "您的投诉已受理并转交办理"))
    if stage is Stage.INSTITUTION:
        tells.append(Tell(institution_inbox(after.institution_id), Event.COMPLAINT_STAGE,
                          f"收到一条投诉，请于 {clock.due_on} 前答复"))
    elif not settled:
        event, title = ((Event.CASE_ALERT, "紧急：收到涉及安全、资金风险或违规培训的投诉")
                        if alert else (Event.CASE_ASSIGNED, "收到一件待办投诉"))
        tells.append(Tell(regulator_inbox(department, region), event, title))
    return after, Action.ROUTED, "platform", f"{department}@{region}", tuple(tells)
