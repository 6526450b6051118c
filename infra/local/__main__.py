"""`python -m infra.local [--seed]`: run the whole platform on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from infra.local.clock import ClockError
from infra.local.config import ConfigError, Engine, LocalConfig
from infra.local.engine import Storage
from infra.local.ports import PortInUse
from infra.local.runfile import DataDirInUse

if TYPE_CHECKING:
    from infra.local.stack import Endpoints

log = logging.getLogger("infra.local")

CLI = ".venv/bin/python -m infra.cli"
TOKEN_COMMAND = f"{CLI} token"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    try:
        config = LocalConfig.from_environment()
    except ConfigError as error:
        log.error("%s", error)
        return 2

    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    began = time.monotonic()
    try:
        # DynamoDB Local's JVM needs seconds: launch it before importing the rest of the stack
        # (chalice, moto, requests, the app: most of a second), which then picks it up.
        storage = Storage(config)
    except (PortInUse, DataDirInUse, ClockError) as error:
        log.error("the local stack did not start: %s", error)
        return 1
    try:
        from infra.local.seed import SeedError, exports, seed
        from infra.local.stack import LocalStack
    except BaseException:
        storage.stop()
        raise
    stack = LocalStack(config, storage=storage)
    try:
        endpoints = stack.start()
    except (PortInUse, DataDirInUse) as error:
        log.error("the local stack did not start: %s", error)
        return 1
    except Exception:
        log.exception("the local stack did not start")
        return 1
    try:
        _banner(config, endpoints, time.monotonic() - began)
        if args.seed and not stopping.is_set():
            demo = seed(endpoints.api_url, config.auth)
            print(exports(demo, endpoints.api_url, endpoints.bank_url), flush=True)
        while not stopping.wait(0.5):
            pass
    except SeedError as error:
        log.error("demo seed failed: %s", error)
        return 1
    finally:
        stack.stop()
    log.info("local stack stopped")
    return 0


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local",
        description="Run the API, queue consumer, schedules and sandbox bank on 127.0.0.1, "
        "the tables in DynamoDB Local (data kept in LOCAL_DATA_DIR, default var/local; moto "
        "in memory without Java 17+) and the queues in moto. Environment: API_PORT (8000), "
        "BANK_PORT (8001), DYNAMODB_PORT (8002), MOTO_PORT (4566; 0 = any free port), "
        "LOCAL_ENGINE (dynamodb-local | moto), LOCAL_DATA_DIR, LOCAL_START_TIME (where the "
        "platform clock starts on fresh data, ISO 8601 with offset), SCHEDULE_SECONDS (30), "
        "PROVINCE_CODE (44), AUTH_HS256_SECRET, BANK_WEBHOOK_SECRET.",
    )
    parser.add_argument("--seed", action="store_true",
                        help="create demo data through the API and print ids and tokens")
    return parser.parse_args(argv)


def _banner(config: LocalConfig, at: Endpoints, seconds: float) -> None:
    secrets = (
        "local-only defaults"
        if config.auth.secret_is_default and config.bank_secret_is_default
        else "taken from the environment where set, local-only defaults otherwise"
    )
    print(
        f"""
Local stack up in {seconds:.1f}s (stage local, province {config.province_code}); Ctrl-C stops it.
  API           {at.api_url}   (GET /v1/health, GET /v1/openapi.json)
  sandbox bank  {at.bank_url}   (POST /payments, GET /accounts/<account>)
{_storage(config, at)}
  consumers     {at.plane.settlement_queue_url}
                {at.plane.sweep_queue_url}
                {at.plane.liquidation_queue_url}
                {at.plane.complaint_queue_url}
  schedules     expire_orders, auto_confirm, settlement_sweeper every {config.schedule_seconds:g}s;
                reconcile (yesterday, from 02:00) likewise
  clock         {_clock(at)}
  ops           {CLI} status | review list | replay-dlq --queue settlement | seed

Mint a token (another terminal, project root; same AUTH_* environment as this stack):
  {TOKEN_COMMAND} --role parent --sub parent-1
  {TOKEN_COMMAND} --role institution --sub staff-1 [--institution-id ins_...]
  {TOKEN_COMMAND} --role regulator --sub reg-1 --region 440106 --department education

Secrets (AUTH_HS256_SECRET, BANK_WEBHOOK_SECRET): {secrets}. They are for this
local stack only; deployed stages verify RS256/ES256 tokens and use their own bank secret.
""",
        flush=True,
    )


def _clock(at: Endpoints) -> str:
    """The platform clock, as the banner shows it."""
    now = at.clock.now().astimezone(SHANGHAI).isoformat(timespec="seconds")
    moved = at.clock.offset
    ahead = f", {_days(moved)} ahead of real time" if moved.total_seconds() >= 60 else ""
    return f"{now}{ahead}; move it with `{CLI} clock advance 16d`"


def _days(delta: timedelta) -> str:
    days, rest = divmod(int(delta.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d{hours}h{rest // 60}m"


def _storage(config: LocalConfig, at: Endpoints) -> str:
    if at.engine is Engine.MOTO:
        lines = [f"  tables+queues {at.aws_url}   (moto, all-Python, in memory: data ends with "
                 "the stack)"]
        if config.engine is Engine.DYNAMODB_LOCAL:
            lines.append("  NOTE          DynamoDB Local could not start (see the warning above): "
                         "this run's data will not survive a restart")
        return "\n".join(lines)
    lines = [
        f"  tables        {at.dynamodb_url}   (DynamoDB Local; data kept in {_shown(at.data_dir)}, "
        "`make clean-local` starts fresh)",
        f"  queues        {at.aws_url}   (moto SQS, in memory; work in flight at a stop is "
        "re-driven at the next start)",
    ]
    if at.recovered:
        lines.append(f"  recovered     {at.recovered} consumption(s) still being settled at the "
                     "last stop: re-driven")
    return "\n".join(lines)


def _shown(folder: Path) -> str:
    try:
        return str(folder.relative_to(Path.cwd()))
    except ValueError:
        return str(folder)


if __name__ == "__main__":
    sys.exit(main())
