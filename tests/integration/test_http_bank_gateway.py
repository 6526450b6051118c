"""The HTTP gateway to the custodian bank tells a refusal of the moment (come back later)
from a refusal of the instruction, and reads the bank's record of an instruction."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.adapters.bank.errors import BankRequestRejected, InstructionConflict
from chalicelib.adapters.bank.http_gateway import HttpBankGateway
from chalicelib.service.ports import BankUnavailable, TransferInstruction

INSTRUCTION = TransferInstruction("bki_X_1", "SUP1", "GEN1", 100)


class _Answer(http.server.BaseHTTPRequestHandler):
    status = 429

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def bank_answering() -> Iterator[Any]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(status: int) -> str:
        handler = type("Handler", (_Answer,), {"status": status})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [408, 425, 429])
def test_a_rate_limited_or_timed_out_bank_is_unavailable_not_a_refusal(
    bank_answering: Any, status: int
) -> None:
    gateway = HttpBankGateway(bank_answering(status))
    with pytest.raises(BankUnavailable):
        gateway.instruct_transfer(INSTRUCTION)


@pytest.mark.parametrize("status, refusal", [
    (400, BankRequestRejected), (403, BankRequestRejected), (409, InstructionConflict),
    (422, BankRequestRejected),
])
def test_other_4xx_are_refusals_of_the_instruction(
    bank_answering: Any, status: int, refusal: type[Exception]
) -> None:
    with pytest.raises(refusal):
        HttpBankGateway(bank_answering(status)).instruct_transfer(INSTRUCTION)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_unavailable(bank_answering: Any, status: int) -> None:
    with pytest.raises(BankUnavailable):
        HttpBankGateway(bank_answering(status)).instruct_transfer(INSTRUCTION)
