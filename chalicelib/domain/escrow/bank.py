"""What the platform knows of its dealings with the custodian bank."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from chalicelib.domain.errors import NotFound, StateConflict


class NoticeOutcome(StrEnum):
    """What the platform did with one of the bank's notifications (its acknowledgement)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    RECORDED_FOR_REVIEW = "recorded_for_review"


class InstructionStatus(StrEnum):
    SENT = "sent"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUSED = "refused"
    """The bank answered the instruction with a definitive refusal (4xx): never executed."""


@dataclass(frozen=True)
class BankInstruction:
    """A release or refund instruction, one per attempt; its id is the bank's key.

    `from_account`/`to_account` are ledger accounts; `bank_*` the custodian's account numbers.
    A release names its consumption; a refund (`refund_id`) names no consumption.
    """

    instruction_id: str
    order_id: str
    consumption_id: str
    institution_id: str
    from_account: str
    to_account: str
    bank_from_account: str
    bank_to_account: str
    amount_fen: int
    pending_transfer_id: str
    status: InstructionStatus
    created_at: datetime
    refund_id: str = ""
    unmatched_id: str = ""
    """A return of money that matched no order (names neither consumption nor refund)."""


class UnmatchedReason(StrEnum):
    UNKNOWN_REFERENCE = "unknown_reference"
    AMOUNT_MISMATCH = "amount_mismatch"
    ORDER_NOT_PAYABLE = "order_not_payable"
    INSTITUTION_FROZEN = "institution_frozen"
    ACCOUNT_MISSING = "account_missing"
    """The notice did not name both the account credited and the payer's: where the money
    is cannot be known from it, so nothing is applied and nothing is returned by a guess."""
    WRONG_ACCOUNT = "wrong_account"
    """Credited to an account that is not the order's supervised account (the
    institution's general account, another institution's): the order is not paid."""
    PAYER_IS_INSTITUTION = "payer_is_institution"
    """Paid from an account an institution registered: not a parent's prepayment."""


RAISED = frozenset({UnmatchedReason.ACCOUNT_MISSING, UnmatchedReason.WRONG_ACCOUNT,
                    UnmatchedReason.PAYER_IS_INSTITUTION})
"""Reasons that say someone tried to route money around the escrow, or that the bank's
notice is defective: raised to the institution's competent department, not only returned."""


def account_number(number: str) -> str:
    """An account number as a bank reads it: case and hyphens aside (`GEN-0001` is
    `gen0001`). Accounts are compared and registered in this form."""
    return number.replace("-", "").replace(" ", "").upper()


@dataclass(frozen=True)
class AccountHolder:
    """The institution that registered a bank account (as its supervised or general
    account): such an account is never a parent's payer nor a refund's destination."""

    account: str
    institution_id: str
    uscc: str


class UnmatchedStatus(StrEnum):
    RETURNING = "returning"
    """The return to the payer is instructed (or waits to be sent again)."""
    RETURNED = "returned"
    NEEDS_REVIEW = "needs_review"
    """No way back known (no payer or receiving account), or the bank refused the return for
    good or failed it MAX_RETURN_ATTEMPTS times: ops follow it up (once they know the
    accounts from the bank, they give the route: `infra.cli payments route`)."""


MAX_RETURN_ATTEMPTS = 8


@dataclass(frozen=True)
class UnmatchedPayment:
    """Money the bank reported that could not be applied to an order.

    It is recorded, never applied silently, and sent back to the payer by the route it came,
    in two phases (chalicelib/service/refunds/unmatched_returns.py):

        (recorded) --> returning --bank paid--> returned
                        |    ^
                        |    +-- bank failed: next attempt, resent with backoff
                        +-- refused for good, or out of attempts --> needs_review (ops)

    The money is in the account it reached (`received_account`: a supervised account, or
    any other the bank reported) until the bank confirms the return: it is not in any
    order's ledger, and the bank reconciliation counts it against that account.
    """

    unmatched_id: str
    event_id: str
    bank_txn_id: str
    payment_reference: str
    amount_fen: int
    reason: UnmatchedReason
    received_at: datetime
    order_id: str = ""
    expected_fen: int = 0
    region_code: str = ""
    status: UnmatchedStatus = UnmatchedStatus.NEEDS_REVIEW
    payer_account: str = ""
    """Where the money came from: where it is returned to."""
    received_account: str = ""
    """The account the money reached, as the bank reported it: where it is returned from."""
    attempt: int = 1
    deferrals: int = 0
    returned_at: datetime | None = None
    review_reason: str = ""
    route_given_by: str = ""
    """"ops" when the bank's notice named no accounts and ops gave them from the bank's
    record (`infra.cli payments return --payer --received`)."""

    @property
    def instruction_id(self) -> str:
        """The bank instruction of the current return attempt."""
        return f"bku_{self.unmatched_id.removeprefix('ump_')}_{self.attempt}"

    @property
    def awaiting_return(self) -> bool:
        """Still in the supervised account as far as the platform knows."""
        return self.status is not UnmatchedStatus.RETURNED


class Payout(Protocol):
    """A release, a refund or a return: paid out by the bank under one instruction per
    attempt."""

    @property
    def status(self) -> object: ...

    @property
    def instruction_id(self) -> str: ...


P = TypeVar("P", bound=Payout)


def awaiting(found: P | None, paying: object, instruction: BankInstruction, *,
             missing: NotFound, what: str) -> P:
    """`found`, the payout the bank's outcome of `instruction` is about, if it still awaits
    that very instruction (in its `paying` status, under that attempt): an outcome of an
    earlier attempt, or of one settled otherwise meanwhile, is refused
    (`instruction_not_current`); none found, `missing`."""
    if found is None:
        raise missing
    if found.status is not paying or found.instruction_id != instruction.instruction_id:
        raise StateConflict(f"银行回执与当前{what}不符", code="instruction_not_current",
                            instruction_id=instruction.instruction_id)
    return found
