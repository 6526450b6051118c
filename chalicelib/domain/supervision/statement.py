"""A custodian bank's statement of one account for one business day, as the platform reads
it (the bank delivers SWIFT MT940: chalicelib/adapters/bank/mt940_statements.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class StatementLine:
    """One movement the bank booked on the account."""

    serial: str
    """The bank's own serial of the booking."""
    key: str
    """What the platform knows the movement by: the instruction id of a transfer it
    instructed, the bank transaction id of a payment it was told of; anything else, the
    bank's own id (the platform does not know it)."""
    counterparty: str
    amount_fen: int
    """Signed: + credited to the account, - debited from it."""
    reference: str = ""


@dataclass(frozen=True)
class Statement:
    account: str
    day: date
    opening_fen: int
    closing_fen: int
    lines: tuple[StatementLine, ...]

    @property
    def adds_up(self) -> bool:
        """The bank's own arithmetic: opening plus the movements is the closing balance."""
        return self.opening_fen + sum(line.amount_fen for line in self.lines) == self.closing_fen
