"""Parents: link children, buy courses, confirm or dispute each lesson."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.service.escrow import consumptions, orders, students
from chalicelib.service.shop import shop_reviews

parents = Blueprint(__name__)


@route(parents, "POST", "/v1/students", summary="Link a child", tag="parents",
       request=schemas.StudentLink, response=schemas.StudentView, status=201, creates="stu")
def link_student(call: Call) -> Result:
    student = students.link(call.ctx, call.who, call.new_id, **call.body.model_dump())
    return 201, views.student(student)


@route(parents, "GET", "/v1/students", summary="The caller's children", tag="parents",
       query=schemas.PageQuery, response=schemas.StudentPage)
def list_students(call: Call) -> Result:
    page = students.of_parent(call.ctx, call.who, limit=call.query.limit, cursor=call.query.cursor)
    return 200, schemas.StudentPage(
        items=[views.student(s) for s in page.items], next_cursor=page.next_cursor
    )


@route(parents, "POST", "/v1/orders", summary="Buy lessons of an approved course",
       tag="parents", request=schemas.OrderRequest, response=schemas.CreatedOrder, status=201,
       creates="ord")
def create_order(call: Call) -> Result:
    order, institution = orders.create(call.ctx, call.who, call.new_id, **call.body.model_dump())
    return 201, views.created_order(order, institution)


@route(parents, "POST", "/v1/orders/{order_id}/review",
       summary="Review an order once one of its lessons was confirmed (once)", tag="parents",
       request=schemas.ReviewBody, response=schemas.ReviewView, status=201)
def review_order(call: Call) -> Result:
    body: schemas.ReviewBody = call.body
    written, fresh = shop_reviews.write_review(call.ctx, call.who, call.params["order_id"],
                                               body.stars, body.text)
    return (201 if fresh else 200), views.review(written)


@route(parents, "POST", "/v1/consumptions/{consumption_id}/confirm",
       summary="Confirm a lesson was taught", tag="parents", response=schemas.ConsumptionView)
def confirm(call: Call) -> Result:
    return 200, views.consumption(
        consumptions.confirm(call.ctx, call.who, call.params["consumption_id"])
    )


@route(parents, "POST", "/v1/consumptions/{consumption_id}/dispute",
       summary="Dispute a recorded lesson", tag="parents", request=schemas.Dispute,
       response=schemas.ConsumptionView)
def dispute(call: Call) -> Result:
    return 200, views.consumption(
        consumptions.dispute(call.ctx, call.who, call.params["consumption_id"], call.body.reason)
    )
