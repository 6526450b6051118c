"""Liquidations: a regulator's order, and its progress."""

from __future__ import annotations

from pydantic import BaseModel

from chalicelib.api.schemas.common import Time
from chalicelib.domain.institutions.liquidation import LiquidationStatus, PendingLessons


class HeldView(BaseModel):
    """Money of one kind still in the escrow."""

    count: int
    fen: int
    ids: list[str]
    """The first ten of them."""


class OutstandingView(BaseModel):
    """What the institution's escrow still held when every order was last found done."""

    orders: HeldView
    """Orders whose held + releasing + refunding is not zero."""
    releases_parked: HeldView
    """Lessons whose release the bank refused or kept failing (ops retry them)."""
    refunds_in_flight: HeldView
    """Refunds approved and not yet paid back (being paid, or parked for ops)."""
    returns_awaiting: HeldView
    """Payments that matched no order, not yet returned from its supervised accounts."""


class LiquidationView(BaseModel):
    institution_id: str
    status: LiquidationStatus
    """`listing` its orders, `refunding` them, `escrow_held` once every order is done and
    its refunds paid back while the escrow still holds money (`outstanding` names it),
    `completed` once the escrow is empty."""
    reason: str
    started_at: Time
    started_by: str
    pending_lessons: PendingLessons = PendingLessons.RETURN
    """What it does with lessons not yet confirmed: always `return` (its institution is
    frozen, and silence confirms nothing of a frozen institution)."""
    orders_listed: bool
    """Every order is counted in `orders_total`."""
    orders_total: int
    orders_done: int
    lessons_refunded: int
    fen_to_refund: int
    """What the orders done had unconsumed (it grows until every order is done)."""
    fen_refunded: int
    """What the bank has paid back of it."""
    completed_at: Time | None
    outstanding: OutstandingView | None
    """What was still held at the last look once every order was done (null before)."""
