"""The scheduled jobs, run every few seconds in one thread (EventBridge rates in the cloud),
each given the event EventBridge would send its function."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)


def scheduled_event(rule: str) -> dict[str, Any]:
    """An EventBridge "Scheduled Event" for the rule of one scheduled function."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "000000000000", "region": "cn-north-1",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resources": [f"arn:aws-cn:events:cn-north-1:000000000000:rule/{rule}"], "detail": {},
    }


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], int]
    """Do one round of work; return how many items it handled."""


class Scheduler:
    """Runs every job at start and then every `interval` seconds; a failing job is logged and
    does not stop the others or the next round."""

    def __init__(self, jobs: Sequence[Job], interval: float) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._jobs = tuple(jobs)
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("scheduled jobs %s every %gs", ", ".join(j.name for j in self._jobs),
                 self._interval)

    def stop(self, timeout: float = 30.0) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_once(self) -> None:
        for job in self._jobs:
            if self._stopped.is_set():
                return
            try:
                handled = job.run()
            except Exception:
                log.exception("scheduled job %s failed", job.name)
                continue
            if handled:
                log.info("scheduled job %s handled %d item(s)", job.name, handled)

    def _loop(self) -> None:
        while True:
            self.run_once()
            if self._stopped.wait(self._interval):
                return
