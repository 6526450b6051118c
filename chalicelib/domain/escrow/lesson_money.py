"""What a lesson costs and what a refund returns, so that an order's money always sums to
exactly what was paid.

Every lesson costs floor(paid / lessons); the fen that leaves over (the remainder) is carried
by exactly one of them: the lesson recorded when it is the order's last remaining lesson, or
a refund of the remaining lessons, whichever takes the last lesson first. A lesson can come
back (withdrawn after a dispute, or by a liquidation): it returns to the order unpaid, and if
it carried the remainder the order's `remainder_carried` drops back to 0, so whatever takes
the last lesson next carries it instead. Lesson numbers only count up (a withdrawn lesson
keeps its number), so they name each lesson recorded once.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.escrow.order import Order


@dataclass(frozen=True)
class Share:
    """A part of an order's money: some lessons at the order's price."""

    lessons: int
    amount_fen: int
    carries_remainder: bool


def next_lesson_number(order: Order) -> int:
    """The number of the next lesson recorded for `order` (1-based, counting withdrawn ones)."""
    recorded = order.lessons - order.lessons_remaining - order.lessons_refunded
    return recorded + order.lessons_withdrawn + 1


def next_lesson(order: Order) -> Share:
    """The price of the next lesson recorded for `order`."""
    return _share(order, 1, last=order.lessons_remaining == 1)


def refundable(order: Order) -> Share:
    """What a refund of `order` returns now: every remaining lesson (the last ones)."""
    return _share(order, order.lessons_remaining, last=order.lessons_remaining > 0)


def expected_counters(order: Order) -> dict[str, int]:
    """The counters a write that prices lessons from `order` must find unchanged."""
    return {
        "lessons_remaining": order.lessons_remaining,
        "remainder_carried": order.remainder_carried,
    }


def _share(order: Order, lessons: int, *, last: bool) -> Share:
    base = order.amount_fen // order.lessons
    carries = last and order.remainder_carried == 0
    remainder = order.amount_fen - base * order.lessons
    return Share(lessons, base * lessons + (remainder if carries else 0), carries)
