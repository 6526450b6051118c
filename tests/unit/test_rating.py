"""A shop's rating is its average of stars to one decimal, rounded half up in integers (a
float's round() would show 4.25 as 4.2: half to even, and 4.35 as 4.3: binary)."""

from __future__ import annotations

import pytest

from chalicelib.domain.shop.review import Rating


@pytest.mark.parametrize(("stars_total", "count", "shown"), [
    (17, 4, 4.3),  # 4.25
    (87, 20, 4.4),  # 4.35
    (16999, 4000, 4.2),  # 4.24975
    (17, 8, 2.1),  # 2.125
    (3, 2, 1.5),
    (5, 1, 5.0),
    (1, 1, 1.0),
    (49, 10, 4.9),
    (9, 2, 4.5),  # 4.5
    (29, 20, 1.5),  # 1.45
    (21, 20, 1.1),  # 1.05
])
def test_the_average_rounds_half_up_to_one_decimal(stars_total: int, count: int,
                                                   shown: float) -> None:
    assert Rating(stars_total, count).average == shown


def test_no_review_no_average() -> None:
    assert Rating().average is None
