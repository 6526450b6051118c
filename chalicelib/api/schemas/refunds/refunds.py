"""Refund requests: a parent asks for an order's unconsumed money back; the institution
decides; a rejection the parent escalates, a regulator orders or dismisses."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import (
    LINES,
    OPTIONAL_LINES,
    BankAccount,
    Page,
    PageQuery,
    Strict,
    Time,
)

Reason = Annotated[str, Field(min_length=1, max_length=500), LINES]


class RefundAsk(Strict):
    reason: Reason


class RefundDecision(Strict):
    reason: Annotated[str, OPTIONAL_LINES] = Field(default="", max_length=500)
    """Required to reject."""


class RefundEscalation(Strict):
    reason: Reason


class PayoutAccount(Strict):
    """Another account for a refund whose original route failed (its parent only)."""

    account: BankAccount


class PayoutAccountChangeView(BaseModel):
    account_masked: str
    named_by: str
    at: Time
    from_attempt: int
    """Why the parent disagrees with the rejection."""


class RegulatorRefundDecision(Strict):
    reason: Reason


class RefundView(BaseModel):
    refund_id: str
    order_id: str
    institution_id: str
    status: str
    reason: str
    lessons: int
    amount_fen: int
    requested_at: Time
    decide_by: date
    decide_by_estimated: bool
    before_start: bool
    approved_by: str | None
    decided_at: Time | None
    rejection_reason: str
    payout_due: date | None
    refunded_at: Time | None
    review_reason: str
    escalated_at: Time | None
    escalation_reason: str
    regulator_reason: str
    payout_overdue: bool
    """Approved, not yet paid back, and past `payout_due`."""
    payout_account_changes: list[PayoutAccountChangeView]
    """Accounts the parent named after the original route failed (masked), oldest first."""


class RefundPage(Page):
    items: list[RefundView]


class RefundQuery(PageQuery):
    status: str = Field(
        default="",
        pattern=r"^(pending_decision|rejected|approved|refunding|refunded"
                r"|needs_review|escalated)?$",
    )


class RegulatorRefundQuery(PageQuery):
    status: Literal["escalated", "approved", "refunding", "needs_review"] = "escalated"
    """Escalated requests to decide, or payouts in flight (each with `payout_overdue`)."""
