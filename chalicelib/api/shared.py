"""Reads that every role has, each filtered to what the caller owns or supervises."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.service.escrow import consumptions, orders

shared = Blueprint(__name__)


@route(shared, "GET", "/v1/orders", summary="Orders the caller may see", tag="orders",
       query=schemas.OrderQuery, response=schemas.OrderPage)
def list_orders(call: Call) -> Result:
    q = call.query
    page = orders.listing(
        call.ctx, call.who, institution_id=q.institution_id, limit=q.limit, cursor=q.cursor
    )
    return 200, schemas.OrderPage(
        items=[views.order(o) for o in page.items], next_cursor=page.next_cursor
    )


@route(shared, "GET", "/v1/orders/{order_id}", summary="One order with its money and lessons",
       tag="orders", response=schemas.OrderView)
def get_order(call: Call) -> Result:
    return 200, views.order(orders.visible(call.ctx, call.who, call.params["order_id"]))


@route(shared, "GET", "/v1/consumptions", summary="Lessons recorded (parents: their own)",
       tag="orders", query=schemas.ConsumptionQuery, response=schemas.ConsumptionPage)
def list_consumptions(call: Call) -> Result:
    q = call.query
    page = consumptions.listing(call.ctx, call.who, status=q.status, limit=q.limit, cursor=q.cursor)
    return 200, schemas.ConsumptionPage(
        items=[views.consumption(c) for c in page.items], next_cursor=page.next_cursor
    )
