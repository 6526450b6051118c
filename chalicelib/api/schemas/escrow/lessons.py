"""Lessons recorded and their consumptions: confirm, dispute, withdraw, answer, decide, list."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import (
    LINES,
    CourseId,
    OrderId,
    Page,
    PageQuery,
    Strict,
    Time,
)


class LessonRecord(Strict):
    course_id: CourseId
    started_at: Time
    ended_at: Time
    teacher_id: Annotated[str, Field(min_length=1, max_length=64)]
    order_ids: list[OrderId] = Field(min_length=1, max_length=100)


class ConsumptionView(BaseModel):
    consumption_id: str
    order_id: str
    lesson_id: str
    course_id: str
    student_id: str
    lesson_number: int
    amount_fen: int
    status: str
    confirm_by: date
    confirm_by_estimated: bool
    confirmed_by: str | None
    confirmed_at: Time | None
    released_at: Time | None
    dispute_reason: str
    disputed_at: Time | None
    answer_by: date | None
    """Still disputed after this day, the dispute goes to the regulator."""
    answer_by_estimated: bool
    institution_note: str
    """The institution's answer when it upholds a disputed lesson."""
    answered_at: Time | None
    escalated_at: Time | None
    withdrawn_at: Time | None
    withdrawn_by: str
    resolution_reason: str
    """Why it was withdrawn, or the regulator's reason for its decision."""


class RefusedOrder(BaseModel):
    """An attending order that was not consumed: a concurrent request emptied it after the
    lesson was checked, or its student was in another lesson at that time."""

    order_id: str
    code: str


class RecordedLesson(BaseModel):
    lesson_id: str
    course_id: str
    started_at: Time
    ended_at: Time
    consumptions: list[ConsumptionView]
    refused_orders: list[RefusedOrder]


class ConsumptionPage(Page):
    items: list[ConsumptionView]


class ConsumptionQuery(PageQuery):
    status: str = Field(
        default="",
        pattern=r"^(pending_confirmation|disputed|confirmed|releasing|released|needs_review"
                r"|withdrawn)?$",
    )


class Dispute(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=500), LINES]


class Withdrawal(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=500), LINES]


class Answer(Strict):
    """The institution stands by a disputed lesson, and says why."""

    note: Annotated[str, Field(min_length=1, max_length=500), LINES]


class DisputeDecision(Strict):
    """A regulator ends an escalated dispute: release the lesson's money to the institution,
    or return the lesson to the order."""

    outcome: Literal["release", "return"]
    reason: Annotated[str, Field(min_length=1, max_length=500), LINES]
