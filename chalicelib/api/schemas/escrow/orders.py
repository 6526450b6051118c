"""Orders: buying lessons, paying, the money and lessons of an order."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import CourseId, Page, PageQuery, Strict, StudentId, Time
from chalicelib.domain.money import MAX_LESSONS


class OrderRequest(Strict):
    course_id: CourseId
    student_id: StudentId
    lessons: int = Field(ge=1, le=MAX_LESSONS, strict=True)


class PaymentInstructions(BaseModel):
    reference: str
    bank: str
    account: str
    expires_at: Time


class OrderView(BaseModel):
    order_id: str
    status: str
    course_id: str
    student_id: str
    institution_id: str
    amount_fen: int
    paid_fen: int
    held_fen: int
    releasing_fen: int
    released_fen: int
    refunding_fen: int
    refunded_fen: int
    lessons: int
    lessons_remaining: int
    lessons_pending_confirmation: int
    lessons_confirmed_unreleased: int
    lessons_released: int
    lessons_refunded: int
    lessons_withdrawn: int
    """Recorded and then withdrawn (returned to the order unpaid): not in the buckets above."""
    open_disputes: int
    open_refunds: int
    frozen: bool
    """The institution is frozen: no lesson is recorded and nothing is released meanwhile;
    refunds still flow."""
    liquidated_at: Time | None
    """Its institution was liquidated: its unconsumed lessons are refunded by
    `liquidation_refund_id`."""
    liquidation_refund_id: str
    refund_again_on: date | None
    """A regulator dismissed its last escalated refund request: no new request (nor an
    older rejection escalated) opens before this day (`refund_request_too_soon`)."""
    created_at: Time
    expires_at: Time
    paid_at: Time | None


class CreatedOrder(OrderView):
    payment: PaymentInstructions


class OrderPage(Page):
    items: list[OrderView]


class OrderQuery(PageQuery):
    institution_id: str = Field(default="", pattern=r"^(ins_[0-9A-Z]{26})?$")
