"""Province policy: the numbers the regulations leave to each province, as data.

Each version takes effect on a date; `PolicyBook.effective_on` picks the one in force. The
defaults are the national rules (DOMAIN.md); a province's file overrides what it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any

MAX_RECORD_WINDOW_HOURS = 14 * 24
"""A student's time slots are kept 30 days (chalicelib/domain/timeslots.py): a lesson may
never be recorded so late that the slots it must not overlap are already forgotten."""
LIQUIDATION_PENDING_LESSONS = frozenset({"return", "confirm"})
DEPARTMENTS = frozenset({"education", "science", "culture", "sports"})

DEFAULT_COMPLAINT_ROUTING = {
    "subject": "education",
    "sports": "sports",
    "arts": "culture",
    "science": "science",
    "default": "education",
}
"""The competent department for a complaint: subject training by its type, other training by
its discipline (`academic`, `sports`, `arts`, `science`, `other`), anything unlisted by
`default` (education, which also coordinates)."""


@dataclass(frozen=True)
class Policy:
    effective_from: date = date(2021, 7, 24)
    auto_confirm_working_days: int = 15
    payment_window_minutes: int = 30
    max_lessons_per_charge: int = 60
    max_fen_per_charge: int = 500_000
    settlement_grace_minutes: int = 10
    lesson_record_window_hours: int = 72
    """A lesson must be recorded within this many hours of its end."""
    lesson_length_tolerance_minutes: int = 10
    """A lesson may be this many minutes shorter or longer than its course's lesson length."""
    refund_decision_working_days: int = 5
    """The institution's time to decide a refund request; silence after it approves."""
    dispute_answer_working_days: int = 10
    """A dispute still open after this many working days goes to the regulator."""
    refund_payout_days_before_start: int = 5
    refund_payout_days_after_start: int = 15
    """Calendar days from the request in which an approved refund must reach the payer."""
    liquidation_pending_lessons: str = "return"
    """What a liquidation does with lessons not yet confirmed: `return` them to the order
    (refunded with it: teaching stopped) or `confirm` them (released to the institution)."""
    complaint_institution_working_days: int = 3
    """The institution's time to answer a complaint; silence sends it to the department."""
    complaint_parent_working_days: int = 5
    """The parent's time to accept or reject the institution's answer; silence accepts."""
    complaint_department_working_days: int = 13
    """The department's time to resolve a case; overdue, it escalates one level."""
    complaint_routing: dict[str, str] = field(
        default_factory=lambda: dict(DEFAULT_COMPLAINT_ROUTING))

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int) and value <= 0:
                raise ValueError(f"policy {f.name} must be positive, got {value}")
        if self.liquidation_pending_lessons not in LIQUIDATION_PENDING_LESSONS:
            raise ValueError("policy liquidation_pending_lessons must be one of "
                             f"{sorted(LIQUIDATION_PENDING_LESSONS)}")
        routing = self.complaint_routing
        if "default" not in routing or not set(routing.values()) <= DEPARTMENTS:
            raise ValueError("policy complaint_routing needs a `default` and names only the "
                             f"departments {sorted(DEPARTMENTS)}")
        if self.lesson_record_window_hours > MAX_RECORD_WINDOW_HOURS:
            raise ValueError(
                f"policy lesson_record_window_hours must be at most {MAX_RECORD_WINDOW_HOURS}"
            )


@dataclass(frozen=True)
class PolicyBook:
    versions: tuple[Policy, ...]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PolicyBook:
        """`{"versions": [{"effective_from": "2021-07-24", ...overrides}, ...]}`."""
        base = Policy()
        versions = []
        for raw in data.get("versions", []) or [{}]:
            changes = dict(raw)
            if "effective_from" in changes:
                changes["effective_from"] = date.fromisoformat(changes["effective_from"])
            base = replace(base, **changes)
            versions.append(base)
        return cls(tuple(sorted(versions, key=lambda p: p.effective_from)))

    def effective_on(self, day: date) -> Policy:
        in_force = [p for p in self.versions if p.effective_from <= day]
        if not in_force:
            raise ValueError(f"no policy in force on {day}")
        return in_force[-1]
