"""A consumption (消课): one lesson of one order, from recording to release.

    pending_confirmation -> confirmed -> releasing -> released
            |  ^                  ^          |
            v  | (parent confirms)|          | (bank failed: void, attempt + 1)
          disputed                +----------+

A pending consumption is confirmed by the parent or, after the policy's number of working
days of silence, automatically. A disputed one waits for the parent (or, later, a regulator)
and stops the order's releases meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from chalicelib.domain.calendar import SHANGHAI


class ConsumptionStatus(StrEnum):
    PENDING_CONFIRMATION = "pending_confirmation"
    DISPUTED = "disputed"
    CONFIRMED = "confirmed"
    RELEASING = "releasing"
    RELEASED = "released"


CONFIRMABLE = frozenset({ConsumptionStatus.PENDING_CONFIRMATION, ConsumptionStatus.DISPUTED})
ALREADY_CONFIRMED = frozenset(
    {ConsumptionStatus.CONFIRMED, ConsumptionStatus.RELEASING, ConsumptionStatus.RELEASED}
)


class ConfirmedBy(StrEnum):
    PARENT = "parent"
    AUTO = "auto"


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

    @property
    def confirm_deadline(self) -> datetime:
        """Silence until the end of the confirm-by day (Asia/Shanghai) confirms the lesson."""
        return datetime.combine(self.confirm_by + timedelta(days=1), time(), SHANGHAI)

    @property
    def instruction_id(self) -> str:
        """The bank instruction of the current release attempt."""
        return instruction_id(self.consumption_id, self.attempt)


def instruction_id(consumption_id: str, attempt: int) -> str:
    return f"bki_{consumption_id.removeprefix('con_')}_{attempt}"
