"""Money arithmetic: integer fen, and an order's lessons always sum to what was paid."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.money import (
    MAX_LESSONS,
    MAX_ORDER_FEN,
    lesson_price_fen,
    lessons_price_fen,
    require_fen,
)

paid = st.integers(min_value=0, max_value=MAX_ORDER_FEN)
lesson_counts = st.integers(min_value=1, max_value=MAX_LESSONS)


@given(paid, lesson_counts)
def test_for_any_price_and_lesson_count_the_lessons_sum_exactly_to_the_price_paid(
    paid_fen: int, lessons: int
) -> None:
    prices = [lesson_price_fen(paid_fen, lessons, n) for n in range(1, lessons + 1)]
    assert sum(prices) == paid_fen
    assert all(type(p) is int and p >= 0 for p in prices)


@given(paid, lesson_counts)
def test_every_lesson_but_the_last_costs_the_floor_and_the_last_carries_the_remainder(
    paid_fen: int, lessons: int
) -> None:
    base = paid_fen // lessons
    assert lesson_price_fen(paid_fen, lessons, 1) == (base if lessons > 1 else paid_fen)
    last = lesson_price_fen(paid_fen, lessons, lessons)
    assert base <= last < base + lessons


@given(paid, lesson_counts, st.data())
def test_a_run_of_lessons_costs_the_sum_of_its_lessons(
    paid_fen: int, lessons: int, data: st.DataObject
) -> None:
    first = data.draw(st.integers(min_value=1, max_value=lessons))
    count = data.draw(st.integers(min_value=0, max_value=lessons - first + 1))
    expected = sum(lesson_price_fen(paid_fen, lessons, n) for n in range(first, first + count))
    assert lessons_price_fen(paid_fen, lessons, first, count) == expected


def test_ten_lessons_for_one_hundred_yuan_and_one_fen_put_the_fen_on_the_last_lesson() -> None:
    assert [lesson_price_fen(10_001, 10, n) for n in (1, 9, 10)] == [1_000, 1_000, 1_001]


@pytest.mark.parametrize("amount", [1.0, "100", None, True])
def test_money_that_is_not_an_integer_is_refused(amount: object) -> None:
    with pytest.raises(ValueError, match="integer fen"):
        require_fen(amount)  # type: ignore[arg-type]


def test_negative_money_is_refused_and_zero_is_refused_where_positive_is_required() -> None:
    with pytest.raises(ValueError):
        require_fen(-1)
    with pytest.raises(ValueError):
        require_fen(0, positive=True)
    assert require_fen(0) == 0


@pytest.mark.parametrize(("lessons", "number"), [(0, 1), (MAX_LESSONS + 1, 1), (3, 0), (3, 4)])
def test_a_lesson_outside_the_order_has_no_price(lessons: int, number: int) -> None:
    with pytest.raises(ValueError):
        lesson_price_fen(100, lessons, number)
