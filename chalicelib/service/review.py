"""A regulator's review decision on something awaiting it (an institution, a course).

Deciding twice the same way returns the decision, and so does the decision sent again by
the regulator who took it, with its reason, after the item moved on (a course approved,
then taken off sale); deciding what is no longer pending otherwise is a 409. The write is
conditioned on the status read, so two regulators cannot both decide.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from enum import StrEnum
from typing import Any, TypeVar

from chalicelib.domain.errors import StateConflict
from chalicelib.service.caller import Caller
from chalicelib.service.context import Context
from chalicelib.service.ports import WriteRejected

T = TypeVar("T")


def decide(
    ctx: Context,
    caller: Caller,
    pending: T,
    *,
    target: StrEnum,
    pending_status: StrEnum,
    kind: str,
    reason: str,
    moved_on: Collection[StrEnum] = (),
) -> T:
    """`moved_on`: the statuses an item decided `target` may have moved on to since."""
    item: Any = pending
    if item.status is target:
        return pending
    if item.status in moved_on and (item.decided_by, item.decision_reason) == (caller.sub,
                                                                               reason):
        return pending
    if item.status is not pending_status:
        raise StateConflict("该事项不在待审核状态", code=f"{kind}_not_pending",
                            status=str(item.status))
    decided = replace(item, status=target, decided_at=ctx.now(), decided_by=caller.sub,
                      decision_reason=reason)
    try:
        ctx.store.write().replace(pending, decided, kind).commit()
    except WriteRejected as rejected:
        raise StateConflict("该事项已被他人处理，请刷新", code=f"{kind}_changed") from rejected
    return decided  # type: ignore[no-any-return]
