"""`python -m infra.local [--seed]`: run the whole platform on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from types import FrameType

from infra.local.config import ConfigError, LocalConfig
from infra.local.seed import Demo, SeedError, seed
from infra.local.stack import Endpoints, LocalStack, PortInUse

log = logging.getLogger("infra.local")

TOKEN_COMMAND = ".venv/bin/python -m infra.cli token"


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
    stack = LocalStack(config)
    try:
        endpoints = stack.start()
    except PortInUse as error:
        log.error("the local stack did not start: %s", error)
        return 1
    except Exception:
        log.exception("the local stack did not start")
        return 1
    try:
        _banner(config, endpoints, time.monotonic() - began)
        if args.seed and not stopping.is_set():
            _print_demo(endpoints, seed(endpoints.api_url, config.auth))
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
        description="Run the API, queue consumer, schedules and sandbox bank on 127.0.0.1 "
        "over an in-memory AWS emulator. Environment: API_PORT (8000), BANK_PORT (8001), "
        "MOTO_PORT (4566; 0 = any free port), SCHEDULE_SECONDS (30), PROVINCE_CODE (44), "
        "AUTH_HS256_SECRET, BANK_WEBHOOK_SECRET.",
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
  AWS emulator  {at.aws_url}   (moto, all-Python, in memory: data ends with the stack)
  consumer      {at.plane.settlement_queue_url}
  schedules     expire_orders, auto_confirm, settlement_sweeper every {config.schedule_seconds:g}s

Mint a token (another terminal, project root; same AUTH_* environment as this stack):
  {TOKEN_COMMAND} --role parent --sub parent-1
  {TOKEN_COMMAND} --role institution --sub staff-1 [--institution-id ins_...]
  {TOKEN_COMMAND} --role regulator --sub reg-1 --region 440106 --department education

Secrets (AUTH_HS256_SECRET, BANK_WEBHOOK_SECRET): {secrets}. They are for this
local stack only; deployed stages verify RS256/ES256 tokens and use their own bank secret.
""",
        flush=True,
    )


def _print_demo(at: Endpoints, demo: Demo) -> None:
    tokens = demo.tokens
    print(
        f"""Demo data ({demo.price_per_lesson_fen} fen per lesson; tokens valid 12 hours).
Paste into a shell that has the README's helpers to continue its walkthrough at "Buy":
  export API={at.api_url} BANK={at.bank_url}
  export INS={demo.institution_id} CRS={demo.course_id} STU={demo.student_id}
  export SUP={demo.supervised_account} GEN={demo.general_account}
  export REGULATOR={tokens["regulator"]}
  export STAFF={tokens["staff"]}
  export PARENT={tokens["parent"]}
""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
