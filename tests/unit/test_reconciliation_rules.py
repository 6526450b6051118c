"""The matching rules of a day's reconciliation (chalicelib/domain/supervision/
reconciliation.py), on statements a bank might really send."""

from __future__ import annotations

from datetime import UTC, date, datetime

from chalicelib.domain.escrow.bank_book import BankEntry, EntryKind
from chalicelib.domain.supervision.reconciliation import Books, reconcile
from chalicelib.domain.supervision.statement import Statement, StatementLine

DAY = date(2026, 3, 2)
ACCOUNT = "SUP0001"


def entry(key: str, fen: int, day: int = 2) -> BankEntry:
    return BankEntry(key=key, account=ACCOUNT, counterparty="GEN0001", amount_fen=fen,
                     booked_at=datetime(2026, 3, day, 3, tzinfo=UTC), kind=EntryKind.RELEASE,
                     subject_id="con_1")


def statement(*lines: StatementLine, opening: int = 1_000) -> Statement:
    return Statement(ACCOUNT, DAY, opening, opening + sum(line.amount_fen for line in lines), lines)


def test_a_release_the_bank_booked_twice_under_one_key_is_an_extra_debit() -> None:
    """A bank that executes one instruction twice: the second debit is the bank's, not the
    platform's, whether the platform booked the release that day or another."""
    twice = (StatementLine("S1", "bki_1", "GEN0001", -100),
             StatementLine("S2", "bki_1", "GEN0001", -100))
    for books in (Books((entry("bki_1", -100),), {}, {}, 1_000),
                  Books((), {"bki_1": entry("bki_1", -100, day=1)}, {}, 900)):
        outcome = reconcile(statement(*twice), books)
        assert [(d.kind, d.amount_fen, d.serial) for d in outcome.differences] == [
            ("missing_in_ledger", -100, "S2"), ("closing_balance_differs", -100, "")]
        assert outcome.matched == 1


def test_a_clean_day_has_no_difference() -> None:
    outcome = reconcile(statement(StatementLine("S1", "bki_1", "GEN0001", -100)),
                        Books((entry("bki_1", -100),), {}, {}, 1_000))
    assert (outcome.differences, outcome.ledger_closing_fen, outcome.matched) == ((), 900, 1)
