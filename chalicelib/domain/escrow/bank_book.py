"""The platform's own book of what it believes happened at the bank, account by account: the
side of the ledger a bank statement is reconciled with (chalicelib/domain/supervision/
reconciliation.py).

Each money movement the platform books on the bank's word is entered once, in the same
transaction that books it: a payment the bank reported (on the account it says it reached,
from the payer's account), and each instruction the bank reported executed (a release, a
refund, a return of unmatched money: on the account it was paid from, to the account it was
paid to). The entry carries the bank's own key of the movement (the bank transaction id of
a payment, the instruction id of a transfer) and the bank's time of it, so that it lands on
the statement day the bank booked it on. Its key is unique: the same bank movement is never
entered twice, under whatever notice it came.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from chalicelib.domain.calendar import business_date
from chalicelib.domain.escrow.bank import BankInstruction, account_number


class EntryKind(StrEnum):
    PAYMENT = "payment"
    UNMATCHED_PAYMENT = "unmatched_payment"
    RELEASE = "release"
    REFUND = "refund"
    RETURN = "return"


@dataclass(frozen=True)
class BankEntry:
    key: str
    """The bank's key of the movement: a payment's bank transaction id, an instruction id."""
    account: str
    """The account the movement is on, as a bank reads it (`account_number`); empty for a
    payment whose notice named no account (known only by its key)."""
    counterparty: str
    amount_fen: int
    """Signed for `account`: + credited, - debited."""
    booked_at: datetime
    """The bank's time of the movement (its notice's, or its record's)."""
    kind: EntryKind
    subject_id: str
    """The order, unmatched payment, consumption or refund the movement is for."""
    institution_id: str = ""

    @property
    def day(self) -> date:
        return business_date(self.booked_at)


def credited(*, key: str, account: str, payer: str, amount_fen: int, at: datetime,
             kind: EntryKind, subject_id: str, institution_id: str = "") -> BankEntry:
    """A payment the bank reported: credited to `account` from `payer`."""
    return BankEntry(key=key, account=account_number(account),
                     counterparty=account_number(payer), amount_fen=amount_fen, booked_at=at,
                     kind=kind, subject_id=subject_id, institution_id=institution_id)


def executed(instruction: BankInstruction, at: datetime) -> BankEntry:
    """An instruction the bank reported executed: debited from the account it was paid from."""
    if instruction.refund_id:
        kind, subject = EntryKind.REFUND, instruction.refund_id
    elif instruction.unmatched_id:
        kind, subject = EntryKind.RETURN, instruction.unmatched_id
    else:
        kind, subject = EntryKind.RELEASE, instruction.consumption_id
    return BankEntry(key=instruction.instruction_id,
                     account=account_number(instruction.bank_from_account),
                     counterparty=account_number(instruction.bank_to_account),
                     amount_fen=-instruction.amount_fen, booked_at=at, kind=kind,
                     subject_id=subject, institution_id=instruction.institution_id)
