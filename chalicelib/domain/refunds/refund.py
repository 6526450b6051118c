"""A refund request: the parent asks for the unconsumed money of an order back.

    pending_decision --approve (institution, silence)--> refunding --bank paid--> refunded
          |                                            ^    |    ^
          +--reject--> rejected --parent escalates--> escalated  | the payout job reserves
                (the parent may   <--regulator dismisses--+  |    | and instructs again
                 ask again)             regulator orders ----+  |    |
                                                            v    |
                                          bank failed: void --> approved (attempt + 1)
                                          refused for good: void --> needs_review (ops retry,
                                                  or the parent names another account)

Before the course starts and with no lesson consumed, a request is approved at once, in full.
Otherwise the institution decides within the policy's working days and silence approves. A
parent who disagrees with a rejection escalates it to the regulators of the order's region,
who order the refund or dismiss the escalation; while it is escalated the order waits again.
The amount is what the order's remaining lessons are worth at the order's own prices,
counted when the request is approved (chalicelib/domain/escrow/lesson_money.py: the remainder is
charged exactly once), so released + refunded = paid exactly, with no fee.
While a request is open (awaiting a decision) the order's releases wait and no
lesson can consume it. Approval moves the money held -> refunding and instructs the bank
supervised -> the payer's account the payment came from; the bank's outcome posts it
(refunded) or voids it (held again) and the payout is retried, or parked for review on a
definitive refusal. The payout is due within the policy's days (before the course starts: 5;
after: 15).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from chalicelib.domain.calendar import SHANGHAI
from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.escrow import lesson_money
from chalicelib.domain.escrow.order import Movement, Order, OrderStatus

MAX_REFUND_ATTEMPTS = 8


class RefundStatus(StrEnum):
    PENDING_DECISION = "pending_decision"
    REJECTED = "rejected"
    APPROVED = "approved"
    """Approved, its payout voided by the bank: the money is held until the next attempt."""
    REFUNDING = "refunding"
    REFUNDED = "refunded"
    NEEDS_REVIEW = "needs_review"
    ESCALATED = "escalated"
    """Rejected, and taken by the parent to the regulator, who orders it or dismisses it."""


OPEN = frozenset({RefundStatus.PENDING_DECISION, RefundStatus.ESCALATED})
"""Awaiting a decision: the order's lessons and releases wait (the order's `open_refunds`)."""
IN_FLIGHT = frozenset({RefundStatus.APPROVED, RefundStatus.REFUNDING, RefundStatus.NEEDS_REVIEW})
"""Approved and not yet paid back: what a payout deadline applies to."""


class ApprovedBy(StrEnum):
    AT_ONCE = "at_once"
    INSTITUTION = "institution"
    SILENCE = "silence"
    REGULATOR = "regulator"
    WITHDRAWAL = "withdrawal"
    """A lesson withdrawn after the order's remaining money was refunded: its money follows
    at once (chalicelib/domain/refunds/dispute.py)."""
    LIQUIDATION = "liquidation"
    """The institution's liquidation: a request awaiting its decision approved, or the
    order's remaining lessons refunded by the liquidation's own refund."""


@dataclass(frozen=True)
class PayoutAccountChange:
    """The parent named another account for a refund whose route failed: kept on the
    request, never changed (who, when, the account, from which payout attempt on)."""

    account: str
    named_by: str
    """The role that named it: only the order's parent may."""
    named_sub: str
    at: datetime
    from_attempt: int


@dataclass(frozen=True)
class RefundRequest:
    refund_id: str
    order_id: str
    parent_sub: str
    institution_id: str
    region_code: str
    reason: str
    status: RefundStatus
    lessons: int
    """The order's remaining lessons: what is refunded (counted again on approval)."""
    amount_fen: int
    requested_at: datetime
    decide_by: date
    """The institution's last day to decide; silence after it approves."""
    decide_by_estimated: bool
    before_start: bool
    """Asked before the course started with nothing consumed (the shorter payout deadline)."""
    approved_by: ApprovedBy | None = None
    decided_at: datetime | None = None
    decided_by: str = ""
    rejection_reason: str = ""
    rejected_by: str = ""
    """The staff member who rejected it (`decided_by` is the regulator's once an escalation
    is decided): the rejection sent again by them is known for a retry."""
    payout_due: date | None = None
    attempt: int = 1
    refunded_at: datetime | None = None
    review_reason: str = ""
    deferrals: int = 0
    carries_remainder: bool = False
    """Its amount includes the order's rounding remainder (set on approval)."""
    escalated_at: datetime | None = None
    escalation_reason: str = ""
    """The parent's, when escalating a rejection."""
    regulator_reason: str = ""
    """The regulator's, when ordering the refund or dismissing the escalation."""
    first_attempt: int = 1
    """The attempt its payout's tries began with: 1, or the one ops paid it out again with
    after it was parked (each gets MAX_REFUND_ATTEMPTS tries)."""
    payout_account_changes: tuple[PayoutAccountChange, ...] = ()
    """Accounts the parent named after the original route failed; the last is the route."""

    def payout_account(self, paid_from: str) -> str:
        """Where its payout goes: the account the order was paid from (the original route),
        or the last one the parent named since."""
        return self.payout_account_changes[-1].account if self.payout_account_changes \
            else paid_from

    @property
    def decision_deadline(self) -> datetime:
        """Silence until the end of the decide-by day (Asia/Shanghai) approves it."""
        return datetime.combine(self.decide_by + timedelta(days=1), time(), SHANGHAI)

    @property
    def tries(self) -> int:
        """Attempts of its payout so far, counting from the last time it was (re)started."""
        return self.attempt - self.first_attempt + 1

    @property
    def out_of_tries(self) -> bool:
        return self.tries >= MAX_REFUND_ATTEMPTS

    def payout_overdue(self, today: date) -> bool:
        """Approved, not yet paid back, and past the day it was due to reach the payer."""
        return (self.status in IN_FLIGHT and self.payout_due is not None
                and today > self.payout_due)

    @property
    def instruction_id(self) -> str:
        """The bank instruction of the current payout attempt."""
        return f"bkr_{self.refund_id.removeprefix('rfd_')}_{self.attempt}"


def priced(request: RefundRequest, order: Order) -> RefundRequest:
    """`request` refunding what `order` has remaining now (a lesson withdrawn while the
    request waited comes back to the order, and so into the refund)."""
    share = lesson_money.refundable(order)
    return replace(request, lessons=share.lessons, amount_fen=share.amount_fen,
                   carries_remainder=share.carries_remainder)


_PAID = frozenset({OrderStatus.PAID})


def requested() -> Movement:
    """A request asked (or a rejection escalated): the order waits for its decision."""
    return Movement("request_refund", _PAID, {"open_refunds": 1})


def opening_expects(order: Order) -> dict[str, int]:
    """What opening a request on `order` requires of it: none open, the remaining lessons it
    was priced from unchanged (a lesson recorded meanwhile re-prices it), and no dismissal
    since it was read (which would have moved `refund_again_on`)."""
    return {"open_refunds": 0, "refunds_dismissed": order.refunds_dismissed,
            **lesson_money.expected_counters(order)}


def check_may_ask_again(order: Order, today: date) -> None:
    """A parent's request (new, or an older rejection escalated) opens only once the days
    after the last dismissed escalation have passed: while a request waits, the order's
    releases wait, and cycling request -> rejection -> escalation -> dismissal -> request
    would otherwise stop them for good."""
    if order.refund_again_on is not None and today < order.refund_again_on:
        raise RuleViolation(
            f"监管部门已驳回该订单的退款申诉，{order.refund_again_on} 起方可再次申请",
            code="refund_request_too_soon", order_id=order.order_id,
            again_on=order.refund_again_on.isoformat())


def closed_unapproved() -> Movement:
    """A request rejected by the institution: the order goes on."""
    return Movement("close_refund_request", _PAID, {"open_refunds": -1})


def dismissed() -> Movement:
    """An escalation dismissed by a regulator: the order goes on, and counts the dismissal
    (its `refund_again_on` set in the same write)."""
    return Movement("dismiss_refund_escalation", _PAID,
                    {"open_refunds": -1, "refunds_dismissed": 1})


def reserved(request: RefundRequest, *, was_open: bool) -> Movement:
    """Approval: the remaining lessons and their money leave the order for the payer."""
    deltas = {
        "held_fen": -request.amount_fen, "refunding_fen": request.amount_fen,
        "lessons_remaining": -request.lessons, "lessons_refunded": request.lessons,
    }
    if was_open:
        deltas["open_refunds"] = -1
    if request.carries_remainder:
        deltas["remainder_carried"] = 1
    return Movement("reserve_refund", _PAID, deltas)


def voided(request: RefundRequest) -> Movement:
    """The bank did not pay it out: the money is held again (its lessons stay refunded:
    nothing can consume them while the payout is retried or reviewed)."""
    return Movement("void_refund", _PAID, {
        "refunding_fen": -request.amount_fen, "held_fen": request.amount_fen,
    })


def rereserved(request: RefundRequest) -> Movement:
    """A payout retried (a new attempt, a new instruction): held -> refunding again."""
    return Movement("reserve_refund_again", _PAID, {
        "held_fen": -request.amount_fen, "refunding_fen": request.amount_fen,
    })


def posted(order: Order, request: RefundRequest) -> Movement:
    """The bank paid the payer back. With every lesson released or refunded and no money
    left on it, the order is complete."""
    return _paid_back(order, "post_refund", "refunding_fen", request.amount_fen)


def _paid_back(order: Order, name: str, source: str, amount_fen: int) -> Movement:
    """`amount_fen` leaves the order's `source` bucket for the payer; it completes the order
    when every lesson is released or refunded and no money is left on it."""
    deltas = {source: -amount_fen, "refunded_fen": amount_fen}
    finishes = (
        order.lessons_released + order.lessons_refunded == order.lessons
        and all(getattr(order, bucket) + deltas.get(bucket, 0) == 0
                for bucket in ("held_fen", "releasing_fen", "refunding_fen"))
    )
    return Movement(name, _PAID, deltas, OrderStatus.COMPLETED if finishes else None)


def booked_late(order: Order, request: RefundRequest) -> Movement:
    """The bank paid a payout back after its reservation was voided on its word (refused,
    and no record of it then): the money leaves held money for the payer (its lessons were
    refunded when it was approved). With nothing left on it, the order is complete."""
    return _paid_back(order, "book_late_refund", "held_fen", request.amount_fen)
