"""The bank book and the daily reconciliations (docs/data-model.md, the supervision
patterns)."""

from __future__ import annotations

from datetime import date, datetime

from chalicelib.adapters.dynamo import keys, records
from chalicelib.adapters.dynamo.codec import to_attribute_values
from chalicelib.adapters.dynamo.reads import ItemReads
from chalicelib.domain.escrow.bank import BankInstruction, account_number
from chalicelib.domain.escrow.bank_book import BankEntry
from chalicelib.domain.supervision.reconciliation import Reconciliation
from chalicelib.service.ports import Page

ENTRIES_PAGE = 1000
"""Bank-book entries a page (DynamoDB may end a page sooner, at 1 MB)."""


class SupervisionReads(ItemReads):
    def bank_entries_on(self, account: str, day: date) -> list[BankEntry]:
        partition = keys.account_partition(account_number(account))
        entries: list[BankEntry] = []
        cursor: str | None = None
        while True:
            page = self._page(BankEntry, "gsi2", partition, keys.bank_day_prefix(day),
                              ENTRIES_PAGE, cursor)
            entries += page.items
            cursor = page.next_cursor
            if cursor is None:
                return entries

    def bank_entries(self, entry_keys: list[str]) -> dict[str, BankEntry]:
        found = self._many(BankEntry, [keys.key("bank_entry", k) for k in set(entry_keys)])
        return {entry.key: entry for entry in found}

    def instructions(self, instruction_ids: list[str]) -> dict[str, BankInstruction]:
        found = self._many(BankInstruction,
                           [keys.key("instruction", i) for i in set(instruction_ids)])
        return {instruction.instruction_id: instruction for instruction in found}

    def reconciliation(self, account: str, day: date) -> Reconciliation | None:
        return self._get(Reconciliation, keys.reconciliation_key(account_number(account), day))

    def save_reconciliation(self, result: Reconciliation) -> None:
        self.tables.client.put_item(TableName=self.tables.platform,
                                    Item=to_attribute_values(records.reconciliation(result)))

    def day_reconciled(self, day: date) -> bool:
        return self._raw(self.tables.platform, keys.reconciliation_run_key(day)) is not None

    def mark_day_reconciled(self, day: date, at: datetime, accounts: int) -> None:
        item = {**keys.reconciliation_run_key(day), "at": at.isoformat(), "accounts": accounts}
        self.tables.client.put_item(TableName=self.tables.platform,
                                    Item=to_attribute_values(item))

    def reconciliations_on(self, day: date, region_prefix: str, limit: int,
                           cursor: str | None) -> Page[Reconciliation]:
        return self._page(Reconciliation, "gsi3", keys.reconciliations_on(day), region_prefix,
                          limit, cursor)

    def reconciliations_of(self, account: str, limit: int, cursor: str | None
                           ) -> Page[Reconciliation]:
        return self._page(Reconciliation, None,
                          keys.reconciliation_partition(account_number(account)), "", limit,
                          cursor, newest_first=True)
