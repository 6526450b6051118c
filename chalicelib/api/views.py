"""Domain objects -> response bodies."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from chalicelib.api import schemas
from chalicelib.domain.catalog import Course, Institution, StatusChange, Student
from chalicelib.domain.complaint import Complaint, Step, mask_name, mask_phone
from chalicelib.domain.consumption import Consumption
from chalicelib.domain.liquidation import Liquidation, LiquidationStatus, Progress
from chalicelib.domain.notice import Notice
from chalicelib.domain.order import Order, payment_reference
from chalicelib.domain.refund import RefundRequest
from chalicelib.domain.review import Rating, Review
from chalicelib.domain.shop import Announcement, Consultation
from chalicelib.domain.staff import StaffMember


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def institution(ins: Institution) -> schemas.InstitutionView:
    return schemas.InstitutionView.model_validate(
        {**_fields(ins), "custodian_bank": ins.custodian.bank, "frozen": ins.frozen}
    )


def status_change(change: StatusChange) -> schemas.StatusChangeView:
    return schemas.StatusChangeView.model_validate(_fields(change))


def liquidation(liq: Liquidation, progress: Progress) -> schemas.LiquidationView:
    listing = liq.status is LiquidationStatus.LISTING
    return schemas.LiquidationView.model_validate({
        **_fields(liq), **_fields(progress), "orders_listed": not listing,
        "orders_total": liq.listed if listing else liq.orders_total,
        "outstanding": dataclasses.asdict(liq.outstanding) if liq.outstanding else None,
    })


def course(crs: Course) -> schemas.CourseView:
    return schemas.CourseView.model_validate(
        {**_fields(crs), "timetable": [_fields(slot) for slot in crs.timetable]})


def staff_member(member: StaffMember) -> schemas.StaffView:
    return schemas.StaffView.model_validate(_fields(member))


def student(stu: Student) -> schemas.StudentView:
    return schemas.StudentView.model_validate(_fields(stu))


def order(ord_: Order) -> schemas.OrderView:
    return schemas.OrderView.model_validate(_fields(ord_))


def created_order(ord_: Order, ins: Institution) -> schemas.CreatedOrder:
    """Where to pay: the accounts the order was made with, never the institution's current
    ones (a replay after the institution changed its accounts shows the same place)."""
    payment = schemas.PaymentInstructions(
        reference=payment_reference(ord_.order_id),
        bank=ord_.custodian_bank or ins.custodian.bank,
        account=ord_.supervised_bank_account,
        expires_at=ord_.expires_at,
    )
    return schemas.CreatedOrder.model_validate({**_fields(ord_), "payment": payment})


def consumption(con: Consumption) -> schemas.ConsumptionView:
    return schemas.ConsumptionView.model_validate(_fields(con))


def refund(rfd: RefundRequest, today: date) -> schemas.RefundView:
    """`today`: the business date, against which the payout deadline is judged."""
    return schemas.RefundView.model_validate(
        {**_fields(rfd), "payout_overdue": rfd.payout_overdue(today)})


def complaint(case: Complaint, now: datetime, *, unmasked: bool = False,
              timeline: list[Step] | None = None) -> schemas.ComplaintView:
    """`unmasked`: the hotline caller's name and phone shown whole (to the department
    holding the case, reading it on its own); everyone else sees them masked."""
    name, phone = case.caller_name, case.caller_phone
    if not unmasked:
        name, phone = mask_name(name), mask_phone(phone)
    return schemas.ComplaintView.model_validate({
        **_fields(case), "caller_name": name, "caller_phone": phone, "holder": case.holder,
        "sla": case.sla(now),
        "timeline": None if timeline is None else [_fields(step) for step in timeline],
    })


def notice(ntc: Notice) -> schemas.NoticeView:
    return schemas.NoticeView.model_validate({**_fields(ntc), "read": ntc.read_at is not None})


def review(rev: Review) -> schemas.ReviewView:
    return schemas.ReviewView.model_validate({**_fields(rev), "review_id": rev.review_id})


def rating(total: Rating) -> schemas.RatingView:
    return schemas.RatingView(average=total.average, count=total.count)


def announcement(ann: Announcement) -> schemas.AnnouncementView:
    return schemas.AnnouncementView.model_validate(_fields(ann))


def consultation(csl: Consultation) -> schemas.ConsultationView:
    return schemas.ConsultationView.model_validate(_fields(csl))
