"""The local stack's platform clock: it starts where asked on fresh data, moves forward only,
is seen at once by another process that shares the data, and survives restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from infra.cli.clock import until_next
from infra.local.clock import ClockError, LocalClock, existing, parse_duration, parse_start

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def test_a_new_clock_starts_at_the_start_time_and_runs_on(tmp_path: Path) -> None:
    clock = LocalClock(tmp_path, start=START)
    first = clock.now()
    assert clock.started_fresh and timedelta(0) <= first - START < timedelta(seconds=5)
    assert clock.now() >= first


def test_the_start_time_applies_to_fresh_data_only(tmp_path: Path) -> None:
    LocalClock(tmp_path, start=START).advance(timedelta(days=3))
    again = LocalClock(tmp_path, start=START - timedelta(days=300))
    assert not again.started_fresh
    assert again.now() - START >= timedelta(days=3)


def test_a_move_by_another_process_is_seen_at_once(tmp_path: Path) -> None:
    running = LocalClock(tmp_path, start=START)
    before = running.now()
    cli = existing(tmp_path)
    assert cli is not None
    cli.advance(timedelta(days=16))
    assert running.now() - before >= timedelta(days=16)


def test_it_never_moves_backwards_even_if_its_file_is_set_back(tmp_path: Path) -> None:
    clock = LocalClock(tmp_path, start=START)
    clock.advance(timedelta(days=30))
    latest = clock.now()
    (tmp_path / "clock.json").write_text(json.dumps({
        "offset_seconds": -10**8, "high_water": "2000-01-01T00:00:00+00:00"}))
    assert clock.now() >= latest
    clock.save()
    assert LocalClock(tmp_path).now() >= latest


@pytest.mark.parametrize("bad", [timedelta(0), timedelta(seconds=-1)])
def test_it_only_moves_forward(tmp_path: Path, bad: timedelta) -> None:
    with pytest.raises(ClockError):
        LocalClock(tmp_path).advance(bad)


def test_a_damaged_clock_file_is_refused_not_reset(tmp_path: Path) -> None:
    (tmp_path / "clock.json").write_text("{not json")
    with pytest.raises(ClockError):
        LocalClock(tmp_path)


@pytest.mark.parametrize("text, expected", [
    ("16d", timedelta(days=16)), ("2h", timedelta(hours=2)), ("90m", timedelta(minutes=90)),
    ("1w2d", timedelta(days=9)), ("1d12h30m", timedelta(days=1, hours=12, minutes=30)),
    ("45s", timedelta(seconds=45)),
])
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0d", "-1d", "16", "d", "2h16d", "1.5d", "16 days"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ClockError):
        parse_duration(text)


def test_a_start_time_needs_an_offset() -> None:
    assert parse_start("2026-11-02T09:00:00+08:00") == START
    for bad in ("2026-11-02T09:00:00", "next monday"):
        with pytest.raises(ClockError):
            parse_start(bad)


@pytest.mark.parametrize(("now", "to", "expected"), [
    ("2026-12-07T19:30:00+08:00", "08:00", timedelta(hours=12, minutes=30)),  # next morning
    ("2026-12-07T07:59:00+08:00", "08:00", timedelta(minutes=1)),  # later the same day
    ("2026-12-07T08:00:00+08:00", "08:00", timedelta(days=1)),  # now: a whole day on
    ("2026-12-07T00:30:00+00:00", "08:00", timedelta(hours=23, minutes=30)),  # 08:30 there
])
def test_advancing_to_a_time_of_day_moves_to_its_next_occurrence_in_shanghai(
    now: str, to: str, expected: timedelta,
) -> None:
    assert until_next(datetime.fromisoformat(now), time.fromisoformat(to)) == expected
