"""The sandbox bank's books: every movement it booked, account by account, in order.

A movement is booked once, on both accounts it touches (a debit on one, a credit on the
other, each with the other as counterparty), under the bank's own serial and the key the
platform knows it by: the instruction id of a transfer the platform instructed, the bank
transaction id of a payment it was told of, the bank's own id of anything else (a fee, a
transfer the platform never instructed). Balances are the sum of the movements; a day's
statement (sandbox/statements.py) is read off them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from chalicelib.domain.calendar import business_date


@dataclass(frozen=True)
class Movement:
    """One side of a booking: `amount_fen` is signed (+ credit, - debit) for `account`."""

    serial: str
    account: str
    counterparty: str
    amount_fen: int
    key: str
    booked_at: datetime
    reference: str = ""
    """What the payer wrote (a payment's reference), or what the bank says it was."""

    @property
    def day(self) -> date:
        """The business day the movement is booked on (Asia/Shanghai)."""
        return business_date(self.booked_at)


class BankBooks:
    """Not thread-safe: the bank holds its lock around every call."""

    def __init__(self, movements: tuple[Movement, ...] = (), serial: int = 0) -> None:
        self._serial = serial
        self._movements: list[Movement] = list(movements)
        self._balances: defaultdict[str, int] = defaultdict(int)
        self._by_account: defaultdict[str, list[Movement]] = defaultdict(list)
        for movement in movements:
            self._index(movement)

    def book(self, debit: str, credit: str, amount_fen: int, key: str, at: datetime,
             reference: str = "") -> str:
        """Move `amount_fen` from `debit` to `credit`; the bank's serial of the booking."""
        self._serial += 1
        serial = f"S{self._serial:010d}"
        for account, other, signed in ((debit, credit, -amount_fen), (credit, debit, amount_fen)):
            movement = Movement(serial, account, other, signed, key, at, reference)
            self._movements.append(movement)
            self._index(movement)
        return serial

    def _index(self, movement: Movement) -> None:
        self._balances[movement.account] += movement.amount_fen
        self._by_account[movement.account].append(movement)

    def balance(self, account: str) -> int:
        return self._balances.get(account, 0)

    def balances(self) -> dict[str, int]:
        return {account: fen for account, fen in self._balances.items() if fen}

    def of(self, account: str, day: date) -> tuple[int, list[Movement]]:
        """The balance of `account` when `day` opened, and the day's movements in order."""
        opening = 0
        lines: list[Movement] = []
        for movement in self._by_account.get(account, []):
            if movement.day < day:
                opening += movement.amount_fen
            elif movement.day == day:
                lines.append(movement)
        return opening, lines

    def net(self, account: str, key_prefix: str) -> int:
        """The sum of `account`'s movements whose key starts with `key_prefix`."""
        return sum(m.amount_fen for m in self._by_account.get(account, [])
                   if m.key.startswith(key_prefix))

    @property
    def movements(self) -> tuple[Movement, ...]:
        return tuple(self._movements)

    @property
    def serial(self) -> int:
        return self._serial
