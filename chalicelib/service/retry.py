"""Bounded optimistic retries for writes that lose a race on the same order."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.service.ports import WriteRejected

T = TypeVar("T")

MAX_ATTEMPTS = 5


def on_conflict(attempt: Callable[[], T], *, retry_when: Callable[[WriteRejected], bool]) -> T:
    """Run `attempt` (which re-reads what it needs) until it commits or a rejection is final."""
    for _ in range(MAX_ATTEMPTS - 1):
        try:
            return attempt()
        except WriteRejected as rejected:
            if not retry_when(rejected):
                raise
    try:
        return attempt()
    except WriteRejected as rejected:
        if retry_when(rejected):
            raise ConcurrentUpdate("数据正被并发修改，请稍后重试") from rejected
        raise


def order_changed(rejected: WriteRejected) -> bool:
    """The order (or the engine's contention) stopped the write: re-read and try again."""
    return rejected.contended or rejected.failed <= {"order"}
