"""Refund requests: parents ask (and escalate a rejection), institutions decide, regulators
order or dismiss what is escalated; each lists theirs."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.domain.calendar import business_date
from chalicelib.domain.refunds.refund import RefundRequest, RefundStatus
from chalicelib.service.complaints import case_decisions
from chalicelib.service.ports import Page
from chalicelib.service.refunds import refund_escalations as escalations
from chalicelib.service.refunds import refund_routes
from chalicelib.service.refunds import refunds as service

refunds = Blueprint(__name__)


def _view(call: Call, found: RefundRequest) -> schemas.RefundView:
    return views.refund(found, business_date(call.ctx.now()))


def _page(call: Call, page: Page[RefundRequest]) -> schemas.RefundPage:
    return schemas.RefundPage(items=[_view(call, r) for r in page.items],
                              next_cursor=page.next_cursor)


@route(refunds, "POST", "/v1/orders/{order_id}/refund-requests",
       summary="Ask for an order's unconsumed money back", tag="refunds",
       request=schemas.RefundAsk, response=schemas.RefundView, status=201, creates="rfd")
def ask(call: Call) -> Result:
    found = service.request(call.ctx, call.who, call.new_id, call.params["order_id"],
                            call.body.reason)
    return 201, _view(call, found)


@route(refunds, "GET", "/v1/refund-requests/{refund_id}", summary="One refund request",
       tag="refunds", response=schemas.RefundView)
def get_refund(call: Call) -> Result:
    return 200, _view(call, service.visible(call.ctx, call.who, call.params["refund_id"]))


@route(refunds, "GET", "/v1/refund-requests",
       summary="Refund requests (parents: their own; institutions: their queue)",
       tag="refunds", query=schemas.RefundQuery, response=schemas.RefundPage)
def list_refunds(call: Call) -> Result:
    q = call.query
    return 200, _page(call, service.listing(call.ctx, call.who, status=q.status, limit=q.limit,
                                            cursor=q.cursor))


@route(refunds, "POST", "/v1/refund-requests/{refund_id}/approve",
       summary="Approve a refund request", tag="refunds", request=schemas.RefundDecision,
       response=schemas.RefundView)
def approve(call: Call) -> Result:
    return 200, _view(call, service.decide(call.ctx, call.who, call.params["refund_id"],
                                           approve=True, reason=call.body.reason))


@route(refunds, "POST", "/v1/refund-requests/{refund_id}/reject",
       summary="Reject a refund request, with a reason", tag="refunds",
       request=schemas.RefundDecision, response=schemas.RefundView)
def reject(call: Call) -> Result:
    return 200, _view(call, service.decide(call.ctx, call.who, call.params["refund_id"],
                                           approve=False, reason=call.body.reason))


@route(refunds, "POST", "/v1/refund-requests/{refund_id}/escalate",
       summary="Take a rejected refund request to the regulator", tag="refunds",
       request=schemas.RefundEscalation, response=schemas.RefundView)
def escalate(call: Call) -> Result:
    return 200, _view(call, escalations.escalate(call.ctx, call.who, call.params["refund_id"],
                                                 call.body.reason))


@route(refunds, "POST", "/v1/refund-requests/{refund_id}/payout-account",
       summary="Name another account for a refund its original route could not take",
       tag="refunds", request=schemas.PayoutAccount, response=schemas.RefundView)
def payout_account(call: Call) -> Result:
    return 200, _view(call, refund_routes.name_payout_account(
        call.ctx, call.who, call.params["refund_id"], call.body.account))


@route(refunds, "GET", "/v1/regulator/refund-requests",
       summary="Escalated refund requests, or payouts in flight, of the caller's jurisdiction",
       tag="refunds", query=schemas.RegulatorRefundQuery, response=schemas.RefundPage)
def regulated_refunds(call: Call) -> Result:
    q = call.query
    return 200, _page(call, escalations.listing(call.ctx, call.who, status=RefundStatus(q.status),
                                                limit=q.limit, cursor=q.cursor))


@route(refunds, "POST", "/v1/regulator/refund-requests/{refund_id}/order",
       summary="Order an escalated refund request refunded", tag="refunds",
       request=schemas.RegulatorRefundDecision, response=schemas.RefundView)
def order_refund(call: Call) -> Result:
    return 200, _view(call, case_decisions.order_refund(
        call.ctx, call.who, call.params["refund_id"], call.body.reason))


@route(refunds, "POST", "/v1/regulator/refund-requests/{refund_id}/dismiss",
       summary="Dismiss an escalated refund request (the rejection stands)", tag="refunds",
       request=schemas.RegulatorRefundDecision, response=schemas.RefundView)
def dismiss(call: Call) -> Result:
    return 200, _view(call, case_decisions.dismiss(
        call.ctx, call.who, call.params["refund_id"], call.body.reason))
