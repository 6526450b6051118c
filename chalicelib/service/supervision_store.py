"""What the regulators' side reads and keeps of the money (docs/data-model.md): the bank book
by account and day, and each account's daily reconciliation. Part of the Store."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from chalicelib.domain.escrow.bank import BankInstruction
from chalicelib.domain.escrow.bank_book import BankEntry
from chalicelib.domain.supervision.reconciliation import Reconciliation
from chalicelib.service.ports import Page


class SupervisionStore(Protocol):
    def bank_entries_on(self, account: str, day: date) -> list[BankEntry]:
        """Every entry of the bank book booked on `account` on `day` (by the bank's time)."""
        ...

    def bank_entries(self, entry_keys: list[str]) -> dict[str, BankEntry]:
        """The entries of these keys that exist, by key."""
        ...

    def instructions(self, instruction_ids: list[str]) -> dict[str, BankInstruction]:
        """The instructions of these ids that exist, by id."""
        ...

    def reconciliation(self, account: str, day: date) -> Reconciliation | None: ...

    def save_reconciliation(self, result: Reconciliation) -> None:
        """Keep a day's reconciliation of an account (a run of that day again replaces it)."""
        ...

    def day_reconciled(self, day: date) -> bool:
        """Whether a scheduled run reconciled every account for `day`."""
        ...

    def mark_day_reconciled(self, day: date, at: datetime, accounts: int) -> None: ...

    def reconciliations_on(self, day: date, region_prefix: str, limit: int,
                           cursor: str | None) -> Page[Reconciliation]:
        """A day's reconciliations of the accounts whose institution is under the prefix."""
        ...

    def reconciliations_of(self, account: str, limit: int, cursor: str | None
                           ) -> Page[Reconciliation]:
        """An account's reconciliations, newest day first."""
        ...
