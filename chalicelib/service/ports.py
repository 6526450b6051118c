"""Ports: what the service layer needs from the outside world.

Adapters in chalicelib/adapters implement these; tests may pass fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, Protocol, TypeVar

from chalicelib.domain.messages.notice import Notice
from chalicelib.domain.supervision.statement import Statement

T = TypeVar("T")


@dataclass(frozen=True)
class TransferInstruction:
    """An instruction to the custodian bank: move `amount_fen` between two accounts.

    `instruction_id` is the idempotency key at the bank: the same id is executed at most once,
    however often it is sent.
    """

    instruction_id: str
    from_account: str
    to_account: str
    amount_fen: int


@dataclass(frozen=True)
class BankRecord:
    """What the bank says it did with an instruction id it executed."""

    succeeded: bool
    reason: str = ""
    executed_at: datetime | None = None
    """When the bank executed it, by its clock (None if its record does not say)."""


class BankGateway(Protocol):
    def instruct_transfer(self, instruction: TransferInstruction) -> None:
        """Send (or resend) an instruction. Raises BankUnavailable if the bank cannot be
        reached, BankRefused if it refuses the instruction for good.

        The outcome arrives later as a signed `transfer_succeeded` / `transfer_failed`
        notification to POST /v1/bank/notifications.
        """

    def executed(self, instruction_id: str) -> BankRecord | None:
        """The bank's own record of an instruction id: None if it never executed it.
        Raises BankUnavailable if the bank cannot be asked."""

    def statement(self, account: str, day: date) -> Statement:
        """The bank's statement of `account` for a business day it has closed. Raises
        BankUnavailable if the bank cannot be asked, has not closed the day, or sent a
        statement that cannot be read (asked again later)."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""


@dataclass(frozen=True)
class SweepTask:
    """Handle `job`'s items of one shard due at or before `until`, from `cursor` on
    (chalicelib/service/jobs/sweeps.py)."""

    job: str
    shard: int
    until: datetime
    cursor: str | None = None


class WorkPublisher(Protocol):
    def publish_settlement(
        self, order_id: str, consumption_id: str, attempt: int, *, redrive: str = ""
    ) -> None:
        """Queue settlement work for one confirmed consumption.

        FIFO: the group is the order, the deduplication id the consumption and attempt (plus
        `redrive`, a token the sweeper passes so that its re-drives are not deduplicated
        against a lost original).
        """

    def publish_sweep(self, task: SweepTask) -> None:
        """Queue a sweep task. FIFO: the group is the job and shard (one shard is swept by
        one worker at a time), the deduplication id the task itself."""

    def publish_liquidation(self, institution_id: str, order_ids: list[str]) -> None:
        """Queue one message per order of a liquidating institution (a standard queue: any
        order, at least once; liquidating an order is idempotent). Raises if any of them
        was not queued."""

    def publish_complaint(self, complaint_id: str) -> None:
        """Queue a filed complaint for routing (a standard queue: at least once; routing is
        done once, by a conditional write)."""


class Push(Protocol):
    def publish(self, notice: Notice) -> None:
        """Hand a notice to the push-notification service (at least once: the notice id is
        its deduplication key). Raises if it was not taken."""


class Metrics(Protocol):
    def gauge(self, name: str, value: int) -> None:
        """Report the current value of a quantity ops watch (and alarm on)."""


class Schedule(Protocol):
    """The work due at a time, per job (`expire`, `autoconfirm`, `settle`), in shards."""

    shards: int

    def due_page(
        self, job: str, shard: int, until: datetime, limit: int, cursor: str | None
    ) -> Page[str]:
        """Ids of one shard's items whose `job` is due at or before `until`, oldest first."""

    def due(self, job: str, now: datetime, limit: int) -> list[str]:
        """Up to `limit` ids per shard of the items due at or before `now`."""

    def reschedule(
        self, kind: str, entity_id: str, job: str, at: datetime, *, deferrals: int | None
    ) -> bool:
        """Move an item still scheduled for `job` to `at` (counting one more deferral when
        `deferrals`, the count read, is given); False if it made progress meanwhile."""


class WriteRejected(Exception):
    """An atomic write was not applied because a condition failed.

    `failed` names the parts of the write whose conditions failed (labels chosen by the
    caller, e.g. "order", "journal", "bank_event"); `contended` is True when the engine
    cancelled it only because another transaction touched the same items at the same time.
    """

    def __init__(self, failed: frozenset[str], *, contended: bool = False) -> None:
        super().__init__(f"write rejected: {sorted(failed) or 'contention'}")
        self.failed = failed
        self.contended = contended


class BankUnavailable(Exception):
    """The custodian bank could not be reached (a timeout, a 5xx); the instruction may be
    resent safely."""


class BankRefused(Exception):
    """The bank refused the instruction for good (a 4xx: an invalid or closed account, an
    instruction conflict); resending it unchanged will not help. `reason` is the bank's."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; `next_cursor` is opaque to callers and None on the last page."""

    items: list[T]
    next_cursor: str | None


def every_page(listing: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """Every item of a listing, page after page (`listing` answers the page at a cursor)."""
    cursor: str | None = None
    while True:
        page = listing(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


class InvalidCursor(Exception):
    """A pagination cursor that this listing did not issue."""
