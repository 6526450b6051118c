"""Refund requests: parents ask, institutions decide, both list theirs."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.service import refunds as service

refunds = Blueprint(__name__)


@route(refunds, "POST", "/v1/orders/{order_id}/refund-requests",
       summary="Ask for an order's unconsumed money back", tag="refunds",
       request=schemas.RefundAsk, response=schemas.RefundView, status=201, creates="rfd")
def ask(call: Call) -> Result:
    found = service.request(call.ctx, call.who, call.new_id, call.params["order_id"],
                            call.body.reason)
    return 201, views.refund(found)


@route(refunds, "GET", "/v1/refund-requests/{refund_id}", summary="One refund request",
       tag="refunds", response=schemas.RefundView)
def get_refund(call: Call) -> Result:
    return 200, views.refund(service.visible(call.ctx, call.who, call.params["refund_id"]))


@route(refunds, "GET", "/v1/refund-requests",
       summary="Refund requests (parents: their own; institutions: their queue)",
       tag="refunds", query=schemas.RefundQuery, response=schemas.RefundPage)
def list_refunds(call: Call) -> Result:
    q = call.query
    page = service.listing(call.ctx, call.who, status=q.status, limit=q.limit, cursor=q.cursor)
    return 200, schemas.RefundPage(items=[views.refund(r) for r in page.items],
                                   next_cursor=page.next_cursor)


@route(refunds, "POST", "/v1/refund-requests/{refund_id}/approve",
       summary="Approve a refund request", tag="refunds", request=schemas.RefundDecision,
       response=schemas.RefundView)
def approve(call: Call) -> Result:
    return 200, views.refund(service.decide(call.ctx, call.who, call.params["refund_id"],
                                            approve=True, reason=call.body.reason))


@route(refunds, "POST", "/v1/refund-requests/{refund_id}/reject",
       summary="Reject a refund request, with a reason", tag="refunds",
       request=schemas.RefundDecision, response=schemas.RefundView)
def reject(call: Call) -> Result:
    return 200, views.refund(service.decide(call.ctx, call.who, call.params["refund_id"],
                                            approve=False, reason=call.body.reason))
