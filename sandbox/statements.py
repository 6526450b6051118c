"""A day's statement of one account as SWIFT MT940 text, the way a custodian bank delivers it.

One message per account and business day (Asia/Shanghai):

    :20:  the statement's reference (STyyyymmdd, then the account's last 6 characters)
    :25:  the account
    :28C: the statement number (days since 2000-01-01) /1 (one page)
    :60F: the opening balance: C or D, the day before (YYMMDD), CNY, yuan with a decimal comma
    :61:  each movement: value date, entry date (MMDD), C or D, amount, NTRF, NONREF, then
          `//` and the bank's serial
    :86:  its details, structured: /EREF/<the platform's key>/CPTY/<counterparty account>,
          then /REMI/<reference> when the payer wrote one; wrapped at 65 characters a line
    :62F: the closing balance, and :64: the same as available balance

The key is the instruction id of a transfer the platform instructed, the bank transaction id
of a payment it was told of, or the bank's own id of anything else. docs/bank-statements.md
is the contract; chalicelib/adapters/bank/mt940_statements.py reads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sandbox.bank_books import Movement

CURRENCY = "CNY"
LINE = 65
EPOCH = date(2000, 1, 1)


def mt940(account: str, day: date, opening_fen: int, movements: Iterable[Movement]) -> str:
    lines = [
        f":20:ST{day:%Y%m%d}{account[-6:]}",
        f":25:{account}",
        f":28C:{(day - EPOCH).days}/1",
        f":60F:{_balance(opening_fen, day - timedelta(days=1))}",
    ]
    closing = opening_fen
    for movement in movements:
        closing += movement.amount_fen
        mark = "C" if movement.amount_fen > 0 else "D"
        lines.append(f":61:{day:%y%m%d}{day:%m%d}{mark}{_yuan(movement.amount_fen)}"
                     f"NTRFNONREF//{movement.serial}")
        details = f"/EREF/{movement.key}/CPTY/{movement.counterparty}"
        if movement.reference:
            details += f"/REMI/{movement.reference}"
        chunks = [details[i:i + LINE] for i in range(0, len(details), LINE)]
        lines.append(":86:" + "\n".join(chunks))
    lines.append(f":62F:{_balance(closing, day)}")
    lines.append(f":64:{_balance(closing, day)}")
    return "\n".join(lines) + "\n"


def _balance(fen: int, day: date) -> str:
    return f"{'C' if fen >= 0 else 'D'}{day:%y%m%d}{CURRENCY}{_yuan(fen)}"


def _yuan(fen: int) -> str:
    whole, cents = divmod(abs(fen), 100)
    return f"{whole},{cents:02d}"
