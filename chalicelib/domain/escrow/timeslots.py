"""A student's time, and a teacher's, cut into slots, so that the consuming write itself
refuses a second lesson that overlaps the first, whichever course or institution it belongs
to (a teacher's: whichever course of the institution).

Time is cut into fixed slots of SLOT (aligned to the Unix epoch). A lesson [start, end)
leaves a *footprint* on every slot it touches. Every lesson lasts at least one slot
(lesson.MIN_LESSON >= SLOT), so inside one slot [s, s + SLOT) its footprint is one of:

    full     [s, s + SLOT)   it began at or before s and ended at or after s + SLOT
    prefix   [s, e)          it began at or before s and ended inside the slot
    suffix   [a, s + SLOT)   it began inside the slot and ended at or after its end

(a footprint strictly inside a slot would need a lesson shorter than the slot). So a slot
item needs only two numbers: `prefix_end` (the slot is busy from s to it) and `suffix_start`
(busy from it to the slot's end). A full footprint sets both. Two lessons overlap exactly
when, in some slot they share, their footprints overlap, which is exactly when one of these
conditions fails in the consuming transaction:

    prefix [s, e):   no prefix yet, and no suffix or suffix_start >= e
    suffix [a, ..):  no suffix yet, and no prefix or prefix_end <= a
    full:            neither

Lessons that only touch ([9:00, 10:00) and [10:00, 11:00)) do not overlap. Slot items are
written with the consumption, so twin requests and racing lessons cannot both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SLOT = timedelta(minutes=10)
RETENTION = timedelta(days=30)
"""How long a slot is kept after it ends (policy.MAX_RECORD_WINDOW_HOURS stays inside it)."""

_SLOT_SECONDS = int(SLOT.total_seconds())


@dataclass(frozen=True)
class Footprint:
    """The part [busy_from, busy_to) of slot [slot_start, slot_start + SLOT) a lesson uses;
    times are Unix seconds."""

    slot_start: int
    busy_from: int
    busy_to: int

    @property
    def slot_end(self) -> int:
        return self.slot_start + _SLOT_SECONDS

    @property
    def from_slot_start(self) -> bool:
        return self.busy_from == self.slot_start

    @property
    def to_slot_end(self) -> bool:
        return self.busy_to == self.slot_end

    @property
    def slot_start_at(self) -> datetime:
        return datetime.fromtimestamp(self.slot_start, UTC)


def most_footprints(span: timedelta) -> int:
    """The most slots a span of this length touches, wherever (to the second) it starts: the
    worst start is a second before a slot's end."""
    return (int(span.total_seconds()) + _SLOT_SECONDS - 2) // _SLOT_SECONDS + 1


def footprints(started_at: datetime, ended_at: datetime) -> list[Footprint]:
    """The footprints of lesson [started_at, ended_at), one per slot it touches."""
    start, end = _seconds(started_at), _seconds(ended_at)
    if end - start < _SLOT_SECONDS:
        raise ValueError("a lesson lasts at least one slot")
    first = start - start % _SLOT_SECONDS
    return [
        Footprint(slot, max(start, slot), min(end, slot + _SLOT_SECONDS))
        for slot in range(first, end, _SLOT_SECONDS)
    ]


def _seconds(instant: datetime) -> int:
    if instant.utcoffset() is None:
        raise ValueError(f"naive datetime has no instant: {instant!r}")
    return int(instant.timestamp())
