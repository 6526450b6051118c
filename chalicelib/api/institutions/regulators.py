"""Regulators: whitelist decisions on institutions and courses in their jurisdiction, and
the interventions (freeze, liquidation)."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.service.institutions import (
    blacklisting,
    courses,
    freezes,
    institution_reviews,
    liquidations,
)

regulators = Blueprint(__name__)


def _decide_institution(call: Call, approve: bool) -> Result:
    institution = institution_reviews.decide(
        call.ctx, call.who, call.params["institution_id"], approve=approve,
        reason=call.body.reason,
    )
    return 200, views.institution(institution)


def _decide_course(call: Call, approve: bool) -> Result:
    course = courses.decide(
        call.ctx, call.who, call.params["course_id"], approve=approve, reason=call.body.reason
    )
    return 200, views.course(course)


@route(regulators, "POST", "/v1/regulator/institutions/{institution_id}/approve",
       summary="Whitelist an institution", tag="regulators", request=schemas.Decision,
       response=schemas.InstitutionView)
def approve_institution(call: Call) -> Result:
    return _decide_institution(call, approve=True)


@route(regulators, "POST", "/v1/regulator/institutions/{institution_id}/reject",
       summary="Reject an institution's application", tag="regulators",
       request=schemas.Decision, response=schemas.InstitutionView)
def reject_institution(call: Call) -> Result:
    return _decide_institution(call, approve=False)


@route(regulators, "POST", "/v1/regulator/institutions/{institution_id}/request-changes",
       summary="Send an application back with what to change", tag="regulators",
       request=schemas.ReasonRequired, response=schemas.InstitutionView)
def request_changes(call: Call) -> Result:
    return 200, views.institution(institution_reviews.request_changes(
        call.ctx, call.who, call.params["institution_id"], reason=call.body.reason))


@route(regulators, "POST", "/v1/regulator/institutions/{institution_id}/blacklist",
       summary="Name an institution on the blacklist, with the reason (frozen with it)",
       tag="regulators",
       request=schemas.ReasonRequired, response=schemas.InstitutionView)
def blacklist(call: Call) -> Result:
    return 200, views.institution(blacklisting.blacklist(
        call.ctx, call.who, call.params["institution_id"], reason=call.body.reason))


@route(regulators, "POST", "/v1/regulator/institutions/{institution_id}/unblacklist",
       summary="Lift a blacklisting (its office, or its department above it): back to review",
       tag="regulators", request=schemas.ReasonRequired, response=schemas.InstitutionView)
def unblacklist(call: Call) -> Result:
    return 200, views.institution(blacklisting.lift(
        call.ctx, call.who, call.params["institution_id"], reason=call.body.reason))


@route(regulators, "POST", "/v1/regulator/institutions/{institution_id}/freeze",
       summary="Freeze an institution: no sales, lessons or releases; refunds still flow",
       tag="regulators", request=schemas.ReasonRequired, response=schemas.InstitutionView)
def freeze_institution(call: Call) -> Result:
    frozen = freezes.freeze(call.ctx, call.who, call.params["institution_id"],
                            reason=call.body.reason)
    return 200, views.institution(frozen)


@route(regulators, "POST", "/v1/regulator/institutions/{institution_id}/unfreeze",
       summary="Lift an institution's freeze (its office, or its department above it)",
       tag="regulators",
       request=schemas.ReasonRequired, response=schemas.InstitutionView)
def unfreeze_institution(call: Call) -> Result:
    unfrozen = freezes.unfreeze(call.ctx, call.who, call.params["institution_id"],
                                reason=call.body.reason)
    return 200, views.institution(unfrozen)


@route(regulators, "POST", "/v1/regulator/institutions/{institution_id}/liquidate",
       summary="Liquidate an institution: frozen for good, every order's unconsumed money "
       "refunded", tag="regulators", request=schemas.ReasonRequired,
       response=schemas.LiquidationView)
def liquidate_institution(call: Call) -> Result:
    started = liquidations.liquidate(call.ctx, call.who, call.params["institution_id"],
                                     reason=call.body.reason)
    return 200, views.liquidation(*started)


@route(regulators, "GET", "/v1/regulator/institutions/{institution_id}/liquidation",
       summary="A liquidation's progress", tag="regulators",
       response=schemas.LiquidationView)
def liquidation_progress(call: Call) -> Result:
    found = liquidations.progress(call.ctx, call.who, call.params["institution_id"])
    return 200, views.liquidation(*found)


@route(regulators, "GET", "/v1/regulator/courses", summary="Courses awaiting review",
       tag="regulators", query=schemas.PageQuery, response=schemas.CoursePage)
def pending_courses(call: Call) -> Result:
    page = courses.pending_review(
        call.ctx, call.who, limit=call.query.limit, cursor=call.query.cursor
    )
    return 200, schemas.CoursePage(
        items=[views.course(c) for c in page.items], next_cursor=page.next_cursor
    )


@route(regulators, "POST", "/v1/regulator/courses/{course_id}/approve",
       summary="Approve a course", tag="regulators", request=schemas.Decision,
       response=schemas.CourseView)
def approve_course(call: Call) -> Result:
    return _decide_course(call, approve=True)


@route(regulators, "POST", "/v1/regulator/courses/{course_id}/reject",
       summary="Reject a course", tag="regulators", request=schemas.Decision,
       response=schemas.CourseView)
def reject_course(call: Call) -> Result:
    return _decide_course(call, approve=False)
