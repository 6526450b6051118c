"""Money is integer fen (分), everywhere.

An order of `lessons` lessons paid with `paid_fen` prices each lesson at
floor(paid_fen / lessons); the last lesson carries the remainder, so the lessons of an order
always sum to exactly what was paid.
"""

from __future__ import annotations

MAX_ORDER_FEN = 100_000_000  # 1,000,000 yuan: far above any policy cap, a hard limit on input
MAX_LESSONS = 1_000


def require_fen(amount: int, *, positive: bool = False) -> int:
    """Return `amount` if it is a plain integer amount of fen, else raise ValueError."""
    if type(amount) is not int:
        raise ValueError(f"money must be integer fen, got {type(amount).__name__}")
    if amount < 0 or (positive and amount == 0):
        raise ValueError(f"money must be {'positive' if positive else 'non-negative'}: {amount}")
    return amount


def yuan(amount_fen: int) -> str:
    """12345 -> "123.45": fen shown as yuan to people, exactly (never through a float)."""
    require_fen(amount_fen)
    return f"{amount_fen // 100}.{amount_fen % 100:02d}"


def lesson_price_fen(paid_fen: int, lessons: int, lesson_number: int) -> int:
    """The price of lesson `lesson_number` (1-based) of an order of `lessons` lessons."""
    require_fen(paid_fen)
    if not 1 <= lessons <= MAX_LESSONS:
        raise ValueError(f"lessons out of range: {lessons}")
    if not 1 <= lesson_number <= lessons:
        raise ValueError(f"lesson {lesson_number} is not one of {lessons}")
    base = paid_fen // lessons
    if lesson_number < lessons:
        return base
    return paid_fen - base * (lessons - 1)


def lessons_price_fen(paid_fen: int, lessons: int, first: int, count: int) -> int:
    """The price of `count` consecutive lessons starting at lesson `first` (1-based)."""
    if count == 0:
        return 0
    last = first + count - 1
    base = paid_fen // lessons
    total = base * count
    if last == lessons:
        total += paid_fen - base * lessons
    if not (first >= 1 and last <= lessons):
        raise ValueError(f"lessons {first}..{last} are not within 1..{lessons}")
    return total
