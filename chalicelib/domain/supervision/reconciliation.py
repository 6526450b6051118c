"""A supervised account's day, reconciled: the bank's statement against the platform's bank
book (chalicelib/domain/escrow/bank_book.py), to the fen.

Matching, movement by movement, by the bank's key of each (an instruction id, a payment's
bank transaction id):

- a statement line whose entry the platform booked on the same day is matched: the amounts
  must agree (else `amount_differs`, bank minus ledger), and so must the counterparty
  (else `counterparty_differs`: the bank paid somewhere the platform did not send it);
- a line whose entry the platform booked on another day is matched all the same (its day
  was reported there, if anywhere); an entry of a payment whose notice named no account is
  matched on the account the statement shows it on, and counted in that account's balance
  from that day (the bank says where the money is);
- a debit whose instruction the platform sent and the bank has not yet answered is a
  transfer in flight across the day's end: matched, and counted in the day's ledger
  balance; its answer, when it comes, is booked on this day and not counted again;
- any other line is `missing_in_ledger` (a fee, a debit the platform never instructed, a
  payment it was never told of, a movement the bank booked a second time under one key);
- an entry the platform booked on the day that the statement does not show is
  `missing_in_bank` (a notice the bank's books do not bear out).

The ledger's balance of the account at the day's end is carried from the day before, plus
the day's booked entries and transfers in flight; the bank's closing balance must equal it,
else `closing_balance_differs` (bank minus ledger). An account's first day starts at zero:
a supervised account opens empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from chalicelib.domain.escrow.bank import BankInstruction, InstructionStatus, account_number
from chalicelib.domain.escrow.bank_book import BankEntry
from chalicelib.domain.supervision.statement import Statement, StatementLine


class DifferenceKind(StrEnum):
    MISSING_IN_LEDGER = "missing_in_ledger"
    MISSING_IN_BANK = "missing_in_bank"
    AMOUNT_DIFFERS = "amount_differs"
    COUNTERPARTY_DIFFERS = "counterparty_differs"
    CLOSING_BALANCE_DIFFERS = "closing_balance_differs"


class ReconciliationStatus(StrEnum):
    RECONCILED = "reconciled"
    DIFFERENCES = "differences"


@dataclass(frozen=True)
class Difference:
    kind: DifferenceKind
    amount_fen: int
    """Signed for the account: the bank's side minus the ledger's (a missing_in_bank entry:
    minus what the ledger booked)."""
    key: str = ""
    serial: str = ""
    """The bank's serial of the line, where the bank has one."""
    counterparty: str = ""


@dataclass(frozen=True)
class Reconciliation:
    account: str
    day: date
    institution_id: str
    region_code: str
    department: str
    status: ReconciliationStatus
    differences: tuple[Difference, ...]
    bank_opening_fen: int
    bank_closing_fen: int
    ledger_closing_fen: int
    """The ledger's balance of the account at the day's end (transfers in flight counted):
    the next day carries it."""
    matched: int
    in_flight: int
    reconciled_at: datetime


@dataclass(frozen=True)
class Books:
    """What the platform has for one account and day."""

    booked: tuple[BankEntry, ...]
    """Its entries booked on the day (by the bank's time)."""
    known: Mapping[str, BankEntry]
    """Its entries of the statement's other keys (those not booked on the day), whatever
    day they were booked on."""
    instructions: Mapping[str, BankInstruction]
    """Its instructions of the statement's keys it has no entry for."""
    carried_fen: int
    """The ledger's balance of the account at the end of the day before."""


@dataclass(frozen=True)
class Outcome:
    differences: tuple[Difference, ...]
    ledger_closing_fen: int
    matched: int
    in_flight: int

    @property
    def status(self) -> ReconciliationStatus:
        return (ReconciliationStatus.DIFFERENCES if self.differences
                else ReconciliationStatus.RECONCILED)


def reconcile(statement: Statement, books: Books) -> Outcome:
    differences: list[Difference] = []
    unshown = {entry.key: entry for entry in books.booked}
    matched = in_flight = in_flight_fen = placed_fen = 0
    seen: set[str] = set()
    for line in statement.lines:
        again = line.key in seen  # the bank booked one movement twice: the second is extra
        seen.add(line.key)
        entry = None if again else unshown.pop(line.key, None) or books.known.get(line.key)
        if entry is not None:
            matched += 1
            differences += _compare(line, entry.amount_fen, entry.counterparty)
            if not entry.account:
                placed_fen += entry.amount_fen
            continue
        instruction = None if again else books.instructions.get(line.key)
        if instruction is not None and _in_flight(instruction, statement.account):
            in_flight += 1
            in_flight_fen -= instruction.amount_fen
            differences += _compare(line, -instruction.amount_fen, instruction.bank_to_account)
            continue
        differences.append(Difference(DifferenceKind.MISSING_IN_LEDGER, line.amount_fen,
                                      line.key, line.serial, line.counterparty))
    differences += [Difference(DifferenceKind.MISSING_IN_BANK, -entry.amount_fen, entry.key,
                               counterparty=entry.counterparty)
                    for entry in unshown.values()]
    ledger_closing = (books.carried_fen + sum(entry.amount_fen for entry in books.booked)
                      + in_flight_fen + placed_fen)
    if statement.closing_fen != ledger_closing:
        differences.append(Difference(DifferenceKind.CLOSING_BALANCE_DIFFERS,
                                      statement.closing_fen - ledger_closing))
    return Outcome(tuple(differences), ledger_closing, matched, in_flight)


def _in_flight(instruction: BankInstruction, account: str) -> bool:
    """Sent from this account and not yet answered: the bank's debit is its execution."""
    return (instruction.status is InstructionStatus.SENT
            and account_number(instruction.bank_from_account) == account_number(account))


def _compare(line: StatementLine, ledger_fen: int, counterparty: str) -> Iterable[Difference]:
    if line.amount_fen != ledger_fen:
        yield Difference(DifferenceKind.AMOUNT_DIFFERS, line.amount_fen - ledger_fen, line.key,
                         line.serial, line.counterparty)
    if counterparty and account_number(line.counterparty) != account_number(counterparty):
        yield Difference(DifferenceKind.COUNTERPARTY_DIFFERS, line.amount_fen, line.key,
                         line.serial, line.counterparty)
