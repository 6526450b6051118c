"""Everything a use case needs, passed in once by the composition root (bootstrap.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.calendar import WorkingDayCalendar, business_date
from chalicelib.domain.policy import Policy
from chalicelib.domain.policy_book import PolicyBook
from chalicelib.service.ports import BankGateway, Clock, Metrics, Push, Schedule, WorkPublisher
from chalicelib.service.store import Store


@dataclass(frozen=True)
class Context:
    store: Store
    schedule: Schedule
    bank: BankGateway
    publisher: WorkPublisher
    push: Push
    clock: Clock
    metrics: Metrics
    policies: PolicyBook
    calendar: WorkingDayCalendar
    new_id: Callable[[str], str]
    derived_id: Callable[..., str]
    province_code: str

    def now(self) -> datetime:
        return self.clock.now()

    def policy(self, region_code: str) -> Policy:
        """The policy in force on today's business date (Asia/Shanghai) for a region of this
        province: the institution's own (a county's code: its county's rules, else its
        city's, else its province's; chalicelib/service/local_policy.py). There is no
        default: a deadline counted with another region's numbers is a wrong deadline."""
        if not region_code.startswith(self.province_code):
            raise ValueError(f"region {region_code!r} is not of province {self.province_code}")
        return self.policies.policy(region_code, business_date(self.now()))
