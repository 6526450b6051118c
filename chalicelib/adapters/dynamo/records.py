"""The stored shape of each domain object: its attributes plus key and index attributes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.adapters.dynamo import keys
from chalicelib.adapters.dynamo.codec import encode
from chalicelib.domain.complaints.complaint import Complaint, Stage, Step
from chalicelib.domain.escrow.bank import BankInstruction, UnmatchedPayment
from chalicelib.domain.escrow.bank_book import BankEntry
from chalicelib.domain.escrow.consumption import Consumption, ConsumptionStatus
from chalicelib.domain.escrow.lesson import Lesson
from chalicelib.domain.escrow.order import Order, OrderStatus
from chalicelib.domain.institutions.catalog import (
    FROZEN_LISTING,
    Course,
    CourseStatus,
    Institution,
    InstitutionStatus,
    StatusChange,
    Student,
)
from chalicelib.domain.institutions.liquidation import Liquidation, OrderLiquidated
from chalicelib.domain.institutions.staff import StaffMember
from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.messages.notice import Notice
from chalicelib.domain.refunds.refund import IN_FLIGHT, RefundRequest, RefundStatus
from chalicelib.domain.shop.review import Review
from chalicelib.domain.shop.shop import Announcement, Consultation
from chalicelib.domain.supervision.reconciliation import Reconciliation


def institution(ins: Institution) -> dict[str, Any]:
    """Listed by status and region (the whitelist parents search, by where it is); awaiting
    review, in its competent department's queue by jurisdiction; frozen, apart."""
    if ins.status is InstitutionStatus.PENDING_REVIEW and not ins.frozen:
        listing = {"gsi3pk": keys.review_queue("institution", ins.department),
                   "gsi3sk": f"{ins.jurisdiction_code}#{ins.institution_id}"}
    else:  # a blacklisted one stays on the blacklist, frozen or not
        frozen = ins.frozen and ins.status is not InstitutionStatus.BLACKLISTED
        listed = FROZEN_LISTING if frozen else ins.status
        listing = {"gsi3pk": keys.review_partition("institution", listed),
                   "gsi3sk": f"{ins.region_code}#{ins.institution_id}"}
    return {**keys.key("institution", ins.institution_id), **encode(ins), **listing}


def course(crs: Course) -> dict[str, Any]:
    return {
        **keys.key("course", crs.course_id),
        **encode(crs),
        **course_index(crs),
    }


def course_index(crs: Course) -> dict[str, str]:
    """Awaiting review, a course is in its department's queue by jurisdiction."""
    awaiting = crs.status is CourseStatus.PENDING_REVIEW
    return {
        "gsi2pk": keys.institution_partition(crs.institution_id),
        "gsi2sk": f"course#{crs.status}#{crs.course_id}",
        "gsi3pk": (keys.review_queue("course", crs.department) if awaiting
                   else keys.review_partition("course", crs.status)),
        "gsi3sk": f"{crs.jurisdiction_code if awaiting else crs.region_code}#{crs.course_id}",
    }


def status_change(change: StatusChange) -> dict[str, Any]:
    return {**keys.status_change_key(change.institution_id, change.at, change.change_id),
            **encode(change)}


def staff_member(member: StaffMember) -> dict[str, Any]:
    return {
        **keys.key("staff", member.staff_id),
        **encode(member),
        "gsi2pk": keys.institution_partition(member.institution_id),
        "gsi2sk": f"staff#{member.staff_id}",
    }


def student(stu: Student) -> dict[str, Any]:
    return {**keys.student_key(stu.parent_sub, stu.student_id), **encode(stu)}


def order(ord_: Order) -> dict[str, Any]:
    item = {
        **keys.key("order", ord_.order_id),
        **encode(ord_),
        "gsi1pk": keys.parent_partition(ord_.parent_sub),
        "gsi1sk": f"order#{ord_.order_id}",
        "gsi2pk": keys.institution_partition(ord_.institution_id),
        "gsi2sk": f"order#{ord_.order_id}",
    }
    if ord_.status is OrderStatus.PENDING_PAYMENT:
        item.update(keys.due_attributes("expire", ord_.order_id, ord_.expires_at))
    return item


def lesson(les: Lesson) -> dict[str, Any]:
    return {
        **keys.key("lesson", les.lesson_id),
        **encode(les),
        "gsi2pk": keys.institution_partition(les.institution_id),
        "gsi2sk": f"lesson#{les.lesson_id}",
    }


def consumption(con: Consumption) -> dict[str, Any]:
    return {**keys.key("consumption", con.consumption_id), **encode(con), **consumption_index(con)}


def consumption_index(con: Consumption) -> dict[str, str]:
    index = _owners("consumption", con.status, con.consumption_id, con.parent_sub,
                    con.institution_id)
    if con.status is ConsumptionStatus.NEEDS_REVIEW:
        index["gsi3pk"] = keys.review_partition("consumption", con.status)
        index["gsi3sk"] = con.consumption_id
    elif con.status is ConsumptionStatus.DISPUTED and con.escalated_at is not None:
        index["gsi3pk"] = keys.review_partition("dispute", "escalated")
        index["gsi3sk"] = f"{con.region_code}#{con.consumption_id}"
    return index


SPARSE = ("due_pk", "due_sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk", "sla_remind_at",
          "sla_due_at")
"""Index attributes an item carries only in some states: a rewrite without them removes them."""


def instruction(ins: BankInstruction) -> dict[str, Any]:
    return {**keys.key("instruction", ins.instruction_id), **encode(ins)}


def unmatched_payment(ump: UnmatchedPayment) -> dict[str, Any]:
    """Listed by status for ops (gsi3) and, by status, under the account that received it
    (gsi2): what an account still holds for nobody's order."""
    item = {
        **keys.key("unmatched_payment", ump.unmatched_id),
        **encode(ump),
        "gsi3pk": keys.review_partition("unmatched_payment", ump.status),
        "gsi3sk": f"{ump.region_code or '00'}#{ump.unmatched_id}",
    }
    if ump.received_account:
        item["gsi2pk"] = keys.account_partition(ump.received_account)
        item["gsi2sk"] = f"unmatched_payment#{ump.status}#{ump.unmatched_id}"
    return item


def bank_entry(entry: BankEntry) -> dict[str, Any]:
    """Beside its instruction (or under its bank transaction id), once; listed under the
    account it is on by day (gsi2), for the day's reconciliation."""
    item = {**keys.key("bank_entry", entry.key), **encode(entry)}
    if entry.account:
        item["gsi2pk"] = keys.account_partition(entry.account)
        item["gsi2sk"] = f"{keys.bank_day_prefix(entry.day)}{entry.key}"
    return item


def reconciliation(rec: Reconciliation) -> dict[str, Any]:
    """Under its account by day; listed by day for the regulators of its region (gsi3)."""
    return {**keys.reconciliation_key(rec.account, rec.day), **encode(rec),
            "gsi3pk": keys.reconciliations_on(rec.day),
            "gsi3sk": f"{rec.region_code}#{rec.account}"}


def journal_entry(entry: JournalEntry) -> dict[str, Any]:
    return {"pk": entry.order_id, "sk": entry.transfer_id, **encode(entry)}


REGULATED_REFUNDS = frozenset({RefundStatus.ESCALATED, *IN_FLIGHT})
"""The refund states regulators list by jurisdiction (gsi3): escalated ones to decide,
payouts in flight to watch against their deadline."""


def refund_request(rfd: RefundRequest) -> dict[str, Any]:
    """Listed per parent and per institution by status (gsi1, gsi2); escalated and in
    flight, for the regulators of its region (gsi3)."""
    item = {
        **keys.key("refund", rfd.refund_id),
        **encode(rfd),
        **_owners("refund", rfd.status, rfd.refund_id, rfd.parent_sub, rfd.institution_id),
    }
    if rfd.status in REGULATED_REFUNDS:
        item["gsi3pk"] = keys.review_partition("refund", rfd.status)
        item["gsi3sk"] = f"{rfd.region_code}#{rfd.refund_id}"
    return item


def _owners(kind: str, status: str, entity_id: str, parent_sub: str, institution_id: str
            ) -> dict[str, str]:
    """Listed under its parent (gsi1) and its institution (gsi2) by status."""
    sort_key = f"{kind}#{status}#{entity_id}"
    return {
        "gsi1pk": keys.parent_partition(parent_sub), "gsi1sk": sort_key,
        "gsi2pk": keys.institution_partition(institution_id), "gsi2sk": sort_key,
    }


def liquidation(liq: Liquidation) -> dict[str, Any]:
    """Beside its institution; on the `due` index (`liquidate`) until it is completed."""
    return {**keys.key("liquidation", liq.institution_id), **encode(liq)}


def order_liquidated(record: OrderLiquidated) -> dict[str, Any]:
    """Beside its order, written once."""
    return {**keys.key("order_liquidated", record.order_id), **encode(record)}


def complaint(cmp: Complaint) -> dict[str, Any]:
    """Listed under its parent (gsi1, none for a hotline call) and its institution (gsi2,
    not while hidden from it) by stage; once routed, for the regulators of the region
    holding it by stage (gsi3), with its clock's instants for the SLA filters."""
    sort_key = f"complaint#{cmp.stage}#{cmp.complaint_id}"
    item: dict[str, Any] = {**keys.key("complaint", cmp.complaint_id), **encode(cmp)}
    if not cmp.hidden_from_institution:
        item.update({"gsi2pk": keys.institution_partition(cmp.institution_id),
                     "gsi2sk": sort_key})
    if cmp.parent_sub:
        item.update({"gsi1pk": keys.parent_partition(cmp.parent_sub), "gsi1sk": sort_key})
    if cmp.stage is not Stage.FILED:
        item["gsi3pk"] = keys.review_partition("case", cmp.stage)
        item["gsi3sk"] = f"{cmp.region}#{cmp.complaint_id}"
    clock = cmp.clock
    if clock is not None:
        item["sla_remind_at"] = keys.due_instant(clock.remind_at)
        item["sla_due_at"] = keys.due_instant(clock.due_at)
    return item


def step(stp: Step) -> dict[str, Any]:
    return {**keys.step_key(stp.complaint_id, stp.seq), **encode(stp)}


def notice(ntc: Notice) -> dict[str, Any]:
    """In its recipient's inbox, newest last; while unread, counted on gsi3."""
    item = {"pk": keys.inbox_partition(ntc.recipient), "sk": ntc.notice_id, **encode(ntc)}
    if ntc.read_at is None:
        item["gsi3pk"] = keys.unread_partition(ntc.recipient)
        item["gsi3sk"] = ntc.notice_id
    return item


OUTBOX_DAYS = 30
"""A notice the push service would not take for this long is dropped from the outbox by
DynamoDB's TTL (it stays in the inbox); a pushed one is deleted at once."""


def outbox(ntc: Notice) -> dict[str, Any]:
    """The notice on its way to the push service, on the `due` index (`push`): deleted once
    sent."""
    expires = ntc.at + timedelta(days=OUTBOX_DAYS)
    return {**keys.key("outbox", ntc.notice_id), **encode(ntc),
            **keys.due_attributes("push", ntc.notice_id, ntc.at),
            "expires_at_epoch": int(expires.timestamp())}


def review(rev: Review) -> dict[str, Any]:
    """Beside its order; listed on its institution's shop, newest first (gsi2)."""
    return {
        **keys.key("review", rev.order_id), **encode(rev),
        "gsi2pk": keys.institution_partition(rev.institution_id),
        "gsi2sk": f"review#{keys.due_instant(rev.created_at)}#{rev.order_id}",
    }


def announcement(ann: Announcement) -> dict[str, Any]:
    """Beside its institution, listed on the shop newest first."""
    return {**keys.shop_post_key(ann.institution_id, ann.announcement_id), **encode(ann)}


def consultation(csl: Consultation) -> dict[str, Any]:
    """Listed under its parent (gsi1) and, by status, its institution (gsi2): newest first."""
    return {
        **keys.key("consultation", csl.consultation_id), **encode(csl),
        "gsi1pk": keys.parent_partition(csl.parent_sub),
        "gsi1sk": f"consultation#{csl.consultation_id}",
        "gsi2pk": keys.institution_partition(csl.institution_id),
        "gsi2sk": f"consultation#{csl.status}#{csl.consultation_id}",
    }
