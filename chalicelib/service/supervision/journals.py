"""An order's journal as a regulator reads it, its hash chain verified on every read: a
broken chain is reported with the first bad entry, never hidden or repaired."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chalicelib.domain import ledger
from chalicelib.domain.escrow.order import Order
from chalicelib.service.caller import Caller, Role
from chalicelib.service.context import Context
from chalicelib.service.escrow import orders

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifiedJournal:
    order: Order
    entries: list[ledger.JournalEntry]
    broken: ledger.Break | None
    """The first entry where the chain fails (checked against the order's own head too)."""


def of_order(ctx: Context, caller: Caller, order_id: str) -> VerifiedJournal:
    """Regulators of the order's institution only; anyone else: 404 (or 403 if not a
    regulator)."""
    caller.require(Role.REGULATOR)
    order = orders.visible(ctx, caller, order_id)
    entries = sorted(ctx.store.journal(order_id), key=lambda e: e.seq)
    broken = ledger.first_break(entries, head_seq=order.journal_seq,
                                head_hash=order.journal_head)
    if broken is not None:
        log.error("the journal of %s is broken at entry %d (%s)", order_id, broken.seq,
                  broken.reason)
    return VerifiedJournal(order, entries, broken)
