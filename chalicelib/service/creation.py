"""Creating something under an id reserved by its request's Idempotency-Key.

A retry of the same request (after a crash, or a twin racing it) finds the id taken: the
thing it created is returned instead, provided it is the same caller's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from chalicelib.service import retry
from chalicelib.service.context import Context
from chalicelib.service.ports import WriteRejected

T = TypeVar("T")


def create_once(
    ctx: Context,
    entity: T,
    label: str,
    *,
    existing: Callable[[], T | None],
    same_caller: Callable[[T], bool],
) -> T:
    """Create `entity`, or find it made by this caller's earlier attempt. A write the engine
    cancelled for contention alone is tried again (a caller is never refused for that)."""

    def attempt() -> T:
        try:
            ctx.store.write().create(entity, label).commit()
        except WriteRejected:
            found = existing()
            if found is None or not same_caller(found):
                raise
            return found
        return entity

    return retry.on_conflict(attempt, retry_when=lambda rejected: rejected.contended)
