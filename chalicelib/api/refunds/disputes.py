"""How a lesson not yet confirmed ends: the institution withdraws it or answers its
dispute; a regulator decides the disputes escalated to its jurisdiction."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.domain.refunds.dispute import Outcome
from chalicelib.service.complaints import case_decisions
from chalicelib.service.refunds import disputed_lessons
from chalicelib.service.refunds import disputes as service

disputes = Blueprint(__name__)


@route(disputes, "POST", "/v1/consumptions/{consumption_id}/withdraw",
       summary="Withdraw a lesson not yet confirmed (it consumed nothing)", tag="disputes",
       request=schemas.Withdrawal, response=schemas.ConsumptionView)
def withdraw(call: Call) -> Result:
    return 200, views.consumption(service.withdraw(
        call.ctx, call.who, call.params["consumption_id"], call.body.reason))


@route(disputes, "POST", "/v1/consumptions/{consumption_id}/uphold",
       summary="Stand by a disputed lesson, with a note for the parent", tag="disputes",
       request=schemas.Answer, response=schemas.ConsumptionView)
def uphold(call: Call) -> Result:
    return 200, views.consumption(service.uphold(
        call.ctx, call.who, call.params["consumption_id"], call.body.note))


@route(disputes, "GET", "/v1/regulator/consumptions/{consumption_id}",
       summary="One lesson, as a regulator supervising it (or holding its case) reads it",
       tag="disputes", response=schemas.ConsumptionView)
def regulated_lesson(call: Call) -> Result:
    return 200, views.consumption(disputed_lessons.regulated(call.ctx, call.who,
                                                             call.params["consumption_id"]))


@route(disputes, "GET", "/v1/regulator/disputes",
       summary="Disputes escalated to the caller's jurisdiction", tag="disputes",
       query=schemas.PageQuery, response=schemas.ConsumptionPage)
def escalated(call: Call) -> Result:
    page = disputed_lessons.escalated(call.ctx, call.who, limit=call.query.limit,
                                      cursor=call.query.cursor)
    return 200, schemas.ConsumptionPage(items=[views.consumption(c) for c in page.items],
                                        next_cursor=page.next_cursor)


@route(disputes, "POST", "/v1/regulator/consumptions/{consumption_id}/decide",
       summary="End an escalated dispute: release or return the lesson", tag="disputes",
       request=schemas.DisputeDecision, response=schemas.ConsumptionView)
def decide(call: Call) -> Result:
    body: schemas.DisputeDecision = call.body
    return 200, views.consumption(case_decisions.decide_dispute(
        call.ctx, call.who, call.params["consumption_id"], Outcome(body.outcome), body.reason))
