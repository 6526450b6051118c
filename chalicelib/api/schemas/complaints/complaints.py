"""Complaints: filed by parents in the app or taken from the 12345 hotline, answered by the
institution, handled by the competent department, rated by the parent."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from chalicelib.api.schemas.common import (
    LINE,
    LINES,
    OPTIONAL_LINES,
    Page,
    PageQuery,
    RegionCode,
    Strict,
    Time,
)

InstitutionId = Annotated[str, Field(pattern=r"^ins_[0-9A-Z]{26}$")]
OrderRef = Annotated[str, Field(pattern=r"^ord_[0-9A-Z]{26}$")]
CaseText = Annotated[str, Field(min_length=1, max_length=2000), LINES]
Reason = Annotated[str, Field(min_length=1, max_length=500), LINES]
def _no_parent_steps(reference: str) -> str:
    if ".." in reference:
        raise ValueError("an attachment reference names an uploaded file, not a path")
    return reference


Attachment = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._/:-]+$"),
                       AfterValidator(_no_parent_steps)]
"""A reference to a file already uploaded (an object key or URL)."""
CategoryName = Literal["refund", "teaching_quality", "safety", "false_advertising", "fees",
                       "fund_risk", "illegal_training", "other"]
StageName = Literal["filed", "institution", "awaiting_parent", "department", "resolved"]
DepartmentName = Literal["education", "science", "culture", "sports"]


class ComplaintFiling(Strict):
    institution_id: InstitutionId
    order_id: OrderRef | None = None
    category: CategoryName
    text: CaseText
    attachments: list[Attachment] = Field(default_factory=list, max_length=9)
    """References to files already uploaded (object keys or URLs), at most nine."""


class HotlineCall(ComplaintFiling):
    caller_name: Annotated[str, Field(min_length=1, max_length=50), LINE]
    caller_phone: Annotated[str, Field(pattern=r"^\+?[0-9-]{5,20}$")]


class AnswerBody(Strict):
    text: CaseText


class RejectBody(Strict):
    reason: Reason


class TransferBody(Strict):
    department: DepartmentName | None = None
    region_code: RegionCode | None = None
    reason: Reason


class NoteBody(Strict):
    text: CaseText


class ResolveBody(Strict):
    outcome: CaseText
    decision: Literal["order_refund", "dismiss_refund", "release_lesson",
                      "return_lesson"] | None = None
    """Required for a case opened by an escalated refund (`order_refund`, `dismiss_refund`)
    or lesson (`release_lesson`, `return_lesson`): it moves the money."""


class RatingBody(Strict):
    stars: int = Field(ge=1, le=5, strict=True)
    comment: Annotated[str, OPTIONAL_LINES] = Field(default="", max_length=500)


class StepView(BaseModel):
    seq: int
    at: Time
    action: str
    actor: str
    stage: str
    holder: str
    reason: str


class ComplaintView(BaseModel):
    complaint_id: str
    source: str
    category: str
    institution_id: str
    order_id: str
    refund_id: str
    consumption_id: str
    text: str
    attachments: list[str]
    caller_name: str
    caller_phone: str
    """A hotline caller's, masked except for the department holding the case."""
    filed_at: Time
    stage: str
    holder: str
    department: str | None
    jurisdiction: str
    region: str
    due_on: date | None
    due_estimated: bool
    sla: Literal["on_time", "due_soon", "overdue"] | None
    escalations: int
    flagged: bool
    alert: bool
    answer: str
    answered_at: Time | None
    outcome: str
    decision: str | None
    resolved_at: Time | None
    rating: int
    rating_comment: str
    timeline: list[StepView] | None = None
    """One case read on its own carries its timeline; lists leave it out."""


class ComplaintPage(Page):
    items: list[ComplaintView]


class ComplaintQuery(PageQuery):
    stage: StageName | Literal[""] = ""


class CaseQuery(PageQuery):
    stage: StageName = "department"
    sla: Literal["on_time", "due_soon", "overdue"] | None = None
    category: CategoryName | None = None
