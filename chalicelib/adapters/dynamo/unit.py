"""The atomic write of one use case: everything it changes, in one TransactWriteItems.

Order counters change only through `move_order`, which increments and decrements in place
with a condition that every decremented counter stays non-negative and the status is legal:
balances are checked inside the write. Money additionally appends a journal entry whose
deterministic transfer id must not exist yet, with the order's chain head as a condition.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamo import keys, records, slots
from chalicelib.adapters.dynamo.codec import encode
from chalicelib.adapters.dynamo.expressions import UpdateExpression
from chalicelib.adapters.dynamo.tables import Tables
from chalicelib.adapters.dynamo.transaction import Transaction
from chalicelib.domain.complaints.complaint import Complaint, Step
from chalicelib.domain.escrow.bank import BankInstruction, UnmatchedPayment, account_number
from chalicelib.domain.escrow.bank_book import BankEntry
from chalicelib.domain.escrow.consumption import Consumption
from chalicelib.domain.escrow.lesson import Lesson
from chalicelib.domain.escrow.order import Movement, Order, OrderStatus
from chalicelib.domain.escrow.timeslots import Footprint
from chalicelib.domain.institutions.catalog import (
    Course,
    Institution,
    InstitutionStatus,
    StatusChange,
    Student,
)
from chalicelib.domain.institutions.liquidation import Liquidation, OrderLiquidated
from chalicelib.domain.institutions.staff import StaffMember
from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.messages.notice import Notice
from chalicelib.domain.refunds.refund import RefundRequest
from chalicelib.domain.shop.review import Review
from chalicelib.domain.shop.shop import Announcement, Consultation
from chalicelib.service.store import Place

_RECORD: dict[type, Callable[[Any], dict[str, Any]]] = {
    Institution: records.institution,
    Course: records.course,
    Student: records.student,
    Order: records.order,
    Lesson: records.lesson,
    Consumption: records.consumption,
    BankInstruction: records.instruction,
    BankEntry: records.bank_entry,
    UnmatchedPayment: records.unmatched_payment,
    RefundRequest: records.refund_request,
    Liquidation: records.liquidation,
    OrderLiquidated: records.order_liquidated,
    Complaint: records.complaint,
    Step: records.step,
    Review: records.review,
    StaffMember: records.staff_member,
    StatusChange: records.status_change,
    Announcement: records.announcement,
    Consultation: records.consultation,
}


UNSTATUSED_FIELDS: dict[type, tuple[str, ...]] = {
    Consumption: ("institution_note", "escalated_at"),
    Institution: ("freeze_generation", "fanout_pass", "fanout_cursor", "liquidated_at",
                  "profile_version", "frozen_with_blacklisting"),
    Liquidation: ("listing_pass", "cursor", "orders_done_seen"),
}
"""Fields an item's use cases change without changing its status (a dispute answered, or
escalated; an institution frozen, its fan-out advanced, liquidated, or its blacklisting's
freeze taken over by a freeze of its own; a liquidation's
listing advanced): a rewrite requires them as it
read them, so two rewrites of one item from two reads cannot erase each other's change (the
loser reads again)."""


class AtomicWrite:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self._tx = Transaction(tables)
        self._rejected_checked: set[str] = set()

    def create(
        self, entity: Any, label: str, *, due: tuple[str, datetime] | None = None
    ) -> AtomicWrite:
        """Create a new item; its id (or key) must not exist yet. `due` as in `replace`."""
        item = _RECORD[type(entity)](entity)
        if due is not None:
            item.update(keys.due_attributes(due[0], item["pk"], due[1]))
        self._tx.put_new(self.tables.platform, item, label)
        return self

    def replace(
        self, before: Any, after: Any, label: str, *, due: tuple[str, datetime] | None = None
    ) -> AtomicWrite:
        """Overwrite an item, on condition it is still in `before`'s status (and attempt;
        a complaint: in `before`'s version).

        `due` = (job, instant) schedules the item on the sparse `due` index; otherwise the
        item leaves it.
        """
        item = _RECORD[type(after)](after)
        entity_id = item["pk"]
        if due is not None:
            item.update(keys.due_attributes(due[0], entity_id, due[1]))
        expression = UpdateExpression().require_exists()
        if isinstance(before, Complaint | StaffMember):
            expression.require_equal("version", before.version)
        else:
            expression.require_equal("status", encode(before.status))
        if isinstance(before, Consumption | RefundRequest | UnmatchedPayment):
            expression.require_equal("attempt", before.attempt)
        for name in UNSTATUSED_FIELDS.get(type(before), ()):
            expression.require_unchanged(name, encode(getattr(before, name)))
        for name, value in item.items():
            if name not in ("pk", "sk"):
                expression.set(name, value)
        for name in records.SPARSE:
            if name not in item:
                expression.remove(name)
        key = {"pk": item["pk"], "sk": item["sk"]}
        self._tx.update(self.tables.platform, key, expression, label)
        return self

    def move_order(
        self,
        order: Order,
        movement: Movement,
        *,
        entry: JournalEntry | None = None,
        expect: dict[str, int] | None = None,
        set_fields: dict[str, Any] | None = None,
    ) -> AtomicWrite:
        expression = UpdateExpression().require_exists()
        expression.require_in("status", [s.value for s in movement.from_statuses])
        for name, amount in movement.decrements().items():
            expression.require_at_least(name, amount)
        for name, value in (expect or {}).items():
            if value == 0:
                expression.require_zero(name)
            else:
                expression.require_equal(name, value)
        for name, delta in movement.deltas.items():
            expression.increment(name, delta)
        if movement.to_status is not None:
            expression.set("status", movement.to_status.value)
            if order.status is OrderStatus.PENDING_PAYMENT:
                expression.remove("due_pk").remove("due_sk")
        for name, value in (set_fields or {}).items():
            expression.set(name, encode(value))
        if entry is not None:
            expression.require_equal("journal_seq", entry.seq - 1)
            expression.set("journal_seq", entry.seq).set("journal_head", entry.hash)
            self._tx.put_new(self.tables.journal, records.journal_entry(entry), "journal")
        order_key = keys.key("order", order.order_id)
        self._tx.update(self.tables.platform, order_key, expression, "order")
        return self

    def occupy_slots(
        self, student_id: str, lesson_id: str, footprints: list[Footprint]
    ) -> AtomicWrite:
        return self._occupy(student_id, lesson_id, footprints, "slot")

    def count_weekly_lesson(self, student_id: str, course_id: str, week: str, limit: int
                            ) -> AtomicWrite:
        key = slots.pace_key(student_id, course_id, week)
        self._tx.update(self.tables.platform, key, slots.count_lesson(week, limit), "pace")
        return self

    def occupy_teacher_slots(
        self, teacher_id: str, lesson_id: str, footprints: list[Footprint]
    ) -> AtomicWrite:
        return self._occupy(teacher_id, lesson_id, footprints, "teacher_slot")

    def _occupy(self, person_id: str, lesson_id: str, footprints: list[Footprint],
                label: str) -> AtomicWrite:
        for footprint in footprints:
            key = slots.slot_key(person_id, footprint)
            self._tx.update(self.tables.platform, key, slots.occupy(footprint, lesson_id), label)
        return self

    def count_progress(self, institution_id: str, shard: int, deltas: dict[str, int]
                       ) -> AtomicWrite:
        """Add to one shard of a liquidation's progress counters."""
        expression = UpdateExpression()
        for name, delta in deltas.items():
            expression.increment(name, delta)
        self._tx.update(self.tables.platform, keys.progress_key(institution_id, shard),
                        expression, "progress")
        return self

    def count_rating(self, institution_id: str, shard: int, stars: int) -> AtomicWrite:
        """Add one review's stars to one shard of its institution's rating."""
        expression = UpdateExpression().increment("stars_total", stars).increment("count", 1)
        self._tx.update(self.tables.platform, keys.rating_key(institution_id, shard),
                        expression, "rating")
        return self

    def finish_job(self, kind: str, entity_id: str, job: str) -> AtomicWrite:
        """Take an item off the schedule, on condition it is still scheduled for `job` (the
        work is done once: a twin finishing it too is refused, label "scheduled")."""
        expression = UpdateExpression().require_exists()
        partition = keys.due_partition(job, keys.shard(entity_id))
        expression.require_equal("due_pk", partition)
        expression.remove("due_pk").remove("due_sk")
        self._tx.update(self.tables.platform, keys.key(kind, entity_id), expression,
                        "scheduled")
        return self

    def claim_place(self, student_id: str, course_id: str, seen: Place,
                    order_ids: list[str]) -> AtomicWrite:
        """Count one more purchase of a child's place in a course, on condition no other
        purchase of it was counted since `seen` was read (label "place"); `order_ids`
        replace the orders it lists."""
        expression = UpdateExpression().increment("version", 1).set("order_ids", order_ids)
        expression.require_unchanged("version", seen.version)
        self._tx.update(self.tables.platform, keys.place_key(student_id, course_id),
                        expression, "place")
        return self

    def register_credit_code(self, uscc: str, institution_id: str, *,
                             replacing: str | None) -> AtomicWrite:
        """Register the institution under its credit code: new, or taken from `replacing`
        on condition it still holds it (label "credit_code") and, if it is another
        institution, is still rejected (label "credit_code_holder")."""
        key = keys.credit_code_key(uscc)
        if replacing is None:
            self._tx.put_new(self.tables.platform, {**key, "institution_id": institution_id},
                             "credit_code")
            return self
        expression = UpdateExpression().require_equal("institution_id", replacing)
        expression.set("institution_id", institution_id)
        self._tx.update(self.tables.platform, key, expression, "credit_code")
        if replacing != institution_id:
            self._require_rejected(replacing, "credit_code_holder")
        return self

    def register_bank_accounts(self, institution_id: str, uscc: str, accounts: list[str]
                               ) -> AtomicWrite:
        """Register each account as the institution's, on condition no other credit code
        holds it (label "bank_account"); under the same code it follows the new institution
        (an applicant rejected and applying again)."""
        for account in sorted({account_number(a) for a in accounts}):
            expression = UpdateExpression().require_absent_or_equal("uscc", uscc)
            expression.set("institution_id", institution_id).set("uscc", uscc)
            self._tx.update(self.tables.platform, keys.bank_account_key(account), expression,
                            "bank_account")
        return self

    def register_name(self, name_key: str, institution_id: str, *, replacing: str | None,
                      releasing: str | None = None) -> AtomicWrite:
        """Register the institution under its name's search form: new, or taken from the
        rejected institution `replacing` on condition it still holds it (label
        "institution_name") and is still rejected ("institution_name_holder"); the form
        `releasing` (its old name's) is freed if it holds it."""
        key = keys.institution_name_key(name_key)
        if replacing is None:
            self._tx.put_new(self.tables.platform, {**key, "institution_id": institution_id,
                                                    "name_key": name_key}, "institution_name")
        else:
            expression = UpdateExpression().require_equal("institution_id", replacing)
            expression.set("institution_id", institution_id).set("name_key", name_key)
            self._tx.update(self.tables.platform, key, expression, "institution_name")
            if replacing != institution_id:
                self._require_rejected(replacing, "institution_name_holder")
        if releasing is not None:
            held = UpdateExpression()
            held.require(f"attribute_not_exists({held.name('pk')}) OR "
                         f"{held.name('institution_id')} = {held.value(institution_id)}")
            self._tx.delete_if(self.tables.platform, keys.institution_name_key(releasing),
                               held, "institution_name")
        return self

    def _require_rejected(self, institution_id: str, label: str) -> None:
        """A ConditionCheck that the institution is still rejected, once per transaction
        (a rejected applicant trying again may be taken a credit code and a name from)."""
        if institution_id in self._rejected_checked:
            return
        self._rejected_checked.add(institution_id)
        rejected = UpdateExpression().require_equal("status", encode(InstitutionStatus.REJECTED))
        self._tx.check(self.tables.platform, keys.key("institution", institution_id), rejected,
                       label)

    def index_directory(self, institution_id: str, region_code: str, *,
                        add: frozenset[str], drop: frozenset[str]) -> AtomicWrite:
        """List an institution in the directory partitions `add`, and out of `drop`."""
        for facet in sorted(drop):
            self._tx.delete(self.tables.platform,
                            keys.directory_key(facet, region_code, institution_id), "directory")
        for facet in sorted(add):
            entry = {**keys.directory_key(facet, region_code, institution_id),
                     "institution_id": institution_id}
            self._tx.put(self.tables.platform, entry, "directory")
        return self

    def require_present(self, kind: str, entity_id: str, label: str) -> AtomicWrite:
        """The write applies only if this item exists (it is not changed)."""
        self._tx.check_exists(self.tables.platform, keys.key(kind, entity_id), label)
        return self

    def require_version(self, kind: str, entity_id: str, version: int, label: str
                        ) -> AtomicWrite:
        """The write applies only if this item is still at `version` (it is not changed)."""
        expression = UpdateExpression().require_equal("version", version)
        self._tx.check(self.tables.platform, keys.key(kind, entity_id), expression, label)
        return self

    def mark_bank_event(self, event_id: str, event_type: str, at: datetime) -> AtomicWrite:
        item = {**keys.bank_event_key(event_id), "type": event_type, "applied_at": encode(at)}
        self._tx.put_new(self.tables.platform, item, "bank_event")
        return self

    def notify(self, notice: Notice) -> AtomicWrite:
        """Put a notice in its recipient's inbox, and on the outbox to the push service."""
        self._tx.put_new(self.tables.platform, records.notice(notice), "notice")
        self._tx.put_new(self.tables.platform, records.outbox(notice), "outbox")
        return self

    def commit(self) -> None:
        self._tx.commit()
