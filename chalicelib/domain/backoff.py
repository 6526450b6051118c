"""How long to put off work that could not make progress: doubling from a base, capped."""

from __future__ import annotations

from datetime import timedelta

BASE = timedelta(minutes=1)
CAP = timedelta(hours=1)
_MAX_EXPONENT = 20  # 2**20 minutes is far past the cap: no overflow, however often deferred


def delay(deferrals: int) -> timedelta:
    """The wait after `deferrals` earlier deferrals: 1, 2, 4, ... minutes, at most an hour."""
    if deferrals < 0:
        raise ValueError(f"deferrals must not be negative, got {deferrals}")
    doubled: timedelta = BASE * 2 ** min(deferrals, _MAX_EXPONENT)
    return min(doubled, CAP)
