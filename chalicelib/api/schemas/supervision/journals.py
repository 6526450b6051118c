"""An order's journal, entry by entry, with its hash chain verified on the read."""

from __future__ import annotations

from pydantic import BaseModel


class JournalEntryView(BaseModel):
    seq: int
    transfer_id: str
    phase: str
    """single, pending, post or void."""
    debit_account: str
    credit_account: str
    amount_fen: int
    occurred_at: str
    pending_id: str
    cause: str
    """What moved it: a bank transaction id, a consumption, a refund request."""
    prev_hash: str
    hash: str


class ChainBreakView(BaseModel):
    seq: int
    """The first entry that is missing or does not match its chain."""
    reason: str
    """missing or altered."""


class JournalView(BaseModel):
    order_id: str
    institution_id: str
    verified: bool
    """The chain holds from the first entry to the order's own head."""
    broken: ChainBreakView | None
    head_hash: str
    """The order's own record of its chain's head."""
    entries: list[JournalEntryView]
