"""A supervised account's business day reconciled with the bank's statement."""

from __future__ import annotations

import datetime

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import Page, PageQuery, Time


class DifferenceView(BaseModel):
    kind: str
    """missing_in_ledger, missing_in_bank, amount_differs, counterparty_differs,
    closing_balance_differs."""
    amount_fen: int
    """Signed for the account: the bank's side minus the ledger's."""
    key: str
    """The movement's key: an instruction id, a bank transaction id, the bank's own id."""
    serial: str
    """The bank's serial of its statement line (none for missing_in_bank)."""
    counterparty_masked: str


class ReconciliationView(BaseModel):
    account_masked: str
    day: datetime.date
    institution_id: str
    region_code: str
    department: str
    status: str
    """reconciled or differences."""
    differences: list[DifferenceView]
    bank_opening_fen: int
    bank_closing_fen: int
    ledger_closing_fen: int
    matched: int
    in_flight: int
    """Transfers the bank executed that the platform sent and had not yet heard back of."""
    reconciled_at: Time


class ReconciliationPage(Page):
    items: list[ReconciliationView]


class ReconciliationDayQuery(PageQuery):
    date: datetime.date = Field(description="the business day, YYYY-MM-DD")
