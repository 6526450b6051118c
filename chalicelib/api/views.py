"""Domain objects -> response bodies."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from chalicelib.api import schemas
from chalicelib.domain.complaints.complaint import Complaint, Source, Step, mask_name, mask_phone
from chalicelib.domain.escrow.consumption import Consumption
from chalicelib.domain.escrow.order import Order, payment_reference
from chalicelib.domain.institutions.catalog import Course, Institution, StatusChange, Student
from chalicelib.domain.institutions.liquidation import Liquidation, LiquidationStatus, Progress
from chalicelib.domain.institutions.measures import Office
from chalicelib.domain.institutions.staff import StaffMember
from chalicelib.domain.messages.notice import Notice
from chalicelib.domain.refunds.refund import RefundRequest
from chalicelib.domain.shop.review import Rating, Review
from chalicelib.domain.shop.shop import Announcement, Consultation
from chalicelib.domain.supervision.reconciliation import Reconciliation


def fields(obj: Any) -> dict[str, Any]:
    """A dataclass's fields by name, what a view is validated from."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def institution(ins: Institution) -> schemas.InstitutionView:
    return schemas.InstitutionView.model_validate({
        **fields(ins), "custodian_bank": ins.custodian.bank, "frozen": ins.frozen,
        "freeze_office": _office(ins.freeze_office),
        "blacklist_office": _office(ins.blacklist_office),
    })


def _office(office: Office | None) -> dict[str, str] | None:
    return fields(office) if office is not None else None


def status_change(change: StatusChange) -> schemas.StatusChangeView:
    return schemas.StatusChangeView.model_validate(fields(change))


def liquidation(liq: Liquidation, progress: Progress) -> schemas.LiquidationView:
    listing = liq.status is LiquidationStatus.LISTING
    return schemas.LiquidationView.model_validate({
        **fields(liq), **fields(progress), "orders_listed": not listing,
        "orders_total": liq.listed if listing else liq.orders_total,
        "outstanding": dataclasses.asdict(liq.outstanding) if liq.outstanding else None,
    })


def course(crs: Course) -> schemas.CourseView:
    return schemas.CourseView.model_validate(
        {**fields(crs), "timetable": [fields(slot) for slot in crs.timetable]})


def staff_member(member: StaffMember) -> schemas.StaffView:
    return schemas.StaffView.model_validate(fields(member))


def student(stu: Student) -> schemas.StudentView:
    return schemas.StudentView.model_validate(fields(stu))


def order(ord_: Order) -> schemas.OrderView:
    return schemas.OrderView.model_validate(fields(ord_))


def created_order(ord_: Order, ins: Institution) -> schemas.CreatedOrder:
    """Where to pay: the accounts the order was made with, never the institution's current
    ones (a replay after the institution changed its accounts shows the same place)."""
    payment = schemas.PaymentInstructions(
        reference=payment_reference(ord_.order_id),
        bank=ord_.custodian_bank or ins.custodian.bank,
        account=ord_.supervised_bank_account,
        expires_at=ord_.expires_at,
    )
    return schemas.CreatedOrder.model_validate({**fields(ord_), "payment": payment})


def consumption(con: Consumption) -> schemas.ConsumptionView:
    return schemas.ConsumptionView.model_validate(fields(con))


def refund(rfd: RefundRequest, today: date) -> schemas.RefundView:
    """`today`: the business date, against which the payout deadline is judged. Accounts
    the parent named are shown masked: the institution reads its refunds too."""
    changes = [{**fields(change), "account_masked": mask_account(change.account)}
               for change in rfd.payout_account_changes]
    return schemas.RefundView.model_validate(
        {**fields(rfd), "payout_overdue": rfd.payout_overdue(today),
         "payout_account_changes": changes})


def mask_account(account: str) -> str:
    """The last four characters of an account number, as bank statements print it."""
    return "*" * max(len(account) - 4, 0) + account[-4:]


def complaint(case: Complaint, now: datetime, *, unmasked: bool = False,
              for_institution: bool = False, timeline: list[Step] | None = None
              ) -> schemas.ComplaintView:
    """`unmasked`: the hotline caller's name and phone shown whole (to the department
    holding the case, reading it on its own); everyone else sees them masked.
    `for_institution`: as the institution complained about may see it (`institution_view`)."""
    name, phone = case.caller_name, case.caller_phone
    if not unmasked:
        name, phone = mask_name(name), mask_phone(phone)
    shown = {
        **fields(case), "caller_name": name, "caller_phone": phone, "holder": case.holder,
        "sla": case.sla(now),
        "timeline": None if timeline is None else [fields(step) for step in timeline],
    }
    return schemas.ComplaintView.model_validate(
        institution_view(case, shown) if for_institution else shown)


def institution_view(case: Complaint, view: dict[str, Any]) -> dict[str, Any]:
    """An institution never learns who is behind a complaint: the holder and the timeline's
    actors are roles (`party_role`), never a parent's (or a regulator's) account, and a
    12345 hotline case names neither the caller nor an order (it would name the family)."""
    shown = {**view, "holder": party_role(case.holder)}
    if case.source is Source.HOTLINE:
        shown.update(order_id="", caller_name="", caller_phone="")
    if view["timeline"] is not None:
        shown["timeline"] = [{**step, "actor": party_role(step["actor"]),
                              "holder": party_role(step["holder"])}
                             for step in view["timeline"]]
    return shown


def party_role(party: str) -> str:
    """`parent:<sub>` -> `parent`, `regulator:...` -> `department`, `institution:...` ->
    `institution`; `platform` and `nobody` as they are."""
    role = party.split(":", 1)[0]
    return "department" if role == "regulator" else role


def notice(ntc: Notice) -> schemas.NoticeView:
    return schemas.NoticeView.model_validate({**fields(ntc), "read": ntc.read_at is not None})


def review(rev: Review) -> schemas.ReviewView:
    return schemas.ReviewView.model_validate({**fields(rev), "review_id": rev.review_id})


def rating(total: Rating) -> schemas.RatingView:
    return schemas.RatingView(average=total.average, count=total.count)


def announcement(ann: Announcement) -> schemas.AnnouncementView:
    return schemas.AnnouncementView.model_validate(fields(ann))


def consultation(csl: Consultation) -> schemas.ConsultationView:
    return schemas.ConsultationView.model_validate(fields(csl))


def reconciliation(rec: Reconciliation) -> schemas.ReconciliationView:
    """Accounts masked: the regulator's duty is the difference, not whose account it is."""
    differences = [{**fields(d), "counterparty_masked": mask_account(d.counterparty)}
                   for d in rec.differences]
    return schemas.ReconciliationView.model_validate(
        {**fields(rec), "account_masked": mask_account(rec.account),
         "differences": differences})

