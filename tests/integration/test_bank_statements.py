"""The custodian bank's daily statement: written in MT940 by the sandbox bank, served over
HTTP, and read back by the platform's adapter (the `mt-940` package) to the fen; a statement
that is not the one asked for, or does not add up, is refused, never guessed at."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.adapters.bank.errors import BankUnavailable
from chalicelib.adapters.bank.http_gateway import HttpBankGateway
from chalicelib.adapters.bank.mt940_statements import StatementUnreadable, parse
from chalicelib.service.ports import TransferInstruction
from sandbox.bank import SandboxBank
from sandbox.bank_books import BankBooks
from sandbox.bank_server import serve, stop
from sandbox.bank_store import JsonFileStore
from sandbox.statements import mt940

DAY = date(2026, 3, 2)
MORNING = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
SUPERVISED = "SUP-0001"


class Clock:
    def __init__(self) -> None:
        self.moment = MORNING

    def __call__(self) -> datetime:
        return self.moment


def bank(clock: Clock, path: Path | None = None) -> SandboxBank:
    return SandboxBank("whsec_statements", lambda body, headers: 200, now=clock,
                       store=JsonFileStore(path) if path else None)


def a_day_of_business(clock: Clock, b: SandboxBank) -> dict[str, str]:
    paid = b.pay("PAYER-LONG-ACCOUNT-6222020000000000001", SUPERVISED, "PAY-ORD_01J0REF0001",
                 1_234_56)
    clock.moment += timedelta(hours=3)
    b.instruct_transfer(TransferInstruction("bki_01J0CON0001_1", SUPERVISED, "GEN-0001", 1))
    fee = b.book_foreign(SUPERVISED, "BANK-FEES", 50, "账户管理费")
    return {"paid": paid, "fee": fee}


def test_a_days_statement_reads_back_to_the_fen_with_every_key() -> None:
    clock = Clock()
    b = bank(clock)
    keys = a_day_of_business(clock, b)
    clock.moment += timedelta(days=1)
    statement = b.statement(SUPERVISED, DAY)
    assert (statement.opening_fen, statement.closing_fen) == (0, 1_234_56 - 1 - 50)
    assert [(line.key, line.amount_fen, line.counterparty) for line in statement.lines] == [
        (keys["paid"], 1_234_56, "PAYER-LONG-ACCOUNT-6222020000000000001"),
        ("bki_01J0CON0001_1", -1, "GEN-0001"),
        (keys["fee"], -50, "BANK-FEES"),
    ]
    assert statement.lines[0].reference == "PAY-ORD_01J0REF0001"
    assert len({line.serial for line in statement.lines}) == 3
    clock.moment += timedelta(days=1)
    following = b.statement(SUPERVISED, DAY + timedelta(days=1))
    assert (following.opening_fen, following.closing_fen, following.lines) == (
        statement.closing_fen, statement.closing_fen, ())


def test_the_mt940_keeps_every_line_within_65_characters() -> None:
    clock = Clock()
    b = bank(clock)
    a_day_of_business(clock, b)
    clock.moment += timedelta(days=1)
    text = b.statement_text(SUPERVISED, DAY)
    assert text.startswith(":20:ST20260302") and ":25:SUP-0001\n" in text
    assert all(len(line) <= 65 + 4 for line in text.splitlines())
    assert ":62F:C260302CNY1234,05\n" in text


def test_a_statement_of_a_day_still_open_is_not_given() -> None:
    clock = Clock()
    b = bank(clock)
    with pytest.raises(BankUnavailable, match="not ready"):
        b.statement(SUPERVISED, DAY)


@pytest.mark.parametrize(("tamper", "why"), [
    (lambda t: t.replace(":25:SUP-0001", ":25:SUP-0002"), "not of 'SUP-0001'"),
    (lambda t: t.replace(":62F:C260302CNY1234,05", ":62F:C260302CNY1234,06"), "do not make"),
    (lambda t: t.replace("CNY", "USD"), "not CNY"),
    (lambda t: t.replace("/EREF/", "/XREF/"), "names no key"),
    (lambda t: t.replace(":62F:C260302", ":62F:C260303"), "not of 2026-03-02"),
    (lambda t: "not a statement at all", "not MT940|not of"),
])
def test_a_statement_that_is_not_the_one_asked_for_is_refused(tamper: object, why: str) -> None:
    clock = Clock()
    b = bank(clock)
    a_day_of_business(clock, b)
    clock.moment += timedelta(days=1)
    text = tamper(b.statement_text(SUPERVISED, DAY))  # type: ignore[operator]
    with pytest.raises(StatementUnreadable, match=why):
        parse(text, SUPERVISED, DAY)


def test_an_amount_finer_than_a_fen_is_refused() -> None:
    books = BankBooks()
    books.book("PAYER", SUPERVISED, 1_00, "btx_1", MORNING)
    opening, lines = books.of(SUPERVISED, DAY)
    text = mt940(SUPERVISED, DAY, opening, lines).replace("C1,00NTRF", "C1,005NTRF")
    with pytest.raises(StatementUnreadable, match="finer than a fen"):
        parse(text, SUPERVISED, DAY)


def test_the_http_gateway_fetches_the_statement_the_bank_serves() -> None:
    clock = Clock()
    b = bank(clock)
    a_day_of_business(clock, b)
    server, thread = serve(b)
    try:
        gateway = HttpBankGateway(server.base_url)
        with pytest.raises(BankUnavailable, match="HTTP 503"):
            gateway.statement(SUPERVISED, DAY)  # the day is still open
        clock.moment += timedelta(days=1)
        assert gateway.statement(SUPERVISED, DAY) == b.statement(SUPERVISED, DAY)
    finally:
        stop(server, thread)
    with pytest.raises(BankUnavailable, match="unreachable"):
        HttpBankGateway(server.base_url).statement(SUPERVISED, DAY)


def test_the_books_survive_a_restart_and_an_old_state_file_keeps_its_balances(
        tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "bank.json"
    first = bank(clock, path)
    a_day_of_business(clock, first)
    clock.moment += timedelta(days=1)
    again = bank(clock, path)
    assert again.statement(SUPERVISED, DAY) == first.statement(SUPERVISED, DAY)
    state = json.loads(path.read_text())
    old = {"version": 1, "balances": {SUPERVISED: 700, "PAYER": -700}, "seq": 0,
           "outcomes": [], "queue": [], "unacked": {}}
    path.write_text(json.dumps(old))
    upgraded = bank(clock, path)
    assert (upgraded.balance(SUPERVISED), upgraded.balance("PAYER")) == (700, -700)
    assert upgraded.statement(SUPERVISED, DAY).opening_fen == 700
    assert state["version"] == 2
