"""A regulator's review decision on something awaiting it (an institution, a course).

Deciding twice the same way returns the decision, and so does the decision sent again by
the regulator who took it, with its reason, after the item moved on (a course approved,
then taken off sale); deciding what is no longer pending otherwise is a 409. The write is
conditioned on the item read, so two regulators cannot both decide; a write that loses a
race (the engine's transaction conflict, another write on the item) reads the item again
and decides again, so a decision is never refused for contention alone.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from enum import StrEnum
from typing import Any, TypeVar

from chalicelib.domain.errors import StateConflict
from chalicelib.service import retry
from chalicelib.service.caller import Caller
from chalicelib.service.context import Context

T = TypeVar("T")


def decide(
    ctx: Context,
    caller: Caller,
    read: Callable[[], T],
    *,
    target: StrEnum,
    pending_status: StrEnum,
    kind: str,
    reason: str,
    moved_on: Collection[StrEnum] = (),
) -> T:
    """`read`: the item as it is now (read again after a lost race). `moved_on`: the
    statuses an item decided `target` may have moved on to since."""

    def attempt() -> T:
        pending = read()
        item: Any = pending
        if item.status is target:
            return pending
        if item.status in moved_on and (item.decided_by, item.decision_reason) == (
                caller.sub, reason):
            return pending
        if item.status is not pending_status:
            raise StateConflict("该事项不在待审核状态", code=f"{kind}_not_pending",
                                status=str(item.status))
        decided = replace(item, status=target, decided_at=ctx.now(), decided_by=caller.sub,
                          decision_reason=reason)
        ctx.store.write().replace(pending, decided, kind).commit()
        return decided  # type: ignore[no-any-return]

    return retry.on_conflict(attempt, retry_when=lambda rejected: True)
