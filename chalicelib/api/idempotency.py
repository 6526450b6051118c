"""The Idempotency-Key workflow (the template method; the storage hooks are in
chalicelib/adapters/dynamo/idempotency.py).

The fingerprint covers the method, the concrete path, the query, the whole verified caller
and the body. Same key and fingerprint: the first response is replayed. Same key, another
fingerprint: 422 `idempotency_key_reused`. A key whose request is still running: 409
`idempotency_request_in_progress` (nothing was done; retry later). A refused request (4xx)
releases its key, so it changed nothing; a request that failed unexpectedly ends its lease.
A crashed one (the function died) holds the key until its lease ends; then a retry takes
the record over and re-runs the idempotent command under the id the record reserved, so
creates converge. A request whose record changed under it (taken over, or expired and
reused) still answers its caller but leaves the record to its new holder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.errors import InvalidRequest, PlatformError, RuleViolation, StateConflict
from chalicelib.service.caller import Caller
from chalicelib.service.context import Context
from chalicelib.service.request_keys import (
    IdempotencyRecord,
    IdempotencyStore,
    KeyAlreadyReserved,
    RecordChanged,
    Reservation,
)

log = logging.getLogger(__name__)

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-]{8,128}$")

# How long a begun request holds its key. Longer than any run of the function that holds it
# (the API's lambda_timeout is 30 s in .chalice/config.json, and API Gateway gives up at
# 29 s), so a request still running never loses its key; a crashed one blocks it this long.
IN_PROGRESS_LEASE = timedelta(seconds=90)
BEGIN_ATTEMPTS = 3  # a record released or taken over between our write and read: look again

Outcome = tuple[int, Any]


def fingerprint(method: str, path: str, caller: Caller, body: Any, query: Any = None) -> str:
    canonical = json.dumps(
        {"method": method, "path": path, "query": query, "caller": asdict(caller),
         "body": body},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(
    ctx: Context,
    store: IdempotencyStore,
    caller: Caller,
    key: str | None,
    request_fingerprint: str,
    command: Callable[[str], Outcome],
    *,
    id_prefix: str,
) -> Outcome:
    """Run `command` once per key. `id_prefix` names what it creates ("" for a transition)."""
    if key is None:
        raise InvalidRequest("缺少 Idempotency-Key 请求头", code="idempotency_key_required")
    if not KEY_PATTERN.match(key):
        raise InvalidRequest("Idempotency-Key 格式不正确", code="idempotency_key_invalid")
    begun = _begin(ctx, store, caller.sub, key, request_fingerprint, id_prefix)
    if isinstance(begun, IdempotencyRecord):
        return begun.response_status, begun.response_body
    try:
        status, body = command(begun.resource_id)
    except PlatformError:
        _unless_changed(store.release, begun)
        raise
    except Exception:
        _unless_changed(store.abandon, begun, ctx.now())
        raise
    _unless_changed(store.complete, begun, status, body, ctx.now())
    return status, body


def _begin(
    ctx: Context, store: IdempotencyStore, sub: str, key: str, request_fingerprint: str,
    id_prefix: str,
) -> Reservation | IdempotencyRecord:
    """Reserve the key, or take over an abandoned record, or return the completed one."""
    for _ in range(BEGIN_ATTEMPTS):
        now = ctx.now()
        fresh = Reservation(sub, key, secrets.token_hex(16),
                            ctx.new_id(id_prefix) if id_prefix else "")
        try:
            store.reserve(fresh, request_fingerprint, now, now + IN_PROGRESS_LEASE)
            return fresh
        except KeyAlreadyReserved:
            found = store.read(sub, key, now)
        resumed = None if found is None else _resume(store, found, fresh, request_fingerprint, now)
        if resumed is not None:
            return resumed
    raise _in_progress()


def _resume(
    store: IdempotencyStore, found: IdempotencyRecord, fresh: Reservation,
    request_fingerprint: str, now: datetime,
) -> Reservation | IdempotencyRecord | None:
    """What an earlier request left under the key; None when it changed meanwhile."""
    if found.request_hash != request_fingerprint:
        raise RuleViolation("该 Idempotency-Key 已用于另一个请求", code="idempotency_key_reused")
    if found.completed:
        return found
    if now < found.in_progress_until:
        raise _in_progress()
    taker = replace(fresh, resource_id=found.resource_id)
    try:
        store.take_over(found, taker, now, now + IN_PROGRESS_LEASE)
    except RecordChanged:
        return None
    return taker


def _in_progress() -> StateConflict:
    return StateConflict("使用该 Idempotency-Key 的请求正在处理中，请稍后重试",
                         code="idempotency_request_in_progress")


def _unless_changed(write: Callable[..., None], *args: Any) -> None:
    try:
        write(*args)
    except RecordChanged:
        log.warning("idempotency record changed under its request; left to its new holder")
