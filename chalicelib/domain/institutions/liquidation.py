"""Liquidation: an institution that closes or cannot teach any more is frozen, and every
order's unconsumed money goes back to the payer through the custodian bank.

    listing --every order listed (counted)--> refunding --a listing pass finds every order
                                                 ^  |   done, every refund paid, the escrow
                   no order done since the last  |  |   empty--> completed
                   look, or every order done:    +--+            ^
                   listed (and counted) again       |            | a later pass finds
                                                    +--> escrow_held (what is left named,
                                                    every order done and its refunds
                                                    paid, money still held: looked at
                                                    again until ops clear it)

A regulator starts it once; the same transaction freezes the institution. Listing waits
`LIST_AFTER` (longer than a purchase that read the institution before the freeze can take
to write its order), then pages through the institution's orders and queues one message per
order on the liquidation queue. Each order is liquidated exactly once (its `liquidated_at`
is set on condition it is absent), whatever the queue delivers twice or loses:

    1. the freeze marker on the order (nothing new consumes it, no payment lands on it)
    2. an unpaid order expires; a paid one has its lessons pending confirmation returned to
       the order (teaching stopped, and silence confirms nothing of a frozen institution:
       chalicelib/service/escrow/silence.py), and its disputed ones (no one is left to answer)
    3. a refund request awaiting a decision is approved; otherwise the remaining lessons
       are refunded by a refund of the liquidation's own (`rfd_<the order's ULID>`)
    4. the order is marked done in one transaction with its immutable record (what it had
       unconsumed, and the refund that pays it back) and the progress counters

Confirmed lessons were taught and accepted: they are the institution's and are released as
usual once the order is done (nothing is left on it to consume). Progress lives on sharded
counters next to the liquidation, never on the institution nor on the money path: a refund
the liquidation made is counted as paid by its own scheduled step once the bank paid it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.escrow.order import Movement, Order, OrderStatus

LIST_AFTER = timedelta(minutes=3)
"""After the freeze: longer than a purchase can take between reading the institution and
writing its order (the freeze's second pass waits 2 minutes for the same reason)."""
WATCH_AFTER = timedelta(minutes=10)
"""Between two looks at the progress once every order is listed."""
PROGRESS_SHARDS = 16
"""Twice the liquidation worker's reserved concurrency (.chalice/config.json): two done
orders rarely meet on one shard, and a transaction that does is retried."""


class LiquidationStatus(StrEnum):
    LISTING = "listing"
    REFUNDING = "refunding"
    ESCROW_HELD = "escrow_held"
    """Every order is done and every fen of its own refunds paid back, yet the escrow still
    holds money (`outstanding` says what): parked payouts and returns wait for ops."""
    COMPLETED = "completed"


NAMED = 10
"""How many of each kind of money still held a liquidation names by id."""


@dataclass(frozen=True)
class Held:
    """Money of one kind still in an institution's escrow: how many, how much, and the
    first NAMED of them by id."""

    count: int = 0
    fen: int = 0
    ids: tuple[str, ...] = ()

    def with_one(self, item_id: str, fen: int) -> Held:
        ids = self.ids if len(self.ids) >= NAMED else (*self.ids, item_id)
        return Held(self.count + 1, self.fen + fen, ids)


@dataclass(frozen=True)
class Outstanding:
    """What keeps a liquidation from completing: the supervised ledger balance of its
    institution (its orders' held + releasing + refunding) and what its supervised
    accounts received for no order, with what holds them."""

    orders: Held = Held()
    """Orders whose held + releasing + refunding is not zero."""
    releases_parked: Held = Held()
    """Lessons confirmed whose release the bank refused or kept failing: ops retry them."""
    refunds_in_flight: Held = Held()
    """Refunds approved and not yet paid back (being paid, or parked for ops)."""
    returns_awaiting: Held = Held()
    """Payments that matched no order, not yet returned from its supervised accounts."""

    @property
    def empty(self) -> bool:
        return not (self.orders.count or self.releases_parked.count
                    or self.refunds_in_flight.count or self.returns_awaiting.count)


class PendingLessons(StrEnum):
    """What a liquidation does with lessons recorded and not yet confirmed: it returns them
    (its institution is frozen, and silence confirms nothing of a frozen institution). Kept
    as the answer's `pending_lessons` for the clients that read it."""

    RETURN = "return"


@dataclass(frozen=True)
class Liquidation:
    institution_id: str
    region_code: str
    reason: str
    started_at: datetime
    started_by: str
    freeze_generation: int
    """The freeze generation it stamps onto each order."""
    status: LiquidationStatus
    list_from: datetime
    listing_pass: int = 1
    """1 while listing the orders for the first time, 2 while listing them again (to queue
    those whose messages were lost, or to check that every order is done), 0 between
    passes. Every pass counts the orders."""
    cursor: str = ""
    """Where the listing goes on (the institution's orders index), "" from the start."""
    listed: int = 0
    """Orders the pass under way has listed so far, and how many of them it queued (not
    done yet)."""
    queued: int = 0
    orders_total: int = 0
    """The institution's orders, as the last complete listing pass counted them."""
    orders_done_seen: int = 0
    """Orders done at the last look: no progress since means messages were lost."""
    completed_at: datetime | None = None
    next_step_at: datetime | None = None
    """When its job may act next (a page of listing at once, or the next look): checked
    against the platform's clock, whatever a sweep message says (`list_from` before)."""
    holding: Held = Held()
    """The pass under way: the orders it found holding money so far."""
    accounts: tuple[str, ...] = ()
    """The pass under way: the supervised accounts its orders were paid into so far."""
    outstanding: Outstanding | None = None
    """What the last pass that found every order done found still held (None before)."""

    @property
    def why(self) -> str:
        """The reason it gives on what it returns, confirms or refunds."""
        return f"机构清算：{self.reason}"


@dataclass(frozen=True)
class Progress:
    """The liquidation's counters, summed over its shards."""

    orders_done: int = 0
    lessons_refunded: int = 0
    fen_to_refund: int = 0
    fen_refunded: int = 0

    def __add__(self, other: Progress) -> Progress:
        return Progress(
            self.orders_done + other.orders_done,
            self.lessons_refunded + other.lessons_refunded,
            self.fen_to_refund + other.fen_to_refund,
            self.fen_refunded + other.fen_refunded,
        )

    def finished(self, orders_total: int) -> bool:
        """Every order counted is done and every fen it set out to refund was paid back."""
        return (self.orders_done == orders_total
                and self.fen_refunded == self.fen_to_refund)


@dataclass(frozen=True)
class OrderLiquidated:
    """An order's record of its liquidation: written once, never changed (the unconsumed
    lessons of a closed institution matter when its penalties are computed)."""

    order_id: str
    institution_id: str
    order_status: str
    lessons: int
    """Unconsumed lessons refunded (pending ones returned by the liquidation included)."""
    amount_fen: int
    refund_id: str
    """The refund that pays them back ("" when nothing was left)."""
    liquidated_at: datetime


def progress_shard(order_id: str) -> int:
    return zlib.crc32(order_id.encode()) % PROGRESS_SHARDS


def refund_id_of(order_id: str) -> str:
    """The liquidation's own refund of an order's remaining lessons (created once)."""
    return "rfd_" + order_id.removeprefix("ord_")


_SETTLED = frozenset({OrderStatus.PAID, OrderStatus.COMPLETED})


def marked_done(order: Order) -> tuple[Movement, dict[str, int]]:
    """Marking `order` done, and what it requires of the order: a paid one keeps nothing to
    consume (its remaining lessons refunded, none pending, no request awaiting a decision);
    its refund may complete it meanwhile. An unpaid one has expired."""
    if order.status in _SETTLED:
        expects = {"lessons_remaining": 0, "lessons_pending_confirmation": 0,
                   "open_refunds": 0}
        return Movement("liquidate_order", _SETTLED), expects
    return Movement("liquidate_order", frozenset({OrderStatus.EXPIRED})), {}
