"""Time from the README's run command to a healthy API, and a clean stop.

    .venv/bin/python -m benchmarks.local_start [runs]

Starts `make run` on spare ports with a fresh data folder, polls GET /v1/health until it
answers 200, prints the time, stops it with Ctrl-C (SIGINT) and checks the ports are free.
The first run starts from nothing (tables created); the others keep the data, as a developer's
second `make run` does. Run it with the packages already installed (after one `make run`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

PORTS = {"API_PORT": 18000, "BANK_PORT": 18001, "DYNAMODB_PORT": 18002, "MOTO_PORT": 18003}


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def ports_free() -> bool:
    for port in PORTS.values():
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return False
    return True


def one_run(data_dir: str) -> float:
    env = {**os.environ, "LOCAL_DATA_DIR": data_dir, **{k: str(v) for k, v in PORTS.items()}}
    started = time.monotonic()
    stack = subprocess.Popen(["make", "run"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{PORTS['API_PORT']}/v1/health"
    while not healthy(url):
        if stack.poll() is not None or time.monotonic() - started > 120:
            raise SystemExit("the stack did not become healthy")
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    os.killpg(stack.pid, signal.SIGINT)
    stack.wait(30)
    time.sleep(0.5)
    if not ports_free():
        raise SystemExit("a port is still taken after the stop")
    return elapsed


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as data_dir:
        for n in range(runs):
            kind = "fresh data" if n == 0 else "kept data"
            print(f"run {n + 1} ({kind}): healthy after {one_run(data_dir):.2f} s")


if __name__ == "__main__":
    main()
