"""The order: one prepaid contract for N lessons of one course for one student.

It is the unit of escrow and of consistency. Invariant after every committed write:

    paid = held + releasing + released + refunding + refunded          (all >= 0)
    purchased = remaining + pending_confirmation + confirmed_unreleased + released + refunded

Changes are expressed as a `Movement`: signed deltas of the counters plus the statuses it may
start from. The storage adapter turns a movement into one conditional update whose condition
keeps every decremented counter non-negative and the status legal, so the check happens inside
the write, never in Python between a read and a write.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from chalicelib.domain.errors import StateConflict


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    COMPLETED = "completed"
    EXPIRED = "expired"


MONEY_BUCKETS = ("held_fen", "releasing_fen", "released_fen", "refunding_fen", "refunded_fen")
LESSON_BUCKETS = (
    "lessons_remaining",
    "lessons_pending_confirmation",
    "lessons_confirmed_unreleased",
    "lessons_released",
    "lessons_refunded",
)
COUNTERS = (
    "paid_fen", *MONEY_BUCKETS, *LESSON_BUCKETS, "open_disputes", "open_refunds",
    "lessons_withdrawn", "remainder_carried", "refunds_dismissed",
)
UNBLOCKED = {"open_disputes": 0, "open_refunds": 0, "frozen": 0}
"""What a release and a new lesson require of their order: no dispute or refund request
open, and its institution not frozen."""


@dataclass(frozen=True)
class Order:
    order_id: str
    parent_sub: str
    student_id: str
    institution_id: str
    course_id: str
    region_code: str
    status: OrderStatus
    amount_fen: int
    lessons: int
    created_at: datetime
    expires_at: datetime
    supervised_bank_account: str
    general_bank_account: str
    custodian_bank: str = ""
    """The bank of the supervised account it is paid into (an institution may register new
    accounts later: the order keeps the ones it was made with)."""
    paid_fen: int = 0
    held_fen: int = 0
    releasing_fen: int = 0
    released_fen: int = 0
    refunding_fen: int = 0
    refunded_fen: int = 0
    lessons_remaining: int = 0
    lessons_pending_confirmation: int = 0
    lessons_confirmed_unreleased: int = 0
    lessons_released: int = 0
    lessons_refunded: int = 0
    open_disputes: int = 0
    open_refunds: int = 0
    """Refund requests awaiting a decision (at most one)."""
    lessons_withdrawn: int = 0
    """Lessons recorded and then withdrawn (returned to the order unpaid): they keep their
    numbers, so the next lesson recorded is numbered after them."""
    remainder_carried: int = 0
    """1 once a live consumption or a refund carries the order's rounding remainder (the
    fen that floor(paid / lessons) leaves over), so it is charged exactly once
    (chalicelib/domain/escrow/lesson_money.py)."""
    journal_seq: int = 0
    journal_head: str = ""
    paid_at: datetime | None = None
    payer_bank_account: str = ""
    """The account the payment came from: where a refund goes back to (the original route)."""
    frozen: int = 0
    """1 while the institution is frozen: the freeze marker its fan-out copies onto the order
    (chalicelib/service/institutions/freezes.py), which the money paths require to be 0 in their own
    condition."""
    freeze_generation: int = 0
    """The institution's freeze generation the marker was copied from."""
    liquidated_at: datetime | None = None
    """When its institution's liquidation finished with it: nothing is left on it to
    consume, its unconsumed money is being refunded
    (chalicelib/domain/institutions/liquidation.py)."""
    liquidation_refund_id: str = ""
    """The refund that pays its unconsumed lessons back in a liquidation (named by the
    transaction that reserves it)."""
    refunds_dismissed: int = 0
    """Escalated refund requests a regulator dismissed; each sets `refund_again_on`, and a
    request opening requires the count as it read it (so it read the day that goes with
    it)."""
    refund_again_on: date | None = None
    """The first business day a refund request may open on it again, after the last
    dismissal (chalicelib/domain/refunds/refund.py, `check_may_ask_again`)."""

    @property
    def blocked(self) -> bool:
        """A release or a new lesson must wait (UNBLOCKED does not hold)."""
        return bool(self.open_disputes or self.open_refunds or self.frozen)

    @property
    def escrow_fen(self) -> int:
        """What it keeps in its supervised account: its share of that account's ledger
        balance."""
        return self.held_fen + self.releasing_fen + self.refunding_fen

    @property
    def holds_escrow(self) -> bool:
        """Money is in its supervised account, or its parent was told to pay into it."""
        return self.status is OrderStatus.PENDING_PAYMENT or self.escrow_fen > 0


@dataclass(frozen=True)
class Movement:
    """A change of an order's counters, legal only from `from_statuses`."""

    name: str
    from_statuses: frozenset[OrderStatus]
    deltas: dict[str, int] = field(default_factory=dict)
    to_status: OrderStatus | None = None

    def decrements(self) -> dict[str, int]:
        return {name: -delta for name, delta in self.deltas.items() if delta < 0}


def new_order_lessons(order: Order) -> Order:
    """A new order starts with every purchased lesson remaining and no money."""
    return replace(order, lessons_remaining=order.lessons)


def apply(order: Order, movement: Movement) -> Order:
    """The order after `movement`, or StateConflict if the movement is not legal now."""
    if order.status not in movement.from_statuses:
        raise StateConflict(
            f"订单当前状态（{order.status}）不允许此操作",
            code="order_state_conflict",
            order_id=order.order_id,
            status=str(order.status),
            action=movement.name,
        )
    changes: dict[str, object] = {}
    for name, delta in movement.deltas.items():
        value = getattr(order, name) + delta
        if value < 0:
            raise StateConflict(
                "订单余额或课时不足", code="order_balance_conflict", order_id=order.order_id,
                counter=name,
            )
        changes[name] = value
    if movement.to_status is not None:
        changes["status"] = movement.to_status
    return replace(order, **changes)  # type: ignore[arg-type]


_ACTIVE = frozenset({OrderStatus.PAID})


def payment(order: Order) -> Movement:
    """The bank confirmed the payment of the whole order amount into the supervised account."""
    return Movement(
        "payment",
        frozenset({OrderStatus.PENDING_PAYMENT}),
        {"paid_fen": order.amount_fen, "held_fen": order.amount_fen},
        OrderStatus.PAID,
    )


def expiry() -> Movement:
    return Movement("expire", frozenset({OrderStatus.PENDING_PAYMENT}), {}, OrderStatus.EXPIRED)


def lesson_recorded(*, carries_remainder: bool = False) -> Movement:
    deltas = {"lessons_remaining": -1, "lessons_pending_confirmation": 1}
    if carries_remainder:
        deltas["remainder_carried"] = 1
    return Movement("record_lesson", _ACTIVE, deltas)


def lesson_confirmed(*, was_disputed: bool) -> Movement:
    deltas = {"lessons_pending_confirmation": -1, "lessons_confirmed_unreleased": 1}
    if was_disputed:
        deltas["open_disputes"] = -1
    return Movement("confirm_lesson", _ACTIVE, deltas)


def lesson_disputed() -> Movement:
    return Movement("dispute_lesson", _ACTIVE, {"open_disputes": 1})


def release_reserved(amount_fen: int) -> Movement:
    return Movement(
        "reserve_release", _ACTIVE, {"held_fen": -amount_fen, "releasing_fen": amount_fen}
    )


def release_voided(amount_fen: int) -> Movement:
    return Movement(
        "void_release", _ACTIVE, {"releasing_fen": -amount_fen, "held_fen": amount_fen}
    )


def release_posted(order: Order, amount_fen: int) -> Movement:
    """The bank moved one lesson's money to the general account. The last one completes it."""
    finishes = (
        order.lessons_released + order.lessons_refunded + 1 == order.lessons
        and order.releasing_fen == amount_fen
        and order.held_fen == 0
        and order.refunding_fen == 0  # a refund still being paid out completes it instead
    )
    return Movement(
        "post_release",
        _ACTIVE,
        {
            "releasing_fen": -amount_fen,
            "released_fen": amount_fen,
            "lessons_confirmed_unreleased": -1,
            "lessons_released": 1,
        },
        OrderStatus.COMPLETED if finishes else None,
    )


def release_booked_late(order: Order, amount_fen: int) -> Movement:
    """The bank executed a release after its reservation was voided: the lesson's money
    leaves held money for the general account (the last one completes the order)."""
    finishes = (
        order.lessons_released + order.lessons_refunded + 1 == order.lessons
        and order.releasing_fen == 0
        and order.held_fen == amount_fen
        and order.refunding_fen == 0
    )
    return Movement(
        "book_late_release",
        _ACTIVE,
        {
            "held_fen": -amount_fen,
            "released_fen": amount_fen,
            "lessons_confirmed_unreleased": -1,
            "lessons_released": 1,
        },
        OrderStatus.COMPLETED if finishes else None,
    )


def payment_reference(order_id: str) -> str:
    """The reference a payer quotes to the bank: the order's ULID behind a `P`."""
    return "P" + order_id.removeprefix("ord_")


def order_id_for_reference(reference: str) -> str | None:
    body = reference[1:]
    if not reference.startswith("P") or len(body) != 26 or not body.isalnum():
        return None
    return "ord_" + body.upper()
