"""The running stack's record in its data folder (`<data_dir>/stack.json`).

It does three jobs: it claims the folder (one stack per data folder: two DynamoDB Local
processes must never share one database file), it tells `python -m infra.cli` where the
running stack's endpoints are, and it names the DynamoDB Local process, so that one left
running by a stack that was killed (SIGKILL: no chance to stop its child) is stopped by the
next start instead of holding the port and the database.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

log = logging.getLogger(__name__)

FILE_NAME = "stack.json"
ENGINE_MARKER = "LoopbackDynamoDBLocal"
STACK_MARKER = "infra.local"


class DataDirInUse(RuntimeError):
    """Another running local stack uses this data folder."""


@dataclass(frozen=True)
class RunRecord:
    stack_pid: int
    engine_pid: int | None = None
    engine: str = ""
    api_url: str = ""
    bank_url: str = ""
    sqs_url: str = ""
    dynamodb_url: str = ""


def path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def read(data_dir: Path) -> RunRecord | None:
    try:
        data = json.loads(path(data_dir).read_text(encoding="utf-8"))
        return RunRecord(**data)
    except (FileNotFoundError, ValueError, TypeError):
        return None


def write(data_dir: Path, record: RunRecord) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = path(data_dir).with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(record), indent=2), encoding="utf-8")
    os.replace(temporary, path(data_dir))


def update(data_dir: Path, **fields: object) -> None:
    record = read(data_dir) or RunRecord(stack_pid=os.getpid())
    write(data_dir, replace(record, **fields))  # type: ignore[arg-type]


def remove(data_dir: Path) -> None:
    path(data_dir).unlink(missing_ok=True)


def claim(data_dir: Path) -> None:
    """Make this process the folder's stack; stop a DynamoDB Local a killed stack left behind."""
    previous = read(data_dir)
    if previous is not None and previous.stack_pid != os.getpid():
        if _running(previous.stack_pid, STACK_MARKER):
            raise DataDirInUse(
                f"another local stack (pid {previous.stack_pid}) uses {data_dir}; stop it, or "
                "set LOCAL_DATA_DIR to another folder"
            )
        if previous.engine_pid is not None and _running(previous.engine_pid, ENGINE_MARKER):
            log.warning("stopping DynamoDB Local (pid %d) left running by a stack that did not "
                        "stop cleanly", previous.engine_pid)
            _terminate(previous.engine_pid)
    write(data_dir, RunRecord(stack_pid=os.getpid()))


def _running(pid: int, marker: str) -> bool:
    """Whether `pid` is alive and (where /proc tells) its command line contains `marker`."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # not ours
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
    return marker.encode() in command


def _terminate(pid: int, timeout: float = 10.0) -> None:
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
