"""Everything a request could change, captured so a test can prove a refusal changed nothing.

A snapshot holds the full contents of both tables (test-only Scans), the settlement queue's
message counts, and what the sandbox bank knows: the balances of every account the platform
knows (custodian accounts, instruction accounts, plus any the test names), its undelivered
notifications and the instructions it has executed. Refused requests release their
Idempotency-Key record, so the tables of a refused request are identical, item for item.

    before = snapshot(platform)
    ...refused request...
    assert snapshot(platform) == before

or, in one step, `assert_refused(platform, lambda: platform.post(...), 404, "order_not_found")`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tests.support.harness import Platform, Reply
from tests.support.invariants import scan


@dataclass(frozen=True)
class Snapshot:
    platform_items: tuple[str, ...]
    journal_items: tuple[str, ...]
    queue: dict[str, int]
    balances: dict[str, int]
    bank_pending_notifications: int
    bank_instructions_executed: int


def snapshot(p: Platform, *accounts: str) -> Snapshot:
    platform_items = scan(p.dynamodb, p.plane.platform_table)
    journal_items = scan(p.dynamodb, p.plane.journal_table)
    known = set(accounts) | set(_account_values(platform_items))
    return Snapshot(
        platform_items=_canonical(platform_items),
        journal_items=_canonical(journal_items),
        queue=_queue_counts(p),
        balances={account: p.bank.balance(account) for account in sorted(known)},
        bank_pending_notifications=p.bank.pending_notifications(),
        bank_instructions_executed=p.bank.instructions_executed(),
    )


def assert_refused(p: Platform, send: Callable[[], Reply], status: int, code: str) -> Reply:
    """Send one request and assert it was refused with `status` and `code`, changing nothing."""
    before = snapshot(p)
    reply = send()
    assert 400 <= reply.status < 500, f"expected a 4xx refusal, got {reply.status}: {reply.body}"
    assert (reply.status, reply.code) == (status, code), reply.body
    assert set(reply.body["error"]) == {"code", "message", "details"}, reply.body
    assert snapshot(p) == before, "a refused request changed state"
    return reply


def _canonical(items: list[dict[str, Any]]) -> tuple[str, ...]:
    """Each item as sorted-key JSON, the whole table sorted: equal iff the contents are."""
    return tuple(sorted(json.dumps(i, sort_keys=True, default=repr) for i in items))


def _account_values(value: Any) -> Iterator[str]:
    """Every `*_account` string anywhere in `value` (custodian accounts, instructions, ...)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key.endswith("_account") and isinstance(inner, str):
                yield inner
            else:
                yield from _account_values(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _account_values(inner)


def _queue_counts(p: Platform) -> dict[str, int]:
    attributes = p.sqs.get_queue_attributes(
        QueueUrl=p.plane.settlement_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return {name: int(count) for name, count in attributes.items()}
