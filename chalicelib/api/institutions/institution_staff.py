"""Institution staff: apply to join, submit courses, record lessons taught."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.domain.institutions.catalog import Custodian, TimetableSlot
from chalicelib.service.escrow import lessons
from chalicelib.service.institutions import (
    courses,
    institution_profile,
    institution_reviews,
    institutions,
)
from chalicelib.service.shop import shop_reviews

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


@route(institution_staff, "POST", "/v1/institutions/{institution_id}/profile",
       summary="Edit the institution's profile (a new custodian account is reviewed again)",
       tag="institutions", request=schemas.ProfileEdit, response=schemas.InstitutionView)
def edit_profile(call: Call) -> Result:
    body: schemas.ProfileEdit = call.body
    edited = institution_profile.edit(
        call.ctx, call.who, call.params["institution_id"], name=body.name,
        address=body.address, permit_number=body.permit_number,
        custodian=Custodian(**body.custodian.model_dump()) if body.custodian else None,
    )
    return 200, views.institution(edited)


@route(institution_staff, "GET", "/v1/institutions/{institution_id}/history",
       summary="An institution's status history (its staff, its regulators)",
       tag="institutions", query=schemas.PageQuery, response=schemas.StatusChangePage)
def status_history(call: Call) -> Result:
    page = institution_reviews.history(call.ctx, call.who, call.params["institution_id"],
                                       limit=call.query.limit, cursor=call.query.cursor)
    return 200, schemas.StatusChangePage(
        items=[views.status_change(c) for c in page.items],
        next_cursor=page.next_cursor)


@route(institution_staff, "POST", "/v1/courses", summary="Submit a course for review",
       tag="institutions", request=schemas.CourseSubmission, response=schemas.CourseView,
       status=201, creates="crs")
def submit_course(call: Call) -> Result:
    body: schemas.CourseSubmission = call.body
    course = courses.submit(
        call.ctx, call.who, call.new_id, **body.model_dump(exclude={"timetable"}),
        timetable=[TimetableSlot(s.weekday, s.starts_at) for s in body.timetable],
    )
    return 201, views.course(course)


@route(institution_staff, "POST", "/v1/courses/{course_id}/off-sale",
       summary="Take an approved course off sale (lessons bought are still taught)",
       tag="institutions", response=schemas.CourseView)
def take_off_sale(call: Call) -> Result:
    return 200, views.course(courses.put_on_sale(call.ctx, call.who, call.params["course_id"],
                                                 on_sale=False))


@route(institution_staff, "POST", "/v1/courses/{course_id}/on-sale",
       summary="Put a course taken off sale back on sale", tag="institutions",
       response=schemas.CourseView)
def put_back_on_sale(call: Call) -> Result:
    return 200, views.course(courses.put_on_sale(call.ctx, call.who, call.params["course_id"],
                                                 on_sale=True))


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
