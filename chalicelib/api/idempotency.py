"""The Idempotency-Key workflow for creating POSTs.

The fingerprint covers the method, the concrete path, the query, the whole verified caller
and the body. Same key and fingerprint: the first response is replayed. Same key, another
fingerprint: 422 `idempotency_key_reused`. A refused request (4xx) releases its key so it
changed nothing; a crash leaves the key reserved with the id of what it was creating, and a
retry re-runs the idempotent command under that id until it completes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from chalicelib.adapters.dynamo.idempotency import DynamoIdempotencyStore
from chalicelib.domain.errors import InvalidRequest, PlatformError, RuleViolation
from chalicelib.service.caller import Caller
from chalicelib.service.context import Context

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:\-]{8,128}$")

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
    store: DynamoIdempotencyStore,
    caller: Caller,
    key: str | None,
    fingerprint: str,
    command: Callable[[str], Outcome],
    *,
    id_prefix: str,
) -> Outcome:
    """Run `command` once per key. `id_prefix` names what it creates ("" for a transition)."""
    if key is None:
        raise InvalidRequest("缺少 Idempotency-Key 请求头", code="idempotency_key_required")
    if not KEY_PATTERN.match(key):
        raise InvalidRequest("Idempotency-Key 格式不正确", code="idempotency_key_invalid")
    reserved_id = ctx.new_id(id_prefix) if id_prefix else ""
    record = store.begin(caller.sub, key, fingerprint, reserved_id, ctx.now())
    if record.request_hash != fingerprint:
        raise RuleViolation(
            "该 Idempotency-Key 已用于另一个请求", code="idempotency_key_reused"
        )
    if record.completed:
        return record.response_status, record.response_body
    try:
        status, body = command(record.resource_id)
    except PlatformError:
        store.release(caller.sub, key)
        raise
    store.complete(caller.sub, key, status, body)
    return status, body
