"""Expose a SandboxBank over HTTP on 127.0.0.1 for the local stack.

Routes (JSON in and out, but the statement):
  POST /payments  {payer_account, to_account, payment_reference, amount_fen} -> {bank_txn_id}
  POST /instructions  {instruction_id, from_account, to_account, amount_fen}     -> 202 {}
  POST /movements  {from_account, to_account, amount_fen, reference?} -> {key}: booked with
                   no notification, as a fee or a transfer the platform never instructed
  GET  /accounts/{account}          -> 200 {account, balance_fen, in_flight_fen}
  GET  /instructions/{id}           -> 200 {instruction_id, succeeded, reason, event_id} | 404
  GET  /statements/{account}/{YYYY-MM-DD} -> 200 the day's statement, MT940 (text/plain);
                   503 while the day is open
  POST /faults  {fail_next_transfers?, reason?, hold_callbacks?, duplicate_callbacks?,
                 unavailable?, close_account?, reopen_account?}  -> 200 {applied: [...]}
  POST /deliver                     -> 200 {acknowledged}
Errors: 400 invalid request, 409 instruction conflict, 503 bank unavailable.
HTTP/1.1 with keep-alive, a thread per connection (sandbox/loopback_http.py).

Also here: `http_deliverer` (notifications -> the platform's endpoint) and `DeliveryLoop`, a
thread that calls `deliver_pending()` every few milliseconds.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import unquote

from chalicelib.adapters.bank.errors import (
    BankRequestRejected,
    BankUnavailable,
    InstructionConflict,
)
from chalicelib.service.ports import TransferInstruction
from sandbox.bank import Deliver, SandboxBank
from sandbox.loopback_http import LoopbackHTTPServer, PromptReplies

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
_MAX_BODY_BYTES = 64 * 1024


class _BadRequest(Exception):
    pass


class BankHTTPServer(LoopbackHTTPServer):
    def __init__(self, bank: SandboxBank, port: int) -> None:
        super().__init__((HOST, port), _Handler)
        self.bank = bank

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}"


def _field(data: dict[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _BadRequest(f"{name} must be a {kind.__name__}")
    return value


class _Handler(PromptReplies):
    server: BankHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("sandbox bank http: " + format, *args)

    def do_GET(self) -> None:
        self._dispatch(self._get)

    def do_POST(self) -> None:
        self._dispatch(self._post)

    def _dispatch(self, route: Callable[[], tuple[int, dict[str, Any] | str]]) -> None:
        try:
            status, payload = route()
        except _BadRequest as exc:
            status, payload = 400, {"error": str(exc)}
        except InstructionConflict as exc:
            status, payload = 409, {"error": str(exc)}
        except BankRequestRejected as exc:
            status, payload = exc.status, {"error": str(exc)}
        except BankUnavailable as exc:
            status, payload = 503, {"error": str(exc)}
        except Exception:
            logger.exception("sandbox bank http: %s %s failed", self.command, self.path)
            status, payload = 500, {"error": "internal error"}
        text = isinstance(payload, str)
        body = (payload if isinstance(payload, str) else json.dumps(payload)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8" if text
                         else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise _BadRequest("Content-Length required") from None
        if not 0 <= length <= _MAX_BODY_BYTES:
            raise _BadRequest("body too large")
        try:
            data = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            raise _BadRequest("body must be JSON") from None
        if not isinstance(data, dict):
            raise _BadRequest("body must be a JSON object")
        return data

    def _get(self) -> tuple[int, dict[str, Any] | str]:
        bank = self.server.bank
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) == 2 and parts[0] == "accounts":
            account = unquote(parts[1])
            return 200, {
                "account": account,
                "balance_fen": bank.balance(account),
                "in_flight_fen": bank.in_flight(account),
            }
        if len(parts) == 2 and parts[0] == "instructions":
            bank.executed(unquote(parts[1]))  # an unavailable bank cannot say (503)
            outcome = bank.executed_instruction(unquote(parts[1]))
            if outcome is None:
                return 404, {"error": "unknown instruction"}
            return 200, {
                "instruction_id": outcome.instruction.instruction_id,
                "succeeded": outcome.succeeded,
                "reason": outcome.reason,
                "event_id": outcome.event_id,
                "occurred_at": outcome.occurred_at.isoformat(),
            }
        if len(parts) == 3 and parts[0] == "statements":
            try:
                day = date.fromisoformat(parts[2])
            except ValueError:
                raise _BadRequest("the day is YYYY-MM-DD") from None
            return 200, bank.statement_text(unquote(parts[1]), day)
        return 404, {"error": "not found"}

    def _post(self) -> tuple[int, dict[str, Any] | str]:
        bank = self.server.bank
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/payments":
            data = self._json()
            txn = bank.pay(
                _field(data, "payer_account", str),
                _field(data, "to_account", str),
                _field(data, "payment_reference", str),
                _field(data, "amount_fen", int),
            )
            return 200, {"bank_txn_id": txn}
        if path == "/instructions":
            data = self._json()
            bank.instruct_transfer(
                TransferInstruction(
                    _field(data, "instruction_id", str),
                    _field(data, "from_account", str),
                    _field(data, "to_account", str),
                    _field(data, "amount_fen", int),
                )
            )
            return 202, {}
        if path == "/movements":
            data = self._json()
            key = bank.book_foreign(
                _field(data, "from_account", str), _field(data, "to_account", str),
                _field(data, "amount_fen", int),
                _field(data, "reference", str) if "reference" in data else "")
            return 200, {"key": key}
        if path == "/faults":
            return 200, {"applied": _apply_faults(bank, self._json())}
        if path == "/deliver":
            return 200, {"acknowledged": bank.deliver_pending()}
        return 404, {"error": "not found"}


def _apply_faults(bank: SandboxBank, data: dict[str, Any]) -> list[str]:
    unknown = set(data) - {
        "fail_next_transfers",
        "reason",
        "hold_callbacks",
        "duplicate_callbacks",
        "unavailable",
        "close_account",
        "reopen_account",
    }
    if unknown:
        raise _BadRequest(f"unknown fault knobs: {sorted(unknown)}")
    if "reason" in data and "fail_next_transfers" not in data:
        raise _BadRequest("reason only goes with fail_next_transfers")
    try:
        if "fail_next_transfers" in data:
            reason = _field(data, "reason", str) if "reason" in data else "bank_rejected"
            bank.fail_next_transfers(_field(data, "fail_next_transfers", int), reason)
        if "duplicate_callbacks" in data:
            bank.duplicate_callbacks(_field(data, "duplicate_callbacks", int))
        if "unavailable" in data:
            bank.set_unavailable(_field(data, "unavailable", bool))
        if "close_account" in data:
            bank.close_account(_field(data, "close_account", str))
        if "reopen_account" in data:
            bank.reopen_account(_field(data, "reopen_account", str))
        if "hold_callbacks" in data:
            if _field(data, "hold_callbacks", bool):
                bank.hold_callbacks()
            else:
                bank.release_callbacks()
    except ValueError as exc:
        raise _BadRequest(str(exc)) from None
    return sorted(data)


def serve(bank: SandboxBank, port: int = 0) -> tuple[BankHTTPServer, threading.Thread]:
    """Start serving `bank` on 127.0.0.1:`port` (0 = ephemeral) in a daemon thread."""
    server = BankHTTPServer(bank, port)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="sandbox-bank-http",
        daemon=True,
    )
    thread.start()
    logger.info("sandbox bank listening on %s", server.base_url)
    return server, thread


def stop(server: BankHTTPServer, thread: threading.Thread, timeout: float = 5.0) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout)


def http_deliverer(url: str, timeout: float = 5.0) -> Deliver:
    """A SandboxBank `deliver` callback POSTing notifications to the platform at `url`."""
    if not url.startswith(("http://", "https://")):
        raise ValueError("notification url must be http(s)")

    def deliver(body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code

    return deliver


class DeliveryLoop:
    """Background thread calling `bank.deliver_pending()` every `interval_ms`."""

    def __init__(self, bank: SandboxBank, interval_ms: int = 100) -> None:
        if interval_ms <= 0:
            raise ValueError("interval_ms must be positive")
        self._bank = bank
        self._interval = interval_ms / 1000
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-bank-delivery", daemon=True)

    def start(self) -> DeliveryLoop:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._bank.deliver_pending()
            except Exception:
                logger.exception("sandbox bank: delivery loop iteration failed")
