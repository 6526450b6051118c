"""Reviews of an order on its institution's shop, the institution's one reply, and the
shop's rating."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from chalicelib.api.schemas.common import LINES, Page, Strict, Time

ReviewText = Annotated[str, Field(min_length=1, max_length=500), LINES]


class ReviewBody(Strict):
    stars: int = Field(ge=1, le=5, strict=True)
    text: ReviewText


class ReplyBody(Strict):
    text: ReviewText


class RatingView(BaseModel):
    average: float | None
    """Stars to one decimal (null before the first review)."""
    count: int


class ReviewView(BaseModel):
    review_id: str
    order_id: str
    institution_id: str
    course_id: str
    stars: int
    text: str
    created_at: Time
    reply: str
    replied_at: Time | None


class ReviewPage(Page):
    items: list[ReviewView]
    rating: RatingView
