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


class UnmatchedReason(StrEnum):
    UNKNOWN_REFERENCE = "unknown_reference"
    AMOUNT_MISMATCH = "amount_mismatch"
    ORDER_NOT_PAYABLE = "order_not_payable"


@dataclass(frozen=True)
class UnmatchedPayment:
    """Money that reached a supervised account but could not be applied to an order.

    It is recorded, never applied silently, and raised for follow-up (return to the payer).
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
    status: str = "needs_review"
