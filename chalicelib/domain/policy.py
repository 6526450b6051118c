"""Province policy: the numbers the regulations leave to each province, as data.

Each version takes effect on a date; `PolicyBook.effective_on` picks the one in force. The
defaults are the national rules (DOMAIN.md); a province's file overrides what it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Policy:
    effective_from: date = date(2021, 7, 24)
    auto_confirm_working_days: int = 15
    payment_window_minutes: int = 30
    max_lessons_per_charge: int = 60
    max_fen_per_charge: int = 500_000
    settlement_grace_minutes: int = 10

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int) and value <= 0:
                raise ValueError(f"policy {f.name} must be positive, got {value}")


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
