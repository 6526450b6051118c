"""Liquidations: a regulator's order, and its progress."""

from __future__ import annotations

from pydantic import BaseModel

from chalicelib.api.schemas.common import Time
from chalicelib.domain.liquidation import LiquidationStatus, PendingLessons


class LiquidationView(BaseModel):
    institution_id: str
    status: LiquidationStatus
    """`listing` its orders, `refunding` them, `completed` once every order is done and
    every fen it set out to refund was paid back."""
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
