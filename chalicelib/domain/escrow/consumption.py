"""A consumption (消课): one lesson of one order, from recording to release.

    pending_confirmation -> confirmed -> releasing -> released
      |     |  ^                ^  ^         |
      |     v  | (parent        |  |         | bank failed: void, attempt + 1
      |   disputed  confirms)   |  +---------+
      |     |                   |            | bank refused for good (4xx), or failed
      |     |                   |            v MAX_RELEASE_ATTEMPTS times: void
      |     |                   +------- needs_review
      |     |                    ops retry, attempt + 1
      v     v
      withdrawn   by the institution, or returned by a regulator deciding an escalated
                  dispute (chalicelib/domain/refunds/dispute.py): it consumed nothing

A pending consumption is confirmed by the parent or, after the policy's number of working
days of silence, automatically. A disputed one waits for the institution's answer, the
parent's acceptance or, after the policy's working days, a regulator's decision
(chalicelib/domain/refunds/dispute.py), and stops the order's releases and new lessons meanwhile.
A release the bank will not execute is voided (its money is held again) and parked as
`needs_review` with the bank's reason, never left in `releasing`; ops retry it once the
account is fixed, under a new attempt and so a new bank instruction id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from chalicelib.domain.calendar import SHANGHAI
from chalicelib.domain.escrow.order import Order


class ConsumptionStatus(StrEnum):
    PENDING_CONFIRMATION = "pending_confirmation"
    DISPUTED = "disputed"
    CONFIRMED = "confirmed"
    RELEASING = "releasing"
    RELEASED = "released"
    NEEDS_REVIEW = "needs_review"
    WITHDRAWN = "withdrawn"
    """Returned to the order unpaid: it consumed nothing."""


WITHDRAWABLE = frozenset({ConsumptionStatus.PENDING_CONFIRMATION, ConsumptionStatus.DISPUTED})
CONFIRMABLE = frozenset({ConsumptionStatus.PENDING_CONFIRMATION, ConsumptionStatus.DISPUTED})
ALREADY_CONFIRMED = frozenset({
    ConsumptionStatus.CONFIRMED, ConsumptionStatus.RELEASING, ConsumptionStatus.RELEASED,
    ConsumptionStatus.NEEDS_REVIEW,
})
SETTLING = frozenset({ConsumptionStatus.CONFIRMED, ConsumptionStatus.RELEASING})
MAX_RELEASE_ATTEMPTS = 8
"""A release the bank failed this many times is parked for review instead of retried."""


class ConfirmedBy(StrEnum):
    PARENT = "parent"
    AUTO = "auto"
    REGULATOR = "regulator"
    LIQUIDATION = "liquidation"
    """Pending when its institution was liquidated under a policy that confirmed them (no
    longer made: a liquidation returns every lesson not yet confirmed; kept for the records
    it made)."""


@dataclass(frozen=True)
class Consumption:
    consumption_id: str
    order_id: str
    lesson_id: str
    institution_id: str
    parent_sub: str
    student_id: str
    course_id: str
    lesson_number: int
    amount_fen: int
    status: ConsumptionStatus
    recorded_at: datetime
    confirm_by: date
    confirm_by_estimated: bool
    attempt: int = 1
    confirmed_at: datetime | None = None
    confirmed_by: ConfirmedBy | None = None
    released_at: datetime | None = None
    dispute_reason: str = ""
    review_reason: str = ""
    """Why the bank would not release it (while `needs_review`)."""
    deferrals: int = 0
    """How often its pending work was put off without progress (the backoff's exponent)."""
    carries_remainder: bool = False
    """Its price includes the order's rounding remainder
    (chalicelib/domain/escrow/lesson_money.py)."""
    region_code: str = ""
    """The order's region: where an escalated dispute is listed for regulators."""
    disputed_at: datetime | None = None
    answer_by: date | None = None
    """Still disputed after this day, the dispute goes to the regulator."""
    answer_by_estimated: bool = False
    institution_note: str = ""
    """The institution's answer when it upholds the lesson."""
    answered_at: datetime | None = None
    escalated_at: datetime | None = None
    """Sent to the jurisdiction's regulator (still disputed): the regulator decides."""
    withdrawn_at: datetime | None = None
    withdrawn_by: str = ""
    """`institution`, `regulator` or `liquidation`."""
    resolution_reason: str = ""
    """Why it was withdrawn, or the regulator's reason for its decision."""
    window_generation: int = 0
    """The order's freeze generation when its parent's window to confirm (re)started: silence
    confirms it only while the order still carries that generation, unfrozen
    (`silence_confirms`). A freeze and its lifting move the order on, and the window starts
    again from the day the freeze ended (chalicelib/service/escrow/silence.py)."""

    @property
    def confirm_deadline(self) -> datetime:
        """Silence until the end of the confirm-by day (Asia/Shanghai) confirms the lesson."""
        return datetime.combine(self.confirm_by + timedelta(days=1), time(), SHANGHAI)

    def silence_confirms(self, order: Order, now: datetime) -> bool:
        """Still pending, its window over by the platform's clock, and its institution
        neither frozen nor frozen since the window started: the parent's silence confirms
        it (checked again inside the write: `silence_expects`)."""
        return (self.status is ConsumptionStatus.PENDING_CONFIRMATION
                and now >= self.confirm_deadline and not order.frozen
                and order.freeze_generation == self.window_generation)

    def silence_expects(self) -> dict[str, int]:
        """What the order must still hold when silence confirms this lesson: no freeze
        marker, and the generation its window started under."""
        return {"frozen": 0, "freeze_generation": self.window_generation}

    @property
    def answer_deadline(self) -> datetime:
        """Still disputed at the end of the answer-by day, it goes to the regulator."""
        assert self.answer_by is not None
        return datetime.combine(self.answer_by + timedelta(days=1), time(), SHANGHAI)

    @property
    def instruction_id(self) -> str:
        """The bank instruction of the current release attempt."""
        return instruction_id(self.consumption_id, self.attempt)


def instruction_id(consumption_id: str, attempt: int) -> str:
    return f"bki_{consumption_id.removeprefix('con_')}_{attempt}"
