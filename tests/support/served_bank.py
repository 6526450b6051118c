"""The sandbox bank over HTTP on loopback, as ops' CLI asks a custodian bank what it did
with an instruction (`--bank-url`) before it retries a parked payout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sandbox.bank import SandboxBank
from sandbox.bank_server import serve, stop


@contextmanager
def served(bank: SandboxBank) -> Iterator[str]:
    """The bank's base URL while it is served."""
    server, thread = serve(bank)
    try:
        yield server.base_url
    finally:
        stop(server, thread)
