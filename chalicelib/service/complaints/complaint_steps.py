"""The steps people take on a case: the institution answers, the parent accepts or rejects
the answer, the department transfers, notes and resolves, the parent rates the outcome.
Each is one conditional step (chalicelib/service/complaints/case_log.py); repeating a step that
already happened changes nothing, and the one who took it gets the case as it is now
(chalicelib/service/complaints/case_repeats.py)."""

from __future__ import annotations

from chalicelib.domain.complaints import case_transfer
from chalicelib.domain.complaints.complaint import Action, Complaint, Decision, Stage, advance
from chalicelib.domain.errors import RuleViolation, StateConflict
from chalicelib.domain.institutions.catalog import Department
from chalicelib.domain.messages.notice import (
    Event,
    institution_inbox,
    parent_inbox,
    regulator_inbox,
)
from chalicelib.service import local_policy
from chalicelib.service.caller import Caller, Role
from chalicelib.service.complaints import case_decisions, case_log, case_repeats, complaints
from chalicelib.service.complaints.case_log import Tell
from chalicelib.service.context import Context

TEXT_LIMIT = case_log.TEXT_LIMIT
MAX_STEPS = 200
"""A case's timeline stops taking notes and transfers here (it is read whole with the
case)."""


@case_repeats.unless_taken(lambda _caller, _case, step, text: case_repeats.said(
    Action.ANSWERED, step, text))
def answer(ctx: Context, caller: Caller, complaint_id: str, text: str) -> Complaint:
    """The institution answers; the parent has the policy's working days to accept it."""
    found = complaints.own(ctx, caller, complaint_id, Role.INSTITUTION)
    days = local_policy.of_case(ctx, found).complaint_parent_working_days

    def change(before: Complaint) -> Complaint | None:
        if before.stage is Stage.AWAITING_PARENT and before.answer == text:
            return None
        _require_stage(before, Stage.INSTITUTION, "complaint_not_awaiting_answer",
                       "该投诉不在待机构答复阶段")
        clock = case_log.clock(ctx, days)
        after = advance(before, stage=Stage.AWAITING_PARENT, answer=text[:TEXT_LIMIT],
                        answered_at=ctx.now(), **case_log.clocked(clock))
        tell = Tell(parent_inbox(after.parent_sub), Event.COMPLAINT_STAGE,
                    f"机构已答复您的投诉，请于 {clock.due_on} 前确认是否接受")
        return case_log.commit(ctx, before, after, Action.ANSWERED, complaints.actor(caller),
                               text, (tell,))

    return case_log.step(ctx, found.complaint_id, change)


@case_repeats.unless_taken(lambda _caller, _case, step: step.action is Action.ACCEPTED)
def accept(ctx: Context, caller: Caller, complaint_id: str) -> Complaint:
    """The parent accepts the institution's answer: the case is resolved."""
    found = complaints.own(ctx, caller, complaint_id, Role.PARENT)

    def change(before: Complaint) -> Complaint | None:
        if before.stage is Stage.RESOLVED and before.resolved_by == complaints.actor(caller):
            return None
        _require_stage(before, Stage.AWAITING_PARENT, "complaint_not_awaiting_parent",
                       "该投诉不在待家长确认阶段")
        return case_decisions.close(ctx, before, "家长接受机构答复", None,
                                    complaints.actor(caller), Action.ACCEPTED)

    return case_log.step(ctx, found.complaint_id, change)


@case_repeats.unless_taken(lambda _caller, _case, step, reason: case_repeats.said(
    Action.REJECTED, step, reason))
def reject(ctx: Context, caller: Caller, complaint_id: str, reason: str) -> Complaint:
    """The parent rejects the answer: the department takes the case, with its clock."""
    found = complaints.own(ctx, caller, complaint_id, Role.PARENT)
    days = local_policy.of_case(ctx, found).complaint_department_working_days

    def change(before: Complaint) -> Complaint | None:
        _require_stage(before, Stage.AWAITING_PARENT, "complaint_not_awaiting_parent",
                       "该投诉不在待家长确认阶段")
        clock = case_log.clock(ctx, days)
        after = advance(before, stage=Stage.DEPARTMENT, **case_log.clocked(clock))
        tells = (Tell(regulator_inbox(str(after.department), after.region),
                      Event.CASE_ASSIGNED, "家长不接受机构答复的投诉，转由本部门办理"),
                 Tell(institution_inbox(after.institution_id), Event.COMPLAINT_STAGE,
                      "家长不接受您的答复，投诉已转交主管部门"))
        return case_log.commit(ctx, before, after, Action.REJECTED, complaints.actor(caller),
                               reason, tells)

    return case_log.step(ctx, found.complaint_id, change)


@case_repeats.once(case_repeats.same_transfer)
def transfer(ctx: Context, caller: Caller, complaint_id: str, *,
             department: Department | None, region: str | None, reason: str) -> Complaint:
    """The holding department hands the case to another department or region (of this
    province, one the platform knows), with a reason; the case keeps its due date
    (chalicelib/domain/complaints/case_transfer.py). The target is taken from the case as the step
    finds it: a case escalated meanwhile is not taken back down."""
    found = complaints.held(ctx, caller, complaint_id)
    if region is not None:
        in_province = region[:2] == found.jurisdiction[:2]  # no other province's policy here
        case_transfer.check_target(region, found,
                                   ctx.policy(region).counties if in_province else ())
    floor_days = local_policy.of_case(ctx, found).complaint_transfer_floor_working_days

    def change(before: Complaint) -> Complaint | None:
        _still_held(caller, before)
        _require_stage(before, Stage.DEPARTMENT, "complaint_not_with_department",
                       "该投诉不在主管部门办理阶段")
        _room_for_a_step(before)
        target = (department or before.department, region or before.region)
        if target == (before.department, before.region):
            raise RuleViolation("移交对象与当前办理部门相同", code="transfer_to_same_holder")
        floor = case_log.clock(ctx, floor_days)
        after = advance(before, department=target[0], region=target[1], overdue_at_top=False,
                        highest_region=case_transfer.higher_of(
                            before.highest_region or before.region, target[1]),
                        **case_transfer.transferred_clock(before, floor))
        tell = Tell(regulator_inbox(str(target[0]), target[1]),
                    Event.CASE_ASSIGNED, f"收到 {before.department}@{before.region} 移交的投诉")
        return case_log.commit(ctx, before, after, Action.TRANSFERRED, complaints.actor(caller),
                               case_repeats.transfer_text(str(target[0]), target[1], reason),
                               (tell,))

    return case_log.step(ctx, found.complaint_id, change)


@case_repeats.once(lambda _caller, _case, step, text: case_repeats.said(
    Action.NOTE, step, text))
def note(ctx: Context, caller: Caller, complaint_id: str, text: str) -> Complaint:
    """The holding department adds a note to an open case's timeline."""
    found = complaints.held(ctx, caller, complaint_id)

    def change(before: Complaint) -> Complaint | None:
        _still_held(caller, before)
        if before.stage is Stage.RESOLVED:
            raise StateConflict("投诉已办结", code="complaint_resolved")
        _room_for_a_step(before)
        return case_log.commit(ctx, before, advance(before), Action.NOTE,
                               complaints.actor(caller), text)

    return case_log.step(ctx, found.complaint_id, change)


@case_repeats.unless_taken(lambda _caller, case, step, *, outcome, decision: case_repeats.said(
    Action.RESOLVED, step, outcome) and case.decision in (decision, None))
def resolve(ctx: Context, caller: Caller, complaint_id: str, *, outcome: str,
            decision: Decision | None) -> Complaint:
    """The holding department resolves the case with an outcome; a linked case's decision
    moves its money first, while the department holds the case, and the case records the
    decision that settled the money (None: settled some other way first)."""
    found = complaints.held(ctx, caller, complaint_id)
    case_decisions.check(found, decision)

    def change(before: Complaint) -> Complaint | None:
        if before.stage is Stage.RESOLVED and before.decision is decision:
            return None  # resolved so already (again, or while its money moved)
        _still_held(caller, before)
        _require_stage(before, Stage.DEPARTMENT, "complaint_not_with_department",
                       "该投诉不在主管部门办理阶段")
        done = case_decisions.carry_out(ctx, before, decision, caller, outcome)
        return case_decisions.close(ctx, before, outcome, done, complaints.actor(caller))

    return case_log.step(ctx, found.complaint_id, change)


def rate(ctx: Context, caller: Caller, complaint_id: str, stars: int, comment: str
         ) -> Complaint:
    """The parent rates the outcome of a resolved case, once."""
    found = complaints.own(ctx, caller, complaint_id, Role.PARENT)

    def change(before: Complaint) -> Complaint | None:
        if before.rating:
            if (before.rating, before.rating_comment) == (stars, comment):
                return None
            raise StateConflict("该投诉已评价", code="complaint_already_rated")
        _require_stage(before, Stage.RESOLVED, "complaint_not_resolved", "投诉尚未办结")
        after = advance(before, rating=stars, rating_comment=comment, rated_at=ctx.now())
        return case_log.commit(ctx, before, after, Action.RATED, complaints.actor(caller),
                               f"{stars} 星：{comment}")

    return case_log.step(ctx, found.complaint_id, change)


def _room_for_a_step(case: Complaint) -> None:
    """Notes and transfers stop at `MAX_STEPS` (the platform's own steps and a resolution
    are always written)."""
    if case.version >= MAX_STEPS:
        raise StateConflict("案件记录已满，请办结后另行立案", code="complaint_timeline_full",
                            steps=case.version)


def _still_held(caller: Caller, case: Complaint) -> None:
    """Read again after a lost race: an escalation or a transfer may have taken the case
    out of the caller's hands meanwhile."""
    if not complaints.holds(caller, case):
        raise StateConflict("该投诉已被移交或升级", code="complaint_moved",
                            holder=case.holder)


def _require_stage(case: Complaint, stage: Stage, code: str, message: str) -> None:
    if case.stage is not stage:
        raise StateConflict(message, code=code, stage=str(case.stage))
