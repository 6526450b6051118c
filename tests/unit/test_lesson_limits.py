"""The write that stores a lesson claims its student's time slots (the lesson and the break
after it) and its teacher's, in one transaction: even the longest lesson a course and its
policy allow, starting anywhere, fits DynamoDB's 100 items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from chalicelib.adapters.dynamo.transaction import MAX_ITEMS
from chalicelib.domain.escrow.lesson import MAX_LESSON
from chalicelib.domain.escrow.timeslots import SLOT, footprints, most_footprints
from chalicelib.domain.policy import MAX_REST_MINUTES, Policy
from chalicelib.service.escrow.lesson_consumption import ITEMS_BESIDE_SLOTS

BASE = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("span", [SLOT, SLOT + timedelta(seconds=1), 2 * SLOT - timedelta(
    seconds=1), timedelta(minutes=45), MAX_LESSON])
def test_most_footprints_is_what_the_worst_start_touches(span: timedelta) -> None:
    touched = [len(footprints(BASE + timedelta(seconds=s), BASE + timedelta(seconds=s) + span))
               for s in range(int(SLOT.total_seconds()))]
    assert max(touched) == most_footprints(span)


def test_the_longest_lesson_with_the_longest_break_fits_one_transaction() -> None:
    student = most_footprints(MAX_LESSON + timedelta(minutes=MAX_REST_MINUTES))
    teacher = most_footprints(MAX_LESSON)
    assert student + teacher + ITEMS_BESIDE_SLOTS <= MAX_ITEMS


@pytest.mark.parametrize("field", ["lesson_length_tolerance_minutes", "online_min_gap_minutes"])
def test_a_policy_cannot_stretch_a_lesson_past_those_bounds(field: str) -> None:
    with pytest.raises(ValidationError):
        Policy.model_validate({field: 61})
