"""Institution staff: apply to join, submit courses, record lessons taught."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.domain.catalog import Custodian
from chalicelib.service import courses, institutions, lessons, shop_reviews

institution_staff = Blueprint(__name__)


@route(institution_staff, "POST", "/v1/institutions", summary="Apply to join the platform",
       tag="institutions", request=schemas.InstitutionApplication,
       response=schemas.InstitutionView, status=201, creates="ins")
def apply(call: Call) -> Result:
    body: schemas.InstitutionApplication = call.body
    institution = institutions.apply(
        call.ctx, call.who, call.new_id,
        **body.model_dump(exclude={"custodian"}),
        custodian=Custodian(**body.custodian.model_dump()),
    )
    return 201, views.institution(institution)


@route(institution_staff, "POST", "/v1/courses", summary="Submit a course for review",
       tag="institutions", request=schemas.CourseSubmission, response=schemas.CourseView,
       status=201, creates="crs")
def submit_course(call: Call) -> Result:
    course = courses.submit(call.ctx, call.who, call.new_id, **call.body.model_dump())
    return 201, views.course(course)


@route(institution_staff, "POST", "/v1/lessons", summary="Record a lesson taught (消课)",
       tag="institutions", request=schemas.LessonRecord, response=schemas.RecordedLesson,
       status=201, creates="les")
def record_lesson(call: Call) -> Result:
    body: schemas.LessonRecord = call.body
    recorded = lessons.record(
        call.ctx, call.who, call.new_id, course_id=body.course_id, started_at=body.started_at,
        ended_at=body.ended_at, teacher_id=body.teacher_id, order_ids=body.order_ids,
    )
    lesson = recorded.lesson
    return 201, schemas.RecordedLesson(
        lesson_id=lesson.lesson_id, course_id=lesson.course_id, started_at=lesson.started_at,
        ended_at=lesson.ended_at,
        consumptions=[views.consumption(c) for c in recorded.consumptions],
        refused_orders=[
            schemas.RefusedOrder(order_id=order_id, code=refusal.code)
            for order_id, refusal in recorded.refused.items()
        ],
    )


@route(institution_staff, "POST", "/v1/orders/{order_id}/review/reply",
       summary="Reply to a review of one of the institution's orders (once)",
       tag="institutions", request=schemas.ReplyBody, response=schemas.ReviewView)
def reply_to_review(call: Call) -> Result:
    return 200, views.review(shop_reviews.reply(call.ctx, call.who, call.params["order_id"],
                                                call.body.text))
