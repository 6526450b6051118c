"""The custodian bank's daily statement, SWIFT MT940, read with the `mt-940` package.

The layout the bank agreed to (docs/bank-statements.md; sandbox/statements.py writes it):
one message per account and day, the movements' :86: details structured as
`/EREF/<key>/CPTY/<counterparty>[/REMI/<reference>]`. Amounts are read from the package's
Decimal to whole fen exactly; a statement that is not one account's, not of the day asked,
not in CNY, with an amount finer than a fen, or with a movement that names no key is
refused as unreadable, never guessed at.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import mt940

from chalicelib.domain.supervision.statement import Statement, StatementLine

_FIELD = re.compile(r"/(EREF|CPTY|REMI)/")


class StatementUnreadable(ValueError):
    """The bank's file is not the statement asked for, in the agreed layout."""


def parse(text: str, account: str, day: date) -> Statement:
    transactions = mt940.models.Transactions()
    try:
        transactions.parse(text)
    except Exception as error:  # the package raises plain exceptions of several kinds
        raise StatementUnreadable(f"not MT940: {error}") from error
    data = transactions.data
    if data.get("account_identification") != account:
        raise StatementUnreadable(f"a statement of {data.get('account_identification')!r}, "
                                  f"not of {account!r}")
    opening, closing = data.get("final_opening_balance"), data.get("final_closing_balance")
    if opening is None or closing is None:
        raise StatementUnreadable("no opening or closing balance")
    if _day(closing.date) != day:
        raise StatementUnreadable(f"a statement of {closing.date}, not of {day}")
    lines = tuple(_line(transaction.data, day) for transaction in transactions)
    statement = Statement(account=account, day=day, opening_fen=_fen(opening.amount),
                          closing_fen=_fen(closing.amount), lines=lines)
    if not statement.adds_up:
        raise StatementUnreadable("the opening balance and the movements do not make the "
                                  "closing balance")
    return statement


def _line(data: dict[str, Any], day: date) -> StatementLine:
    if _day(data["date"]) != day:
        raise StatementUnreadable(f"a movement of {data['date']} in the statement of {day}")
    details = _details(str(data.get("transaction_details") or ""))
    key = details.get("EREF", "")
    if not key:
        raise StatementUnreadable(f"movement {data.get('bank_reference')} names no key")
    return StatementLine(serial=str(data.get("bank_reference") or ""), key=key,
                         counterparty=details.get("CPTY", ""), amount_fen=_fen(data["amount"]),
                         reference=details.get("REMI", ""))


def _details(text: str) -> dict[str, str]:
    """`/EREF/a/CPTY/b` -> {"EREF": "a", "CPTY": "b"} (the 65-character wrap undone)."""
    flat = text.replace("\r", "").replace("\n", "")
    parts = _FIELD.split(flat)
    return {parts[i]: parts[i + 1].rstrip("/") for i in range(1, len(parts) - 1, 2)}


def _fen(amount: Any) -> int:
    if amount.currency != "CNY":
        raise StatementUnreadable(f"an amount in {amount.currency}, not CNY")
    fen = Decimal(amount.amount) * 100
    if fen != fen.to_integral_value():
        raise StatementUnreadable(f"an amount finer than a fen: {amount.amount}")
    return int(fen)


def _day(value: Any) -> date:
    return date(value.year, value.month, value.day)
