"""Staff: the institution registers them and records consent and certificates; the
competent department records background checks."""

from __future__ import annotations

from chalice.app import Blueprint

from chalicelib.api import schemas, views
from chalicelib.api.routing import Call, Result, route
from chalicelib.service.institutions import staff as staff_service

staff = Blueprint(__name__)


@route(staff, "POST", "/v1/staff", summary="Register a staff member", tag="institutions",
       request=schemas.StaffRegistration, response=schemas.StaffView, status=201,
       creates="stf")
def register(call: Call) -> Result:
    body: schemas.StaffRegistration = call.body
    member = staff_service.register(call.ctx, call.who, call.new_id, name=body.name,
                                    role=body.role, id_number=body.id_number.upper())
    return 201, views.staff_member(member)


@route(staff, "POST", "/v1/staff/{staff_id}/consent",
       summary="Record a staff member's signed consent to the background check",
       tag="institutions", request=schemas.ConsentBody, response=schemas.StaffView)
def consent(call: Call) -> Result:
    return 200, views.staff_member(staff_service.sign_consent(
        call.ctx, call.who, call.params["staff_id"], signed_on=call.body.signed_on))


@route(staff, "POST", "/v1/staff/{staff_id}/certificate",
       summary="Record a teacher's qualification certificate", tag="institutions",
       request=schemas.CertificateBody, response=schemas.StaffView)
def certificate(call: Call) -> Result:
    return 200, views.staff_member(staff_service.certify(
        call.ctx, call.who, call.params["staff_id"],
        certificate_number=call.body.certificate_number))


@route(staff, "GET", "/v1/institutions/{institution_id}/staff",
       summary="An institution's staff (its own staff, its regulators)", tag="institutions",
       query=schemas.PageQuery, response=schemas.StaffPage)
def list_staff(call: Call) -> Result:
    page = staff_service.of_institution(call.ctx, call.who, call.params["institution_id"],
                                        limit=call.query.limit, cursor=call.query.cursor)
    return 200, schemas.StaffPage(items=[views.staff_member(m) for m in page.items],
                                  next_cursor=page.next_cursor)


@route(staff, "POST", "/v1/regulator/staff/{staff_id}/background-check",
       summary="Record a background check's result (the competent department)",
       tag="regulators", request=schemas.CheckBody, response=schemas.StaffView)
def background_check(call: Call) -> Result:
    body: schemas.CheckBody = call.body
    return 200, views.staff_member(staff_service.record_check(
        call.ctx, call.who, call.params["staff_id"], result=body.result,
        checked_on=body.checked_on))
