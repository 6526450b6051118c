"""What the platform knows of its dealings with the custodian bank."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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


class UnmatchedStatus(StrEnum):
    RETURNING = "returning"
    """The return to the payer is instructed (or waits to be sent again)."""
    RETURNED = "returned"
    NEEDS_REVIEW = "needs_review"
    """No way back known (no payer or receiving account), or the bank refused the return for
    good or failed it MAX_RETURN_ATTEMPTS times: ops follow it up."""


MAX_RETURN_ATTEMPTS = 8


@dataclass(frozen=True)
class UnmatchedPayment:
    """Money that reached a supervised account but could not be applied to an order.

    It is recorded, never applied silently, and sent back to the payer by the route it came,
    in two phases (chalicelib/service/unmatched_returns.py):

        (recorded) --> returning --bank paid--> returned
                        |    ^
                        |    +-- bank failed: next attempt, resent with backoff
                        +-- refused for good, or out of attempts --> needs_review (ops)

    The money is in the supervised account until the bank confirms the return: it is not in
    any order's ledger, and the bank reconciliation counts it separately.
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
    """The supervised account the money reached: where it is returned from."""
    attempt: int = 1
    deferrals: int = 0
    returned_at: datetime | None = None
    review_reason: str = ""

    @property
    def instruction_id(self) -> str:
        """The bank instruction of the current return attempt."""
        return f"bku_{self.unmatched_id.removeprefix('ump_')}_{self.attempt}"

    @property
    def awaiting_return(self) -> bool:
        """Still in the supervised account as far as the platform knows."""
        return self.status is not UnmatchedStatus.RETURNED
