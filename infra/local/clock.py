"""The local stack's platform clock: real time moved forward by an offset, so that deadlines
counted in working days can be watched in minutes (`python -m infra.cli clock advance 16d`).

It is kept with the data (`<data dir>/clock.json`): the API, the workers, the schedules and
the sandbox bank's signed callbacks all read this one clock, the CLI moves it while the stack
runs (the stack sees the file change), and a restart carries on from where it was. It never
moves backwards: it answers the latest instant it has ever answered or saved if real time
(plus the offset) is behind it. `LOCAL_START_TIME` sets where it starts on fresh data.

Only the local stack has it: it lives in infra/, which deployed stages do not package, and
they read the system clock.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

log = logging.getLogger(__name__)

FILE_NAME = "clock.json"
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class ClockError(ValueError):
    """A clock setting or move that cannot be honoured."""


@dataclass(frozen=True)
class _Saved:
    offset: timedelta
    high_water: datetime


class LocalClock:
    """Thread-safe; cheap enough to call for every timestamp (one stat per call)."""

    def __init__(self, data_dir: Path, *, start: datetime | None = None) -> None:
        """`start` applies only when the data has no clock yet (fresh data)."""
        self.path = data_dir / FILE_NAME
        self._lock = threading.Lock()
        self._mtime = -1.0
        saved = self._read()
        if saved is None:
            offset = (start - _real_now()) if start is not None else timedelta(0)
            saved = _Saved(offset, _real_now() + offset)
            self.started_fresh = True
            self._write(saved)
        else:
            self.started_fresh = False
        self._saved = saved
        self._last = saved.high_water

    def now(self) -> datetime:
        with self._lock:
            self._reload_if_moved()
            moment = max(_real_now() + self._saved.offset, self._last)
            self._last = moment
            return moment

    @property
    def offset(self) -> timedelta:
        with self._lock:
            self._reload_if_moved()
            return self._saved.offset

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by `delta` (kept in the file at once); the new now."""
        if delta <= timedelta(0):
            raise ClockError("the clock only moves forward")
        with self._lock:
            self._reload_if_moved()
            moment = max(_real_now() + self._saved.offset, self._last) + delta
            self._saved = _Saved(moment - _real_now(), moment)
            self._last = moment
            self._write(self._saved)
            return moment

    def save(self) -> None:
        """Keep the latest instant answered, so a restart never starts before it."""
        with self._lock:
            self._saved = _Saved(self._saved.offset, self._last)
            self._write(self._saved)

    def _reload_if_moved(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return
        if mtime != self._mtime:
            saved = self._read()
            if saved is not None:
                self._saved = saved
                self._last = max(self._last, saved.high_water)

    def _read(self) -> _Saved | None:
        try:
            stat = self.path.stat()
            data = json.loads(self.path.read_text(encoding="utf-8"))
            saved = _Saved(timedelta(seconds=float(data["offset_seconds"])),
                           datetime.fromisoformat(data["high_water"]))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as error:
            raise ClockError(f"{self.path} is not a clock file: {error}") from error
        if saved.high_water.utcoffset() is None:
            raise ClockError(f"{self.path}: high_water has no UTC offset")
        self._mtime = stat.st_mtime
        return saved

    def _write(self, saved: _Saved) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({
            "offset_seconds": saved.offset.total_seconds(),
            "high_water": saved.high_water.astimezone(UTC).isoformat(),
        }), encoding="utf-8")
        os.replace(temporary, self.path)
        self._mtime = self.path.stat().st_mtime


def existing(data_dir: Path) -> LocalClock | None:
    """The data's clock, if it has one (the CLI never creates one)."""
    return LocalClock(data_dir) if (data_dir / FILE_NAME).is_file() else None


def parse_duration(text: str) -> timedelta:
    """'16d', '2h', '90m', '1w2d', '1d12h30m': a positive duration."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise ClockError(f"not a duration: {text!r} (e.g. 16d, 2h, 90m, 1d12h)")
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    duration = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes,
                         seconds=seconds)
    if duration <= timedelta(0):
        raise ClockError("the clock only moves forward")
    return duration


def parse_start(text: str) -> datetime:
    """LOCAL_START_TIME: ISO 8601 with a UTC offset."""
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        raise ClockError(f"LOCAL_START_TIME must be ISO 8601, got {text!r}") from None
    if start.utcoffset() is None:
        raise ClockError("LOCAL_START_TIME must carry a UTC offset, e.g. +08:00")
    return start


def _real_now() -> datetime:
    return datetime.now(UTC)
