"""Complaints filed and found: a parent files one in the app, a hotline operator takes one
from a 12345 call; each caller sees only the cases that are theirs (chalicelib/domain/
complaint.py has the stages; chalicelib/service/complaints/complaint_steps.py the steps)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from chalicelib.domain.complaints.complaint import (
    Action,
    Category,
    Complaint,
    Sla,
    Source,
    Stage,
    competent_department,
    jurisdiction,
)
from chalicelib.domain.errors import Forbidden, NotFound, RuleViolation
from chalicelib.domain.institutions.catalog import Department, Institution
from chalicelib.service.caller import Caller, Role, region_prefix
from chalicelib.service.complaints import case_log
from chalicelib.service.context import Context
from chalicelib.service.escrow import orders
from chalicelib.service.ports import Page, WriteRejected
from chalicelib.service.store import CaseFilter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Filing:
    institution_id: str
    category: Category
    text: str
    order_id: str = ""
    attachments: tuple[str, ...] = ()
    caller_name: str = ""
    caller_phone: str = ""


def file(ctx: Context, caller: Caller, complaint_id: str, filing: Filing) -> Complaint:
    """A parent's complaint about an institution (and, optionally, one of their orders with
    it), waiting for routing."""
    caller.require(Role.PARENT)
    institution = _institution(ctx, filing.institution_id)
    if filing.order_id:
        order = orders.visible(ctx, caller, filing.order_id)
        if order.institution_id != institution.institution_id:
            raise RuleViolation("该订单不属于被投诉的机构", code="order_not_of_institution",
                                order_id=filing.order_id)
    return _file(ctx, caller, _new(ctx, caller, complaint_id, filing, Source.APP,
                                   parent_sub=caller.sub))


def take_call(ctx: Context, caller: Caller, complaint_id: str, filing: Filing) -> Complaint:
    """A 12345 hotline call, entered by an operator (a regulator of the institution's
    region, any department: routing finds the competent one)."""
    caller.require(Role.REGULATOR)
    institution = _institution(ctx, filing.institution_id)
    if not institution.jurisdiction_code.startswith(region_prefix(caller.region)):
        raise NotFound("机构不存在", code="institution_not_found",
                       institution_id=filing.institution_id)
    if filing.order_id:
        order = ctx.store.order(filing.order_id)
        if order is None or order.institution_id != institution.institution_id:
            raise RuleViolation("该订单不属于被投诉的机构", code="order_not_of_institution",
                                order_id=filing.order_id)
    return _file(ctx, caller, _new(ctx, caller, complaint_id, filing, Source.HOTLINE))


def _new(ctx: Context, caller: Caller, complaint_id: str, filing: Filing, source: Source,
         parent_sub: str = "") -> Complaint:
    return Complaint(
        complaint_id=complaint_id, source=source, category=filing.category,
        institution_id=filing.institution_id, text=filing.text, filed_by=caller.sub,
        filed_at=ctx.now(), stage=Stage.FILED, version=1, parent_sub=parent_sub,
        order_id=filing.order_id, attachments=filing.attachments,
        caller_name=filing.caller_name, caller_phone=filing.caller_phone,
    )


def _file(ctx: Context, caller: Caller, fresh: Complaint) -> Complaint:
    write = ctx.store.write()
    case_log.add(ctx, write, None, fresh, Action.FILED, actor(caller))
    try:
        write.commit()
    except WriteRejected:
        found = ctx.store.complaint(fresh.complaint_id)  # a twin of this request filed it
        if found is None or found.filed_by != caller.sub:
            raise
        return found
    publish(ctx, fresh)
    return fresh


def publish(ctx: Context, case: Complaint) -> None:
    """Queue a filed case for routing; if the queue is unreachable the schedule routes it."""
    try:
        ctx.publisher.publish_complaint(case.complaint_id)
    except Exception:
        log.exception("complaint %s not queued; the routing schedule will route it",
                      case.complaint_id)


def _institution(ctx: Context, institution_id: str) -> Institution:
    found = ctx.store.institution(institution_id)
    if found is None:
        raise NotFound("机构不存在", code="institution_not_found", institution_id=institution_id)
    return found


def actor(caller: Caller) -> str:
    return f"{caller.role}:{caller.sub}"


# who sees and who acts


def visible(ctx: Context, caller: Caller, complaint_id: str) -> Complaint:
    """The case, if it is the caller's: the parent's own, the institution's, or (routed) one
    a regulator supervises; else 404, as if it did not exist."""
    case = ctx.store.complaint(complaint_id)
    if case is None or not sees(caller, case):
        raise case_log.not_found(complaint_id)
    return case


def sees(caller: Caller, case: Complaint) -> bool:
    if caller.role is Role.PARENT:
        return bool(case.parent_sub) and case.parent_sub == caller.sub
    if caller.role is Role.INSTITUTION:
        return (bool(caller.institution_id) and case.institution_id == caller.institution_id
                and not case.hidden_from_institution)
    if caller.role is not Role.REGULATOR or not caller.region:
        return False
    if case.stage is Stage.FILED:
        return case.filed_by == caller.sub
    in_department = caller.department in (Department.EDUCATION, case.department)
    prefix = region_prefix(caller.region)
    return in_department and (case.region.startswith(prefix)
                              or case.jurisdiction.startswith(prefix))


def holds(caller: Caller, case: Complaint) -> bool:
    """A regulator acts on a case its department holds, at its region or one under it."""
    return (caller.role is Role.REGULATOR and bool(caller.region)
            and caller.department == case.department
            and case.region.startswith(region_prefix(caller.region)))


def destination(ctx: Context, institution: Institution) -> tuple[Department, str]:
    """Where routing sends a case about `institution`: its competent department (policy
    `complaint_routing`) at its jurisdiction."""
    policy = ctx.policy(institution.region_code)
    return (competent_department(institution, policy.complaint_routing),
            jurisdiction(institution))


def as_routed(ctx: Context, case: Complaint) -> Complaint:
    """A linked case not routed yet, as routing will make it (with its department): who may
    decide it meanwhile is the department that will hold it, as after routing."""
    department, region = destination(ctx, _institution(ctx, case.institution_id))
    return replace(case, stage=Stage.DEPARTMENT, department=department, jurisdiction=region,
                   region=region)


def held(ctx: Context, caller: Caller, complaint_id: str) -> Complaint:
    """A case the calling regulator may act on (403 if it only supervises it)."""
    caller.require(Role.REGULATOR)
    case = visible(ctx, caller, complaint_id)
    if not holds(caller, case):
        raise Forbidden("该案件不由本部门本级办理", code="not_case_holder",
                        department=str(case.department), region=case.region)
    return case


def own(ctx: Context, caller: Caller, complaint_id: str, role: Role) -> Complaint:
    caller.require(role)
    return visible(ctx, caller, complaint_id)


# lists


def listing(ctx: Context, caller: Caller, *, stage: str, limit: int, cursor: str | None
            ) -> Page[Complaint]:
    """A parent's own complaints, or an institution's cases, by stage (all when "")."""
    if caller.role is Role.PARENT:
        return ctx.store.complaints_of_parent(caller.sub, stage, limit, cursor)
    return ctx.store.complaints_of_institution(caller.own_institution(), stage, limit, cursor)


def cases(ctx: Context, caller: Caller, *, stage: Stage, sla: Sla | None,
          category: Category | None, limit: int, cursor: str | None) -> Page[Complaint]:
    """The cases held in the calling regulator's jurisdiction (its region and every region
    under it), of its department (education: of every department)."""
    caller.require(Role.REGULATOR)
    department = None if caller.department is Department.EDUCATION else str(caller.department)
    which = CaseFilter(stage=stage, region_prefix=region_prefix(caller.region), now=ctx.now(),
                       department=department, category=category and str(category), sla=sla)
    return ctx.store.cases(which, limit, cursor)
