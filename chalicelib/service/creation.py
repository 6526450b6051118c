"""Creating something under an id reserved by its request's Idempotency-Key.

A retry of the same request (after a crash, or a twin racing it) finds the id taken: the
thing it created is returned instead, provided it is the same caller's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

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
    try:
        ctx.store.write().create(entity, label).commit()
    except WriteRejected:
        found = existing()
        if found is None or not same_caller(found):
            raise
        return found
    return entity
