"""Faults at the AWS SDK boundary, injected by a botocore hook on the platform's clients.

While an operation runs, every AWS call the platform makes is numbered; the operation's fault
plan names calls by number: the call is throttled, meets a transaction conflict, gets a 5xx,
times out after its write succeeded (the write happened, the caller sees an error: the first
write at or after the call named, so an operation that writes after it always meets it), or
the process crashes just before it (everything after is never done). The same hook is where
concurrent use cases take turns (tests/simulation/lockstep.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError


class Kind(StrEnum):
    THROTTLE = "throttle"
    CONFLICT = "conflict"
    SERVER_ERROR = "server_error"
    TIMEOUT_AFTER_WRITE = "timeout_after_write"
    CRASH = "crash"


@dataclass(frozen=True)
class Fault:
    call: int
    """The operation's AWS call it strikes, counting from 0."""
    kind: Kind


class Crash(BaseException):
    """The Lambda process died here: nothing after this point runs, no handler sees it."""


WRITES = frozenset({"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "SendMessage",
                    "SendMessageBatch"})


def _error(service: str, operation: str, kind: Kind) -> tuple[AWSResponse, dict[str, Any]]:
    if kind is Kind.THROTTLE:
        status, code = 400, ("ProvisionedThroughputExceededException" if service == "dynamodb"
                             else "ThrottlingException")
    elif kind is Kind.CONFLICT and operation == "TransactWriteItems":
        status, code = 400, "TransactionCanceledException"
    elif kind is Kind.CONFLICT:
        status, code = 400, "TransactionConflictException"
    else:
        status, code = 500, "InternalServerError" if service == "dynamodb" else "InternalError"
    parsed: dict[str, Any] = {"Error": {"Code": code, "Message": f"simulated {kind}"},
                              "ResponseMetadata": {"HTTPStatusCode": status}}
    if code == "TransactionCanceledException":
        parsed["CancellationReasons"] = [{"Code": "TransactionConflict"}]
    return AWSResponse("https://simulated", status, {}, None), parsed


class AwsFaults:
    """The hook on the platform's clients. Armed only while an operation runs, so the
    simulator's own reads (its checks, its queue receives) are neither counted nor struck."""

    def __init__(self, *clients: Any) -> None:
        self.injected: Counter[str] = Counter()
        self.on_call: Callable[[str], None] | None = None
        """Told the name of each call about to be made (where lock-step threads turn)."""
        self._plan: dict[int, Kind] = {}
        self._calls = 0
        self._armed = False
        self._timing_out = False
        for client in clients:
            client.meta.events.register("before-call.*.*", self._before)
            client.meta.events.register("after-call.*.*", self._after)

    @contextmanager
    def armed(self, faults: tuple[Fault, ...] = ()) -> Iterator[None]:
        """Count and strike the platform's calls inside; inside an armed block (a race's
        parts), the outer plan and count go on."""
        if self._armed:
            yield
            return
        self._plan = {f.call: f.kind for f in faults}
        self._calls, self._armed = 0, True
        try:
            yield
        finally:
            self._armed, self._plan = False, {}

    @contextmanager
    def unarmed(self) -> Iterator[None]:
        """The simulator's own calls inside an armed block (a queue's event source mapping
        receiving inside a race): neither counted nor struck, and no one else's turn."""
        was, self._armed = self._armed, False
        try:
            yield
        finally:
            self._armed = was

    @property
    def calls(self) -> int:
        return self._calls

    def _before(self, model: Any, **_: Any) -> Any:
        if not self._armed:
            return None
        if self.on_call is not None:
            self.on_call(model.name)
        number, self._calls = self._calls, self._calls + 1
        kind = self._plan.get(number)
        if kind is None:
            return None
        if kind is Kind.TIMEOUT_AFTER_WRITE and model.name not in WRITES:
            self._plan.setdefault(number + 1, kind)  # the next write, then
            return None
        self.injected[kind] += 1
        if kind is Kind.CRASH:
            raise Crash(f"crash before AWS call {number} ({model.name})")
        if kind is Kind.TIMEOUT_AFTER_WRITE:
            self._timing_out = True  # its after-call comes before any other thread runs
            return None
        return _error(model.service_model.endpoint_prefix, model.name, kind)

    def _after(self, http_response: Any, model: Any, **_: Any) -> None:
        if not self._timing_out:
            return
        self._timing_out = False
        if http_response.status_code < 300:
            raise ReadTimeoutError(endpoint_url=f"simulated {model.name}")
