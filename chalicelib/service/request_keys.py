"""The port of the HTTP Idempotency-Key records: what the workflow in
chalicelib/api/idempotency.py needs from their storage (chalicelib/adapters/dynamo/
idempotency.py implements it). Each hook is one read or one conditional write; a failed
condition is a named error. Money never relies on these records: its idempotency is inside
the money transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class IdempotencyStoreError(Exception):
    """A conditional write to an idempotency record did not apply."""


class KeyAlreadyReserved(IdempotencyStoreError):
    """`reserve`: a live record already holds the key."""


class RecordChanged(IdempotencyStoreError):
    """The record is no longer the one the write was conditioned on: taken over, completed,
    released, or expired and reused."""


@dataclass(frozen=True)
class Reservation:
    """What a request holds while it runs under a key."""

    caller_sub: str
    key: str
    token: str
    resource_id: str


@dataclass(frozen=True)
class IdempotencyRecord:
    request_hash: str
    resource_id: str
    token: str  # "" on records written before tokens existed
    in_progress_until: datetime
    response_status: int = 0
    response_body: Any = None

    @property
    def completed(self) -> bool:
        return self.response_status > 0


class IdempotencyStore(Protocol):
    def reserve(self, held: Reservation, request_hash: str, now: datetime,
                lease_until: datetime) -> None:
        """Write a new record for `held` unless a live one holds the key (KeyAlreadyReserved)."""

    def take_over(self, found: IdempotencyRecord, held: Reservation, now: datetime,
                  lease_until: datetime) -> None:
        """Hand an abandoned record (its lease over) to `held`, if it is still as found."""

    def complete(self, held: Reservation, status: int, body: Any, now: datetime) -> None: ...

    def release(self, held: Reservation) -> None: ...

    def abandon(self, held: Reservation, now: datetime) -> None: ...

    def read(self, caller_sub: str, key: str, now: datetime) -> IdempotencyRecord | None: ...
