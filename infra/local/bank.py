"""The sandbox custodian bank: its HTTP face on 127.0.0.1 and its signed callbacks.

The platform's BankGateway is the same in-process SandboxBank, so instructions reach it
directly; payments (POST /payments) and inspection (GET /accounts/...) go over HTTP. Every
notification is signed with the webhook secret and POSTed to the API's
/v1/bank/notifications, as a real custodian bank would call it.

With a `state_file` the bank's balances, executed instructions and undelivered callbacks are
kept there (sandbox/bank_store.py): a callback pending when the stack
stopped is delivered after the next start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sandbox.bank import SandboxBank
from sandbox.bank_server import (
    BankHTTPServer,
    DeliveryLoop,
    http_deliverer,
    serve,
    stop,
)
from sandbox.bank_store import JsonFileStore

log = logging.getLogger(__name__)

NOTIFICATIONS_PATH = "/v1/bank/notifications"


class LocalBank:
    def __init__(
        self, secret: str, api_url: str, port: int, *, state_file: Path | None = None,
        now: Callable[[], datetime],
    ) -> None:
        """`now`: the platform clock, which stamps and signs the bank's callbacks."""
        self.sandbox = SandboxBank(
            secret,
            deliver=http_deliverer(api_url + NOTIFICATIONS_PATH),
            now=now,
            store=JsonFileStore(state_file) if state_file is not None else None,
        )
        if state_file is not None:
            log.info("sandbox bank state kept in %s (%d callback(s) to deliver)", state_file,
                     self.sandbox.pending_notifications())
        self._port = port
        self._http: tuple[BankHTTPServer, threading.Thread] | None = None
        self._delivery: DeliveryLoop | None = None

    @property
    def url(self) -> str:
        if self._http is None:
            raise RuntimeError("the sandbox bank is not serving yet")
        return self._http[0].base_url

    def start(self) -> None:
        self._http = serve(self.sandbox, port=self._port)
        self._delivery = DeliveryLoop(self.sandbox).start()

    def stop(self) -> None:
        if self._delivery is not None:
            self._delivery.stop()
            self._delivery = None
        if self._http is not None:
            stop(*self._http)
            self._http = None
