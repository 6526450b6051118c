"""Reviews: a parent reviews an order once, after at least one of its lessons was confirmed;
the institution may reply once. An institution's rating is the sum of its reviews, kept on
shards (`RATING_SHARDS`) so that reviews written at once never contend on one item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.domain.escrow.order import Order

RATING_SHARDS = 8
TEXT_LIMIT = 500


class ReviewStatus(StrEnum):
    PUBLISHED = "published"
    REPLIED = "replied"


@dataclass(frozen=True)
class Review:
    order_id: str
    institution_id: str
    course_id: str
    parent_sub: str
    stars: int
    text: str
    created_at: datetime
    status: ReviewStatus = ReviewStatus.PUBLISHED
    reply: str = ""
    replied_at: datetime | None = None

    @property
    def review_id(self) -> str:
        """One review per order: its id is the order's."""
        return review_id(self.order_id)


def review_id(order_id: str) -> str:
    return "rev_" + order_id.removeprefix("ord_")


def reviewable(order: Order) -> bool:
    """At least one of the order's lessons was confirmed (released or about to be)."""
    return order.lessons_confirmed_unreleased + order.lessons_released > 0


@dataclass(frozen=True)
class Rating:
    stars_total: int = 0
    count: int = 0

    def __add__(self, other: Rating) -> Rating:
        return Rating(self.stars_total + other.stars_total, self.count + other.count)

    @property
    def average(self) -> float | None:
        """To one decimal, half up, in integers (4.25 -> 4.3; a float's round() goes half to
        even, and 4.35 is 4.3499... in binary); None before the first review."""
        if not self.count:
            return None
        tenths = (20 * self.stars_total + self.count) // (2 * self.count)
        return tenths / 10
