"""Complaints: parents file and follow them, institutions answer them, the 12345 hotline
takes calls, and the competent department handles, transfers and resolves its cases."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.domain.complaints.complaint import Category, Complaint, Decision, Sla, Stage, Step
from chalicelib.domain.institutions.catalog import Department
from chalicelib.service.caller import Role
from chalicelib.service.complaints import complaint_steps as steps
from chalicelib.service.complaints import complaints as service
from chalicelib.service.ports import Page

complaints = Blueprint(__name__)


def _one(call: Call, case: Complaint, timeline: list[Step] | None = None) -> Result:
    """A case as its caller may see it (the holding department: the caller unmasked; the
    institution: people as roles)."""
    unmasked = call.who.role is Role.REGULATOR and service.holds(call.who, case)
    return 200, views.complaint(case, call.ctx.now(), unmasked=unmasked, timeline=timeline,
                                for_institution=call.who.role is Role.INSTITUTION)


def _page(call: Call, page: Page[Complaint]) -> schemas.ComplaintPage:
    now, institution = call.ctx.now(), call.who.role is Role.INSTITUTION
    return schemas.ComplaintPage(
        items=[views.complaint(c, now, for_institution=institution) for c in page.items],
        next_cursor=page.next_cursor)


def _filing(body: schemas.ComplaintFiling) -> service.Filing:
    call_details = ((body.caller_name, body.caller_phone)
                    if isinstance(body, schemas.HotlineCall) else ("", ""))
    return service.Filing(
        institution_id=body.institution_id, category=Category(body.category), text=body.text,
        order_id=body.order_id or "", attachments=tuple(body.attachments),
        caller_name=call_details[0], caller_phone=call_details[1],
    )


@route(complaints, "POST", "/v1/complaints", summary="File a complaint about an institution",
       tag="complaints", request=schemas.ComplaintFiling, response=schemas.ComplaintView,
       status=201, creates="cmp")
def file_complaint(call: Call) -> Result:
    case = service.file(call.ctx, call.who, call.new_id, _filing(call.body))
    return 201, views.complaint(case, call.ctx.now())


@route(complaints, "GET", "/v1/complaints",
       summary="The caller's complaints (parents) or cases (institutions), by stage",
       tag="complaints", query=schemas.ComplaintQuery, response=schemas.ComplaintPage)
def list_complaints(call: Call) -> Result:
    q = call.query
    return 200, _page(call, service.listing(call.ctx, call.who, stage=q.stage, limit=q.limit,
                                            cursor=q.cursor))


@route(complaints, "GET", "/v1/complaints/{complaint_id}",
       summary="One complaint with its timeline", tag="complaints",
       response=schemas.ComplaintView)
def get_complaint(call: Call) -> Result:
    case = service.visible(call.ctx, call.who, call.params["complaint_id"])
    return _one(call, case, call.ctx.store.timeline(case.complaint_id))


@route(complaints, "POST", "/v1/complaints/{complaint_id}/answer",
       summary="Answer a complaint (the institution)", tag="complaints",
       request=schemas.AnswerBody, response=schemas.ComplaintView)
def answer(call: Call) -> Result:
    return _one(call, steps.answer(call.ctx, call.who, call.params["complaint_id"],
                                   call.body.text))


@route(complaints, "POST", "/v1/complaints/{complaint_id}/accept",
       summary="Accept the institution's answer (the parent)", tag="complaints",
       response=schemas.ComplaintView)
def accept(call: Call) -> Result:
    return _one(call, steps.accept(call.ctx, call.who, call.params["complaint_id"]))


@route(complaints, "POST", "/v1/complaints/{complaint_id}/reject",
       summary="Reject the institution's answer: the department takes the case",
       tag="complaints", request=schemas.RejectBody, response=schemas.ComplaintView)
def reject(call: Call) -> Result:
    return _one(call, steps.reject(call.ctx, call.who, call.params["complaint_id"],
                                   call.body.reason))


@route(complaints, "POST", "/v1/complaints/{complaint_id}/rating",
       summary="Rate the outcome of a resolved complaint, once", tag="complaints",
       request=schemas.RatingBody, response=schemas.ComplaintView)
def rate(call: Call) -> Result:
    body: schemas.RatingBody = call.body
    return _one(call, steps.rate(call.ctx, call.who, call.params["complaint_id"], body.stars,
                                 body.comment))


@route(complaints, "POST", "/v1/regulator/complaints",
       summary="Take a 12345 hotline call about an institution", tag="complaints",
       request=schemas.HotlineCall, response=schemas.ComplaintView, status=201, creates="cmp")
def take_call(call: Call) -> Result:
    case = service.take_call(call.ctx, call.who, call.new_id, _filing(call.body))
    return 201, views.complaint(case, call.ctx.now())


@route(complaints, "GET", "/v1/regulator/complaints",
       summary="Cases held in the caller's jurisdiction and department, by stage, SLA state "
       "and category", tag="complaints", query=schemas.CaseQuery,
       response=schemas.ComplaintPage)
def list_cases(call: Call) -> Result:
    q: schemas.CaseQuery = call.query
    page = service.cases(call.ctx, call.who, stage=Stage(q.stage),
                         sla=Sla(q.sla) if q.sla else None,
                         category=Category(q.category) if q.category else None,
                         limit=q.limit, cursor=q.cursor)
    return 200, _page(call, page)


@route(complaints, "POST", "/v1/regulator/complaints/{complaint_id}/transfer",
       summary="Transfer a case to another department or region, with a reason",
       tag="complaints", request=schemas.TransferBody, response=schemas.ComplaintView)
def transfer(call: Call) -> Result:
    body: schemas.TransferBody = call.body
    return _one(call, steps.transfer(
        call.ctx, call.who, call.params["complaint_id"],
        department=Department(body.department) if body.department else None,
        region=body.region_code, reason=body.reason))


@route(complaints, "POST", "/v1/regulator/complaints/{complaint_id}/notes",
       summary="Add a note to a case's timeline", tag="complaints",
       request=schemas.NoteBody, response=schemas.ComplaintView)
def add_note(call: Call) -> Result:
    return _one(call, steps.note(call.ctx, call.who, call.params["complaint_id"],
                                 call.body.text))


@route(complaints, "POST", "/v1/regulator/complaints/{complaint_id}/resolve",
       summary="Resolve a case with its outcome (a linked case's decision moves the money)",
       tag="complaints", request=schemas.ResolveBody, response=schemas.ComplaintView)
def resolve(call: Call) -> Result:
    body: schemas.ResolveBody = call.body
    return _one(call, steps.resolve(
        call.ctx, call.who, call.params["complaint_id"], outcome=body.outcome,
        decision=Decision(body.decision) if body.decision else None))
