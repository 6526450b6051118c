"""Reads and listings of the platform's items (docs/data-model.md names each access pattern).

Every listing is a Query on a key or index; nothing here scans.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import keys
from chalicelib.adapters.dynamo.codec import (
    decode,
    encode,
    from_attribute_values,
    to_attribute_values,
)
from chalicelib.adapters.dynamo.expressions import UpdateExpression
from chalicelib.adapters.dynamo.shop_reads import ShopReads
from chalicelib.adapters.dynamo.supervision_reads import SupervisionReads
from chalicelib.adapters.dynamo.unit import AtomicWrite
from chalicelib.domain.complaints.complaint import Complaint, Sla, Step
from chalicelib.domain.escrow.bank import BankInstruction, UnmatchedPayment
from chalicelib.domain.escrow.consumption import Consumption, ConsumptionStatus
from chalicelib.domain.escrow.lesson import Lesson
from chalicelib.domain.escrow.order import Order
from chalicelib.domain.institutions.catalog import Course, Institution, StatusChange, Student
from chalicelib.domain.institutions.liquidation import Liquidation, OrderLiquidated, Progress
from chalicelib.domain.institutions.staff import StaffMember
from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.messages.notice import Notice
from chalicelib.domain.refunds.refund import RefundRequest
from chalicelib.domain.shop.review import Rating, Review
from chalicelib.service.ports import Page
from chalicelib.service.store import CaseFilter, Place


class DynamoStore(ShopReads, SupervisionReads):
    def write(self) -> AtomicWrite:
        return AtomicWrite(self.tables)

    # single items

    def institution(self, institution_id: str) -> Institution | None:
        return self._get(Institution, keys.key("institution", institution_id))

    def status_history(self, institution_id: str, limit: int, cursor: str | None
                       ) -> Page[StatusChange]:
        return self._page(StatusChange, None, institution_id, keys.HISTORY_PREFIX, limit,
                          cursor)

    def staff_member(self, staff_id: str) -> StaffMember | None:
        return self._get(StaffMember, keys.key("staff", staff_id))

    def staff_of(self, institution_id: str, limit: int, cursor: str | None
                 ) -> Page[StaffMember]:
        partition = keys.institution_partition(institution_id)
        return self._page(StaffMember, "gsi2", partition, "staff#", limit, cursor)

    def course(self, course_id: str) -> Course | None:
        return self._get(Course, keys.key("course", course_id))

    def student(self, parent_sub: str, student_id: str) -> Student | None:
        return self._get(Student, keys.student_key(parent_sub, student_id))

    def order(self, order_id: str) -> Order | None:
        return self._get(Order, keys.key("order", order_id))

    def lesson(self, lesson_id: str) -> Lesson | None:
        return self._get(Lesson, keys.key("lesson", lesson_id))

    def consumption(self, consumption_id: str) -> Consumption | None:
        return self._get(Consumption, keys.key("consumption", consumption_id))

    def instruction(self, instruction_id: str) -> BankInstruction | None:
        return self._get(BankInstruction, keys.key("instruction", instruction_id))

    def refund(self, refund_id: str) -> RefundRequest | None:
        return self._get(RefundRequest, keys.key("refund", refund_id))

    def unmatched(self, unmatched_id: str) -> UnmatchedPayment | None:
        return self._get(UnmatchedPayment, keys.key("unmatched_payment", unmatched_id))

    def liquidation(self, institution_id: str) -> Liquidation | None:
        return self._get(Liquidation, keys.key("liquidation", institution_id))

    def order_liquidated(self, order_id: str) -> OrderLiquidated | None:
        return self._get(OrderLiquidated, keys.key("order_liquidated", order_id))

    def liquidation_progress(self, institution_id: str) -> Progress:
        """The sum of a liquidation's progress shards (one Query of its partition)."""
        return sum((decode(Progress, from_attribute_values(wire)) for wire in self._shards(
            institution_id, keys.PROGRESS_PREFIX)), Progress())

    def _shards(self, partition: str, prefix: str) -> list[dict[str, Any]]:
        """The counter shards of one item, beside it (a handful: one page)."""
        response = self.tables.client.query(
            TableName=self.tables.platform,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :shards)",
            ExpressionAttributeValues=to_attribute_values({":pk": partition, ":shards": prefix}),
            ConsistentRead=True,
        )
        return list(response["Items"])

    def complaint(self, complaint_id: str) -> Complaint | None:
        return self._get(Complaint, keys.key("complaint", complaint_id))

    def review(self, order_id: str) -> Review | None:
        return self._get(Review, keys.key("review", order_id))

    def rating(self, institution_id: str) -> Rating:
        """The sum of an institution's rating shards (one Query of its partition)."""
        return sum((decode(Rating, from_attribute_values(wire)) for wire in self._shards(
            institution_id, keys.RATING_PREFIX)), Rating())

    def reviews_of(self, institution_id: str, limit: int, cursor: str | None
                   ) -> Page[Review]:
        return self._page(Review, "gsi2", keys.institution_partition(institution_id),
                          "review#", limit, cursor, newest_first=True)

    def outbox(self, notice_id: str) -> Notice | None:
        return self._get(Notice, keys.key("outbox", notice_id))

    def notice(self, recipient: str, notice_id: str) -> Notice | None:
        return self._get(Notice, {"pk": keys.inbox_partition(recipient), "sk": notice_id})

    def timeline(self, complaint_id: str) -> list[Step]:
        """Every step of a case, in order (one Query of its partition, page after page)."""
        steps: list[Step] = []
        cursor: str | None = None
        while True:
            page = self._page(Step, None, complaint_id, keys.STEP_PREFIX, 100, cursor)
            steps += page.items
            if page.next_cursor is None:
                return steps
            cursor = page.next_cursor

    def journal(self, order_id: str) -> list[JournalEntry]:
        entries: list[JournalEntry] = []
        request: dict[str, Any] = {
            "TableName": self.tables.journal,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": order_id}},
            "ConsistentRead": True,
        }
        while True:
            response = self.tables.client.query(**request)
            entries += [decode(JournalEntry, from_attribute_values(i)) for i in response["Items"]]
            if "LastEvaluatedKey" not in response:
                return sorted(entries, key=lambda e: e.seq)
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # listings

    def institutions_by_status(
        self, status: str, region_prefix: str, limit: int, cursor: str | None
    ) -> Page[Institution]:
        partition = keys.review_partition("institution", status)
        return self._page(Institution, "gsi3", partition, region_prefix, limit, cursor)

    def institutions_awaiting(self, department: str, jurisdiction_prefix: str, limit: int,
                              cursor: str | None) -> Page[Institution]:
        return self._page(Institution, "gsi3", keys.review_queue("institution", department),
                          jurisdiction_prefix, limit, cursor)

    def courses_awaiting(self, department: str, jurisdiction_prefix: str, limit: int,
                         cursor: str | None) -> Page[Course]:
        return self._page(Course, "gsi3", keys.review_queue("course", department),
                          jurisdiction_prefix, limit, cursor)

    def courses_of(
        self, institution_id: str, status: str, limit: int, cursor: str | None
    ) -> Page[Course]:
        partition = keys.institution_partition(institution_id)
        return self._page(Course, "gsi2", partition, f"course#{status}#", limit, cursor)

    def students_of(self, parent_sub: str, limit: int, cursor: str | None) -> Page[Student]:
        partition = keys.parent_partition(parent_sub)
        return self._page(Student, None, partition, "stu_", limit, cursor)

    def orders_of_parent(self, parent_sub: str, limit: int, cursor: str | None) -> Page[Order]:
        partition = keys.parent_partition(parent_sub)
        return self._page(Order, "gsi1", partition, "order#", limit, cursor, newest_first=True)

    def place(self, student_id: str, course_id: str) -> Place:
        item = self._raw(self.tables.platform, keys.place_key(student_id, course_id))
        if item is None:
            return Place()
        return Place(int(item.get("version", 0)), tuple(item.get("order_ids", ())))
    def orders_of_institution(
        self, institution_id: str, limit: int, cursor: str | None
    ) -> Page[Order]:
        partition = keys.institution_partition(institution_id)
        return self._page(Order, "gsi2", partition, "order#", limit, cursor, newest_first=True)

    def consumptions_of_parent(
        self, parent_sub: str, status: str, limit: int, cursor: str | None
    ) -> Page[Consumption]:
        return self._owned(Consumption, "gsi1", keys.parent_partition(parent_sub),
                           "consumption", status, limit, cursor)

    def consumptions_of_institution(
        self, institution_id: str, status: str, limit: int, cursor: str | None
    ) -> Page[Consumption]:
        return self._owned(Consumption, "gsi2", keys.institution_partition(institution_id),
                           "consumption", status, limit, cursor)

    def refunds_of_parent(
        self, parent_sub: str, status: str, limit: int, cursor: str | None
    ) -> Page[RefundRequest]:
        return self._owned(RefundRequest, "gsi1", keys.parent_partition(parent_sub),
                           "refund", status, limit, cursor)

    def refunds_of_institution(
        self, institution_id: str, status: str, limit: int, cursor: str | None
    ) -> Page[RefundRequest]:
        return self._owned(RefundRequest, "gsi2", keys.institution_partition(institution_id),
                           "refund", status, limit, cursor)

    def consumptions_needing_review(
        self, limit: int, cursor: str | None
    ) -> Page[Consumption]:
        partition = keys.review_partition("consumption", ConsumptionStatus.NEEDS_REVIEW)
        return self._page(Consumption, "gsi3", partition, "", limit, cursor)

    def refunds_by_status(
        self, status: str, region_prefix: str, limit: int, cursor: str | None
    ) -> Page[RefundRequest]:
        partition = keys.review_partition("refund", status)
        return self._page(RefundRequest, "gsi3", partition, region_prefix, limit, cursor)

    def unmatched_by_status(
        self, status: str, region_prefix: str, limit: int, cursor: str | None
    ) -> Page[UnmatchedPayment]:
        partition = keys.review_partition("unmatched_payment", status)
        return self._page(UnmatchedPayment, "gsi3", partition, region_prefix, limit, cursor)

    def unmatched_at_account(
        self, bank_account: str, status: str, limit: int, cursor: str | None
    ) -> Page[UnmatchedPayment]:
        return self._owned(UnmatchedPayment, "gsi2", keys.account_partition(bank_account),
                           "unmatched_payment", status, limit, cursor)

    def escalated_disputes(
        self, region_prefix: str, limit: int, cursor: str | None
    ) -> Page[Consumption]:
        partition = keys.review_partition("dispute", "escalated")
        return self._page(Consumption, "gsi3", partition, region_prefix, limit, cursor)

    def complaints_of_parent(
        self, parent_sub: str, stage: str, limit: int, cursor: str | None
    ) -> Page[Complaint]:
        return self._owned(Complaint, "gsi1", keys.parent_partition(parent_sub), "complaint",
                           stage, limit, cursor)

    def complaints_of_institution(
        self, institution_id: str, stage: str, limit: int, cursor: str | None
    ) -> Page[Complaint]:
        return self._owned(Complaint, "gsi2", keys.institution_partition(institution_id),
                           "complaint", stage, limit, cursor)

    def cases(self, which: CaseFilter, limit: int, cursor: str | None) -> Page[Complaint]:
        partition = keys.review_partition("case", which.stage)
        return self._page(Complaint, "gsi3", partition, which.region_prefix, limit, cursor,
                          where=_case_conditions(which))

    def inbox(self, recipient: str, limit: int, cursor: str | None) -> Page[Notice]:
        return self._page(Notice, None, keys.inbox_partition(recipient), "ntf_", limit, cursor,
                          newest_first=True)

    def unread_count(self, recipient: str, cap: int) -> int:
        response = self.tables.client.query(
            TableName=self.tables.platform, IndexName="gsi3", Select="COUNT", Limit=cap,
            KeyConditionExpression="gsi3pk = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.unread_partition(recipient)}},
        )
        return int(response["Count"])

    def mark_read(self, recipient: str, notice_id: str, at: datetime) -> bool:
        expression = UpdateExpression().require_exists()
        expression.require(f"attribute_not_exists({expression.name('read_at')})")
        expression.set("read_at", encode(at)).remove("gsi3pk").remove("gsi3sk")
        key = {"pk": keys.inbox_partition(recipient), "sk": notice_id}
        return self.tables.update_if(expression.as_update(self.tables.platform, key))

    def forget_pushed(self, notice_id: str) -> bool:
        try:
            self.tables.client.delete_item(
                TableName=self.tables.platform,
                Key=to_attribute_values(keys.key("outbox", notice_id)),
                ConditionExpression="attribute_exists(pk)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def count_needing_review(self) -> int:
        partition = keys.review_partition("consumption", ConsumptionStatus.NEEDS_REVIEW)
        request: dict[str, Any] = {
            "TableName": self.tables.platform, "IndexName": "gsi3", "Select": "COUNT",
            "KeyConditionExpression": "gsi3pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
        }
        count = 0
        while True:
            response = self.tables.client.query(**request)
            count += int(response["Count"])
            if "LastEvaluatedKey" not in response:
                return count
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # markers

    def stamp_freeze(self, order_id: str, generation: int, *, frozen: bool) -> bool:
        """Copy an institution's freeze marker onto one of its orders, unless the order
        already carries this generation or a newer one; False if it did."""
        expression = UpdateExpression().require_exists()
        seen = expression.name("freeze_generation")
        expression.require(f"attribute_not_exists({seen}) OR {seen} < "
                           f"{expression.value(generation)}")
        expression.set("frozen", int(frozen)).set("freeze_generation", generation)
        return self.tables.update_if(
            expression.as_update(self.tables.platform, keys.key("order", order_id)))


def _case_conditions(which: CaseFilter) -> dict[str, Any] | None:
    """The filters of a regulator's case list (on the page the key condition read)."""
    terms: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if which.department:
        terms.append("#department = :department")
        names["#department"], values[":department"] = "department", which.department
    if which.category:
        terms.append("#category = :category")
        names["#category"], values[":category"] = "category", which.category
    if which.sla is not None:
        values[":now"] = keys.due_instant(which.now)
        if which.sla is not Sla.OVERDUE:
            names["#remind"] = "sla_remind_at"
        if which.sla is not Sla.ON_TIME:
            names["#due"] = "sla_due_at"
        terms.append({
            Sla.ON_TIME: "#remind > :now",
            Sla.DUE_SOON: "#remind <= :now AND #due > :now",
            Sla.OVERDUE: "#due <= :now",
        }[which.sla])
    if not terms:
        return None
    return {"expression": " AND ".join(terms), "names": names, "values": values}
