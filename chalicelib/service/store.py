"""The storage port: what use cases read, and the one atomic write each of them commits.

chalicelib/adapters/dynamo implements it on DynamoDB (docs/data-model.md). A write collects
its parts and commits them all or none; a failed condition raises `WriteRejected` naming the
labels of the parts that failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.complaints.complaint import Complaint, Sla, Stage, Step
from chalicelib.domain.escrow.bank import AccountHolder, BankInstruction, UnmatchedPayment
from chalicelib.domain.escrow.consumption import Consumption
from chalicelib.domain.escrow.lesson import Lesson
from chalicelib.domain.escrow.order import Movement, Order
from chalicelib.domain.escrow.timeslots import Footprint
from chalicelib.domain.institutions.catalog import Course, Institution, StatusChange, Student
from chalicelib.domain.institutions.liquidation import Liquidation, OrderLiquidated, Progress
from chalicelib.domain.institutions.staff import StaffMember
from chalicelib.domain.ledger import JournalEntry
from chalicelib.domain.messages.notice import Notice
from chalicelib.domain.refunds.refund import RefundRequest
from chalicelib.domain.shop.directory import Listed
from chalicelib.domain.shop.review import Rating, Review
from chalicelib.domain.shop.shop import Announcement, Consultation
from chalicelib.service.ports import Page
from chalicelib.service.supervision_store import SupervisionStore

Due = tuple[str, datetime]
"""(job, instant): schedules an item for a job on the `due` index."""


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a regulator lists: one stage, held under `region_prefix`, optionally of
    one department and category, and in one SLA state as of `now`."""

    stage: Stage
    region_prefix: str
    now: datetime
    department: str | None = None
    category: str | None = None
    sla: Sla | None = None


@dataclass(frozen=True)
class Place:
    """A child's place in a course: `version` counts its purchases; `order_ids` are the
    orders that may still hold lessons of it (paid or awaiting payment when last bought)."""

    version: int = 0
    order_ids: tuple[str, ...] = ()


class AtomicWrite(Protocol):
    def create(self, entity: Any, label: str, *, due: Due | None = None) -> AtomicWrite:
        """A new item whose id must not exist yet."""

    def replace(
        self, before: Any, after: Any, label: str, *, due: Due | None = None
    ) -> AtomicWrite:
        """Overwrite an item on condition it is still in `before`'s status."""

    def move_order(
        self,
        order: Order,
        movement: Movement,
        *,
        entry: JournalEntry | None = None,
        expect: dict[str, int] | None = None,
        set_fields: dict[str, Any] | None = None,
    ) -> AtomicWrite:
        """Apply a movement's deltas in place, each decrement checked inside the write; with a
        journal entry, append it (once: its transfer id) at the order's chain head."""

    def occupy_slots(
        self, student_id: str, lesson_id: str, footprints: list[Footprint]
    ) -> AtomicWrite:
        """Claim a student's time for a lesson: refused (label "slot") if any footprint
        overlaps another lesson's (chalicelib/domain/escrow/timeslots.py)."""

    def count_weekly_lesson(self, student_id: str, course_id: str, week: str, limit: int
                            ) -> AtomicWrite:
        """Count one more lesson of a course in a student's week: refused (label "pace")
        once the week holds `limit` (chalicelib/domain/escrow/lesson.py)."""

    def occupy_teacher_slots(
        self, teacher_id: str, lesson_id: str, footprints: list[Footprint]
    ) -> AtomicWrite:
        """Claim a teacher's time for a lesson: refused (label "teacher_slot") if any
        footprint overlaps another lesson's."""

    def mark_bank_event(self, event_id: str, event_type: str, at: datetime) -> AtomicWrite:
        """Record a bank event as applied (once: its event id)."""

    def count_progress(self, institution_id: str, shard: int, deltas: dict[str, int]
                       ) -> AtomicWrite:
        """Add to one shard of a liquidation's progress counters."""

    def count_rating(self, institution_id: str, shard: int, stars: int) -> AtomicWrite:
        """Add one review's stars to one shard of its institution's rating."""

    def finish_job(self, kind: str, entity_id: str, job: str) -> AtomicWrite:
        """Take an item off the schedule, on condition it is still scheduled for `job`
        (refused, label "scheduled", if a twin finished it first)."""

    def claim_place(self, student_id: str, course_id: str, seen: Place,
                    order_ids: list[str]) -> AtomicWrite:
        """Count a purchase of a child's place in a course, if none was since `seen` was
        read, and keep `order_ids` as the orders that may still hold lessons of it."""
        ...

    def register_credit_code(self, uscc: str, institution_id: str, *,
                             replacing: str | None) -> AtomicWrite:
        """Register the institution under its credit code: new (`replacing` None), or taken
        from the institution `replacing` names, if it still holds it (label
        "credit_code")."""

    def register_bank_accounts(self, institution_id: str, uscc: str, accounts: list[str]
                               ) -> AtomicWrite:
        """Register bank accounts as the institution's: new, or held under the same credit
        code already (refused, label "bank_account", if another credit code holds one).
        A registration is never removed: an account once an institution's stays one."""

    def register_name(self, name_key: str, institution_id: str, *, replacing: str | None,
                      releasing: str | None = None) -> AtomicWrite:
        """Register the institution under its name's search form: new (`replacing` None),
        or taken from the institution `replacing` names, if it still holds it and is still
        rejected (label "institution_name"); `releasing`: the old form, freed."""

    def index_directory(self, institution_id: str, region_code: str, *,
                        add: frozenset[str], drop: frozenset[str]) -> AtomicWrite:
        """List an institution in the directory partitions `add`
        (chalicelib/domain/shop/directory.py), and out of `drop`."""

    def require_present(self, kind: str, entity_id: str, label: str) -> AtomicWrite:
        """Apply the write only if this item exists (refused under `label` otherwise)."""

    def require_version(self, kind: str, entity_id: str, version: int, label: str
                        ) -> AtomicWrite:
        """Apply the write only if this item is still at `version` (it is not changed)."""

    def notify(self, notice: Notice) -> AtomicWrite:
        """Put a notice in its recipient's inbox and on the outbox to the push service."""

    def commit(self) -> None: ...


Guard = Callable[[AtomicWrite], None]
"""Conditions a write on something else before it commits, or refuses it (raises): a
department's decision on a linked case's money holds only while it holds the case."""


class Store(SupervisionStore, Protocol):
    def write(self) -> AtomicWrite: ...
    def institution(self, institution_id: str) -> Institution | None: ...
    def status_history(self, institution_id: str, limit: int, cursor: str | None
                       ) -> Page[StatusChange]: ...
    def staff_member(self, staff_id: str) -> StaffMember | None: ...
    def staff_of(self, institution_id: str, limit: int, cursor: str | None
                 ) -> Page[StaffMember]: ...
    def course(self, course_id: str) -> Course | None: ...
    def student(self, parent_sub: str, student_id: str) -> Student | None: ...
    def order(self, order_id: str) -> Order | None: ...
    def lesson(self, lesson_id: str) -> Lesson | None: ...
    def consumption(self, consumption_id: str) -> Consumption | None: ...
    def instruction(self, instruction_id: str) -> BankInstruction | None: ...
    def refund(self, refund_id: str) -> RefundRequest | None: ...
    def unmatched(self, unmatched_id: str) -> UnmatchedPayment | None: ...
    def journal(self, order_id: str) -> list[JournalEntry]: ...
    def liquidation(self, institution_id: str) -> Liquidation | None: ...
    def order_liquidated(self, order_id: str) -> OrderLiquidated | None: ...
    def liquidation_progress(self, institution_id: str) -> Progress: ...

    def institutions_by_status(
        self, status: str, region_prefix: str, limit: int, cursor: str | None
    ) -> Page[Institution]: ...

    def institutions_awaiting(self, department: str, jurisdiction_prefix: str, limit: int,
                              cursor: str | None) -> Page[Institution]:
        """Applications awaiting one department's review, their jurisdiction under the
        prefix."""
        ...

    def courses_awaiting(self, department: str, jurisdiction_prefix: str, limit: int,
                         cursor: str | None) -> Page[Course]: ...

    def courses_of(
        self, institution_id: str, status: str, limit: int, cursor: str | None
    ) -> Page[Course]: ...

    def students_of(self, parent_sub: str, limit: int, cursor: str | None) -> Page[Student]: ...
    def orders_of_parent(self, parent_sub: str, limit: int, cursor: str | None) -> Page[Order]: ...

    def place(self, student_id: str, course_id: str) -> Place:
        """A child's place in a course (consistent read): the purchases counted, and the
        orders that may still hold lessons of it."""
        ...
    def orders_of_institution(
        self, institution_id: str, limit: int, cursor: str | None
    ) -> Page[Order]: ...

    def consumptions_of_parent(
        self, parent_sub: str, status: str, limit: int, cursor: str | None
    ) -> Page[Consumption]: ...

    def consumptions_of_institution(
        self, institution_id: str, status: str, limit: int, cursor: str | None
    ) -> Page[Consumption]: ...

    def refunds_of_parent(
        self, parent_sub: str, status: str, limit: int, cursor: str | None
    ) -> Page[RefundRequest]: ...

    def refunds_of_institution(
        self, institution_id: str, status: str, limit: int, cursor: str | None
    ) -> Page[RefundRequest]: ...

    def consumptions_needing_review(
        self, limit: int, cursor: str | None
    ) -> Page[Consumption]: ...

    def refunds_by_status(
        self, status: str, region_prefix: str, limit: int, cursor: str | None
    ) -> Page[RefundRequest]:
        """Escalated requests or payouts in flight, of the regions under `region_prefix`."""
        ...

    def unmatched_by_status(
        self, status: str, region_prefix: str, limit: int, cursor: str | None
    ) -> Page[UnmatchedPayment]:
        """Payments that matched no order, by return status, of the regions under
        `region_prefix` ("00" for a reference that names no order)."""
        ...

    def unmatched_at_account(
        self, bank_account: str, status: str, limit: int, cursor: str | None
    ) -> Page[UnmatchedPayment]:
        """Payments that matched no order received by one bank account, by return status."""
        ...

    def escalated_disputes(
        self, region_prefix: str, limit: int, cursor: str | None
    ) -> Page[Consumption]:
        """Disputes sent to the regulator, of the regions under `region_prefix`."""
        ...

    def count_needing_review(self) -> int: ...

    def complaint(self, complaint_id: str) -> Complaint | None: ...
    def timeline(self, complaint_id: str) -> list[Step]: ...

    def complaints_of_parent(
        self, parent_sub: str, stage: str, limit: int, cursor: str | None
    ) -> Page[Complaint]: ...

    def complaints_of_institution(
        self, institution_id: str, stage: str, limit: int, cursor: str | None
    ) -> Page[Complaint]: ...

    def cases(self, which: CaseFilter, limit: int, cursor: str | None) -> Page[Complaint]:
        """Routed cases for regulators (a page may hold fewer than `limit` once filtered)."""
        ...

    def review(self, order_id: str) -> Review | None: ...
    def rating(self, institution_id: str) -> Rating: ...

    def reviews_of(self, institution_id: str, limit: int, cursor: str | None
                   ) -> Page[Review]:
        """An institution's reviews, newest first."""
        ...

    def outbox(self, notice_id: str) -> Notice | None: ...
    def notice(self, recipient: str, notice_id: str) -> Notice | None: ...

    def forget_pushed(self, notice_id: str) -> bool:
        """Delete a pushed notice's outbox record; False if it was gone already."""
        ...
    def inbox(self, recipient: str, limit: int, cursor: str | None) -> Page[Notice]: ...

    def unread_count(self, recipient: str, cap: int) -> int:
        """How many of the recipient's notices are unread, counting up to `cap`."""
        ...

    def mark_read(self, recipient: str, notice_id: str, at: datetime) -> bool:
        """Mark one unread notice read; False if there is no such unread notice."""
        ...

    def stamp_freeze(self, order_id: str, generation: int, *, frozen: bool) -> bool:
        """Copy an institution's freeze marker (generation `generation`) onto one of its
        orders, unless the order carries this generation or a newer one already."""
        ...

    def credit_code_holder(self, uscc: str) -> str | None:
        """The institution registered under a credit code (consistent read)."""
        ...

    def bank_account_holder(self, account: str) -> AccountHolder | None:
        """The institution that registered a bank account, if any (consistent read)."""
        ...

    def name_holder(self, name_key: str) -> str | None:
        """The institution holding a name's search form (consistent read)."""
        ...

    def directory(self, facet: str, region_prefix: str, limit: int, cursor: str | None
                  ) -> Page[Listed]:
        """The institutions one directory partition lists under a region prefix
        (chalicelib/domain/shop/directory.py), by region."""
        ...

    def institutions_named(self, institution_ids: list[str]) -> list[Institution]:
        """Those of these institutions that exist, in no particular order."""
        ...

    def announcement(self, institution_id: str, announcement_id: str
                     ) -> Announcement | None: ...

    def announcements_of(self, institution_id: str, limit: int, cursor: str | None
                         ) -> Page[Announcement]:
        """A shop's announcements, newest first."""
        ...

    def consultation(self, consultation_id: str) -> Consultation | None: ...

    def consultations_of_parent(self, parent_sub: str, limit: int, cursor: str | None
                                ) -> Page[Consultation]:
        """A parent's questions, newest first."""
        ...

    def consultations_of_institution(self, institution_id: str, status: str, limit: int,
                                     cursor: str | None) -> Page[Consultation]:
        """An institution's consultations of one status ("" all: awaiting an answer first),
        newest first."""
        ...
